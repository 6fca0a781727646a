"""The online load forecaster on synthetic loads with a known truth: holidays, steps, gaps."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from gridwatch.detectors.forecasting import LoadForecaster

START = datetime(2024, 1, 1)  # a Monday
HOUR = timedelta(hours=1)


def working_day(hour: int) -> float:
    return 50.0 + 30.0 * (8 <= hour < 20)


def sunday(hour: int) -> float:
    return 30.0 + 5.0 * (10 <= hour < 16)


def true_load(at: datetime, holidays: frozenset = frozenset()) -> float:
    if at.weekday() == 6 or at.date() in holidays:
        return sunday(at.hour)
    return working_day(at.hour)


def feed(model: LoadForecaster, hours: int, load=true_load, noise: float = 1.0, seed: int = 3,
         start: datetime = START) -> datetime:
    rng = np.random.default_rng(seed)
    at = start
    for i in range(hours):
        at = start + i * HOUR
        model.learn_one(load(at) + rng.normal(0.0, noise), at)
    return at


def day_error(model: LoadForecaster, truth) -> float:
    points = model.forecast()
    return float(np.mean([abs(p.value - truth(p.at)) for p in points]))


def test_declared_holiday_is_forecast_from_the_holiday_profile():
    holiday = (START + timedelta(days=37)).date()  # a Wednesday in week 6
    assert holiday.weekday() == 2
    with_holiday = LoadForecaster(holidays=[holiday.isoformat()])
    without = LoadForecaster()
    for model in (with_holiday, without):
        feed(model, 37 * 24)  # up to the eve of the holiday, 23:00
    assert with_holiday.forecast()[0].at.date() == holiday
    to_sunday = day_error(with_holiday, lambda at: sunday(at.hour))
    to_working = day_error(with_holiday, lambda at: working_day(at.hour))
    assert to_sunday < 3.0 < 10.0 < to_working
    # the same day undeclared is a working day: the holiday list is what changed it
    assert day_error(without, lambda at: working_day(at.hour)) < 3.0


def test_a_holiday_teaches_the_holiday_profile_not_the_weekday():
    holiday = (START + timedelta(days=30)).date()  # a Wednesday in week 5
    holidays = frozenset([holiday])
    model = LoadForecaster(holidays=[holiday])
    feed(model, 36 * 24, load=lambda at: true_load(at, holidays))  # through Tuesday, week 6
    assert day_error(model, lambda at: working_day(at.hour)) < 3.0  # the next Wednesday


def test_forecast_recovers_within_a_week_of_a_step_change():
    """A large customer connected: +30 at every hour from day 28 on."""
    step_day, step = 28, 30.0

    def stepped(at: datetime) -> float:
        return true_load(at) + (step if at >= START + timedelta(days=step_day) else 0.0)

    model = LoadForecaster()
    feed(model, (step_day - 1) * 24, load=stepped)
    errors = []  # errors[d]: the forecast of day step_day + d, made on its eve
    for day in range(step_day - 1, step_day + 7):
        feed(model, 24, load=stepped, start=START + timedelta(days=day), seed=day)
        errors.append(day_error(model, stepped))
    assert errors[0] > 0.8 * step  # the step is a real surprise
    # in the second half of the week after it, the day-ahead error is back under 5 % of
    # the new mean load (~90) and under a fifth of the first day's
    late = float(np.mean(errors[4:]))
    assert late < 0.05 * (60.0 + step)
    assert late < errors[0] / 5


def test_a_missing_day_keeps_the_clock_and_the_forecast():
    model = LoadForecaster()
    last = feed(model, 21 * 24)
    # a whole day with no reading: the next reading comes 25 h after the last
    resume = last + 25 * HOUR
    feed(model, 24, start=resume, seed=9)
    points = model.forecast()
    assert points[0].at == resume + 24 * HOUR
    assert all(not math.isnan(p.value) for p in points)
    assert day_error(model, true_load) < 3.0


def test_missing_readings_inside_the_stream_are_skipped():
    model = LoadForecaster()
    feed(model, 21 * 24)
    for i in range(24):  # a day of empty readings on the clock
        model.learn_one(math.nan, START + (21 * 24 + i) * HOUR)
    feed(model, 24, start=START + timedelta(days=22), seed=5)
    assert day_error(model, true_load) < 3.0


def test_intervals_cover_about_80_percent():
    model = LoadForecaster()
    feed(model, 28 * 24, noise=4.0)
    rng = np.random.default_rng(11)
    inside = total = 0
    for i in range(28 * 24, 70 * 24):
        at = START + i * HOUR
        point = model.forecast(1)[0]
        value = true_load(at) + rng.normal(0.0, 4.0)
        inside += point.lower <= value <= point.upper
        total += 1
        model.learn_one(value, at)
    assert 0.72 <= inside / total <= 0.88


def test_state_round_trips_and_stays_small():
    model = LoadForecaster(holidays=["2024-01-17"])
    feed(model, 10 * 24)
    blob = model.to_bytes()
    again = LoadForecaster.from_bytes(blob)
    assert [p.value for p in again.forecast()] == [p.value for p in model.forecast()]
    assert again.holidays == model.holidays
    assert len(blob) < 40_000


@pytest.mark.parametrize("bad", [{"interval_s": 7}, {"holiday_weekday": 7},
                                 {"holiday": ["2024-13-01"]}, {"alpha_level": 0.0}])
def test_bad_settings_are_refused_with_their_name(bad):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=key.split("_")[0]):
        LoadForecaster(**{"holidays" if key == "holiday" else key: bad[key]})


def test_a_reading_out_of_order_is_refused():
    model = LoadForecaster()
    model.learn_one(1.0, START + HOUR)
    with pytest.raises(ValueError, match="not after"):
        model.learn_one(1.0, START)


def test_a_temperature_feed_is_used_when_present():
    """Load follows a day's temperature (known at the forecast origin, as from a feed)."""
    rng = np.random.default_rng(8)
    models = {"with": LoadForecaster(), "without": LoadForecaster()}
    pending: dict[tuple[str, datetime], float] = {}
    errors: dict[str, list[float]] = {"with": [], "without": []}
    temp = 0.0
    for i in range(60 * 24):
        at = START + i * HOUR
        if at.hour == 0:
            temp = rng.normal(0.0, 5.0)
        value = working_day(at.hour) + 2.0 * temp + rng.normal(0.0, 1.0)
        for name, model in models.items():
            if (name, at) in pending:
                errors[name].append(abs(pending.pop((name, at)) - value))
            model.learn_one(value, at, temperature=temp if name == "with" else None)
            if i >= 30 * 24:
                point = model.forecast(3)[-1]
                pending[(name, point.at)] = point.value
    assert np.mean(errors["with"]) < 0.9 * np.mean(errors["without"])
