"""The scoring rule on hand-made labels and alerts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridwatch.evaluation.matching import EARLY_S, score, tolerance_s
from gridwatch.vocabulary.findings import RESOLVED, Finding
from gridwatch.vocabulary.labels import Label

H = 3600.0


def label(kind: str, entity: str, start: float, end: float, *, level: str = "meter",
          area: str = "F01-A01", feeder: str = "F01") -> Label:
    return Label(kind, entity, level, area, feeder, start, end)


def alert(kind: str, entity: str, at: float, *, level: str = "meter", area: str = "F01-A01",
          feeder: str = "F01", status: str = "firing") -> Finding:
    return Finding(kind, entity, level, area, feeder, started_at=at, at=at, status=status)


def test_true_false_and_missed() -> None:
    labels = [label("theft_bypass", "M1", 10 * H, 100 * H),
              label("theft_bypass", "M2", 10 * H, 100 * H)]
    alerts = [alert("theft_bypass", "M1", 30 * H),      # found, 20 h late
              alert("theft_bypass", "M1", 60 * H),      # again: still true
              alert("theft_bypass", "M3", 30 * H)]      # wrong meter: false
    s = score(labels, alerts).kinds["theft_bypass"]
    assert (s.events, s.alerts, s.true_alerts) == (2, 3, 2)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 0.5
    assert s.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert s.delays_s == [20 * H]
    assert [lb.entity for lb in s.missed] == ["M2"]
    assert [a.entity for a in s.false_alerts] == ["M3"]


@pytest.mark.parametrize(("at", "found"), [
    (10 * H - EARLY_S - 1, False),                      # too early
    (10 * H - EARLY_S, True),
    (12 * H + tolerance_s("meter_power_loss"), True),   # at the edge of the tolerance
    (12 * H + tolerance_s("meter_power_loss") + 1, False),
])
def test_window_edges(at: float, found: bool) -> None:
    result = score([label("meter_power_loss", "M1", 10 * H, 12 * H)],
                   [alert("meter_power_loss", "M1", at)])
    assert result.kinds["meter_power_loss"].recall == (1.0 if found else 0.0)


def test_tolerance_is_per_kind() -> None:
    assert tolerance_s("theft_bypass") > tolerance_s("low_voltage_zone") > tolerance_s(
        "outage_area")


def test_area_and_feeder_labels_accept_their_areas() -> None:
    labels = [label("leakage", "F01-A01", 0, 50 * H, level="area"),
              label("outage_feeder", "F02", 0, 2 * H, level="feeder", area="", feeder="F02")]
    alerts = [alert("leakage", "F01-A01", 20 * H, level="area"),
              alert("outage_feeder", "F02-A03", H, level="area", area="F02-A03",
                    feeder="F02"),
              alert("outage_feeder", "F03", H, level="feeder", area="", feeder="F03")]
    kinds = score(labels, alerts).kinds
    assert kinds["leakage"].recall == 1.0
    assert kinds["outage_feeder"].recall == 1.0
    assert kinds["outage_feeder"].precision == 0.5


def test_symptoms_of_a_labelled_cause_are_explained_not_false() -> None:
    labels = [label("outage_feeder", "F02", 0, 2 * H, level="feeder", area="", feeder="F02")]
    alerts = [alert("outage_area", "F02-A01", H, level="area", area="F02-A01", feeder="F02"),
              alert("outage_area", "F01-A01", H, level="area")]
    kinds = score(labels, alerts).kinds
    s = kinds["outage_area"]
    assert (s.alerts, s.explained_alerts, s.true_alerts, s.precision) == (2, 1, 0, 0.0)
    assert s.recall is None and s.f1 is None
    assert kinds["outage_feeder"].recall == 0.0


def test_only_firing_findings_are_alerts_and_unknown_kinds_are_reported() -> None:
    result = score([], [alert("made_up", "X", 5.0),
                        alert("made_up", "X", 9.0, status=RESOLVED)])
    s = result.kinds["made_up"]
    assert (s.events, s.alerts, s.precision, s.recall) == (0, 1, 0.0, None)
    assert result.to_dict() == {"kinds": {"made_up": {
        "events": 0, "alerts": 1, "precision": 0.0, "recall": None, "f1": None,
        "delay_median_s": None, "delay_p95_s": None}}}


def test_delay_percentiles() -> None:
    labels = [label("phase_loss", f"F01-A0{i}", 0, 10 * H, level="area", area=f"F01-A0{i}")
              for i in range(1, 5)]
    alerts = [alert("phase_loss", f"F01-A0{i}", i * 900.0, level="area", area=f"F01-A0{i}")
              for i in range(1, 5)]
    s = score(labels, alerts).kinds["phase_loss"]
    assert s.delay(50) == pytest.approx(2.5 * 900)
    assert s.delay(95) == pytest.approx(3.85 * 900)


KINDS_SAMPLE = ["theft_bypass", "outage_area", "outage_feeder", "meter_power_loss"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS_SAMPLE), st.integers(0, 3),
                          st.integers(0, 200), st.integers(1, 50)), max_size=8),
       st.lists(st.tuples(st.sampled_from(KINDS_SAMPLE), st.integers(0, 3),
                          st.integers(0, 260)), max_size=12))
def test_every_alert_is_judged_once_and_scores_stay_in_range(raw_labels, raw_alerts) -> None:
    labels = [label(kind, f"M{e}", start * H, (start + length) * H) for kind, e, start, length
              in raw_labels]
    alerts = [alert(kind, f"M{e}", at * H) for kind, e, at in raw_alerts]
    result = score(labels, alerts)
    assert len(result.verdicts) == len(alerts)
    for s in result.kinds.values():
        assert s.true_alerts + s.explained_alerts + len(s.false_alerts) == s.alerts
        assert s.found + len(s.missed) == s.events
        for value in (s.precision, s.recall, s.f1):
            assert value is None or 0.0 <= value <= 1.0


def test_an_early_warning_is_scored_by_how_far_ahead_of_the_onset_it_came() -> None:
    """Rule 5: a warning before the onset is true with a lead; one never followed is false."""
    overload = Label("transformer_overload", "A1", "area", "A1", "F1", 100 * H, 160 * H)
    quiet = Label("transformer_overload", "A2", "area", "A2", "F1", 100 * H, 160 * H)
    early = Finding("forecast_overload", "A1", "area", "A1", "F1", 90 * H, 90 * H)
    again = Finding("forecast_overload", "A1", "area", "A1", "F1", 120 * H, 120 * H)
    stray = Finding("forecast_overload", "A3", "area", "A3", "F1", 95 * H, 95 * H)
    result = score([overload, quiet], [early, again, stray], onsets={overload: 108 * H})
    warn = result.kinds["forecast_overload"]
    assert (warn.events, warn.alerts, warn.true_alerts, warn.found) == (2, 3, 2, 1)
    assert warn.leads_s == [18 * H] and warn.false_alerts == [stray]
    summary = result.to_dict()["kinds"]["forecast_overload"]
    assert summary["lead_median_h"] == 18.0 and summary["warned_ahead_share"] == 0.5
    assert "lead_median_h" not in result.to_dict()["kinds"]["transformer_overload"]


def test_a_warning_too_long_before_the_onset_was_not_followed_by_it() -> None:
    overload = Label("transformer_overload", "A1", "area", "A1", "F1", 100 * H, 160 * H)
    stale = Finding("forecast_overload", "A1", "area", "A1", "F1", 10 * H, 10 * H)
    warn = score([overload], [stale]).kinds["forecast_overload"]
    assert (warn.true_alerts, warn.found, warn.precision) == (0, 0, 0.0)
