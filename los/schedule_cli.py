"""`los schedule`: print a repayment schedule (and APR, net disbursed) for any product options."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

from domain import schedule as engine
from domain.charges import ChargeConfig, ChargeKind, FeeSpec, compute_upfront_charges
from domain.errors import LosError
from domain.money import to_paise
from domain.preview import schedule_preview
from domain.product import (
    Amortization,
    DaysInMonth,
    DaysInYear,
    Frequency,
    HolidayStrategy,
    InterestCalc,
    InterestMethod,
    LoanTerms,
    parse_enum,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--principal", required=True, help="loan amount in rupees, e.g. 500000 or 5000.50")
    p.add_argument(
        "--annual-rate",
        default=None,
        help="nominal interest rate, percent per annum (e.g. 12; 0 for an interest-free loan); required unless "
        "--daily-rate is given",
    )
    p.add_argument("--installments", type=int, required=True, help="number of installments")
    p.add_argument("--repay-every", type=int, default=1, help="repay every N periods (default 1)")
    p.add_argument("--frequency", default="MONTHS", help="DAYS | WEEKS | MONTHS")
    p.add_argument("--interest-method", default="DECLINING_BALANCE", help="DECLINING_BALANCE | FLAT")
    p.add_argument("--amortization", default="EQUAL_INSTALLMENTS", help="EQUAL_INSTALLMENTS | EQUAL_PRINCIPAL")
    p.add_argument("--interest-calc", default="SAME_AS_REPAYMENT_PERIOD", help="DAILY | SAME_AS_REPAYMENT_PERIOD")
    p.add_argument("--days-in-year", default="ACTUAL", help="ACTUAL | 360 | 364 | 365")
    p.add_argument("--days-in-month", default="ACTUAL", help="ACTUAL | 30")
    p.add_argument("--in-multiples-of", default="0.01", help="round installments to multiples of this many rupees")
    p.add_argument("--disbursed-on", default=None, help="disbursal date YYYY-MM-DD (default today)")
    p.add_argument("--first-due", default=None, help="first due date YYYY-MM-DD (broken first period)")
    p.add_argument("--grace-principal", type=int, default=0, help="periods with no principal due")
    p.add_argument("--grace-interest", type=int, default=0, help="periods with no interest due")
    p.add_argument("--fee-flat", default=None, help="processing fee, rupees")
    p.add_argument("--fee-percent", default=None, help="processing fee, percent of the principal")
    p.add_argument("--third-party-fee", default=None, help="pass-through charge (e.g. insurance), rupees")
    p.add_argument("--gst-percent", default="18", help="GST on lender fees, percent (default 18)")
    p.add_argument("--daily-rate", default=None, help="percent per day: a daily-rate bullet loan")
    p.add_argument(
        "--holidays",
        default=None,
        help="non-repayment dates, comma-separated YYYY-MM-DD or ranges YYYY-MM-DD..YYYY-MM-DD",
    )
    p.add_argument(
        "--holiday-strategy",
        default=HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM.value,
        help=" | ".join(h.value for h in HolidayStrategy) + " (what a due date on a holiday does; docs/money.md)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


class UsageError(Exception):
    pass


def _decimal(value: str, flag: str) -> Decimal:
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise UsageError(f"{flag}: not a number: {value!r}") from exc
    if not result.is_finite():
        raise UsageError(f"{flag}: not a finite number")
    return result


def _rupees(value: str, flag: str) -> Decimal:
    """An amount of rupees as the API takes it (``api.types.Rupees``): digits with at most 2 decimals, more than
    zero; ``UsageError`` naming the flag otherwise (no silent rounding of 5000.129, no 1e3)."""
    if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", value) or Decimal(value) <= 0:
        raise UsageError(f"{flag}: rupees with at most 2 decimals, more than zero (5000 or 5000.50), not {value!r}")
    return Decimal(value)


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: expected a date YYYY-MM-DD, got {value!r}") from exc


def _holidays(value: str | None) -> frozenset[date]:
    """``--holidays``: days and inclusive ranges (``2024-01-15..2024-01-22``), comma-separated."""
    if not value:
        return frozenset()
    days: set[date] = set()
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        first, _, last = part.partition("..")
        start = _date(first.strip(), "--holidays")
        end = _date(last.strip(), "--holidays") if last else start
        assert start is not None and end is not None
        if end < start:
            raise UsageError(f"--holidays: range ends before it starts: {part!r}")
        if (end - start).days > 366:
            raise UsageError(f"--holidays: range longer than a year: {part!r}")
        days.update(date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1))
    return frozenset(days)


FLAG_OF_FIELD = {
    "principal": "--principal",
    "annual_rate": "--annual-rate",
    "installments": "--installments",
    "repay_every": "--repay-every",
    "in_multiples_of": "--in-multiples-of",
    "grace_principal": "--grace-principal",
    "grace_interest": "--grace-interest",
    "first_due": "--first-due",
    "daily_rate": "--daily-rate",
    "holidays": "--holidays",
    "holiday_strategy": "--holiday-strategy",
    "flat": "--fee-flat",
    "percent": "--fee-percent",
    "gst_percent": "--gst-percent",
}


def build(args: argparse.Namespace) -> dict:
    """The schedule, charges, net disbursed and APR for the options in ``args`` (``schedule_preview``'s shape).
    Raises ``UsageError`` naming the flag for a bad or missing value (no rate at all is refused, never taken as 0 %)."""
    if args.annual_rate is None and args.daily_rate is None:
        raise UsageError("--annual-rate: required (percent a year; 0 for an interest-free loan), or give --daily-rate")
    annual_rate = "0" if args.annual_rate is None else args.annual_rate
    multiple = to_paise(_decimal(args.in_multiples_of, "--in-multiples-of"), "in_multiples_of")
    terms = LoanTerms(
        principal=to_paise(_rupees(args.principal, "--principal"), "principal"),
        annual_rate=_decimal(annual_rate, "--annual-rate"),
        installments=args.installments,
        disbursed_on=_date(args.disbursed_on, "--disbursed-on") or date.today(),
        repay_every=args.repay_every,
        frequency=parse_enum(Frequency, args.frequency, "frequency"),  # type: ignore[arg-type]
        interest_method=parse_enum(InterestMethod, args.interest_method, "interest_method"),  # type: ignore[arg-type]
        amortization=parse_enum(Amortization, args.amortization, "amortization"),  # type: ignore[arg-type]
        interest_calc=parse_enum(InterestCalc, args.interest_calc, "interest_calc"),  # type: ignore[arg-type]
        days_in_year=parse_enum(DaysInYear, args.days_in_year, "days_in_year"),  # type: ignore[arg-type]
        days_in_month=parse_enum(DaysInMonth, args.days_in_month, "days_in_month"),  # type: ignore[arg-type]
        in_multiples_of=multiple,
        first_due=_date(args.first_due, "--first-due"),
        grace_principal=args.grace_principal,
        grace_interest=args.grace_interest,
        daily_rate=_decimal(args.daily_rate, "--daily-rate") if args.daily_rate is not None else None,
        holidays=_holidays(args.holidays),
        holiday_strategy=parse_enum(HolidayStrategy, args.holiday_strategy, "holiday_strategy"),  # type: ignore[arg-type]
    )
    fees = []
    if args.fee_flat is not None and args.fee_percent is not None:
        raise UsageError("--fee-flat and --fee-percent: give one or the other")
    if args.fee_flat is not None:
        fees.append(FeeSpec.processing_fee(flat=to_paise(_decimal(args.fee_flat, "--fee-flat"), "flat")))
    if args.fee_percent is not None:
        fees.append(FeeSpec.processing_fee(percent=_decimal(args.fee_percent, "--fee-percent")))
    if args.third_party_fee is not None:
        fees.append(
            FeeSpec(
                name="Third-party charges",
                kind=ChargeKind.THIRD_PARTY,
                flat=to_paise(_decimal(args.third_party_fee, "--third-party-fee"), "flat"),
            )
        )
    config = ChargeConfig(upfront=tuple(fees), gst_percent=_decimal(args.gst_percent, "--gst-percent"))
    charges = compute_upfront_charges(terms.principal, config)
    return schedule_preview(engine.generate(terms), charges)


def print_table(preview: dict) -> None:
    print(
        f"{'#':>4} {'due date':>10} {'days':>5} {'principal':>14} {'interest':>12} {'fees':>9} {'total':>14} "
        f"{'balance':>15}"
    )
    for r in preview["installments"]:
        print(
            f"{r['number']:>4} {r['due_date']:>10} {r['days']:>5} {r['principal']:>14} {r['interest']:>12} "
            f"{r['fees']:>9} {r['total']:>14} {r['balance']:>15}"
        )
    t = preview["totals"]
    print(f"{'':>4} {'totals':>10} {'':>5} {t['principal']:>14} {t['interest']:>12} {t['fees']:>9} {t['total']:>14}")
    print(f"\nEMI {preview['emi']}   APR {preview['apr']}%   net disbursed {preview['net_disbursed']}")
    for c in preview["charges"]:
        print(f"  less {c['name']}: {c['amount']} ({c['basis']})")


def run(args: argparse.Namespace) -> int:
    try:
        preview = build(args)
    except UsageError as exc:
        print(f"los schedule: error: {exc}", file=sys.stderr)
        return 2
    except LosError as exc:
        flag = FLAG_OF_FIELD.get(exc.field or "", f"--{(exc.field or '').replace('_', '-')}")
        print(f"los schedule: error: {flag}: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(preview, indent=2))
    else:
        print_table(preview)
    return 0
