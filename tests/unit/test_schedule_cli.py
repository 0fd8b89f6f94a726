"""`los schedule`: holidays reach the engine; bad values and a missing rate exit 2 naming the flag."""

from __future__ import annotations

import argparse
import json

import pytest

from los.schedule_cli import add_arguments, run

WEEKLY = ["--principal", "10000", "--annual-rate", "24", "--installments", "5", "--frequency", "WEEKS"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    code = run(parser.parse_args([*argv, "--disbursed-on", "2024-01-01", "--json"]))
    out, err = capsys.readouterr()
    return code, out, err


def test_holiday_range_and_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*WEEKLY, "--holidays", "2024-01-15..2024-01-22"], capsys)
    assert code == 0
    rows = json.loads(out)["installments"]
    # default: 15 Jan → 23 Jan (past 22 Jan), the rest a week apart from there (tests/unit/test_holidays.py)
    assert [(r["due_date"], r["days"]) for r in rows] == [
        ("2024-01-08", 7),
        ("2024-01-23", 15),
        ("2024-01-30", 7),
        ("2024-02-06", 7),
        ("2024-02-13", 7),
    ]
    code, out, _ = _run(
        [*WEEKLY, "--holidays", "2024-01-15..2024-01-22", "--holiday-strategy", "next_working_day_merge"], capsys
    )
    merged = json.loads(out)["installments"]
    assert code == 0 and [r["due_date"] for r in merged] == ["2024-01-08", "2024-01-23", "2024-01-29", "2024-02-05"]
    assert merged[1]["total"] == "4055.40"


def test_single_days_and_lists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*WEEKLY, "--holidays", "2024-01-08, 2024-01-29"], capsys)
    assert code == 0
    assert [r["due_date"] for r in json.loads(out)["installments"]][:4] == [
        "2024-01-09",
        "2024-01-15",
        "2024-01-22",
        "2024-01-30",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--holidays", "2024-01-22..2024-01-15"], "--holidays: range ends before it starts"),
        (["--holidays", "2024-13-01"], "--holidays: expected a date"),
        (["--holidays", "2024-01-01..2026-01-01"], "--holidays: range longer than a year"),
        (["--holiday-strategy", "MOVE_SOMEWHERE"], "--holiday-strategy: unknown value"),
        # the principal as the API takes rupees: never rounded to the paisa, no exponent, more than zero
        (["--principal", "5000.129"], "--principal: rupees with at most 2 decimals"),
        (["--principal", "1e3"], "--principal: rupees with at most 2 decimals"),
        (["--principal", "0"], "more than zero"),
    ],
)
def test_bad_values_exit_2_naming_the_flag(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([*WEEKLY, *argv], capsys)
    assert code == 2 and out == "" and message in err


def test_a_schedule_without_a_rate_is_refused_not_taken_as_interest_free(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["--principal", "10000", "--installments", "5"], capsys)
    assert code == 2 and out == "" and "--annual-rate: required" in err
    code, out, _ = _run(["--principal", "10000", "--installments", "5", "--annual-rate", "0"], capsys)
    assert code == 0 and json.loads(out)["totals"]["interest"] == "0.00"  # 0 said out loud: interest-free
    bullet = ["--principal", "10000", "--installments", "1", "--repay-every", "30", "--frequency", "DAYS"]
    code, out, _ = _run([*bullet, "--daily-rate", "1"], capsys)
    assert code == 0 and json.loads(out)["totals"]["interest"] == "3000.00"  # 1 % a day for 30 days
