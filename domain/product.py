"""Loan product options, named as Apache Fineract names them, and the validated terms of one loan.

Amounts are integer paise; rates are ``Decimal`` percentages (``Decimal("12")`` is 12% p.a.).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple, overload

from domain.errors import ValidationError


class InterestMethod(StrEnum):
    DECLINING_BALANCE = "DECLINING_BALANCE"
    FLAT = "FLAT"


class Amortization(StrEnum):
    EQUAL_INSTALLMENTS = "EQUAL_INSTALLMENTS"
    EQUAL_PRINCIPAL = "EQUAL_PRINCIPAL"


class InterestCalc(StrEnum):
    """Fineract's "interest calculation period": DAILY accrues on actual days; SAME_AS_REPAYMENT_PERIOD
    charges a whole period's rate per installment."""

    DAILY = "DAILY"
    SAME_AS_REPAYMENT_PERIOD = "SAME_AS_REPAYMENT_PERIOD"


class Frequency(StrEnum):
    DAYS = "DAYS"
    WEEKS = "WEEKS"
    MONTHS = "MONTHS"


class DaysInYear(StrEnum):
    ACTUAL = "ACTUAL"
    D360 = "360"
    D364 = "364"
    D365 = "365"


class DaysInMonth(StrEnum):
    ACTUAL = "ACTUAL"
    D30 = "30"


class HolidayStrategy(StrEnum):
    """What a due date on a brand non-repayment date (holiday) does, chosen per product; see
    ``domain.holidays`` for the exact rules. Named after Apache Fineract's working-days
    "repayment reschedule type" (SAME_DAY, MOVE_TO_NEXT_WORKING_DAY, MOVE_TO_NEXT_REPAYMENT_MEETING_DAY,
    MOVE_TO_PREVIOUS_WORKING_DAY) with what happens when the moved date meets the next (or previous) due date:
    EXTEND_TERM shifts the later due dates (Fineract's "extend term for daily repayments"), MERGE makes the
    colliding installments one (one due date, summed amounts). None gives a 0-day period or two installments
    on one date; the default gives the same dates as a plain next-working-day move whenever that has no
    collision."""

    NEXT_WORKING_DAY_EXTEND_TERM = "NEXT_WORKING_DAY_EXTEND_TERM"
    NEXT_WORKING_DAY_MERGE = "NEXT_WORKING_DAY_MERGE"
    NEXT_REPAYMENT_DAY_MERGE = "NEXT_REPAYMENT_DAY_MERGE"
    PREVIOUS_WORKING_DAY_MERGE = "PREVIOUS_WORKING_DAY_MERGE"
    SAME_DAY = "SAME_DAY"
    # How loans applied for before holiday strategies existed were scheduled: each date moved to the next working
    # day, colliding installments kept apart (a 0-day period). Kept only so those loans' workflows replay and keep
    # the schedule their KFS showed; never offered for a product (``PRODUCT_HOLIDAY_STRATEGIES``).
    LEGACY_NEXT_WORKING_DAY = "LEGACY_NEXT_WORKING_DAY"


PRODUCT_HOLIDAY_STRATEGIES = tuple(s for s in HolidayStrategy if s != HolidayStrategy.LEGACY_NEXT_WORKING_DAY)


def parse_enum(enum: type[StrEnum], value: object, field_name: str) -> StrEnum:
    """An option from its name (case-insensitive); an unknown name is a ValidationError on the field."""
    if isinstance(value, enum):
        return value
    text = str(value).strip().upper()
    for member in enum:  # type: ignore[attr-defined]
        if text in (member.value, member.name):
            return member
    allowed = ", ".join(m.value for m in enum)  # type: ignore[attr-defined]
    raise ValidationError(f"unknown value {value!r}; allowed: {allowed}", field=field_name)


