"""The collector's rules (``domain.collections``): what each disposition requires, who gets an overdue loan, and
when a promise to pay is kept or broken."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.collections import (
    PTP_MAX_DAYS,
    CollectorCandidate,
    Disposition,
    Promise,
    PromiseStatus,
    apply_payment,
    broken,
    check_follow_up,
    choose_collector,
)
from domain.errors import ValidationError

TODAY = date(2026, 3, 10)
CX = "COLLECTION_EXECUTIVE"
BRAND = "brand-1"


def field_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return excinfo.value.field


# ------------------------------------------------------------------------------------------- dispositions
def test_a_promise_to_pay_needs_a_date_from_today_and_an_amount_above_zero() -> None:
    ok = check_follow_up("promise_to_pay", today=TODAY, ptp_date=TODAY, ptp_amount=1)
    assert ok is Disposition.PROMISE_TO_PAY
    cases = [
        ({"ptp_amount": 100}, "ptpDate"),
        ({"ptp_date": date(2026, 3, 9), "ptp_amount": 100}, "ptpDate"),
        ({"ptp_date": TODAY}, "ptpAmount"),
        ({"ptp_date": TODAY, "ptp_amount": 0}, "ptpAmount"),
        ({"ptp_date": TODAY, "ptp_amount": -5}, "ptpAmount"),
        ({"ptp_date": TODAY, "ptp_amount": 10.5}, "ptpAmount"),
        ({"ptp_date": datetime(2026, 3, 11), "ptp_amount": 100}, "ptpDate"),
        ({"ptp_date": TODAY + timedelta(days=PTP_MAX_DAYS + 1), "ptp_amount": 100}, "ptpDate"),  # not a promise
        ({"ptp_date": TODAY, "ptp_amount": 50_001_00, "owed": 50_000_00}, "ptpAmount"),  # more than is owed
    ]
    late = TODAY + timedelta(days=PTP_MAX_DAYS)
    assert check_follow_up("PROMISE_TO_PAY", today=TODAY, ptp_date=late, ptp_amount=50_000_00, owed=50_000_00)
    for kwargs, name in cases:
        with pytest.raises(ValidationError) as exc:
            check_follow_up(Disposition.PROMISE_TO_PAY, today=TODAY, **kwargs)  # type: ignore[arg-type]
        assert field_of(exc) == name, kwargs


def test_a_callback_needs_the_next_action_date_and_other_codes_carry_no_promise() -> None:
    with pytest.raises(ValidationError) as exc:
        check_follow_up("CALLBACK", today=TODAY)
    assert field_of(exc) == "nextActionOn"
    assert check_follow_up("CALLBACK", today=TODAY, next_action_on=TODAY) is Disposition.CALLBACK
    with pytest.raises(ValidationError) as exc:
        check_follow_up("CALLBACK", today=TODAY, next_action_on=date(2026, 3, 1))
    assert field_of(exc) == "nextActionOn"
    for code in ("REFUSED_TO_PAY", "NOT_CONTACTABLE", "WRONG_NUMBER", "DISPUTE", "PAID"):
        assert check_follow_up(code, today=TODAY) is Disposition(code)
        with pytest.raises(ValidationError) as exc:
            check_follow_up(code, today=TODAY, ptp_amount=100)
        assert field_of(exc) == "ptpAmount"
        with pytest.raises(ValidationError) as exc:
            check_follow_up(code, today=TODAY, ptp_date=TODAY)
        assert field_of(exc) == "ptpDate"
    with pytest.raises(ValidationError) as exc:
        check_follow_up("MAYBE", today=TODAY)
    assert field_of(exc) == "disposition"
    assert len(Disposition) == 7


# ------------------------------------------------------------------------------------------- allocation
def cx(staff_id: str, **kw: object) -> CollectorCandidate:
    return CollectorCandidate(staff_id, kw.pop("brand_id", BRAND), kw.pop("role", CX), **kw)  # type: ignore[arg-type]


def test_eligibility_is_the_assignment_rules_and_nobody_eligible_says_why() -> None:
    pool = [
        cx("a", is_active=False),
        cx("b", brand_id="other"),
        cx("c", role="COLLECTION_MANAGER"),
        cx("d", unavailable_on={TODAY}),
        cx("e", open_workload=5, capacity=5),
        cx("f", open_workload=100),
    ]
    out = choose_collector(pool, CX, "560001", TODAY, brand_id=BRAND, cap=100)
    assert out.staff_id is None and "no eligible" in out.reason
    reasons = dict(out.skipped)
    assert reasons["a"] == "inactive" and reasons["b"] == "not in this brand"
    assert reasons["c"].startswith("role") and reasons["d"] == "unavailable on 2026-03-10"
    assert reasons["e"] == "workload 5 at cap 5" and reasons["f"] == "workload 100 at cap 100"
    assert choose_collector([], CX, None, TODAY, brand_id=BRAND).reason == "no staff to choose from"
    # on another day the one on leave is back
    assert choose_collector(pool, CX, None, date(2026, 3, 11), brand_id=BRAND, cap=100).staff_id == "d"


def test_area_first_then_load_weighed_by_rating_then_staff_id() -> None:
    far_idle = cx("a", open_workload=0, rating=Decimal(5))
    near_busy = cx("z", open_workload=30, pincodes={"560001"}, rating=Decimal(1))
    assert choose_collector([far_idle, near_busy], CX, "560001", TODAY, brand_id=BRAND).staff_id == "z"
    # no pincode given, or nobody covers it: load and rating decide
    assert choose_collector([far_idle, near_busy], CX, None, TODAY, brand_id=BRAND).staff_id == "a"
    assert choose_collector([far_idle, near_busy], CX, "110001", TODAY, brand_id=BRAND).staff_id == "a"
    # the same area: fewer open cases win
    light, heavy = cx("m", open_workload=2), cx("n", open_workload=9)
    assert choose_collector([heavy, light], CX, None, TODAY, brand_id=BRAND).staff_id == "m"
    # the same load: the better rating wins; a point of rating is worth two cases
    good, fair = cx("p", open_workload=4, rating=Decimal("4.5")), cx("q", open_workload=4, rating=Decimal(3))
    assert choose_collector([fair, good], CX, None, TODAY, brand_id=BRAND).staff_id == "p"
    assert choose_collector([cx("p", open_workload=8, rating=5), cx("q", open_workload=3, rating=3)], CX, None, TODAY,
                           brand_id=BRAND).staff_id == "q"  # fmt: skip
    # a tie: the smallest staff id, whatever the input order
    twins = [cx("y", open_workload=1), cx("x", open_workload=1)]
    assert choose_collector(twins, CX, None, TODAY, brand_id=BRAND).staff_id == "x"
    assert choose_collector(list(reversed(twins)), CX, None, TODAY, brand_id=BRAND).staff_id == "x"


def test_bad_candidates_and_arguments_are_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        cx("a", rating=Decimal(6))
    assert field_of(exc) == "rating"
    with pytest.raises(ValidationError):
        cx("a", rating=4.5)  # a float is not a rating
    with pytest.raises(ValidationError) as exc:
        choose_collector([cx("a"), cx("a")], CX, None, TODAY, brand_id=BRAND)
    assert field_of(exc) == "candidates"
    with pytest.raises(ValidationError):
        choose_collector([cx("a")], CX, None, datetime(2026, 3, 10), brand_id=BRAND)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- promises
def test_a_payment_keeps_the_oldest_pending_promise_first_and_carries_over() -> None:
    first = Promise("p1", date(2026, 3, 12), 3_000_00)
    second = Promise("p2", date(2026, 3, 15), 2_000_00)
    done = Promise("p0", date(2026, 3, 11), 1_000_00, paid=1_000_00, status=PromiseStatus.KEPT)
    out = apply_payment([second, done, first], 4_000_00, date(2026, 3, 11))
    assert [(u.id, u.counted, u.paid, u.status) for u in out] == [
        ("p1", 3_000_00, 3_000_00, PromiseStatus.KEPT),
        ("p2", 1_000_00, 1_000_00, PromiseStatus.PENDING),
    ]
    # a part payment stays pending; the rest later keeps it
    part = apply_payment([first], 1_000_00, TODAY)
    assert [(u.paid, u.status) for u in part] == [(1_000_00, PromiseStatus.PENDING)]
    rest = apply_payment([Promise("p1", first.ptp_date, first.amount, paid=1_000_00)], 2_500_00, first.ptp_date)
    assert [(u.counted, u.paid, u.status) for u in rest] == [(2_000_00, 3_000_00, PromiseStatus.KEPT)]


def test_a_payment_after_the_promised_date_keeps_nothing_and_the_day_end_breaks_it() -> None:
    promise = Promise("p1", date(2026, 3, 12), 1_000_00)
    assert apply_payment([promise], 5_000_00, date(2026, 3, 13)) == []
    assert apply_payment([promise], 0, date(2026, 3, 12)) == []
    assert broken([promise], date(2026, 3, 12)) == []  # the promised day itself is not over yet
    late = broken([promise, Promise("k", date(2026, 3, 1), 1, paid=1, status="KEPT")], date(2026, 3, 13))
    assert [(p.id, p.status) for p in late] == [("p1", PromiseStatus.BROKEN)]
    with pytest.raises(ValidationError):
        Promise("bad", date(2026, 3, 12), 0)
    with pytest.raises(ValidationError):
        apply_payment([promise], -1, date(2026, 3, 12))
