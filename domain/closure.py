"""Closing a loan early, pure: the foreclosure quote on a date, the cooling-off (look-up) exit, and how either
settles the installments.

An installment here is anything shaped like ``workflows.contracts.InstallmentState`` (``domain.servicing.Installment``
plus ``days``: the length of its period). Amounts are integer paise, dates IST calendar dates.

Foreclosure (repaying everything before the schedule ends; Fineract: LoanEvent.LOAN_FORECLOSURE, a way of closing,
not a status): what closes the loan on ``on`` is

- everything due on or before ``on`` and unpaid: penal charges, fees, interest and principal of those installments;
- interest of the *current* period (the first unpaid installment due after ``on``) for the days of it elapsed by
  ``on``, pro rata of that period's scheduled interest (the schedule's own day count), less what of it was paid;
- all principal not yet repaid (the current and later installments'); later periods' interest is not owed;
- less, with ``credit_unearned``, the interest already paid for days not yet elapsed by ``on`` (an EMI paid before
  its due date, then the loan closed before that date): interest is owed for the days the money was lent only, so
  what was paid beyond them counts towards the principal (:func:`close_schedule` moves it there; the ledger
  reclassifies it from interest income to principal), never above the principal outstanding;
- the product's foreclosure charge, a percent of that principal, with GST on it (``foreclosure_percent``; RBI,
  "Levy of foreclosure charges/pre-payment penalties on floating rate term loans", 2014 and 2019, forbids one on
  floating-rate term loans to individuals for purposes other than business: such a product sets none), while a
  later period is still to come. On or after the last due date nothing is repaid before its time: what is owed is
  the dues alone, no charge, and paying them is an ordinary repayment (the quote is exactly what paying it does).

Cooling-off exit (RBI Guidelines on Digital Lending, 2 September 2022, para 6; the Digital Lending Directions, 2025):
within the look-up period the borrower exits by paying the principal and the proportionate APR, with no penalty
(``domain.charges.cooling_off.cooling_off_exit_amount``). The period is the brand's, never below RBI's floor:
3 days for loans of 7 days' tenor or more, 1 day below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from domain.allocation import Bucket, InstallmentAllocation
from domain.charges.common import HUNDRED
from domain.charges.cooling_off import cooling_off_exit_amount
from domain.errors import ValidationError
from domain.money import round_paise
from domain.servicing import Installment

#: RBI's floor for the look-up period, in days: loans of 7 days' tenor or more, and shorter ones.
COOLING_OFF_FLOOR_DAYS = 3
COOLING_OFF_FLOOR_SHORT_DAYS = 1


class PeriodInstallment(Installment, Protocol):
    """An installment with the length of its period (days from the previous due date or disbursal)."""

    days: int


@dataclass(frozen=True)
class ForeclosureQuote:
    """What closes the loan on ``on`` (paise), by component, and the installment whose period is current.

    ``interest`` is the overdue interest plus ``current_interest`` (the current period's, to date, unpaid);
    ``interest_credit`` the interest paid for days after ``on``, counted towards the principal (``total`` is net of
    it)."""

    on: date
    principal: int
    interest: int
    fees: int
    penal: int
    charge: int
    charge_gst: int
    current: int | None
    current_interest: int
    interest_credit: int = 0

    @property
    def total(self) -> int:
        owed = self.principal + self.interest + self.fees + self.penal + self.charge + self.charge_gst
        return owed - self.interest_credit

    def as_dict(self) -> dict[str, int | str | None]:
        """JSON-ready, paise (``on`` ISO)."""
        return {
            "on": self.on.isoformat(),
            "principal": self.principal,
            "interest": self.interest,
            "fees": self.fees,
            "penal": self.penal,
            "charge": self.charge,
            "chargeGst": self.charge_gst,
            "interestCredit": self.interest_credit,
            "total": self.total,
        }


def _percent(value: Decimal | str | None, field: str) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code")
    number = Decimal(value)
    if not Decimal(0) <= number <= HUNDRED:
        raise ValidationError("must be a percent between 0 and 100", field=field)
    return number


def _current(installments: Sequence[PeriodInstallment], on: date) -> PeriodInstallment | None:
    for inst in installments:
        if not inst.paid and inst.due_date is not None and inst.due_date > on:
            return inst
    return None


def _elapsed_interest(inst: PeriodInstallment, on: date) -> int:
    """The current period's scheduled interest for the days of it elapsed by ``on`` (half-up), at most all of it."""
    if inst.due_date is None or inst.days <= 0:
        return 0
    start = date.fromordinal(inst.due_date.toordinal() - inst.days)
    elapsed = min(max((on - start).days, 0), inst.days)
    return round_paise(Decimal(inst.interest) * elapsed / inst.days)


def foreclosure_quote(
    installments: Sequence[PeriodInstallment],
    on: date,
    *,
    charge_percent: Decimal | str | None = None,
    gst_percent: Decimal | str = "18",
    credit_unearned: bool = False,
) -> ForeclosureQuote:
    """The foreclosure quote on ``on`` (see the module docstring). ``charge_percent``: the product's foreclosure
    charge as a percent of the principal outstanding (None or 0: none; none either on or after the last due date,
    when no period is still to come); ``gst_percent``: GST on that charge; ``credit_unearned``: interest paid for
    days after ``on`` counts towards the principal (``interest_credit``; the loan workflow's
    foreclosure-interest-credit-v1).
    Raises ``ValidationError`` (field ``charge_percent``/``gst_percent``) for a percent outside 0–100, and
    ``TypeError`` for a float."""
    charge_rate, gst_rate = _percent(charge_percent, "charge_percent"), _percent(gst_percent, "gst_percent")
    current = _current(installments, on)
    principal = interest = fees = penal = 0
    current_interest = 0
    for inst in installments:
        if inst.paid:
            continue
        principal += inst.principal - inst.principal_paid
        due = inst.due_date is None or inst.due_date <= on
        if due:
            interest += inst.interest - inst.interest_paid
            fees += inst.fees - inst.fees_paid
            penal += inst.penal - inst.penal_paid
        elif inst is current:
            current_interest = max(0, _elapsed_interest(inst, on) - inst.interest_paid)
    # only while a later period is to come (else the payment is an ordinary one: no quote of its own is applied)
    credit = min(sum(_unearned(i, on) for i in installments), principal) if credit_unearned and current else 0
    # no later period: nothing is paid before its time, so no foreclosure charge (the loan's workflow applies such a
    # payment as an ordinary one: workflows.receipts._closing_parts); else on the principal outstanding once the
    # credit counts towards it
    charge = round_paise(Decimal(principal - credit) * charge_rate / HUNDRED) if current is not None else 0
    charge_gst = round_paise(Decimal(charge) * gst_rate / HUNDRED)
    return ForeclosureQuote(
        on=on,
        principal=principal,
        interest=interest + current_interest,
        fees=fees,
        penal=penal,
        charge=charge,
        charge_gst=charge_gst,
        current=current.number if current is not None else None,
        current_interest=current_interest,
        interest_credit=credit,
    )


def _unearned(inst: PeriodInstallment, on: date) -> int:
    """Interest paid on ``inst`` for days of its period after ``on`` (0 for a period due on or before ``on``)."""
    if inst.due_date is None or inst.due_date <= on:
        return 0
    return max(0, inst.interest_paid - _elapsed_interest(inst, on))


def close_schedule(installments: Sequence[PeriodInstallment], quote: ForeclosureQuote) -> list[tuple[int, int, int]]:
    """Shape the installments to what the quote closes, in place: the current period's interest becomes what had
    accrued (paid + ``quote.current_interest``) and carries the foreclosure charge and its GST as fees; later
    periods' interest and fees become what was paid of them (nothing more is owed). Then :func:`settle_all`.

    With an ``interest_credit``, the interest paid for days after ``quote.on`` leaves those periods (oldest first,
    up to the credit) and is counted as principal paid, oldest unpaid principal first. Returns those moves as
    (installment number, change of its interest paid (≤ 0), change of its principal paid (≥ 0)), paise, for the
    database and the ledger; empty without a credit."""
    moves: dict[int, list[int]] = {}
    left = quote.interest_credit
    for inst in installments:
        take = min(_unearned(inst, quote.on), left)
        if take:
            inst.interest_paid -= take
            moves.setdefault(inst.number, [0, 0])[0] -= take
            left -= take
    credit = quote.interest_credit - left
    for inst in installments:
        give = min(inst.principal - inst.principal_paid, credit)
        if give > 0:
            inst.principal_paid += give
            moves.setdefault(inst.number, [0, 0])[1] += give
            credit -= give
    for inst in installments:  # (one paid in advance too: what it paid of a period not yet elapsed is credited)
        if inst.due_date is None or inst.due_date <= quote.on or (inst.paid and not moves.get(inst.number)):
            continue
        if inst.number == quote.current:
            inst.interest = inst.interest_paid + quote.current_interest
            inst.fees = inst.fees_paid + quote.charge + quote.charge_gst
        else:
            inst.interest = inst.interest_paid
            inst.fees = inst.fees_paid
    if quote.current is None and (quote.charge or quote.charge_gst):
        unpaid = [i for i in installments if not i.paid]
        if unpaid:  # every installment is due already: the charge rides on the last one
            unpaid[-1].fees += quote.charge + quote.charge_gst
    return [(number, interest, principal) for number, (interest, principal) in sorted(moves.items())]


def settle_all(installments: Sequence[Installment], today: date) -> list[InstallmentAllocation]:
    """The parts that pay every unpaid component of every installment (oldest first), as an allocation: what a
    payment of at least the quote (after :func:`close_schedule`) applies. The caller keeps the rest as excess."""
    parts = []
    for inst in installments:
        if inst.paid:
            continue
        due = inst.due_date or today
        parts.append(
            InstallmentAllocation(
                inst.number,
                due,
                Bucket.OVERDUE if due < today else Bucket.CURRENT,
                penal=inst.penal - inst.penal_paid,
                fees=inst.fees - inst.fees_paid,
                interest=inst.interest - inst.interest_paid,
                principal=inst.principal - inst.principal_paid,
            )
        )
    return parts


def cooling_off_days(brand_days: int | None, tenor_days: int) -> int:
    """The look-up period in days: the brand's setting, never below RBI's floor (3 days for a tenor of 7 days or
    more, 1 below). ``tenor_days``: from disbursal to the last due date."""
    floor = COOLING_OFF_FLOOR_DAYS if tenor_days >= 7 else COOLING_OFF_FLOOR_SHORT_DAYS
    return max(floor, brand_days or 0)


@dataclass(frozen=True)
class CoolingOffExit:
    """The exit on ``on``: ``amount`` = ``principal`` + ``apr_cost`` (paise), open until ``last_day`` (IST)."""

    on: date
    last_day: date
    principal: int
    apr_cost: int
    days_held: int

    @property
    def amount(self) -> int:
        return self.principal + self.apr_cost

    def as_dict(self) -> dict[str, int | str]:
        return {
            "on": self.on.isoformat(),
            "lastDay": self.last_day.isoformat(),
            "principal": self.principal,
            "aprCost": self.apr_cost,
            "daysHeld": self.days_held,
            "amount": self.amount,
        }


def cooling_off_exit(
    principal: int, apr_percent: Decimal | str, disbursed_on: date, on: date, period_days: int
) -> CoolingOffExit:
    """The cooling-off exit for a loan of ``principal`` paise disbursed on ``disbursed_on``, asked on ``on``.
    Raises ``ValidationError`` (field ``on``) when the look-up period (``period_days`` from disbursal, the
    disbursal day not counted) is over or ``on`` is before disbursal."""
    if on < disbursed_on:
        raise ValidationError("the loan was not disbursed yet on that date", field="on")
    held = (on - disbursed_on).days
    last = date.fromordinal(disbursed_on.toordinal() + period_days)
    if on > last:
        raise ValidationError(f"the cooling-off period ended on {last.isoformat()}", field="on")
    amount = cooling_off_exit_amount(principal, Decimal(apr_percent), held)
    return CoolingOffExit(on, last, principal, amount - principal, held)


def exit_schedule(installments: Sequence[PeriodInstallment], exit_: CoolingOffExit) -> list[tuple[int, int, int]]:
    """Shape the installments to what the cooling-off exit pays, in place: all principal, the APR cost as the
    first installment's interest, nothing else (no fees, no later interest). Returns (number, interest, fees) of
    every installment it changed. Then :func:`settle_all`."""
    changed = []
    for n, inst in enumerate(installments):
        interest = exit_.apr_cost if n == 0 else 0
        if (inst.interest, inst.fees) != (interest, 0):
            inst.interest, inst.fees = interest, 0
            changed.append((inst.number, interest, 0))
    return changed
