"""Committed load shapes: normalised, and equal to what the real data gives where it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridwatch.sensors import shapes
from gridwatch.sensors.calibrate import derive

DATA = Path("/work/shared/data")


def test_shapes_have_an_evening_residential_peak_and_office_hours() -> None:
    s = shapes.interval_shapes(900)
    evening = slice(18 * 4, 22 * 4)
    night = slice(1 * 4, 5 * 4)
    assert s[shapes.RESIDENTIAL, 0, evening].mean() > 2 * s[shapes.RESIDENTIAL, 0, night].mean()
    assert s[shapes.COMMERCIAL, 0, 10 * 4:16 * 4].mean() > 4 * s[shapes.COMMERCIAL, 0,
                                                                   night].mean()


def test_temperature_drives_heating_and_cooling() -> None:
    factor = shapes.temperature_factor(np.array([-5.0, 18.0, 35.0]))
    assert np.all(factor[:, 0] > factor[:, 1]) and np.all(factor[:, 2] > factor[:, 1])
    assert np.all(factor[:, 1] == 1.0)


@pytest.mark.skipif(not DATA.is_dir(), reason="real data folder not present (CI)")
def test_committed_tables_match_the_real_data() -> None:
    derived = derive(DATA)
    assert derived["residential"]["weekday"] == list(shapes.RESIDENTIAL_WEEKDAY)
    assert derived["residential"]["weekend"] == list(shapes.RESIDENTIAL_WEEKEND)
    assert derived["industrial"]["weekday"] == list(shapes.INDUSTRIAL_WEEKDAY)
    assert derived["industrial"]["weekend"] == list(shapes.INDUSTRIAL_WEEKEND)
