"""Data-quality screen and low-voltage zones on hand-made streams."""

from __future__ import annotations

from tests.detector_streams import CONCENTRATOR, firing, run

DAY_T = 96


def kinds(findings):
    return sorted({(f.kind, f.entity) for f in firing(findings)})


def test_duplicated_upload_is_reported_once_and_not_double_counted():
    def twice(t, ts, iv):
        if DAY_T + 10 <= t < DAY_T + 14:
            iv.send = 2

    assert kinds(run(2, twice)) == [("dq_duplicate", CONCENTRATOR)]


def test_late_upload_is_out_of_order():
    def late(t, ts, iv):
        if t == DAY_T + 10:
            iv.delay = True

    assert kinds(run(2, late)) == [("dq_out_of_order", CONCENTRATOR)]


def test_lost_uploads_are_a_dropout_starting_at_the_first_missing_interval():
    def lost(t, ts, iv):
        if DAY_T + 10 <= t < DAY_T + 16:
            iv.send = 0

    found = firing(run(2, lost))
    assert [f.kind for f in found] == ["dq_concentrator_dropout"]
    assert found[0].observed["missing_intervals"] == 6


def test_meter_clock_off_the_grid_is_skew():
    def skew(t, ts, iv):
        if t >= DAY_T + 10:
            iv.ts_offset[9] = 700.0

    assert kinds(run(2, skew)) == [("dq_clock_skew", "M09")]


def test_stuck_meter_is_reported_and_is_not_a_low_voltage_zone():
    def stuck_low(t, ts, iv):
        if t == DAY_T + 10:
            iv.volts[2] = 185.0
        if t >= DAY_T + 10:
            iv.frozen.add(2)

    found = kinds(run(3, stuck_low))
    assert ("dq_stuck_meter", "M02") in found
    assert all(kind != "low_voltage_zone" for kind, _ in found)


def test_far_end_meters_under_the_limit_at_the_evening_peak_are_a_low_voltage_zone():
    def weak_branch(t, ts, iv):
        hour = (t % DAY_T) / 4
        if t >= DAY_T and 18 <= hour < 22:
            iv.volts[1:6] -= 40.0

    found = firing(run(3, weak_branch), "low_voltage_zone")
    assert found, "expected a low-voltage zone"
    zone = set(found[0].evidence["zone_meters"])
    assert zone <= {"M01", "M02", "M03", "M04", "M05"}
    assert 18 <= (found[0].started_at % 86_400) / 3600 < 22