def _no_float(value: object, field_name: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{field_name}: float is not allowed in money code")


@dataclass(frozen=True)
class LoanTerms:
    """Everything the schedule engine needs about one loan."""

    principal: int  # paise
    annual_rate: Decimal  # nominal % per annum
    installments: int
    disbursed_on: date
    repay_every: int = 1
    frequency: Frequency = Frequency.MONTHS
    interest_method: InterestMethod = InterestMethod.DECLINING_BALANCE
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS
    interest_calc: InterestCalc = InterestCalc.SAME_AS_REPAYMENT_PERIOD
    days_in_year: DaysInYear = DaysInYear.ACTUAL
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL
    in_multiples_of: int = 1  # paise: 100 rounds installments to whole rupees
    first_due: date | None = None  # a first period longer/shorter than the rest: broken-period interest
    grace_principal: int = 0  # periods with no principal due
    grace_interest: int = 0  # periods with no interest due (it is carried, not waived)
    installment_fee: int = 0  # paise per installment, shown in the schedule's fees column
    daily_rate: Decimal | None = None  # % per day: the daily-rate bullet loan (one repayment)
    holidays: frozenset[date] = field(default_factory=frozenset)  # brand non-repayment dates
    holiday_strategy: HolidayStrategy = HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM  # domain.holidays; None: this

    def __post_init__(self) -> None:
        for name in (
            "principal",
            "installments",
            "repay_every",
            "in_multiples_of",
            "grace_principal",
            "grace_interest",
            "installment_fee",
        ):
            value = getattr(self, name)
            _no_float(value, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValidationError("must be a whole number", field=name)
        for name in ("annual_rate", "daily_rate"):
            value = getattr(self, name)
            _no_float(value, name)
            if value is not None and not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(str(value)))
        strategy = (
            HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM
            if self.holiday_strategy is None  # not chosen: the default
            else parse_enum(HolidayStrategy, self.holiday_strategy, "holiday_strategy")
        )
        object.__setattr__(self, "holiday_strategy", strategy)
        if not isinstance(self.holidays, frozenset):
            object.__setattr__(self, "holidays", frozenset(self.holidays))
        if self.principal <= 0:
            raise ValidationError("principal must be positive", field="principal")
        if self.installments <= 0 or self.installments > 1200:
            raise ValidationError("installments must be between 1 and 1200", field="installments")
        if self.repay_every <= 0:
            raise ValidationError("repay every must be at least 1", field="repay_every")
        if not Decimal(0) <= self.annual_rate <= Decimal(1000):
            raise ValidationError("annual rate must be between 0 and 1000 percent", field="annual_rate")
        if self.daily_rate is not None and not Decimal(0) <= self.daily_rate <= Decimal(10):
            raise ValidationError("daily rate must be between 0 and 10 percent", field="daily_rate")
        if self.in_multiples_of <= 0:
            raise ValidationError("in multiples of must be positive", field="in_multiples_of")
        if not 0 <= self.grace_principal < self.installments:
            raise ValidationError("grace on principal must leave at least one installment", field="grace_principal")
        if not 0 <= self.grace_interest < self.installments:
            raise ValidationError("grace on interest must leave at least one installment", field="grace_interest")
        if self.installment_fee < 0:
            raise ValidationError("installment fee cannot be negative", field="installment_fee")
        if self.first_due is not None and self.first_due <= self.disbursed_on:
            raise ValidationError("first due date must be after disbursal", field="first_due")


class ScheduleRow(NamedTuple):
    number: int
    due_date: date
    days: int  # days in the period that ends on this due date
    principal: int
    interest: int
    fees: int
    total: int
    balance: int  # principal outstanding after this installment


class ScheduleRows(Sequence[ScheduleRow]):
    """A schedule's rows kept as columns; a row object is built only when someone reads rows.
    (A 360-installment schedule is generated far faster this way; see bench/schedule.py.)"""

    __slots__ = ("first_number", "_dates", "_days", "principal", "interest", "fees", "balance", "_rows")

    def __init__(
        self,
        first_number: int,
        due_dates: list[date] | Callable[[], tuple[list[date], list[int]]],
        days: list[int] | None,
        principal: list[int],
        interest: list[int],
        fees: list[int],
        balance: list[int],
    ):
        """``due_dates`` may be a function returning (dates, days): when the amounts do not depend on the
        calendar (regular periods, no holidays) the dates are only worked out if someone reads them."""
        self.first_number = first_number
        self._dates = due_dates
        self._days = days
        self.principal, self.interest, self.fees, self.balance = principal, interest, fees, balance
        self._rows: tuple[ScheduleRow, ...] | None = None

    def _calendar(self) -> tuple[list[date], list[int]]:
        if callable(self._dates):
            self._dates, self._days = self._dates()
        assert self._days is not None
        return self._dates, self._days

    @property
    def due_dates(self) -> list[date]:
        return self._calendar()[0]

    @property
    def days(self) -> list[int]:
        return self._calendar()[1]

    def _materialize(self) -> tuple[ScheduleRow, ...]:
        if self._rows is None:
            n0 = self.first_number
            self._rows = tuple(
                ScheduleRow(n0 + k, d, dy, p, i, f, p + i + f, b)
                for k, (d, dy, p, i, f, b) in enumerate(
                    zip(self.due_dates, self.days, self.principal, self.interest, self.fees, self.balance, strict=True)
                )
            )
        return self._rows

    def __len__(self) -> int:
        return len(self.principal)

    @overload
    def __getitem__(self, index: int) -> ScheduleRow: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ScheduleRow, ...]: ...

    def __getitem__(self, index: int | slice) -> ScheduleRow | tuple[ScheduleRow, ...]:
        return self._materialize()[index]

    def __iter__(self) -> Iterator[ScheduleRow]:
        return iter(self._materialize())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Schedule:
    terms: LoanTerms
    rows: Sequence[ScheduleRow]
    emi: int  # the regular installment (principal + interest) the engine solved for

    def _column(self, name: str) -> list[int]:
        if isinstance(self.rows, ScheduleRows):
            return getattr(self.rows, name)  # type: ignore[no-any-return]
        return [getattr(r, name) for r in self.rows]

    @property
    def total_principal(self) -> int:
        return sum(self._column("principal"))

    @property
    def total_interest(self) -> int:
        return sum(self._column("interest"))

    @property
    def total_fees(self) -> int:
        return sum(self._column("fees"))

    @property
    def total_due(self) -> int:
        return self.total_principal + self.total_interest + self.total_fees
