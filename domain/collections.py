"""The collector's rules: what a follow-up's disposition requires, who gets an overdue loan, and when a promise to pay
is kept or broken.

Sources: seed 000 (the collection roles; "auto-allocation by area, load and rating" from the
``partner_user_rating_matrix``; the disposition codes of a collector's follow-up), ``domain.assignment`` (the
eligibility rules every auto-allocation shares: active, in the brand, the role, not on leave that day, under the
cap), and RBI's Fair Practices Code for NBFCs (Master Direction DNBR.PD.008/03.10.119/2016-17, para 6 on recovery:
the borrower is contacted with due notice and on the record, which the follow-ups and visits are).

Money is integer paise; dates are IST calendar dates. Pure: the standard library only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.assignment import Assignment, StaffCandidate, ineligibility
from domain.errors import ValidationError
from domain.money import format_inr

MAX_RATING = Decimal(5)
#: how many open cases one point of rating is worth when collectors are compared (a 5-rated collector with four
#: more open cases than a 3-rated one scores the same)
RATING_WEIGHT_CASES = Decimal(2)


class Disposition(StrEnum):
    """The outcome a collector records for a contact attempt (seed 000's disposition codes)."""

    PROMISE_TO_PAY = "PROMISE_TO_PAY"  # needs ptp_date (today or later) and ptp_amount (> 0 paise)
    REFUSED_TO_PAY = "REFUSED_TO_PAY"
    NOT_CONTACTABLE = "NOT_CONTACTABLE"
    WRONG_NUMBER = "WRONG_NUMBER"
    DISPUTE = "DISPUTE"
    CALLBACK = "CALLBACK"  # needs next_action_on (today or later)
    PAID = "PAID"  # the customer says they paid; the payment itself arrives through the gateways or offline


class PromiseStatus(StrEnum):
    PENDING = "PENDING"
    KEPT = "KEPT"
    BROKEN = "BROKEN"


def _plain_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a calendar date (YYYY-MM-DD)", field=name)
    return value


def _paise(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a whole number of paise", field=name)
    if value < minimum:
        raise ValidationError(f"must be at least {minimum} paise", field=name)
    return value


def parse_disposition(value: object, name: str = "disposition") -> Disposition:
    """A :class:`Disposition` from its value (case-insensitive); anything else → ValidationError naming ``name``."""
    text = str(value).strip().upper() if isinstance(value, str) else ""
    try:
        return Disposition(text)
    except ValueError:
        allowed = ", ".join(d.value for d in Disposition)
        raise ValidationError(f"unknown disposition {value!r}; allowed: {allowed}", field=name) from None


# The furthest a promise to pay may be dated: further out is a new plan (a restructure), not a promise.
PTP_MAX_DAYS = 90


def check_follow_up(
    disposition: Disposition | str,
    *,
    today: date,
    next_action_on: date | None = None,
    ptp_date: date | None = None,
    ptp_amount: int | None = None,
    owed: int | None = None,
) -> Disposition:
    """Check what ``disposition`` requires and return it typed.

    - PROMISE_TO_PAY: ``ptp_date`` from ``today`` to ``PTP_MAX_DAYS`` after it and ``ptp_amount`` above 0 paise and,
      when ``owed`` (paise, everything the loan owes) is given, at most it; both required;
    - CALLBACK: ``next_action_on`` required;
    - any other disposition: no ``ptp_date`` / ``ptp_amount`` (a promise is only recorded as one);
    - ``next_action_on``, when given, is ``today`` or later (the next action cannot be in the past).

    Raises ValidationError naming the field (``ptpDate``, ``ptpAmount``, ``nextActionOn``, ``disposition``)."""
    kind = parse_disposition(disposition)
    _plain_date(today, "today")
    if next_action_on is not None and _plain_date(next_action_on, "nextActionOn") < today:
        raise ValidationError(f"must be today ({today.isoformat()}) or later", field="nextActionOn")
    if kind is Disposition.PROMISE_TO_PAY:
        if ptp_date is None:
            raise ValidationError("a promise to pay needs the date promised", field="ptpDate")
        if _plain_date(ptp_date, "ptpDate") < today:
            raise ValidationError(f"the promised date must be today ({today.isoformat()}) or later", field="ptpDate")
        if ptp_date > today + timedelta(days=PTP_MAX_DAYS):
            latest = (today + timedelta(days=PTP_MAX_DAYS)).isoformat()
            raise ValidationError(
                f"the promised date must be within {PTP_MAX_DAYS} days ({latest} at the latest)", field="ptpDate"
            )
        if ptp_amount is None:
            raise ValidationError("a promise to pay needs the amount promised", field="ptpAmount")
        _paise(ptp_amount, "ptpAmount", minimum=1)
        if owed is not None and ptp_amount > owed:
            raise ValidationError(
                f"is more than everything the loan owes ({format_inr(owed)}, {owed} paise)", field="ptpAmount"
            )
    else:
        for value, name in ((ptp_date, "ptpDate"), (ptp_amount, "ptpAmount")):
            if value is not None:
                raise ValidationError(f"only a {Disposition.PROMISE_TO_PAY.value} carries it", field=name)
    if kind is Disposition.CALLBACK and next_action_on is None:
        raise ValidationError("a callback needs the date to call back", field="nextActionOn")
    return kind


# --------------------------------------------------------------------------------------------- allocation
@dataclass(frozen=True)
class CollectorCandidate(StaffCandidate):
    """A collection staff member as allocation sees them: ``domain.assignment.StaffCandidate`` (``open_workload`` =
    their open collection cases, ``unavailable_on`` their leave days, ``capacity`` their profile's cap) plus the
    pincodes they cover and their rating (0–5, the collector profile's, seed 000's rating matrix)."""

    pincodes: Collection[str] = frozenset()
    rating: Decimal = Decimal(3)

    def __post_init__(self) -> None:
        super().__post_init__()
        codes = frozenset(str(p).strip() for p in self.pincodes)
        object.__setattr__(self, "pincodes", codes)
        if isinstance(self.rating, float | bool) or not isinstance(self.rating, Decimal | int):
            raise ValidationError("must be a decimal between 0 and 5", field="rating")
        rating = Decimal(self.rating)
        if not Decimal(0) <= rating <= MAX_RATING:
            raise ValidationError("must be between 0 and 5", field="rating")
        object.__setattr__(self, "rating", rating)

    def covers(self, pincode: str | None) -> bool:
        """True when the customer's ``pincode`` is one this collector covers."""
        return pincode is not None and pincode.strip() in self.pincodes


def collector_score(candidate: CollectorCandidate, pincode: str | None) -> tuple[int, Decimal]:
    """The sort key of an eligible collector (smaller is better): an area match first (0 when the collector covers
    ``pincode``, 1 otherwise), then the load weighed by rating: open cases − ``RATING_WEIGHT_CASES`` × rating."""
    return (0 if candidate.covers(pincode) else 1, candidate.open_workload - RATING_WEIGHT_CASES * candidate.rating)


def choose_collector(
    candidates: Iterable[CollectorCandidate],
    role: str,
    pincode: str | None,
    on: date,
    *,
    brand_id: str,
    cap: int | None = None,
) -> Assignment:
    """Who of ``candidates`` works an overdue loan of ``brand_id`` whose customer lives in ``pincode``, from ``on``.

    Eligibility is ``domain.assignment.ineligibility``'s (active, in the brand, ``role``, not on leave on ``on``,
    open cases below their own capacity or else ``cap``). Among the eligible: the one covering the pincode first;
    then the fewest open cases, each point of rating counting as ``RATING_WEIGHT_CASES`` cases fewer; then the
    smallest staff id (deterministic; the input order is irrelevant). Nobody eligible → ``staff_id`` None and the
    reason (never raises for that); ``skipped`` lists each ineligible candidate with why. Source: seed 000,
    auto-allocation "by area, load and rating". Duplicate staff ids or a datetime ``on`` → ValidationError."""
    _plain_date(on, "on")
    pool = sorted(candidates, key=lambda c: c.staff_id)
    for a, b in zip(pool, pool[1:], strict=False):
        if a.staff_id == b.staff_id:
            raise ValidationError(f"staff {a.staff_id} is listed twice", field="candidates")
    eligible: list[CollectorCandidate] = []
    skipped: list[tuple[str, str]] = []
    for c in pool:
        why = ineligibility(c, brand_id=brand_id, role=role, on=on, cap=cap)
        if why is None:
            eligible.append(c)
        else:
            skipped.append((c.staff_id, why))
    if not eligible:
        reason = "no staff to choose from" if not pool else f"no eligible {role} on {on.isoformat()}"
        return Assignment(None, reason, tuple(skipped))
    pick = min(eligible, key=lambda c: (*collector_score(c, pincode), c.staff_id))
    area = f"covers {pincode}" if pick.covers(pincode) else "no eligible collector covers the pincode"
    reason = f"{role}: {area}; {pick.open_workload} open cases, rating {pick.rating}"
    return Assignment(pick.staff_id, reason, tuple(skipped))


# --------------------------------------------------------------------------------------------- promises
@dataclass(frozen=True)
class Promise:
    """A promise to pay as tracked: ``amount`` promised (paise) by ``ptp_date``, ``paid`` received towards it so far,
    its status. ``id`` is the follow-up's."""

    id: str
    ptp_date: date
    amount: int
    paid: int = 0
    status: PromiseStatus = PromiseStatus.PENDING

    def __post_init__(self) -> None:
        _plain_date(self.ptp_date, "ptp_date")
        _paise(self.amount, "amount", minimum=1)
        _paise(self.paid, "paid", minimum=0)
        object.__setattr__(self, "status", PromiseStatus(self.status))


@dataclass(frozen=True)
class PromiseUpdate:
    """What a payment did to one promise: ``counted`` paise of it went towards the promise, now ``paid`` in all;
    ``status`` KEPT when that reaches the amount promised, else still PENDING."""

    id: str
    counted: int
    paid: int
    status: PromiseStatus


def apply_payment(promises: Sequence[Promise], amount: int, paid_on: date) -> list[PromiseUpdate]:
    """Count a payment of ``amount`` paise received on ``paid_on`` towards the PENDING promises it can keep.

    Only promises dated ``paid_on`` or later count it (a payment after the promised date does not keep it). The
    payment goes to the oldest of them first (earliest promised date; equal dates in the order given), each taking
    what it still lacks; a promise whose ``paid`` reaches its ``amount`` is KEPT, and what is left of the payment
    goes on to the next. Returns an update for each promise the payment reached (none if nothing was pending)."""
    _paise(amount, "amount", minimum=0)
    _plain_date(paid_on, "paid_on")
    left = amount
    out: list[PromiseUpdate] = []
    open_ones = [p for p in promises if p.status is PromiseStatus.PENDING and p.ptp_date >= paid_on]
    for promise in sorted(open_ones, key=lambda p: p.ptp_date):  # sorted is stable: equal dates keep their order
        if left <= 0:
            break
        counted = min(left, promise.amount - promise.paid)
        if counted <= 0:
            continue
        left -= counted
        paid = promise.paid + counted
        status = PromiseStatus.KEPT if paid >= promise.amount else PromiseStatus.PENDING
        out.append(PromiseUpdate(promise.id, counted, paid, status))
    return out


def broken(promises: Sequence[Promise], as_of: date) -> list[Promise]:
    """The PENDING promises dated before ``as_of`` (the date whose day-end ran), now BROKEN: the day promised has
    passed without the amount arriving. Returns them with their status BROKEN, in the order given."""
    _plain_date(as_of, "as_of")
    return [
        replace(p, status=PromiseStatus.BROKEN)
        for p in promises
        if p.status is PromiseStatus.PENDING and p.ptp_date < as_of
    ]
