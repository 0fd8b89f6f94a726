"""Charges, APR and the Key Facts Statement. Pure domain maths, no I/O, no schedule engine: schedules are
built by hand below (``emi_schedule``) so these tests do not depend on ``domain.schedule``.

Golden numbers say where they come from."""

from __future__ import annotations

import calendar
import json
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
import pyxirr
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import apr as aprm
from domain.charges import (
    ChargeConfig,
    ChargeKind,
    FeeSpec,
    KfsHead,
    Outstanding,
    PenalBasis,
    PenalChargeSpec,
    compute_upfront_charges,
    cooling_off_exit_amount,
    levy_penal_charges,
    penal_charge,
)
from domain.errors import ValidationError
from domain.kfs import Disclosures, FloatingRateInfo, InterestRateType, build_kfs
from domain.money import round_paise
from domain.product import Frequency, LoanTerms, Schedule, ScheduleRow

START = date(2025, 1, 15)


# ----------------------------------------------------------------------------------- hand-built schedules
def _add_months(d: date, months: int) -> date:
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


def emi_schedule(
    principal: int,
    rate: Decimal,
    n: int,
    *,
    start: date = START,
    fee: int = 0,
    frequency: Frequency = Frequency.MONTHS,
    first_due: date | None = None,
) -> Schedule:
    """A declining-balance EMI schedule, independent of the engine: periodic rate annual/12 (monthly) or
    annual × 7/365 (weekly); EMI P·r(1+r)^n/((1+r)^n − 1) and each interest rounded half-up to the paisa;
    the last installment takes the remaining balance. ``first_due`` makes a broken first period whose
    interest is the periodic interest pro rata to its days (actual/30-day month here)."""
    terms = LoanTerms(
        principal=principal,
        annual_rate=rate,
        installments=n,
        disbursed_on=start,
        frequency=frequency,
        installment_fee=fee,
        first_due=first_due,
    )
    r = rate / 1200 if frequency == Frequency.MONTHS else rate / 100 * 7 / 365
    if r == 0:
        emi = -(-principal // n)
    else:
        emi = round_paise(principal * r * (1 + r) ** n / ((1 + r) ** n - 1))
    if first_due is None:
        step = (
            (lambda k: _add_months(start, k))
            if frequency == Frequency.MONTHS
            else (lambda k: start + timedelta(weeks=k))
        )
        dates = [step(k) for k in range(1, n + 1)]
    else:
        dates = [_add_months(first_due, k) for k in range(n)]
    rows, balance, prev = [], principal, start
    for k, due in enumerate(dates, start=1):
        days = (due - prev).days
        factor = r if first_due is None or k > 1 else r * days / 30
        interest = round_paise(balance * factor)
        part = balance if k == n else min(balance, emi - interest)
        balance -= part
        rows.append(ScheduleRow(k, due, days, part, interest, fee, part + interest + fee, balance))
        prev = due
    return Schedule(terms, tuple(rows), emi)


def bullet_schedule(principal: int, daily_rate: Decimal, days: int, *, start: date = START) -> Schedule:
    """The daily-rate bullet: simple interest principal × rate% × days, one repayment."""
    terms = LoanTerms(
        principal=principal,
        annual_rate=daily_rate * 365,
        installments=1,
        disbursed_on=start,
        frequency=Frequency.DAYS,
        repay_every=days,
        daily_rate=daily_rate,
    )
    interest = round_paise(Decimal(principal) * daily_rate / 100 * days)
    row = ScheduleRow(1, start + timedelta(days=days), days, principal, interest, 0, principal + interest, 0)
    return Schedule(terms, (row,), principal + interest)


def rbi_illustration_charges() -> ChargeConfig:
    # processing fee ₹160 and insurance ₹240, stated as totals in the illustration (no separate GST line)
    return ChargeConfig(
        upfront=(
            FeeSpec(
                "Processing fee",
                ChargeKind.LENDER_FEE,
                flat=160_00,
                gst_applicable=False,
                kfs_head=KfsHead.PROCESSING_FEE,
            ),
            FeeSpec.insurance(flat=240_00),
        ),
        gst_percent=Decimal(0),
    )


# ------------------------------------------------------------------------------------ golden vectors
def test_rbi_kfs_illustration_apr_17_07() -> None:
    # RBI's KFS APR illustration (digital-lending KFS, carried into the 15 April 2024 KFS circular's
    # Annex B), as reproduced in the ONDC/beckn lending KFS sample table: loan ₹20,000; total interest
    # ₹3,274; processing fees ₹160 + insurance ₹240 = ₹400; net disbursed ₹19,600; total to be paid
    # (loan + interest + charges) ₹23,674; APR 17.07%; 24 monthly instalments of ₹970.
    # The ₹970 EMI and ₹3,274 interest are those of 15% p.a. (EMI ₹969.73); the APR is monthly IRR × 12.
    schedule = emi_schedule(20_000_00, Decimal(15), 24)
    assert schedule.emi == 969_73
    assert int((Decimal(schedule.total_interest) / 100).quantize(Decimal(1), ROUND_HALF_UP)) == 3_274
    charges = compute_upfront_charges(20_000_00, rbi_illustration_charges())
    assert charges.total_deductions == 400_00
    assert charges.net_disbursed == 19_600_00
    assert aprm.apr(schedule, charges) == Decimal("17.07")
    kfs = build_kfs(schedule, charges, config=rbi_illustration_charges())
    assert kfs.apr == Decimal("17.07")
    assert kfs.net_disbursed == 19_600_00
    assert kfs.processing_fees == 160_00 and kfs.insurance_charges == 240_00
    assert kfs.payable_to_re == 160_00 and kfs.payable_to_third_party == 240_00
    assert round(kfs.total_amount_payable_incl_upfront / 100) == 23_674
    assert round(kfs.total_amount_payable / 100) == 23_274  # 2024 Annex B row 8: sum of loan and interest
    assert kfs.installment_count == 24 and round(kfs.installment_amount / 100) == 970
    # the annually compounded rate would be 18.47%: RBI's figure is the nominal one (monthly IRR × 12)
    monthly = aprm.irr([19_600_00] + [-(r.principal + r.interest) for r in schedule.rows])
    assert aprm.quantize_apr(((1 + monthly) ** 12 - 1) * 100) == Decimal("18.47")
    assert aprm.quantize_apr(monthly * 1200) == Decimal("17.07")


def test_rbi_illustration_with_rupee_instalments_17_10() -> None:
    # The same illustration with every instalment taken as ₹970 exactly (24 × ₹970 on ₹19,600 net):
    # 17.10%, the figure an open-source RBI-APR comparator (effective-apr-comparator lib.mjs, "reproduces
    # the RBI's own Annex B illustration") asserts; monthly IRR × 12.
    assert aprm.quantize_apr(aprm.apr_of_periodic_flows([19_600_00] + [-970_00] * 24, 12)) == Decimal("17.10")


def test_textbook_emi_no_fees_apr_is_the_nominal_rate() -> None:
    # Textbook: ₹1,00,000 at 12% p.a., 12 months → EMI ₹8,884.88; with no charges the APR is 12.00%.
    schedule = emi_schedule(1_00_000_00, Decimal(12), 12)
    assert schedule.emi == 8_884_88
    charges = compute_upfront_charges(1_00_000_00, ChargeConfig())
    assert charges.lines == () and charges.net_disbursed == 1_00_000_00
    assert aprm.apr(schedule, charges) == Decimal("12.00")
    assert abs(aprm.apr_exact(schedule, charges) - 12) < Decimal("0.0001")


def test_numpy_financial_docs_irr_example() -> None:
    # numpy-financial documentation, irr: round(npf.irr([-100, 39, 59, 55, 20]), 5) == 0.28095
    assert aprm.irr([-100, 39, 59, 55, 20]).quantize(Decimal("0.00001")) == Decimal("0.28095")


def test_excel_xirr_docs_example() -> None:
    # Microsoft Excel XIRR documentation example: -10,000 on 2008-01-01, 2,750 on 2008-03-01, 4,250 on
    # 2008-10-30, 3,250 on 2009-02-15, 2,750 on 2009-04-01 → 0.373362535 (Excel iterates to 0.000001%).
    flows = [
        (date(2008, 1, 1), -10_000),
        (date(2008, 3, 1), 2_750),
        (date(2008, 10, 30), 4_250),
        (date(2009, 2, 15), 3_250),
        (date(2009, 4, 1), 2_750),
    ]
    assert abs(aprm.xirr(flows) - Decimal("0.373362535")) < Decimal("1e-8")


def test_gst_on_lender_fee_is_its_own_line_third_party_has_none() -> None:
    # 2% processing fee on ₹1,00,000 = ₹2,000; GST 18% = ₹360; insurance ₹1,500 passed through.
    config = ChargeConfig(upfront=(FeeSpec.processing_fee(percent=Decimal(2)), FeeSpec.insurance(flat=1_500_00)))
    charges = compute_upfront_charges(1_00_000_00, config)
    assert [(line.name, line.kind, line.amount) for line in charges.lines] == [
        ("Processing fee", ChargeKind.LENDER_FEE, 2_000_00),
        ("GST on Processing fee", ChargeKind.GST, 360_00),
        ("Insurance premium", ChargeKind.THIRD_PARTY, 1_500_00),
    ]
    assert charges.gst == 360_00 and charges.third_party == 1_500_00
    assert charges.total_deductions == 3_860_00
    assert charges.net_disbursed == 96_140_00
    assert charges.payable_to_re == 2_360_00


def test_percent_fee_rounds_half_up_and_clamps() -> None:
    # 1.5% of 3,500 paise = 52.5 paise → 53 (half-up; banker's rounding would give 52); GST 18% of 53 = 9.54 → 10
    config = ChargeConfig(upfront=(FeeSpec.processing_fee(percent=Decimal("1.5")),))
    assert [line.amount for line in compute_upfront_charges(35_00, config).lines] == [53, 10]
    capped = ChargeConfig(
        upfront=(FeeSpec.processing_fee(percent=Decimal(2), minimum=500_00, maximum=5_000_00),), gst_percent=Decimal(0)
    )
    assert compute_upfront_charges(10_000_00, capped).total_deductions == 500_00  # 2% = ₹200 → minimum ₹500
    assert compute_upfront_charges(10_00_000_00, capped).total_deductions == 5_000_00  # 2% = ₹20,000 → max
    other = ChargeConfig(
        upfront=(
            FeeSpec("Stamp duty", ChargeKind.OTHER, flat=100_00),
            FeeSpec("Documentation", ChargeKind.OTHER, flat=200_00, gst_applicable=True),
        )
    )
    lines = compute_upfront_charges(50_000_00, other).lines
    assert [(line.kind, line.amount) for line in lines] == [
        (ChargeKind.OTHER, 100_00),
        (ChargeKind.OTHER, 200_00),
        (ChargeKind.GST, 36_00),
    ]


def test_penal_charges_per_rbi_2023() -> None:
    flat = PenalChargeSpec.flat_per_occurrence(500_00)
    assert penal_charge(flat, 8_884_88, 1) == 500_00
    assert penal_charge(flat, 8_884_88, 45) == 500_00  # per occurrence, not per day
    assert penal_charge(flat, 8_884_88, 0) == 0
    # 24% p.a. on ₹10,000 overdue for 30 days: 10,000 × 0.24 × 30/365 = ₹197.2603 → ₹197.26
    pct = PenalChargeSpec.percent_per_annum(Decimal(24))
    assert penal_charge(pct, 10_000_00, 30) == 197_26
    assert penal_charge(PenalChargeSpec.percent_per_annum(Decimal(24), cap=100_00), 10_000_00, 30) == 100_00
    # charges levied month after month are each on the overdue installment only: no penal on penal
    start = Outstanding(principal=90_000_00, interest=900_00)
    after = levy_penal_charges(start, pct, [(10_000_00, 30), (10_000_00, 30)])
    assert after.penal == 2 * 197_26
    assert (after.principal, after.interest, after.interest_bearing) == (90_000_00, 900_00, 90_000_00)


def test_cooling_off_exit_amount() -> None:
    # ₹1,00,000 held 3 days at APR 17.07%: 1,00,000 × 0.1707 × 3/365 = ₹140.3014 → ₹140.30; no penalty
    assert cooling_off_exit_amount(1_00_000_00, Decimal("17.07"), 3) == 1_00_140_30
    assert cooling_off_exit_amount(1_00_000_00, Decimal("17.07"), 0) == 1_00_000_00
    with pytest.raises(ValidationError) as err:
        cooling_off_exit_amount(1_00_000_00, Decimal("17.07"), 4, cooling_off_days=3)
    assert err.value.field == "days_held"


def test_daily_rate_bullet_apr_is_simple_annualisation() -> None:
    # A 30-day bullet at 0.1% a day: ₹10,000 + ₹300. No charges → 0.1% × 365 = 36.50% p.a.
    schedule = bullet_schedule(10_000_00, Decimal("0.1"), 30)
    assert not aprm.is_regular(schedule)
    assert aprm.apr(schedule, 10_000_00) == Decimal("36.50")
    # ₹200 processing fee + 18% GST deducted: APR = (10,300 / 9,764 − 1) × 365/30
    charges = compute_upfront_charges(10_000_00, ChargeConfig(upfront=(FeeSpec.processing_fee(flat=200_00),)))
    assert charges.net_disbursed == 9_764_00
    expected = (Decimal(10_300_00) / Decimal(9_764_00) - 1) * 365 / 30 * 100
    assert abs(aprm.apr_exact(schedule, charges) - expected) < Decimal("1e-20")
    kfs = build_kfs(schedule, charges)
    assert kfs.repayment_frequency == "Bullet (single repayment)" and kfs.loan_term == "30 days"
    assert kfs.interest_rate_text == "0.10% per day"


def test_broken_first_period_uses_day_count() -> None:
    schedule = emi_schedule(50_000_00, Decimal(18), 12, first_due=START + timedelta(days=45))
    assert not aprm.is_regular(schedule)
    flows = aprm.schedule_cash_flows(schedule, 50_000_00)
    by_day = aprm.apr_exact(schedule, 50_000_00)
    assert by_day == aprm.apr_exact(schedule, 50_000_00, method="DAY_COUNT")
    assert by_day == aprm.xirr(flows, periods_per_year=12) * 100
    # no charges: close to the nominal 18% (broken period charged pro rata)
    assert abs(by_day - 18) < Decimal("0.1")


# ---------------------------------------------------------------------------------------- cross-checks
def _loan_flows(rng: random.Random) -> list[int]:
    principal = rng.randint(1_000_00, 50_00_000_00)
    n = rng.randint(1, 120)
    rate = Decimal(rng.randint(0, 6000)) / 100
    fee = principal * rng.randint(0, 500) // 10_000
    schedule = emi_schedule(principal, rate, n)
    return [principal - fee] + [-(r.principal + r.interest) for r in schedule.rows]


def test_irr_matches_numpy_financial_on_random_loans() -> None:
    rng = random.Random(20240415)
    for _ in range(150):
        flows = _loan_flows(rng)
        if len(set(flows[1:])) == 1 and flows[0] == -sum(flows[1:]):
            continue
        ours = aprm.irr(flows)
        theirs = npf.irr([float(f) for f in flows])
        assert abs(float(ours) - theirs) < 1e-9, flows


def test_irr_matches_numpy_financial_rate_for_level_payments() -> None:
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(2, 360)
        pv = rng.randint(10_000_00, 1_00_00_000_00)
        pmt = pv // n + rng.randint(1, pv // n)  # pays back more than borrowed: positive rate
        ours = aprm.irr([pv] + [-pmt] * n)
        theirs = npf.rate(n, -pmt, pv, 0)
        assert abs(float(ours) - theirs) < 1e-9


@settings(max_examples=60, deadline=None)
@given(
    principal=st.integers(1_000_00, 1_00_00_000_00),
    n=st.integers(2, 60),
    rate=st.integers(100, 4800),
    spread=st.integers(0, 20),
    fee_bp=st.integers(0, 500),
)
def test_xirr_matches_pyxirr(principal: int, n: int, rate: int, spread: int, fee_bp: int) -> None:
    # irregular dates: due every (30 + spread) days
    schedule = emi_schedule(principal, Decimal(rate) / 100, n)
    dates = [START] + [START + timedelta(days=(30 + spread) * k) for k in range(1, n + 1)]
    amounts = [principal - principal * fee_bp // 10_000] + [-(r.principal + r.interest) for r in schedule.rows]
    ours = aprm.xirr(list(zip(dates, amounts, strict=True)))
    theirs = pyxirr.xirr(dates, [float(a) for a in amounts])
    assert theirs is not None
    assert abs(float(ours) - theirs) < 1e-8
    # the nominal variant converts to the effective one: (1 + j/m)^m − 1 == R
    nominal = aprm.xirr(list(zip(dates, amounts, strict=True)), periods_per_year=12)
    assert abs((1 + nominal / 12) ** 12 - 1 - ours) < Decimal("1e-20")


# ------------------------------------------------------------------------------------------- properties
rates_2dp = st.integers(1, 3600).map(lambda c: Decimal(c) / 100)


@settings(max_examples=60, deadline=None)
@given(
    principal=st.integers(5_000_00, 5_00_00_000_00),
    rate=rates_2dp,
    n=st.integers(1, 84),
    fee_percent=st.integers(1, 500).map(lambda c: Decimal(c) / 100),
    insurance_bp=st.integers(0, 300),
)
def test_apr_at_least_nominal_when_fees(
    principal: int, rate: Decimal, n: int, fee_percent: Decimal, insurance_bp: int
) -> None:
    schedule = emi_schedule(principal, rate, n)
    insurance = principal * insurance_bp // 10_000
    config = ChargeConfig(upfront=(FeeSpec.processing_fee(percent=fee_percent), FeeSpec.insurance(flat=insurance)))
    charges = compute_upfront_charges(principal, config)
    assert charges.net_disbursed + charges.total_deductions == principal
    assert charges.total_deductions > 0
    without = aprm.apr_exact(schedule, principal)
    with_fees = aprm.apr_exact(schedule, charges)
    assert with_fees > without
    assert aprm.apr(schedule, principal) == rate  # standard EMI schedule, no fees: APR == nominal (2 dp)
    assert aprm.apr(schedule, charges) >= rate


@settings(max_examples=30, deadline=None)
@given(principal=st.integers(1_00_000_00, 1_00_00_000_00), rate=rates_2dp, n=st.integers(2, 104))
def test_weekly_no_fee_apr_is_nominal(principal: int, rate: Decimal, n: int) -> None:
    # Rounding each interest to the paisa moves the IRR by up to ~1 paisa/principal a period, i.e.
    # 52 × 100/P percent a year for weekly loans: below half a basis point only from about ₹1,00,000.
    # (Monthly: 12 × 100/P, so ₹5,000 is enough in the test above.)
    schedule = emi_schedule(principal, rate, n, frequency=Frequency.WEEKS)
    assert aprm.is_regular(schedule)
    assert aprm.apr(schedule, principal) == rate


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(1, 10**12),
    flat=st.integers(0, 10**7),
    percent=st.integers(0, 1000).map(lambda c: Decimal(c) / 100),
    third=st.integers(0, 10**7),
    gst=st.integers(0, 2800).map(lambda c: Decimal(c) / 100),
)
def test_net_disbursed_plus_deductions_is_principal(
    principal: int, flat: int, percent: Decimal, third: int, gst: Decimal
) -> None:
    config = ChargeConfig(
        upfront=(
            FeeSpec("Login fee", flat=flat),
            FeeSpec.processing_fee(percent=percent),
            FeeSpec("Credit shield", ChargeKind.THIRD_PARTY, flat=third),
        ),
        gst_percent=gst,
    )
    try:
        charges = compute_upfront_charges(principal, config)
    except ValidationError as err:
        assert err.field == "upfront"
        return
    assert charges.net_disbursed + charges.total_deductions == principal
    assert charges.net_disbursed > 0
    assert charges.payable_to_re + charges.payable_to_third_party == charges.total_deductions
    assert all(line.amount >= 0 for line in charges.lines)
    assert not any(line.kind == ChargeKind.GST and line.applies_to == "Credit shield" for line in charges.lines)


@given(
    principal=st.integers(0, 10**11),
    interest=st.integers(0, 10**9),
    penal=st.integers(0, 10**8),
    levies=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 400)), max_size=12),
    basis=st.sampled_from(list(PenalBasis)),
)
def test_penal_charges_never_add_to_principal(
    principal: int, interest: int, penal: int, levies: list[tuple[int, int]], basis: PenalBasis
) -> None:
    spec = (
        PenalChargeSpec.flat_per_occurrence(750_00)
        if basis == PenalBasis.FLAT_PER_OCCURRENCE
        else PenalChargeSpec.percent_per_annum(Decimal(36))
    )
    before = Outstanding(principal=principal, interest=interest, penal=penal)
    after = levy_penal_charges(before, spec, levies)
    assert after.principal == before.principal
    assert after.interest == before.interest
    assert after.interest_bearing == before.principal
    assert after.penal == penal + sum(penal_charge(spec, amount, days) for amount, days in levies)
    assert after.penal >= before.penal


