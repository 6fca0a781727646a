"""`gridwatch forecast` as an engineer runs it: the row contract, --horizon, errors."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from gridwatch.cli import main
from gridwatch.detectors.forecasting import LoadForecaster

START = datetime(2024, 1, 1)


def load(i: int) -> float:
    at = START + timedelta(hours=i)
    return 50.0 + 30.0 * (8 <= at.hour < 20) - 20.0 * (at.weekday() == 6) + 3.0 * math.sin(i)


def series(n: int, change_after: int | None = None) -> str:
    rows = ["timestamp,value"]
    for i in range(n):
        value = load(i) * (10.0 if change_after is not None and i > change_after else 1.0)
        rows.append(f"{(START + timedelta(hours=i)).isoformat()},{value:.4f}")
    return "\n".join(rows) + "\n"


def run(text: str, *args: str) -> tuple[int, list[dict[str, str]], str]:
    result = subprocess.run([sys.executable, "-m", "gridwatch", "forecast", *args], input=text,
                            capture_output=True, text=True, timeout=120)
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if result.returncode == 0 else []
    return result.returncode, rows, result.stderr


def test_one_row_out_per_row_in_with_empty_cells_until_there_is_history():
    code, rows, _ = run(series(24 * 10), "--horizon", "6")
    assert code == 0 and len(rows) == 24 * 10
    assert list(rows[0]) == ["timestamp", "value", "forecast", "lower", "upper"]
    assert rows[0]["forecast"] == "" and rows[28]["forecast"] == ""
    assert rows[-1]["forecast"] != "" and rows[-1]["lower"] != "" and rows[-1]["upper"] != ""
    assert float(rows[-1]["lower"]) <= float(rows[-1]["forecast"]) <= float(rows[-1]["upper"])


@pytest.mark.parametrize("horizon", [1, 5, 24])
def test_row_t_is_forecast_from_rows_up_to_t_minus_h_only(horizon):
    t = 24 * 12
    _, plain, _ = run(series(t + 1), "--horizon", str(horizon))
    # rows after t - H changed beyond recognition: row t's forecast must not move
    _, changed, _ = run(series(t + 1, change_after=t - horizon), "--horizon", str(horizon))
    assert changed[t]["forecast"] == plain[t]["forecast"] != ""
    # ... and row t - H itself does move it (the check above could fail)
    _, moved, _ = run(series(t + 1, change_after=t - horizon - 1), "--horizon", str(horizon))
    assert moved[t]["forecast"] != plain[t]["forecast"]
    # it is the model's forecast H steps ahead made after learning rows 0 .. t - H
    model = LoadForecaster(3600, horizon)
    for i in range(t - horizon + 1):
        model.learn_one(load(i), START + timedelta(hours=i))
    expected = model.forecast(horizon)[-1]
    assert expected.at == START + timedelta(hours=t)
    assert float(plain[t]["forecast"]) == pytest.approx(expected.value, rel=1e-5)


def test_baseline_model_by_name():
    code, rows, _ = run(series(24 * 3), "--model", "seasonal-naive-daily", "--horizon", "1")
    assert code == 0
    t = 24 * 2 + 5
    assert float(rows[t]["forecast"]) == pytest.approx(float(rows[t - 24]["value"]))
    assert rows[t]["lower"] == ""


@pytest.mark.parametrize(("text", "args", "needle"), [
    ("timestamp,value\n2024-01-01T00:00,1\n2024-01-01T01:00,x\n", (), "line 3"),
    ("timestamp,value\n2024-01-01T00:00,1\nyesterday,2\n", (), "line 3"),
    ("timestamp,value\n2024-01-01T01:00,1\n2024-01-01T00:00,2\n", (), "line 3"),
    ("time,load\n2024-01-01T00:00,1\n", (), "line 1"),
    ("timestamp,value,temperature\n2024-01-01T00:00,1,hot\n", (), "line 2: temperature"),
    ("timestamp,value\n2024-01-01T00:00,1\n2024-01-01T00:07,2\n", (), "divide a day"),
    (series(30), ("--horizon", "25"), "--horizon"),
    (series(30), ("--model", "prophet"), "unknown model"),
    (series(30), ("--param", "ridge=much"), "ridge"),
    (series(30), ("--model", "seasonal-naive-daily", "--holiday", "2024-01-03"), "holidays"),
])
def test_bad_input_is_a_clear_error(text, args, needle):
    code, _, err = run(text, *args)
    assert code == 2 and needle in err and "Traceback" not in err


def test_list_names_every_model(capsys):
    assert main(["forecast", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("gridwatch (default)", "seasonal-naive-weekly", "river-holtwinters",
                 "river-snarimax"):
        assert name in out
