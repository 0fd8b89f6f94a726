"""Due dates on brand non-repayment dates (holidays): where they move, per product, and what happens when a
moved date meets another installment. Pure date logic; the schedule engine (``domain.schedule``) charges the
interest of the resulting periods.

Sources: Apache Fineract's working days "repayment reschedule type" (``RepaymentRescheduleType``: SAME_DAY,
MOVE_TO_NEXT_WORKING_DAY, MOVE_TO_NEXT_REPAYMENT_MEETING_DAY, MOVE_TO_PREVIOUS_WORKING_DAY), its holiday
"reschedule type" (``RescheduleType.RESCHEDULETONEXTREPAYMENTDATE``) and its working-days option "extend term
for daily repayments" (``AbstractCumulativeLoanScheduleGenerator``: with it on, the next due date is generated
from the moved date, so the term grows; ``DefaultScheduledDateGenerator.adjustRepaymentDate`` for the moves).
Fineract without that option leaves two installments due on one date (the second a 0-day period, as the
Mifos "moratorium" request describes); this engine never does. Each product picks a ``HolidayStrategy``:

============================== ==========================================================================
NEXT_WORKING_DAY_EXTEND_TERM   (default) the date moves to the next working day. When that reaches or
                               passes the next regular due date, every later due date is worked out afresh
                               from the moved date (one regular period apart, then moved off holidays in
                               turn): the term is extended, every period keeps its regular length.
                               Fineract MOVE_TO_NEXT_WORKING_DAY + "extend term", for any frequency.
NEXT_WORKING_DAY_MERGE         the date moves to the next working day; installments that land on one date
                               are merged into one (that date, principal, interest and fees summed, the
                               balance after the last of them). The loan has fewer installments.
NEXT_REPAYMENT_DAY_MERGE       the installment falls due with the next regular installment whose date is a
                               working day, merged into it (Fineract MOVE_TO_NEXT_REPAYMENT_MEETING_DAY /
                               RESCHEDULETONEXTREPAYMENTDATE); the last one moves to the first regular date
                               after the term that is a working day.
PREVIOUS_WORKING_DAY_MERGE     the date moves to the latest working day before it (Fineract
                               MOVE_TO_PREVIOUS_WORKING_DAY), merged with an installment already due that
                               day; when no working day is left after disbursal it moves to the next working
                               day instead (never on or before the disbursal date).
SAME_DAY                       holidays are ignored: the installment stays due on its regular date.
============================== ==========================================================================

Whatever the strategy, due dates are strictly increasing and every period is at least one day. With no
collision the default gives exactly the plain next-working-day dates, so existing loans keep their schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from domain.errors import ValidationError
from domain.product import HolidayStrategy, ScheduleRows

_GUARD_DAYS = 366  # a run of non-repayment dates longer than a year is a data error
_GUARD_PERIODS = 120  # regular dates to try past the term (NEXT_REPAYMENT_DAY_MERGE)

Steps = Callable[[date, int], list[date]]
"""``steps(start, count)``: ``start`` stepped 1, 2, … ``count`` regular periods (the product's frequency)."""


def next_working_day(day: date, holidays: frozenset[date]) -> date:
    """The day itself, or the first later day that is not a brand non-repayment date.

    Raises ValidationError (field ``holidays``) when more than a year of consecutive days are holidays."""
    guard = 0
    while day in holidays:
        day += timedelta(days=1)
        guard += 1
        if guard > _GUARD_DAYS:
            raise ValidationError("non-repayment dates cover a whole year", field="holidays")
    return day


def previous_working_day(day: date, holidays: frozenset[date], after: date) -> date | None:
    """The day itself, or the latest earlier day that is not a holiday, provided it is after ``after``
    (the disbursal date); None when every day from ``after`` + 1 to ``day`` is a holiday."""
    while day in holidays:
        day -= timedelta(days=1)
        if day <= after:
            return None
    return day


class DueCalendar(NamedTuple):
    """Due dates after the holiday moves, one per installment of the terms (non-decreasing: equal neighbours
    are the installments a MERGE strategy makes one), and the regular length in days of each period (what a
    period's days are compared with to pro-rate interest; the first is one regular period from disbursal)."""

    dates: list[date]
    regular_days: list[int]

    @property
    def collides(self) -> bool:
        """Whether some installments share a due date (they are to be merged)."""
        return any(a == b for a, b in zip(self.dates, self.dates[1:], strict=False))


def _lengths(start: date, dates: list[date]) -> list[int]:
    ordinals = [start.toordinal()] + [d.toordinal() for d in dates]
    return [b - a for a, b in zip(ordinals, ordinals[1:], strict=False)]


def shift_due_dates(
    regular: list[date],
    disbursed_on: date,
    holidays: frozenset[date],
    strategy: HolidayStrategy,
    steps: Steps,
) -> DueCalendar:
    """The due dates of ``regular`` (strictly increasing, all after ``disbursed_on``) under ``strategy``.

    Raises ValidationError (field ``holidays``) when the non-repayment dates leave no working day within a year
    of a due date (or, for NEXT_REPAYMENT_DAY_MERGE, within 120 periods after the term)."""
    first_regular = steps(disbursed_on, 1)[0]
    regular_days = [(first_regular - disbursed_on).days, *_lengths(regular[0], regular[1:])]
    n = len(regular)
    if not holidays or strategy == HolidayStrategy.SAME_DAY or not any(d in holidays for d in regular):
        return DueCalendar(list(regular), regular_days)
    if strategy == HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM:
        base = list(regular)
        dates: list[date] = []
        for k in range(n):
            moved = next_working_day(base[k], holidays)
            if k + 1 < n and moved >= base[k + 1]:
                # extend the term: the rest of the schedule counts its regular periods from the moved date
                rest = steps(moved, n - k - 1)
                base[k + 1 :] = rest
                regular_days[k + 1 :] = _lengths(moved, rest)
            dates.append(moved)
        return DueCalendar(dates, regular_days)
    if strategy in (HolidayStrategy.NEXT_WORKING_DAY_MERGE, HolidayStrategy.LEGACY_NEXT_WORKING_DAY):
        return DueCalendar([next_working_day(d, holidays) for d in regular], regular_days)
    if strategy == HolidayStrategy.NEXT_REPAYMENT_DAY_MERGE:
        return DueCalendar(_next_repayment_days(regular, holidays, steps), regular_days)
    if strategy == HolidayStrategy.PREVIOUS_WORKING_DAY_MERGE:
        dates = []
        for d in regular:
            earlier = previous_working_day(d, holidays, disbursed_on)
            dates.append(earlier if earlier is not None else next_working_day(d, holidays))
        return DueCalendar(dates, regular_days)
    raise ValidationError(f"unknown holiday strategy {strategy!r}", field="holiday_strategy")


def _next_repayment_days(regular: list[date], holidays: frozenset[date], steps: Steps) -> list[date]:
    """Each holiday due date replaced by the next regular due date that is a working day (past the term:
    the regular dates that would follow the last one)."""
    out: list[date] = []
    target: date | None = None
    for k in range(len(regular) - 1, -1, -1):  # from the end: the nearest later working regular date
        if regular[k] not in holidays:
            target = regular[k]
        elif target is None:
            beyond = steps(regular[-1], _GUARD_PERIODS)
            target = next((d for d in beyond if d not in holidays), None)
            if target is None:
                raise ValidationError("no regular due date after the term is a working day", field="holidays")
        out.append(target)
    return out[::-1]


def merge_collisions(
    dates: list[date], columns: list[list[int]], balance: list[int]
) -> tuple[list[date], list[list[int]], list[int]]:
    """Installments sharing a due date made one: the date once, each of ``columns`` (principal, interest,
    fees, days …, in paise or days) summed over the group, and ``balance`` the balance after the group's last
    installment. ``dates`` must be non-decreasing; the result's dates are strictly increasing."""
    out_dates: list[date] = []
    out_cols: list[list[int]] = [[] for _ in columns]
    out_balance: list[int] = []
    for k, day in enumerate(dates):
        if out_dates and out_dates[-1] == day:
            for col, src in zip(out_cols, columns, strict=True):
                col[-1] += src[k]
            out_balance[-1] = balance[k]
            continue
        if out_dates and day < out_dates[-1]:
            raise ValueError("due dates must be non-decreasing to merge")
        out_dates.append(day)
        for col, src in zip(out_cols, columns, strict=True):
            col.append(src[k])
        out_balance.append(balance[k])
    return out_dates, out_cols, out_balance


def merged_rows(
    first_number: int,
    dates: list[date],
    days: list[int],
    principal: list[int],
    interest: list[int],
    fees: list[int],
    balance: list[int],
    *,
    merge: bool = True,
) -> ScheduleRows:
    """A schedule's rows (amounts in paise, days per period), with installments that share a due date (a
    MERGE strategy) made one by ``merge_collisions`` and numbered on from ``first_number``. ``merge=False``
    keeps them apart (LEGACY_NEXT_WORKING_DAY only)."""
    if merge and any(a == b for a, b in zip(dates, dates[1:], strict=False)):
        dates, (days, principal, interest, fees), balance = merge_collisions(
            dates, [days, principal, interest, fees], balance
        )
    return ScheduleRows(first_number, dates, days, principal, interest, fees, balance)