@given(
    principal=st.integers(1, 10**11),
    apr=st.integers(0, 10_000).map(lambda c: Decimal(c) / 100),
    days=st.integers(0, 30),
)
def test_cooling_off_exit_is_principal_plus_proportionate_apr(principal: int, apr: Decimal, days: int) -> None:
    amount = cooling_off_exit_amount(principal, apr, days)
    assert amount >= principal
    assert amount - principal == round_paise(Decimal(principal) * apr * days / 36_500)


# ----------------------------------------------------------------------------------------------- KFS
def test_kfs_items_and_as_dict() -> None:
    config = ChargeConfig(
        upfront=(
            FeeSpec.processing_fee(percent=Decimal(2)),
            FeeSpec.insurance(flat=1_200_00),
            FeeSpec("Valuation fee", ChargeKind.THIRD_PARTY, flat=500_00, kfs_head=KfsHead.VALUATION_FEE),
        ),
        penal=PenalChargeSpec.percent_per_annum(Decimal(24)),
        bounce_charge=500_00,
        foreclosure_percent=Decimal(3),
        cooling_off_days=3,
    )
    schedule = emi_schedule(2_00_000_00, Decimal("13.5"), 24, fee=50_00)
    charges = compute_upfront_charges(2_00_000_00, config)
    kfs = build_kfs(
        schedule,
        charges,
        config=config,
        loan_type="Personal loan",
        loan_account_no="LN-1",
        disclosures=Disclosures(grievance_officer="Nodal officer, grievance@example.com"),
        issued_on=START,
        valid_until=START + timedelta(days=3),
    )
    assert kfs.sanctioned_amount == 2_00_000_00
    assert kfs.processing_fees == 4_000_00 and kfs.gst == 720_00
    assert kfs.insurance_charges == 1_200_00 and kfs.valuation_fees == 500_00
    assert kfs.upfront_charges == 6_420_00 and kfs.net_disbursed == 1_93_580_00
    assert kfs.recurring_fees == 24 * 50_00
    assert kfs.total_amount_payable == 2_00_000_00 + schedule.total_interest + 24 * 50_00
    assert kfs.repayment_frequency == "Monthly" and kfs.loan_term == "24 months"
    assert kfs.apr > Decimal("13.5")
    assert kfs.contingent.foreclosure == "3.00% of the principal outstanding"
    assert kfs.contingent.bounce == "₹500.00 per instance"
    assert "not capitalised" in kfs.contingent.penal_delayed_payment
    annex_c = kfs.repayment_schedule
    assert annex_c[0].outstanding_principal == 2_00_000_00
    assert all(a.closing_balance == b.outstanding_principal for a, b in zip(annex_c, annex_c[1:], strict=False))
    assert sum(r.principal for r in annex_c) == 2_00_000_00 and annex_c[-1].closing_balance == 0
    d = kfs.as_dict()
    json.dumps(d)  # renderable
    assert d["net_disbursed_paise"] == 1_93_580_00 and d["net_disbursed_inr"] == "₹1,93,580.00"
    assert d["apr_percent"] == str(kfs.apr) and d["interest_rate_percent"] == "13.50"
    assert d["penal_charge"]["capitalised"] is False
    assert [f["name"] for f in d["fees"]] == [
        "Processing fee",
        "GST on Processing fee",
        "Insurance premium",
        "Valuation fee",
        "Installment fee",
    ]
    assert d["fees"][-1]["recurrence"] == "RECURRING"
    assert len(d["repayment_schedule"]) == 24
    assert all(isinstance(v, int) for k, v in d.items() if k.endswith("_paise"))


