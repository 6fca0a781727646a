"""Early warnings driven by the real forecaster on a synthetic area with a known overload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from gridwatch.detectors.early_warning import (
    FORECAST_LOW_VOLTAGE,
    FORECAST_OVERLOAD,
    LowVoltageLoadLimit,
    LowVoltageWarning,
    OverloadWarning,
)
from gridwatch.detectors.forecast_area import AreaForecast
from gridwatch.detectors.forecasting import LoadForecaster
from gridwatch.vocabulary.findings import Finding

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
RATING = 110.0


def area_load(at: datetime) -> float:
    """Evening peak 100, but 118 on Mondays (a weekly overload the forecast can learn)."""
    evening = 17 <= at.hour < 21
    return 60.0 + 40.0 * evening + 18.0 * (evening and at.weekday() == 0)


def run_area(warning, limit: LowVoltageLoadLimit | None = None):
    rng = np.random.default_rng(2)
    model = LoadForecaster()
    events, overloads = [], []
    for i in range(5 * 7 * 24):
        at = START + timedelta(hours=i)
        load = area_load(at) + rng.normal(0.0, 1.0)
        if limit is not None:  # far-end voltage falls with load: under 198 V above ~104
            limit.learn_one(load, 240.0 - 0.4 * load)
        if load > RATING:
            overloads.append(at)
        model.learn_one(load, at)
        event = warning.update(model.peak(), at.timestamp())
        if event is not None:
            events.append(event)
    return events, overloads


def test_weekly_overloads_are_warned_hours_ahead_and_resolve_in_between():
    events, overloads = run_area(OverloadWarning(RATING))
    onsets = [at for at in overloads if at - timedelta(hours=1) not in overloads]
    assert len(onsets) == 5 and all(at.weekday() == 0 and at.hour == 17 for at in onsets)
    firing = [e for e in events if e.status == "firing"]
    resolved = [e for e in events if e.status == "resolved"]
    assert all(e.kind == FORECAST_OVERLOAD for e in events)
    for onset in onsets[2:]:  # from the third Monday on, the week has been learnt
        ahead = [e for e in firing if timedelta(hours=6) <= onset - _when(e) <= timedelta(1)]
        assert ahead, f"no warning 6-24 h before the overload of {onset}"
        assert ahead[0].evidence["margin"] > 0 and ahead[0].evidence["lead_hours"] >= 6
        assert "over the transformer rating" in ahead[0].reason
        after = [e for e in resolved if onset < _when(e) < onset + timedelta(days=6)]
        assert after and after[0].started_at == ahead[0].started_at
    # precision: every warning (but one in the last day of the run) is followed by an
    # overload within a day
    end = START + timedelta(days=5 * 7 - 1)
    for event in (e for e in firing if _when(e) < end):
        assert any(timedelta(0) < at - _when(event) <= timedelta(1) for at in onsets)


def _when(event) -> datetime:
    return datetime.fromtimestamp(event.at, UTC)


def test_no_warning_on_a_load_that_stays_under_its_rating():
    events, overloads = run_area(OverloadWarning(RATING * 1.5))
    assert events == [] and overloads  # overloads of RATING, none of 1.5 x RATING


def test_low_voltage_warning_from_the_learnt_critical_load():
    limit = LowVoltageLoadLimit(limit_v=198.0)
    events, _ = run_area(LowVoltageWarning(limit), limit)
    assert limit.events > 0 and abs(limit.critical_load - 105.0) < 2.0
    firing = [e for e in events if e.status == "firing"]
    assert firing and firing[0].kind == FORECAST_LOW_VOLTAGE
    assert firing[0].evidence["low_voltage_events"] >= 1


def test_a_warning_maps_onto_a_finding():
    events, _ = run_area(OverloadWarning(RATING))
    finding = Finding(entity="area-7", entity_type="area", area="area-7", feeder="f-1",
                      **events[0].to_finding_fields())
    assert Finding.from_dict(finding.to_dict()) == finding
    assert finding.threshold["limit"] == RATING


def test_area_forecast_survives_a_restart_mid_warning():
    """The area state written and read back (as the worker does) changes no decision."""
    rng = np.random.default_rng(5)
    loads = [area_load(START + timedelta(hours=i)) + rng.normal(0.0, 1.0)
             for i in range(4 * 7 * 24)]
    kept, restarted = AreaForecast(rating=RATING), AreaForecast(rating=RATING)
    events = {"kept": [], "restarted": []}
    for i, load in enumerate(loads):
        at = (START + timedelta(hours=i)).timestamp()
        volts = 240.0 - 0.4 * load
        events["kept"] += kept.update(load, at, far_end_voltage=volts)
        events["restarted"] += restarted.update(load, at, far_end_voltage=volts)
        if i % 50 == 0:
            restarted = AreaForecast.from_bytes(restarted.to_bytes())
    assert events["kept"] == events["restarted"]
    assert {e.kind for e in events["kept"]} == {FORECAST_OVERLOAD, FORECAST_LOW_VOLTAGE}
    assert len(kept.to_bytes()) < 40_000
