"""Payment allocation, RBI delinquency (DPD / SMA / NPA), ledger postings and the CAM calculator.

Golden numbers say where they come from. No I/O.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import cam, ledger
from domain.allocation import (
    AllocationConfig,
    Bucket,
    Component,
    CurrentRule,
    InstallmentDue,
    Processing,
    allocate_payment,
    split_buckets,
)
from domain.delinquency import (
    DEFAULT_BUCKETS,
    Arrears,
    AssetClass,
    CollectionBuckets,
    DpdBucket,
    arrears_of,
    assess,
    classify,
    classify_dpd,
    days_past_due,
    parse_dpd_range,
    slippage_dates,
)
from domain.errors import ValidationError
from domain.repayment import Allocation, AllocationResult

D = date


def _dues() -> list[InstallmentDue]:
    """A 4-EMI loan, ₹1,000 EMIs due on the 5th; the first two unpaid with charges on them."""
    return [
        InstallmentDue(1, D(2026, 1, 5), principal_due=800_00, interest_due=200_00, fees_due=50_00, penal_due=30_00),
        InstallmentDue(2, D(2026, 2, 5), principal_due=810_00, interest_due=190_00, penal_due=10_00),
        InstallmentDue(3, D(2026, 3, 5), principal_due=820_00, interest_due=180_00),
        InstallmentDue(4, D(2026, 4, 5), principal_due=830_00, interest_due=170_00),
    ]


def _paid(result, number: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    for p in result.parts:
        if p.number == number:
            return {"penal": p.penal, "fees": p.fees, "interest": p.interest, "principal": p.principal}
    return {"penal": 0, "fees": 0, "interest": 0, "principal": 0}


# =============================================================================== allocation


def test_default_waterfall_worked_example() -> None:
    # Hand-checked on _dues(), payment ₹3,500 on 20 Feb 2026 (EMIs 1 and 2 overdue, EMI 3 current):
    #   overdue penal 30 + 10 = 40 → overdue fees 50 → overdue interest 200 + 190 = 390
    #   → overdue principal 800 + 810 = 1,610   (running total 2,090)
    #   current EMI 3: interest 180 + principal 820 = 1,000          (3,090)
    #   advance to principal: 3,500 − 3,090 = 410 (≤ EMI 4's principal 830); excess 0.
    result = allocate_payment(3_500_00, D(2026, 2, 20), _dues())
    assert _paid(result, 1) == {"penal": 30_00, "fees": 50_00, "interest": 200_00, "principal": 800_00}
    assert _paid(result, 2) == {"penal": 10_00, "fees": 0, "interest": 190_00, "principal": 810_00}
    assert _paid(result, 3) == {"penal": 0, "fees": 0, "interest": 180_00, "principal": 820_00}
    assert [p.bucket for p in result.parts] == [Bucket.OVERDUE, Bucket.OVERDUE, Bucket.CURRENT]
    assert result.advance_principal == 410_00
    assert result.excess == 0
    assert result.totals() == {
        "penal": 40_00,
        "fees": 50_00,
        "interest": 570_00,
        "principal": 2_840_00,  # 800 + 810 + 820 + 410 advance
        "advance_principal": 410_00,
        "excess": 0,
        "amount": 3_500_00,
    }
    assert result.overdue_total == 2_090_00 and result.current_total == 1_000_00
    # component-major (vertical): the audit trail pays both penalties before any fee, etc.
    assert [(s.number, s.component) for s in result.steps[:3]] == [
        (1, Component.PENAL),
        (2, Component.PENAL),
        (1, Component.FEES),
    ]


def test_partial_payment_vertical_pays_charges_and_interest_of_all_overdue_first() -> None:
    # ₹500 on 20 Feb: penal 40 → fees 50 → interest of EMI 1 (200) → 190 of EMI 2 → 20 left for principal of EMI 1.
    result = allocate_payment(500_00, D(2026, 2, 20), _dues())
    assert _paid(result, 1) == {"penal": 30_00, "fees": 50_00, "interest": 200_00, "principal": 20_00}
    assert _paid(result, 2) == {"penal": 10_00, "fees": 0, "interest": 190_00, "principal": 0}
    assert result.advance_principal == 0 and result.excess == 0


def test_horizontal_is_fineract_mifos_standard_installment_by_installment() -> None:
    # "Penalties, Fees, Interest, Principal order": EMI 1 completely (1,080) before EMI 2 gets anything.
    config = AllocationConfig(processing=Processing.HORIZONTAL)
    result = allocate_payment(1_100_00, D(2026, 2, 20), _dues(), config)
    assert _paid(result, 1) == {"penal": 30_00, "fees": 50_00, "interest": 200_00, "principal": 800_00}
    assert _paid(result, 2) == {"penal": 10_00, "fees": 0, "interest": 10_00, "principal": 0}


def test_custom_order_from_brand_json_strings() -> None:
    # Interest first, charges last (Fineract "interest-principal-penalties-fees-order-strategy"-like).
    config = AllocationConfig(
        overdue_order=("interest", "principal", "penal", "fees"),  # type: ignore[arg-type]
        processing="horizontal",  # type: ignore[arg-type]
    )
    result = allocate_payment(1_000_00, D(2026, 2, 20), _dues(), config)
    assert _paid(result, 1) == {"penal": 0, "fees": 0, "interest": 200_00, "principal": 800_00}
    assert result.penal == 0 and result.fees == 0


def test_current_rule_and_advance_toggle() -> None:
    dues = _dues()[2:]  # EMIs 3 (5 Mar) and 4 (5 Apr) only
    # A payment on 1 Mar pays the coming EMI 3 by default (it is the current installment)...
    by_default = allocate_payment(1_000_00, D(2026, 3, 1), dues)
    assert _paid(by_default, 3) == {"penal": 0, "fees": 0, "interest": 180_00, "principal": 820_00}
    # ...but with DUE_ON_DATE nothing is due on 1 Mar: it all prepays principal (capped at 820 + 830).
    strict = allocate_payment(2_000_00, D(2026, 3, 1), dues, AllocationConfig(current_rule=CurrentRule.DUE_ON_DATE))
    assert strict.parts == () and strict.advance_principal == 1_650_00 and strict.excess == 350_00
    # with advance switched off the remainder is held as a credit balance
    no_advance = allocate_payment(1_500_00, D(2026, 3, 5), dues, AllocationConfig(advance_to_principal=False))
    assert no_advance.current_total == 1_000_00 and no_advance.advance_principal == 0 and no_advance.excess == 500_00


def test_excess_beyond_everything_owed_is_credit() -> None:
    owed = sum(d.total for d in _dues())  # 1,080 + 1,010 + 1,000 + 1,000 = 4,090
    assert owed == 4_090_00
    result = allocate_payment(5_000_00, D(2026, 2, 20), _dues())
    assert result.advance_principal == 830_00  # EMI 4's principal; its interest is not yet owed
    assert result.excess == 5_000_00 - (owed - 170_00)


def test_paid_installments_are_ignored_and_buckets_split() -> None:
    dues = [
        InstallmentDue(1, D(2026, 1, 5), 0, 0),  # fully paid
        InstallmentDue(2, D(2026, 2, 5), 100, 0),
        InstallmentDue(3, D(2026, 3, 5), 100, 0),
        InstallmentDue(4, D(2026, 4, 5), 100, 0),
    ]
    overdue, current, future = split_buckets(dues, D(2026, 2, 20))
    assert [d.number for d in overdue] == [2]
    assert [d.number for d in current] == [3]
    assert [d.number for d in future] == [4]


def _dues_strategy() -> st.SearchStrategy[list[InstallmentDue]]:
    amount = st.integers(0, 2_00_000)
    row = st.tuples(amount, amount, st.integers(0, 5_000), st.integers(0, 5_000))
    return st.lists(row, min_size=0, max_size=8).map(
        lambda rows: [
            InstallmentDue(i + 1, D(2026, 1, 5) + timedelta(days=30 * i), p, it, f, pen)
            for i, (p, it, f, pen) in enumerate(rows)
        ]
    )


CONFIGS = st.builds(
    AllocationConfig,
    overdue_order=st.permutations(list(Component)).map(tuple),
    current_order=st.permutations(list(Component)).map(tuple),
    processing=st.sampled_from(list(Processing)),
    current_rule=st.sampled_from(list(CurrentRule)),
    advance_to_principal=st.booleans(),
)


@settings(max_examples=300)
@given(dues=_dues_strategy(), amount=st.integers(1, 20_00_000), offset=st.integers(-40, 300), config=CONFIGS)
def test_allocation_laws(dues: list[InstallmentDue], amount: int, offset: int, config: AllocationConfig) -> None:
    pay_on = D(2026, 1, 5) + timedelta(days=offset)
    result = allocate_payment(amount, pay_on, dues, config)
    # conservation: never loses or creates a paisa
    assert sum(p.total for p in result.parts) + result.advance_principal + result.excess == amount
    assert result.allocated + result.excess == amount
    assert sum(s.amount for s in result.steps) == amount - result.excess
    by_number = {d.number: d for d in dues}
    for part in result.parts:
        due = by_number[part.number]
        for c in Component:  # parts never exceed dues
            assert 0 <= part.amount(c) <= due.unpaid(c)
        assert (part.bucket == Bucket.OVERDUE) == (due.due_date < pay_on)
    overdue, current, future = split_buckets(dues, pay_on, config.current_rule)
    overdue_owed = sum(d.total for d in overdue)
    current_owed = sum(d.total for d in current)
    future_principal = sum(d.principal_due for d in future)
    assert result.advance_principal <= future_principal
    if result.current_total:
        assert result.overdue_total == overdue_owed  # current only after all overdue is cleared
    if result.advance_principal:
        assert result.overdue_total == overdue_owed and result.current_total == current_owed
    if result.excess:
        assert result.overdue_total == overdue_owed and result.current_total == current_owed
        if config.advance_to_principal:
            assert result.advance_principal == future_principal
        else:
            assert result.advance_principal == 0
    if config.processing == Processing.VERTICAL:
        # a later component of the overdue order is touched only once every earlier one is cleared
        for k, comp in enumerate(config.overdue_order):
            if any(s.bucket == Bucket.OVERDUE and s.component == comp for s in result.steps):
                for earlier in config.overdue_order[:k]:
                    assert sum(_paid(result, d.number)[earlier.value.lower()] for d in overdue) == sum(
                        d.unpaid(earlier) for d in overdue
                    )


def test_allocation_bad_input() -> None:
    with pytest.raises(TypeError):
        allocate_payment(100.0, D(2026, 1, 1), _dues())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        InstallmentDue(1, D(2026, 1, 5), 10.5, 0)  # type: ignore[arg-type]
    cases = [
        (lambda: allocate_payment(0, D(2026, 1, 1), _dues()), "amount"),
        (lambda: allocate_payment(True, D(2026, 1, 1), _dues()), "amount"),
        (lambda: allocate_payment(100, datetime(2026, 1, 1, tzinfo=UTC), _dues()), "payment_date"),
        (lambda: allocate_payment(100, D(2026, 1, 1), _dues() + _dues()[:1]), "dues"),
        (lambda: InstallmentDue(1, D(2026, 1, 5), -1, 0), "principal_due"),
        (lambda: InstallmentDue(0, D(2026, 1, 5), 1, 0), "number"),
        (lambda: InstallmentDue(1, "2026-01-05", 1, 0), "due_date"),  # type: ignore[arg-type]
        (lambda: AllocationConfig(overdue_order=(Component.PENAL, Component.FEES)), "overdue_order"),
        (lambda: AllocationConfig(current_order=("PENAL", "PENAL", "FEES", "INTEREST")), "current_order"),  # type: ignore[arg-type]
        (lambda: AllocationConfig(overdue_order=("TAX", "FEES", "INTEREST", "PRINCIPAL")), "overdue_order"),  # type: ignore[arg-type]
        (lambda: AllocationConfig(processing="DIAGONAL"), "processing"),  # type: ignore[arg-type]
        (lambda: AllocationConfig(current_rule="SOMETIME"), "current_rule"),  # type: ignore[arg-type]
        (lambda: AllocationConfig(advance_to_principal="yes"), "advance_to_principal"),  # type: ignore[arg-type]
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field


# =============================================================================== delinquency

# RBI/2021-2022/125 DOR.STR.REC.68/21.04.048/2021-22 (12 Nov 2021), "Prudential norms on IRACP –
# Clarifications", example: due date 31 March 2021, full dues not received before the day-end process
# → overdue on 31 March 2021; SMA-1 on running the day-end of 30 April 2021 ("upon completion of 30 days
# of being continuously overdue"); SMA-2 on 30 May 2021; NPA on 29 June 2021.
RBI_DUE = D(2021, 3, 31)


def test_rbi_circular_example_dates() -> None:
    assert slippage_dates(RBI_DUE) == {
        AssetClass.SMA_0: D(2021, 3, 31),
        AssetClass.SMA_1: D(2021, 4, 30),
        AssetClass.SMA_2: D(2021, 5, 30),
        AssetClass.NPA: D(2021, 6, 29),
    }
    walk = {
        D(2021, 3, 30): (0, AssetClass.STANDARD),  # before the due date
        D(2021, 3, 31): (1, AssetClass.SMA_0),  # day-end of the due date: overdue
        D(2021, 4, 29): (30, AssetClass.SMA_0),
        D(2021, 4, 30): (31, AssetClass.SMA_1),
        D(2021, 5, 29): (60, AssetClass.SMA_1),
        D(2021, 5, 30): (61, AssetClass.SMA_2),
        D(2021, 6, 28): (90, AssetClass.SMA_2),
        D(2021, 6, 29): (91, AssetClass.NPA),
    }
    for day_end, (dpd, cls) in walk.items():
        assert days_past_due(RBI_DUE, day_end) == dpd, day_end
        assert classify_dpd(dpd) == cls
    # the same instant labelled as "the start of the next day", counting from the day after the due date
    assert days_past_due(RBI_DUE, D(2021, 4, 1), at_day_end=False) == 1
    assert days_past_due(RBI_DUE, D(2021, 6, 30), at_day_end=False) == 91


def test_lender_literature_example_across_february() -> None:
    # A lender's consumer-education page applying the same circular (Vreedhi, "Examples of SMA/NPA"):
    # due 5 Jan 2022 → SMA-1 on 4 Feb 2022, SMA-2 on 6 Mar 2022, NPA on 5 Apr 2022 (February has 28 days).
    dates = slippage_dates(D(2022, 1, 5))
    assert (dates[AssetClass.SMA_1], dates[AssetClass.SMA_2], dates[AssetClass.NPA]) == (
        D(2022, 2, 4),
        D(2022, 3, 6),
        D(2022, 4, 5),
    )


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, AssetClass.STANDARD),
        (1, AssetClass.SMA_0),
        (30, AssetClass.SMA_0),
        (31, AssetClass.SMA_1),
        (60, AssetClass.SMA_1),
        (61, AssetClass.SMA_2),
        (90, AssetClass.SMA_2),
        (91, AssetClass.NPA),
    ],
)
def test_dpd_boundaries(dpd: int, expected: AssetClass) -> None:
    # RBI SMA table: up to 30 / more than 30 and up to 60 / more than 60 and up to 90; NPA more than 90.
    assert classify_dpd(dpd) == expected


def test_npa_days_for_nbfc_glide_path() -> None:
    assert classify_dpd(120, npa_days=120) == AssetClass.SMA_2
    assert classify_dpd(121, npa_days=120) == AssetClass.NPA
    assert slippage_dates(RBI_DUE, npa_days=120)[AssetClass.NPA] == RBI_DUE + timedelta(days=120)


def test_npa_upgrade_only_after_all_arrears_cleared() -> None:
    # Part payment brings DPD down to 20, but ₹500 of principal is still overdue: stays NPA.
    assert classify(Arrears(20, principal_overdue=500_00), AssetClass.NPA) == AssetClass.NPA
    assert classify(Arrears(1, interest_overdue=1), "NPA") == AssetClass.NPA
    # The same arrears without an NPA history: just the DPD band.
    assert classify(Arrears(20, principal_overdue=500_00), AssetClass.SMA_2) == AssetClass.SMA_0
    # Entire arrears of interest and principal paid: upgraded to standard.
    assert classify(Arrears(0), AssetClass.NPA) == AssetClass.STANDARD
    # Only charges left: principal and interest are cleared, so the NPA is upgraded.
    assert classify(Arrears(0, charges_overdue=300_00), AssetClass.NPA) == AssetClass.STANDARD
    # ...unless charges count for DPD too, then the DPD band applies.
    assert classify(Arrears(45, charges_overdue=300_00), AssetClass.NPA) == AssetClass.SMA_1


def test_assess_walks_a_loan_into_npa_and_out() -> None:
    dues = [
        InstallmentDue(1, D(2021, 3, 31), 800_00, 200_00),
        InstallmentDue(2, D(2021, 4, 30), 810_00, 190_00),
        InstallmentDue(3, D(2021, 5, 31), 820_00, 180_00),
        InstallmentDue(4, D(2021, 6, 30), 830_00, 170_00),
    ]
    on_npa_day = assess(dues, D(2021, 6, 29), AssetClass.SMA_2, buckets=DEFAULT_BUCKETS)
    assert on_npa_day.dpd == 91 and on_npa_day.asset_class == AssetClass.NPA and on_npa_day.bucket == "90+"
    assert on_npa_day.oldest_overdue_due_date == D(2021, 3, 31)
    assert on_npa_day.principal_overdue == 800_00 + 810_00 + 820_00  # EMI 4 not yet due
    # 1 July: the borrower pays EMIs 1 and 2; the oldest unpaid is now EMI 3 (due 31 May) → DPD 32.
    after_part = [InstallmentDue(1, D(2021, 3, 31), 0, 0), InstallmentDue(2, D(2021, 4, 30), 0, 0), *dues[2:]]
    part = assess(after_part, D(2021, 7, 1), on_npa_day.asset_class, buckets=DEFAULT_BUCKETS)
    assert part.dpd == 32 and part.bucket == "31-60"
    assert part.asset_class == AssetClass.NPA  # DPD fell, arrears remain: no upgrade
    # 2 July: the borrower pays everything overdue (EMIs 3 and 4): entire arrears cleared → upgraded.
    cleared = [InstallmentDue(n, d.due_date, 0, 0) for n, d in enumerate(dues, start=1)]
    up = assess(cleared, D(2021, 7, 2), part.asset_class, buckets=DEFAULT_BUCKETS)
    assert (up.dpd, up.asset_class, up.bucket, up.total_overdue) == (0, AssetClass.STANDARD, "0", 0)
    # one rupee of interest left on EMI 4 keeps it NPA
    one_left = [*cleared[:3], InstallmentDue(4, D(2021, 6, 30), 0, 1_00)]
    assert assess(one_left, D(2021, 7, 2), AssetClass.NPA).asset_class == AssetClass.NPA


def test_charges_only_do_not_drive_dpd_by_default() -> None:
    dues = [InstallmentDue(1, D(2026, 1, 5), 0, 0, fees_due=500_00)]
    arrears, oldest = arrears_of(dues, D(2026, 3, 1))
    assert (arrears.dpd, arrears.charges_overdue, oldest) == (0, 500_00, None)
    arrears, oldest = arrears_of(dues, D(2026, 3, 1), include_charges=True)
    assert (arrears.dpd, oldest) == (56, D(2026, 1, 5))  # 1 Mar − 5 Jan = 55 days, + 1 for the due date's day-end


@given(st.integers(0, 400), st.integers(0, 400))
def test_classification_is_monotone_in_dpd(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    assert classify_dpd(lo).severity <= classify_dpd(hi).severity


@given(due_offset=st.integers(0, 200), a=st.integers(0, 400), b=st.integers(0, 400))
def test_dpd_monotone_in_time_and_the_two_labels_agree(due_offset: int, a: int, b: int) -> None:
    due = D(2025, 1, 1) + timedelta(days=due_offset)
    d1, d2 = D(2025, 1, 1) + timedelta(days=min(a, b)), D(2025, 1, 1) + timedelta(days=max(a, b))
    assert days_past_due(due, d1) <= days_past_due(due, d2)
    assert days_past_due(due, d1) == days_past_due(due, d1 + timedelta(days=1), at_day_end=False)


@given(
    dpd=st.integers(1, 400),
    principal=st.integers(0, 10**7),
    interest=st.integers(0, 10**7),
    charges=st.integers(0, 10**6),
    previous=st.sampled_from(list(AssetClass)),
)
def test_npa_is_sticky_while_arrears_remain(
    dpd: int, principal: int, interest: int, charges: int, previous: AssetClass
) -> None:
    if principal + interest + charges == 0:
        charges = 1
    arrears = Arrears(dpd, principal, interest, charges)
    result = classify(arrears, previous)
    assert result.severity >= classify_dpd(dpd).severity  # history never makes it look better
    if previous == AssetClass.NPA and principal + interest > 0:
        assert result == AssetClass.NPA
    if previous != AssetClass.NPA:
        assert result == classify_dpd(dpd)


def test_collection_buckets_from_brand_config() -> None:
    assert [(b.name, b.min_dpd, b.max_dpd) for b in DEFAULT_BUCKETS.buckets] == [
        ("0", 0, 0),
        ("1-30", 1, 30),
        ("31-60", 31, 60),
        ("61-90", 61, 90),
        ("90+", 91, None),  # "90+" = more than 90 days, the NPA bucket
    ]
    assert [DEFAULT_BUCKETS.bucket_for(d).name for d in (0, 1, 30, 31, 60, 61, 90, 91, 5000)] == [
        "0",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
        "90+",
    ]
    brand = CollectionBuckets.parse(
        [
            {"name": "Current", "range": "0"},
            {"name": "Soft", "min": 1, "max": 15},
            {"name": "Hard", "range": "16-90"},
            {"name": "Legal", "min": 91},
        ]
    )
    assert brand.bucket_for(15).name == "Soft" and brand.bucket_for(16).name == "Hard"
    assert brand.bucket_for(91).name == "Legal"
    assert parse_dpd_range(">30") == (31, None)


@pytest.mark.parametrize(
    "spec",
    [
        ["1-30", "31+"],  # does not start at 0
        ["0", "1-30", "30-60", "60+"],  # overlap at 30
        ["0", "1-30", "32-60", "60+"],  # gap at 31
        ["0", "1-30", "31-60", "61-90", "91+"],  # gap at 91: "91+" means more than 91
        ["0", "1-30"],  # last bucket not open-ended
        ["0", "1+", "31-60"],  # open bucket not last
        ["0", "5-1", "6+"],  # start after end
        ["0", "one-thirty", "31+"],  # not a range
        [],
        "0,1-30,31+",  # not a list
        [{"name": "A", "range": "0"}, {"name": "A", "range": "0+"}],  # duplicate names
        [{"name": "A", "min": 0, "max": 0}, {"name": "B", "min": -1}],  # negative
    ],
)
def test_bad_collection_buckets(spec: object) -> None:
    with pytest.raises(ValidationError) as err:
        CollectionBuckets.parse(spec)  # type: ignore[arg-type]
    assert err.value.field == "buckets"


@given(st.lists(st.integers(1, 50), min_size=1, max_size=6), st.integers(0, 1000))
def test_valid_buckets_cover_each_dpd_exactly_once(widths: list[int], dpd: int) -> None:
    buckets, low = [DpdBucket("0", 0, 0)], 1
    for i, w in enumerate(widths):
        buckets.append(DpdBucket(f"b{i}", low, low + w - 1))
        low += w
    buckets.append(DpdBucket("rest", low, None))
    config = CollectionBuckets(tuple(buckets))
    assert sum(b.contains(dpd) for b in config.buckets) == 1
    assert config.bucket_for(dpd).contains(dpd)


def test_delinquency_bad_input() -> None:
    with pytest.raises(TypeError):
        classify_dpd(30.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Arrears(5, principal_overdue=1.0)  # type: ignore[arg-type]
    cases = [
        (lambda: classify_dpd(-1), "dpd"),
        (lambda: classify_dpd(10, npa_days=60), "npa_days"),
        (lambda: Arrears(0, principal_overdue=100), "dpd"),  # overdue money needs DPD ≥ 1
        (lambda: Arrears(5), "dpd"),  # DPD without anything overdue
        (lambda: Arrears(5, interest_overdue=-1), "interest_overdue"),
        (lambda: classify(Arrears(0), "DOUBTFUL"), "previous"),
        (lambda: days_past_due(RBI_DUE, datetime(2021, 4, 1, tzinfo=UTC)), "as_of"),
        (lambda: assess([object()], D(2021, 4, 1)), "dues"),  # type: ignore[list-item]
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field


# =============================================================================== ledger


def test_walking_skeleton_postings_unchanged() -> None:
    assert ledger.disbursal(1_000_00).legs == (
        ledger.Leg("LOAN_PRINCIPAL_RECEIVABLE", 1_000_00),
        ledger.Leg("DISBURSAL_BANK", -1_000_00),
    )
    txn = ledger.repayment(1_100_00, AllocationResult([Allocation(1, 100_00, 900_00)], 100_00))
    assert txn.legs == (
        ledger.Leg("COLLECTION_BANK", 1_100_00),
        ledger.Leg("LOAN_PRINCIPAL_RECEIVABLE", -900_00),
        ledger.Leg("INTEREST_INCOME", -100_00),
        ledger.Leg("CUSTOMER_CREDIT_BALANCE", -100_00),
    )


def test_disbursal_net_of_fees_gst_and_third_party() -> None:
    # ₹1,00,000 sanctioned; processing fee 2% = ₹2,000; GST 18% of 2,000 = ₹360; insurance ₹1,200;
    # stamp duty ₹100 → net to the borrower 1,00,000 − 2,000 − 360 − 1,200 − 100 = ₹96,340.
    fee = 2_000_00
    gst = ledger.gst_on(fee)
    assert gst == 360_00
    txn = ledger.disbursal_with_deductions(
        1_00_000_00,
        upfront_fees=fee,
        upfront_fees_gst=gst,
        third_party={ledger.INSURANCE_PREMIUM_PAYABLE: 1_200_00, ledger.STAMP_DUTY_PAYABLE: 100_00},
    )
    assert txn.kind == "DISBURSAL"
    assert txn.net(ledger.LOAN_PRINCIPAL) == 1_00_000_00  # the borrower owes the gross amount
    assert txn.net(ledger.FEE_INCOME) == -2_000_00
    assert txn.net(ledger.GST_PAYABLE) == -360_00
    assert txn.net(ledger.INSURANCE_PREMIUM_PAYABLE) == -1_200_00
    assert txn.net(ledger.STAMP_DUTY_PAYABLE) == -100_00
    assert txn.net(ledger.DISBURSAL_BANK) == -96_340_00
    assert sum(leg.amount for leg in txn.legs) == 0


def test_gst_rounding() -> None:
    assert ledger.gst_on(1) == 0  # 0.18 paisa
    assert ledger.gst_on(3) == 1  # 0.54 paisa, half-up
    assert ledger.gst_on(500_00, Decimal("0")) == 0
    assert ledger.split_gst_inclusive(118_00) == (100_00, 18_00)
    assert ledger.split_gst_inclusive(1) == (1, 0)


def test_penal_charge_is_never_capitalised() -> None:
    # RBI Fair Lending Practice – Penal Charges (18 Aug 2023): no capitalisation, no interest on it.
    txn = ledger.penal_charge(500_00)
    assert {leg.account for leg in txn.legs} == {ledger.PENAL_RECEIVABLE, ledger.PENAL_INCOME}
    assert txn.net(ledger.LOAN_PRINCIPAL) == 0 and txn.net(ledger.INTEREST_RECEIVABLE) == 0
    with_gst = ledger.penal_charge(500_00, gst=90_00)
    assert with_gst.net(ledger.PENAL_RECEIVABLE) == 590_00 and with_gst.net(ledger.GST_PAYABLE) == -90_00


def test_loan_life_in_the_ledger() -> None:
    """Disburse, demand interest, levy fees and penal charges, collect by the waterfall, waive, provide,
    write off, recover: every receivable ends at zero and the bank sees only real cash."""
    txns = [
        ledger.disbursal_with_deductions(3_000_00, upfront_fees=100_00, upfront_fees_gst=18_00),
        ledger.interest_accrual(200_00),  # EMI 1 interest demanded
        ledger.interest_accrual(190_00),  # EMI 2 interest demanded
        ledger.fee_charge(50_00, ledger.gst_on(50_00)),  # bounce charge ₹50 + ₹9 GST
        ledger.penal_charge(30_00),
    ]
    dues = [
        InstallmentDue(1, D(2026, 1, 5), 1_000_00, 200_00, fees_due=59_00, penal_due=30_00),
        InstallmentDue(2, D(2026, 2, 5), 1_000_00, 190_00),
        InstallmentDue(3, D(2026, 3, 5), 1_000_00, 0),
    ]
    paid = allocate_payment(1_400_00, D(2026, 2, 20), dues)
    # penal 30, fees 59, interest 200 + 190, principal 921 of EMI 1 (= 1,400 − 479)
    assert (paid.penal, paid.fees, paid.interest, paid.principal) == (30_00, 59_00, 390_00, 921_00)
    txns.append(ledger.repayment_from_waterfall(paid))
    txns.append(ledger.provision(1_000_00))
    txns.append(ledger.write_off(principal=3_000_00 - 921_00, from_provision=1_000_00))
    txns.append(ledger.recovery_after_write_off(250_00))
    for t in txns:
        assert sum(leg.amount for leg in t.legs) == 0
    bal = ledger.balances(txns)
    for receivable in (
        ledger.LOAN_PRINCIPAL,
        ledger.INTEREST_RECEIVABLE,
        ledger.FEES_RECEIVABLE,
        ledger.PENAL_RECEIVABLE,
    ):
        assert receivable not in bal
    assert bal[ledger.DISBURSAL_BANK] == -2_882_00
    assert bal[ledger.COLLECTION_BANK] == 1_400_00 + 250_00
    assert bal[ledger.INTEREST_INCOME] == -390_00
    assert bal[ledger.GST_PAYABLE] == -27_00
    assert bal[ledger.WRITE_OFF_EXPENSE] == 2_079_00 - 1_000_00
    assert ledger.PROVISION_FOR_NPA not in bal  # the provision was used up by the write-off
    assert bal[ledger.BAD_DEBT_RECOVERY] == -250_00


def test_waiver_and_interest_bases() -> None:
    txn = ledger.waiver(interest=100_00, fees=50_00, fees_gst=9_00, penal=30_00)
    assert txn.net(ledger.INTEREST_RECEIVABLE) == -100_00
    assert txn.net(ledger.FEES_RECEIVABLE) == -59_00
    assert txn.net(ledger.PENAL_RECEIVABLE) == -30_00
    assert txn.net(ledger.GST_PAYABLE) == 9_00  # credit note reverses output GST
    assert txn.net(ledger.INTEREST_WAIVED) == 100_00
    # NPA: accrual reversed, later interest collected is income on receipt
    reversal = ledger.interest_reversal(390_00)
    assert reversal.net(ledger.INTEREST_INCOME) == 390_00
    cash = ledger.repayment_split(interest=390_00, accrued_interest=0)
    assert cash.net(ledger.INTEREST_INCOME) == -390_00 and cash.net(ledger.INTEREST_RECEIVABLE) == 0
    mixed = ledger.repayment_split(interest=390_00, accrued_interest=200_00, excess=10_00)
    assert mixed.net(ledger.INTEREST_RECEIVABLE) == -200_00 and mixed.net(ledger.INTEREST_INCOME) == -190_00
    assert mixed.net(ledger.CUSTOMER_CREDIT) == -10_00


paise = st.integers(0, 10**9)


@given(
    principal=st.integers(1, 10**10),
    fees=paise,
    gst=paise,
    third=st.dictionaries(st.sampled_from([ledger.INSURANCE_PREMIUM_PAYABLE, ledger.STAMP_DUTY_PAYABLE]), paise),
    comps=st.tuples(paise, paise, paise, paise, paise),
    accrued_share=st.integers(0, 100),
    from_provision_share=st.integers(0, 100),
)
def test_every_posting_balances(
    principal: int,
    fees: int,
    gst: int,
    third: dict[str, int],
    comps: tuple[int, int, int, int, int],
    accrued_share: int,
    from_provision_share: int,
) -> None:
    txns: list[ledger.Transaction] = []
    if principal > fees + gst + sum(third.values()):
        txns.append(
            ledger.disbursal_with_deductions(principal, upfront_fees=fees, upfront_fees_gst=gst, third_party=third)
        )
    p, i, f, pen, exc = comps
    if sum(comps):
        txns.append(
            ledger.repayment_split(
                principal=p, interest=i, fees=f, penal=pen, excess=exc, accrued_interest=i * accrued_share // 100
            )
        )
    if i + f + pen:
        txns.append(ledger.waiver(interest=i, fees=f, fees_gst=gst, penal=pen))
    if p + i + f + pen:
        total = p + i + f + pen
        txns.append(
            ledger.write_off(
                principal=p, interest=i, fees=f, penal=pen, from_provision=total * from_provision_share // 100
            )
        )
    if f:
        txns.append(ledger.fee_charge(f, ledger.gst_on(f)))
    if pen:
        txns.append(ledger.penal_charge(pen, gst))
    if i:
        txns += [ledger.interest_accrual(i), ledger.interest_reversal(i)]
    if p:
        txns += [ledger.provision(p), ledger.recovery_after_write_off(p)]
    for t in txns:
        assert sum(leg.amount for leg in t.legs) == 0
        assert all(leg.amount != 0 for leg in t.legs)
        assert len({leg.account for leg in t.legs}) == len(t.legs)
        assert all(len(leg.account) <= 60 for leg in t.legs) and len(t.kind) <= 30
    # a repayment never posts anything on a penal/fee account but a credit (collection clears receivables)
    for t in txns:
        if t.kind == "REPAYMENT":
            assert t.net(ledger.COLLECTION_BANK) == sum(comps)


@given(dues=_dues_strategy(), amount=st.integers(1, 20_00_000), offset=st.integers(-40, 300), config=CONFIGS)
def test_waterfall_repayment_posting_balances(
    dues: list[InstallmentDue], amount: int, offset: int, config: AllocationConfig
) -> None:
    result = allocate_payment(amount, D(2026, 1, 5) + timedelta(days=offset), dues, config)
    txn = ledger.repayment_from_waterfall(result)
    assert txn.net(ledger.COLLECTION_BANK) == amount
    assert -txn.net(ledger.LOAN_PRINCIPAL) == result.principal
    assert -txn.net(ledger.CUSTOMER_CREDIT) == result.excess
    assert -txn.net(ledger.PENAL_RECEIVABLE) == result.penal
    assert sum(leg.amount for leg in txn.legs) == 0


def test_ledger_bad_input() -> None:
    with pytest.raises(TypeError):
        ledger.penal_charge(10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ledger.gst_on(100, 18.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ledger.disbursal_with_deductions(1_000_00, upfront_fees=1.5)  # type: ignore[arg-type]
    cases = [
        (lambda: ledger.disbursal_with_deductions(0), "principal"),
        (lambda: ledger.disbursal_with_deductions(100_00, upfront_fees=90_00, upfront_fees_gst=10_00), "upfront_fees"),
        (lambda: ledger.disbursal_with_deductions(100_00, upfront_fees_gst=-1), "upfront_fees_gst"),
        (lambda: ledger.disbursal_with_deductions(100_00, third_party={"": 1}), "third_party"),
        (lambda: ledger.disbursal_with_deductions(100_00, third_party={ledger.DISBURSAL_BANK: 1}), "third_party"),
        (lambda: ledger.fee_charge(0), "fee"),
        (lambda: ledger.penal_charge(-5), "amount"),
        (lambda: ledger.repayment_split(), "amount"),
        (lambda: ledger.repayment_split(interest=10, accrued_interest=11), "accrued_interest"),
        (lambda: ledger.waiver(), "amount"),
        (lambda: ledger.write_off(principal=0), "principal"),
        (lambda: ledger.write_off(principal=10, from_provision=11), "from_provision"),
        (lambda: ledger.gst_on(100, Decimal("101")), "rate"),
        (lambda: ledger.recovery_after_write_off(0), "amount"),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field
    with pytest.raises(ValueError):
        ledger.Transaction("BAD", (ledger.Leg("A", 1), ledger.Leg("B", -2)))


# =============================================================================== CAM


def _cam_input(**overrides: object) -> cam.CamInput:
    base: dict[str, object] = dict(
        salary_credits=(
            cam.SalaryCredit(50_000_00, D(2026, 1, 31)),
            cam.SalaryCredit(52_000_00, D(2026, 2, 28)),
            cam.SalaryCredit(51_000_00, D(2026, 3, 31)),
        ),
        obligations=10_000_00,
        eligible_foir=Decimal("50"),
        loan_applied=2_00_000_00,
        roi=Decimal("12"),
        tenure_months=12,
        round_eligible_to=100,
        recommend_multiple=1_000_00,
    )
    base.update(overrides)
    return cam.CamInput(**base)  # type: ignore[arg-type]


def test_cam_worked_example() -> None:
    # avg salary (50,000 + 52,000 + 51,000) / 3 = ₹51,000; obligations ₹10,000 → FOIR achieved 19.61 %.
    # Policy FOIR 50 % → EMI capacity 25,500 − 10,000 = ₹15,500.
    # 12 % p.a. over 12 months is 1 % a month; the textbook ₹1,00,000 loan has EMI ₹8,884.88, i.e. the
    # annuity factor (1.01^12 − 1)/(0.01·1.01^12) = 11.2550774…, so ₹15,500 carries ₹1,74,453.70…;
    # rounded down to the rupee → eligible ₹1,74,453. Recommended: min(2,00,000, 1,74,453) down to a
    # ₹1,000 multiple = ₹1,74,000, whose EMI is ₹15,459.69 → proposed FOIR (10,000 + 15,459.69)/51,000
    # = 49.92 %.
    r = cam.calculate_cam(_cam_input())
    assert r.avg_salary == 51_000_00 and r.income == 51_000_00
    assert r.foir_achieved == Decimal("19.61")
    assert r.max_emi == 15_500_00
    assert r.eligible_loan == 1_74_453_00
    assert r.loan_recommended == 1_74_000_00
    assert r.proposed_emi == 15_459_69
    assert r.proposed_foir == Decimal("49.92")
    assert r.within_policy and r.meets_salary_threshold
    record = r.as_record()
    assert record["salaryCreditDate2"] == "2026-02-28" and record["salaryAmount3"] == 51_000_00
    assert record["eligibleLoan"] == 1_74_453_00 and record["eligibleFoir"] == "50"
    # independent oracle: numpy-financial's present value of the EMI stream (float, tolerance only)
    assert abs(npf.pv(0.01, 12, -15_500) - 174_453.70) < 0.01
    # paisa precision instead of rupees
    assert cam.calculate_cam(_cam_input(round_eligible_to=1)).eligible_loan == 1_74_453_70


def test_textbook_emi_matches_schedule_convention() -> None:
    # ₹1,00,000 at 12 % for 12 months → EMI ₹8,884.88 (the same textbook example as test_domain).
    assert cam.emi_for_principal(1_00_000_00, Decimal("12"), 12) == 8_884_88


def test_cam_actual_salary_override_threshold_and_zero_rate() -> None:
    r = cam.calculate_cam(_cam_input(actual_salary=40_000_00, roi=Decimal("0"), salary_threshold=45_000_00))
    assert r.avg_salary == 51_000_00 and r.income == 40_000_00
    assert r.max_emi == 10_000_00  # 50 % of 40,000 − 10,000
    assert r.eligible_loan == 1_20_000_00  # zero rate: EMI × n
    assert r.loan_recommended == 1_20_000_00
    assert not r.meets_salary_threshold


def test_cam_obligations_exhaust_foir() -> None:
    r = cam.calculate_cam(_cam_input(obligations=30_000_00))
    assert r.max_emi == 0 and r.eligible_loan == 0 and r.loan_recommended == 0 and r.proposed_emi == 0
    assert r.foir_achieved == Decimal("58.82") == r.proposed_foir
    assert not r.within_policy


def test_cam_executive_override() -> None:
    over = cam.calculate_cam(_cam_input(loan_recommended=1_90_000_00))
    assert over.loan_recommended == 1_90_000_00 and not over.within_policy
    with pytest.raises(ValidationError) as err:
        cam.calculate_cam(_cam_input(loan_recommended=2_00_000_01))
    assert err.value.field == "loan_recommended"


def test_average_salary_rounds_down() -> None:
    assert cam.average_salary([1, 2]) == 1  # 1.5 paise → 1
    assert cam.average_salary([100_000_00, 100_000_01, 100_000_01]) == 100_000_00
    assert cam.recommended_amount(1_23_456_78, 2_00_000_00, 5_000_00) == 1_20_000_00


@settings(max_examples=300)
@given(
    emi=st.integers(0, 10**8),
    roi=st.integers(0, 6000).map(lambda bps: Decimal(bps) / 100),
    n=st.integers(1, 360),
    step=st.sampled_from([1, 100, 1_000_00]),
)
def test_eligible_principal_never_breaks_the_emi_cap(emi: int, roi: Decimal, n: int, step: int) -> None:
    p = cam.principal_for_emi(emi, roi, n, round_to=step)
    assert p % step == 0 and p >= 0
    assert cam.emi_for_principal(p, roi, n) <= emi  # within FOIR
    assert cam.emi_for_principal(p + step, roi, n) >= emi  # and as large as it can be
    if roi:  # float oracle, loose tolerance: the exact value floors to the step
        oracle = -npf.pv(float(roi) / 1200, n, emi)
        assert oracle - step - 1 <= p <= oracle + 1


def test_cam_bad_input() -> None:
    with pytest.raises(TypeError):
        cam.calculate_cam(_cam_input(roi=12.0))
    with pytest.raises(TypeError):
        cam.SalaryCredit(50_000.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cam.calculate_cam(_cam_input(obligations=1.5))
    cases = [
        (lambda: cam.calculate_cam(_cam_input(salary_credits=())), "salary_credits"),
        (lambda: cam.calculate_cam(_cam_input(salary_credits=(cam.SalaryCredit(1),) * 4)), "salary_credits"),
        (lambda: cam.SalaryCredit(0), "salary_amount"),
        (lambda: cam.SalaryCredit(100, "2026-01-31"), "salary_credit_date"),  # type: ignore[arg-type]
        (lambda: cam.calculate_cam(_cam_input(obligations=-1)), "obligations"),
        (lambda: cam.calculate_cam(_cam_input(eligible_foir=Decimal("0"))), "eligible_foir"),
        (lambda: cam.calculate_cam(_cam_input(eligible_foir=Decimal("100.5"))), "eligible_foir"),
        (lambda: cam.calculate_cam(_cam_input(eligible_foir="fifty")), "eligible_foir"),
        (lambda: cam.calculate_cam(_cam_input(roi=Decimal("-1"))), "roi"),
        (lambda: cam.calculate_cam(_cam_input(tenure_months=0)), "tenure_months"),
        (lambda: cam.calculate_cam(_cam_input(loan_applied=0)), "loan_applied"),
        (lambda: cam.calculate_cam(_cam_input(actual_salary=0)), "actual_salary"),
        (lambda: cam.calculate_cam(_cam_input(round_eligible_to=0)), "round_to"),
        (lambda: cam.calculate_cam(_cam_input(recommend_multiple=-100)), "recommend_multiple"),
        (lambda: cam.foir_percent(100, 0), "income"),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field, (field, err.value.field)


def test_interest_credited_at_foreclosure_moves_income_to_principal() -> None:
    """Interest collected for days the loan did not run leaves income and repays principal (domain.closure)."""
    txn = ledger.interest_credit(1_000_00)
    assert txn.kind == "INTEREST_CREDIT" and txn.legs == (
        ledger.Leg("INTEREST_INCOME", 1_000_00),
        ledger.Leg("LOAN_PRINCIPAL_RECEIVABLE", -1_000_00),
    )
    with pytest.raises(ValidationError):
        ledger.interest_credit(0)
