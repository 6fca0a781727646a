"""Real-data-driven healthy streams, on small files in the real formats (CI has no data)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gridwatch.config import SimulatorSettings
from gridwatch.sensors.calibrate import ETT_FILES, UCI_FILE
from gridwatch.sensors.realdata import load_real_series, real_data_run
from gridwatch.sensors.shapes import RESIDENTIAL
from gridwatch.sensors.stream import iter_batches
from gridwatch.vocabulary.schema import parse_batch


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """Three days of 1-minute household data (power = 1 + day, one '?' minute) and hourly
    transformer loads (one negative value, as the real series has)."""
    start = datetime(2006, 12, 16, 17, 0)
    lines = ["Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
             "Sub_metering_1;Sub_metering_2;Sub_metering_3"]
    for minute in range(4 * 24 * 60):
        moment = start + timedelta(minutes=minute)
        day = (moment - datetime(2006, 12, 17)).days
        power = "?" if minute == 500 else f"{1.0 + max(day, 0):.3f}"
        lines.append(f"{moment:%d/%m/%Y;%H:%M:%S};{power};0.1;{230 + (minute % 7):.2f};4;0;0;0")
    (tmp_path / UCI_FILE).write_text("\n".join(lines) + "\n")
    rows = ["date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"]
    for hour in range(3 * 24):
        moment = datetime(2016, 7, 1) + timedelta(hours=hour)
        rows.append(f"{moment:%Y-%m-%d %H:%M:%S},{-9.0 if hour == 5 else 5.0},0,1,0,1,0,30")
    for name in ETT_FILES:
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    return tmp_path


def test_series_keep_whole_days_only(data: Path) -> None:
    series = load_real_series(data, 900)
    assert series.household_kw.shape == (3, 96)        # the partial first day is dropped
    assert np.allclose(series.household_kw.mean(axis=1), [1.0, 2.0, 3.0])
    assert series.transformer.shape == (6, 96)         # both transformers' days, pooled
    assert abs(series.household_v_pu.mean() - 1.0) < 1e-9


def test_real_data_run_follows_the_real_series(data: Path) -> None:
    settings = SimulatorSettings(feeders=1, areas_per_feeder=2, meters_per_area=10)
    run = real_data_run(data, settings, days=3)
    assert run.labels == []
    days = list(run.days_iter())
    grid = run.simulator.grid
    injector = run.simulator.injector
    residential = np.argwhere(grid.mask & (grid.customer_class == RESIDENTIAL))[0]
    a, k = int(residential[0]), int(residential[1])
    series_day = [(d + injector.offset[a, k]) % 3 for d in range(3)]
    drawn = [day.readings.true_kw[a, :, k].mean() for day in days]
    expected = [(1.0 + sd) * injector.scale[a, k] for sd in series_day]
    assert np.allclose(drawn, expected)
    for day in days:
        assert day.readings.true_kw.min() >= 0.0
        for batch in iter_batches(day.rows):
            parse_batch(batch.to_json())