def test_kfs_floating_rate() -> None:
    schedule = emi_schedule(10_00_000_00, Decimal("9.25"), 12)
    charges = compute_upfront_charges(10_00_000_00, ChargeConfig())
    floating = FloatingRateInfo("Repo rate", Decimal("6.50"), Decimal("2.75"), 3, epi_change=1_150_00)
    kfs = build_kfs(schedule, charges, interest_rate_type="floating", floating_rate=floating)
    assert kfs.interest_rate_type == InterestRateType.FLOATING
    assert kfs.as_dict()["floating_rate"]["final_rate_percent"] == "9.25"
    assert kfs.apr == Decimal("9.25")


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: FeeSpec("Fee", flat=-1), "flat"),
        (lambda: FeeSpec("Fee", percent=Decimal(101)), "percent"),
        (lambda: FeeSpec("Fee", percent=Decimal(-1)), "percent"),
        (lambda: FeeSpec("Fee", kind="SURCHARGE", flat=1), "kind"),  # type: ignore[arg-type]
        (lambda: FeeSpec("Fee", kind=ChargeKind.GST, flat=1), "kind"),
        (lambda: FeeSpec("Fee"), "flat"),
        (lambda: FeeSpec("", flat=1), "name"),
        (lambda: FeeSpec("Fee", ChargeKind.THIRD_PARTY, flat=1, gst_applicable=True), "gst_applicable"),
        (lambda: FeeSpec.processing_fee(percent=Decimal(1), minimum=10, maximum=5), "minimum"),
        (lambda: ChargeConfig(gst_percent=Decimal(101)), "gst_percent"),
        (lambda: ChargeConfig(cooling_off_days=0), "cooling_off_days"),
        (lambda: ChargeConfig(upfront=(FeeSpec("A", flat=1), FeeSpec("A", flat=2))), "upfront"),
        (lambda: compute_upfront_charges(-5, ChargeConfig()), "principal"),
        (lambda: compute_upfront_charges(100, ChargeConfig(upfront=(FeeSpec("Fee", flat=100),))), "upfront"),
        (lambda: PenalChargeSpec(basis="DAILY"), "basis"),  # type: ignore[arg-type]
        (lambda: PenalChargeSpec.flat_per_occurrence(-1), "flat"),
        (lambda: PenalChargeSpec.percent_per_annum(Decimal(150)), "annual_percent"),
        (lambda: penal_charge(PenalChargeSpec.flat_per_occurrence(1), -1, 3), "overdue_amount"),
        (lambda: penal_charge(PenalChargeSpec.flat_per_occurrence(1), 1, -3), "days_overdue"),
        (lambda: cooling_off_exit_amount(0, Decimal(10), 1), "principal"),
        (lambda: cooling_off_exit_amount(100, Decimal(-1), 1), "apr_percent"),
        (lambda: cooling_off_exit_amount(100, Decimal(10), -1), "days_held"),
        (lambda: aprm.irr([100, 200]), "cash_flows"),
        (lambda: aprm.irr([100]), "cash_flows"),
        (lambda: aprm.apr(emi_schedule(1_000_00, Decimal(12), 3), 0), "net_disbursed"),
        (lambda: aprm.apr(emi_schedule(1_000_00, Decimal(12), 3), 1_000_00, method="MAGIC"), "method"),
        (
            lambda: build_kfs(
                emi_schedule(1_000_00, Decimal(12), 3), compute_upfront_charges(2_000_00, ChargeConfig())
            ),
            "charges",
        ),
        (
            lambda: build_kfs(
                emi_schedule(1_000_00, Decimal(12), 3),
                compute_upfront_charges(1_000_00, ChargeConfig()),
                interest_rate_type=InterestRateType.FLOATING,
            ),
            "floating_rate",
        ),
    ],
)
def test_bad_input_names_the_field(build, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.field == field


@pytest.mark.parametrize(
    "build",
    [
        lambda: FeeSpec("Fee", flat=1.5),  # type: ignore[arg-type]
        lambda: FeeSpec("Fee", percent=2.0),  # type: ignore[arg-type]
        lambda: ChargeConfig(gst_percent=18.0),  # type: ignore[arg-type]
        lambda: compute_upfront_charges(1000.0, ChargeConfig()),  # type: ignore[arg-type]
        lambda: penal_charge(PenalChargeSpec.flat_per_occurrence(1), 100.0, 3),  # type: ignore[arg-type]
        lambda: PenalChargeSpec.percent_per_annum(24.0),  # type: ignore[arg-type]
        lambda: cooling_off_exit_amount(100_00, 17.07, 3),  # type: ignore[arg-type]
        lambda: aprm.irr([100.0, -110]),  # type: ignore[list-item]
        lambda: aprm.xirr([(START, 100), (START + timedelta(days=30), -110.5)]),  # type: ignore[list-item]
        lambda: aprm.apr(emi_schedule(1_000_00, Decimal(12), 3), 999.0),  # type: ignore[arg-type]
    ],
)
def test_floats_are_refused(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError):
        build()


# ------------------------------------------------------------------------------ with the real engine
def test_engine_schedule_apr_and_kfs() -> None:
    from domain import schedule as engine

    if not hasattr(engine, "generate"):
        pytest.skip("domain.schedule.generate is not there yet")
    terms = LoanTerms(principal=1_00_000_00, annual_rate=Decimal(12), installments=12, disbursed_on=START)
    generated = engine.generate(terms)
    assert aprm.is_regular(generated)
    assert aprm.apr(generated, 1_00_000_00) == Decimal("12.00")
    config = ChargeConfig(upfront=(FeeSpec.processing_fee(percent=Decimal(2)),))
    charges = compute_upfront_charges(terms.principal, config)
    kfs = build_kfs(generated, charges, config=config)
    assert kfs.apr > Decimal(12)
    assert kfs.net_disbursed == 1_00_000_00 - 2_360_00
