"""Payment allocation waterfall with a configurable order (penal charges, fees, interest, principal).

Convention (what one payment pays, in this order):

1. **Overdue** installments — due date strictly before the payment date. Default component order
   penal charges → fees → interest → principal. Default processing is *component-major* ("vertical"):
   all overdue penal charges, oldest installment first, then all overdue fees oldest first, then all
   overdue interest, then all overdue principal. *Installment-major* ("horizontal") processing pays every
   component of the oldest installment before touching the next one.
2. **Current** dues — by default the installment whose period contains the payment date, i.e. the
   earliest installment due on or after the payment date (a payment made a few days before the EMI
   date pays that EMI, not the principal); ``CurrentRule.DUE_ON_DATE`` narrows this to installments due
   exactly on the payment date. Same component order (configurable separately).
3. **Advance to principal** — what is left reduces future principal (the principal of installments not
   yet due), capped at that principal; can be switched off. Future interest, fees and penal charges
   are never collected in advance: they are not yet owed. Re-amortising the schedule after an
   advance (shorter tenure or smaller EMI) is the schedule engine's job, not this module's.
4. **Excess** — anything beyond all of the above is a credit balance owed to the customer.

Money is integer paise; every step takes ``min(left, unpaid)`` in whole paise, so nothing is rounded
and the law ``sum(parts) + advance_principal + excess == amount`` holds exactly.

Published sources for the order (Apache Fineract "loan transaction processing strategy" names):

* the default (overdue, then due, then in advance; penalty → fee → interest → principal) is the
  closest match to Fineract's **"Due penalty, fee, interest, principal, In advance principal, penalty,
  fee, interest"** (code ``due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-
  strategy``), and to its *advanced payment allocation* rule list ``PAST_DUE_PENALTY, PAST_DUE_FEE,
  PAST_DUE_INTEREST, PAST_DUE_PRINCIPAL, DUE_PENALTY, DUE_FEE, DUE_INTEREST, DUE_PRINCIPAL,
  IN_ADVANCE_PRINCIPAL`` with vertical processing; unlike Fineract, "in advance" here pays principal only;
* ``Processing.HORIZONTAL`` with the default component order is Fineract's **"Penalties, Fees,
  Interest, Principal order"** (code ``mifos-standard-strategy``), installment by installment;
* other component orders (``overdue_order`` / ``current_order``) cover the other named strategies, e.g.
  ``(INTEREST, PRINCIPAL, PENAL, FEES)`` horizontal ≈ "Interest, Principal, Penalties, Fees Order"
  (``interest-principal-penalties-fees-order-strategy``); Fineract's ``rbi-india-strategy``
  ("Overdue/Due Fee/Int,Principal") is horizontal with fees → interest → principal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.errors import ValidationError


class Component(StrEnum):
    PENAL = "PENAL"  # penal charges (RBI: charges, never penal interest added to the rate)
    FEES = "FEES"
    INTEREST = "INTEREST"
    PRINCIPAL = "PRINCIPAL"


class Bucket(StrEnum):
    OVERDUE = "OVERDUE"  # due date before the payment date (Fineract: PAST_DUE)
    CURRENT = "CURRENT"  # the current installment (Fineract: DUE)
    ADVANCE = "ADVANCE"  # future principal (Fineract: IN_ADVANCE)


class Processing(StrEnum):
    """Fineract's loan schedule processing type for the overdue bucket."""

    VERTICAL = "VERTICAL"  # component-major: one component across all overdue installments, then the next
    HORIZONTAL = "HORIZONTAL"  # installment-major: all components of the oldest installment, then the next


class CurrentRule(StrEnum):
    NEXT_INSTALLMENT = "NEXT_INSTALLMENT"  # earliest installment(s) due on or after the payment date
    DUE_ON_DATE = "DUE_ON_DATE"  # only installments due exactly on the payment date


DEFAULT_ORDER: tuple[Component, ...] = (Component.PENAL, Component.FEES, Component.INTEREST, Component.PRINCIPAL)

_FIELD = {
    Component.PENAL: "penal_due",
    Component.FEES: "fees_due",
    Component.INTEREST: "interest_due",
    Component.PRINCIPAL: "principal_due",
}


def _paise(value: object, field_name: str, *, positive: bool = False) -> int:
    """An amount in integer paise: float → TypeError; anything else not a non-negative int → ValidationError."""
    if isinstance(value, float):
        raise TypeError(f"{field_name}: float is not allowed in money code, use int paise")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field_name)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field_name)
    return value


def _plain_date(value: object, field_name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a calendar date (not a datetime)", field=field_name)
    return value


def _component(value: object, field_name: str) -> Component:
    if isinstance(value, Component):
        return value
    text = str(value).strip().upper()
    for member in Component:
        if text == member.value:
            return member
    raise ValidationError(f"unknown component {value!r}; allowed: PENAL, FEES, INTEREST, PRINCIPAL", field=field_name)


def _order(values: Iterable[object], field_name: str) -> tuple[Component, ...]:
    if isinstance(values, str):
        raise ValidationError("must be a list of components", field=field_name)
    order = tuple(_component(v, field_name) for v in values)
    if sorted(order) != sorted(DEFAULT_ORDER):
        raise ValidationError("must name each of PENAL, FEES, INTEREST, PRINCIPAL exactly once", field=field_name)
    return order


@dataclass(frozen=True)
class InstallmentDue:
    """What is still unpaid on one installment, in paise."""

    number: int
    due_date: date
    principal_due: int
    interest_due: int
    fees_due: int = 0
    penal_due: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.number, float):
            raise TypeError("number: float is not allowed")
        if not isinstance(self.number, int) or isinstance(self.number, bool) or self.number < 1:
            raise ValidationError("installment number must be a whole number from 1", field="number")
        _plain_date(self.due_date, "due_date")
        for name in ("principal_due", "interest_due", "fees_due", "penal_due"):
            _paise(getattr(self, name), name)

    def unpaid(self, component: Component) -> int:
        return int(getattr(self, _FIELD[component]))

    @property
    def total(self) -> int:
        return self.principal_due + self.interest_due + self.fees_due + self.penal_due


@dataclass(frozen=True)
class AllocationConfig:
    """A brand's or product's allocation order. Strings are accepted for the enum fields (brand JSON)."""

    overdue_order: tuple[Component, ...] = DEFAULT_ORDER
    current_order: tuple[Component, ...] = DEFAULT_ORDER
    processing: Processing = Processing.VERTICAL
    current_rule: CurrentRule = CurrentRule.NEXT_INSTALLMENT
    advance_to_principal: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "overdue_order", _order(self.overdue_order, "overdue_order"))
        object.__setattr__(self, "current_order", _order(self.current_order, "current_order"))
        for name, enum in (("processing", Processing), ("current_rule", CurrentRule)):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(str(value).strip().upper()))
            except ValueError as exc:
                allowed = ", ".join(m.value for m in enum)
                raise ValidationError(f"unknown value {value!r}; allowed: {allowed}", field=name) from exc
        if not isinstance(self.advance_to_principal, bool):
            raise ValidationError("must be true or false", field="advance_to_principal")


@dataclass(frozen=True)
class InstallmentAllocation:
    """The part of one payment that went to one installment."""

    number: int
    due_date: date
    bucket: Bucket  # OVERDUE or CURRENT
    penal: int = 0
    fees: int = 0
    interest: int = 0
    principal: int = 0

    def amount(self, component: Component) -> int:
        return int(getattr(self, component.value.lower()))

    @property
    def total(self) -> int:
        return self.penal + self.fees + self.interest + self.principal


@dataclass(frozen=True)
class AllocationStep:
    """One step of the waterfall, in the order it was applied (an audit trail)."""

    bucket: Bucket
    number: int | None  # None for the advance-to-principal step
    component: Component
    amount: int


@dataclass(frozen=True)
class WaterfallResult:
    amount: int
    payment_date: date
    parts: tuple[InstallmentAllocation, ...]  # by installment number, only installments that received money
    advance_principal: int  # reduces future principal (outstanding balance)
    excess: int  # credit balance owed to the customer
    steps: tuple[AllocationStep, ...] = field(default=())

    def _sum(self, component: Component, bucket: Bucket | None = None) -> int:
        return sum(p.amount(component) for p in self.parts if bucket is None or p.bucket == bucket)

    @property
    def penal(self) -> int:
        return self._sum(Component.PENAL)

    @property
    def fees(self) -> int:
        return self._sum(Component.FEES)

    @property
    def interest(self) -> int:
        return self._sum(Component.INTEREST)

    @property
    def installment_principal(self) -> int:
        """Principal paid on overdue and current installments (excludes the advance)."""
        return self._sum(Component.PRINCIPAL)

    @property
    def principal(self) -> int:
        """All principal repaid by this payment: installment principal + advance."""
        return self.installment_principal + self.advance_principal

    @property
    def overdue_total(self) -> int:
        return sum(p.total for p in self.parts if p.bucket == Bucket.OVERDUE)

    @property
    def current_total(self) -> int:
        return sum(p.total for p in self.parts if p.bucket == Bucket.CURRENT)

    @property
    def allocated(self) -> int:
        """Everything except the excess: amount − excess."""
        return sum(p.total for p in self.parts) + self.advance_principal

    def totals(self) -> dict[str, int]:
        return {
            "penal": self.penal,
            "fees": self.fees,
            "interest": self.interest,
            "principal": self.principal,
            "advance_principal": self.advance_principal,
            "excess": self.excess,
            "amount": self.amount,
        }


def split_buckets(
    dues: Sequence[InstallmentDue], payment_date: date, rule: CurrentRule = CurrentRule.NEXT_INSTALLMENT
) -> tuple[list[InstallmentDue], list[InstallmentDue], list[InstallmentDue]]:
    """(overdue, current, future) installments for a payment on ``payment_date``, each oldest first.

    Overdue: due date < payment date. Current: by ``rule`` (see the module docstring). Future: the rest.
    Installments with nothing unpaid are dropped (an installment that is fully paid is neither overdue
    nor current, so a paid next EMI does not make a later one "current").
    """
    open_dues = sorted((d for d in dues if d.total > 0), key=lambda d: (d.due_date, d.number))
    overdue = [d for d in open_dues if d.due_date < payment_date]
    later = [d for d in open_dues if d.due_date >= payment_date]
    if rule == CurrentRule.DUE_ON_DATE:
        current = [d for d in later if d.due_date == payment_date]
    else:
        current = [d for d in later if d.due_date == later[0].due_date] if later else []
    current_numbers = {d.number for d in current}
    future = [d for d in later if d.number not in current_numbers]
    return overdue, current, future


def allocate_payment(
    amount: int,
    payment_date: date,
    dues: Sequence[InstallmentDue],
    config: AllocationConfig | None = None,
) -> WaterfallResult:
    """Allocate ``amount`` paise received on ``payment_date`` across unpaid installment ``dues``.

    Order: overdue (by ``config.processing``/``config.overdue_order``, oldest first) → current
    (``config.current_order``) → advance to future principal (if ``config.advance_to_principal``, capped at
    future principal) → excess credit. Convention and the matching Apache Fineract strategy names
    ("Due penalty, fee, interest, principal, In advance principal, penalty, fee, interest";
    "Penalties, Fees, Interest, Principal order") are in the module docstring.

    Exact in integer paise: ``sum(part totals) + advance_principal + excess == amount``, and no part
    exceeds what was unpaid on that installment component.
    Raises TypeError for a float amount; ValidationError(field=...) for a non-positive amount
    (``amount``), a datetime/non-date ``payment_date``, or duplicate installment numbers (``dues``).
    """
    amount = _paise(amount, "amount", positive=True)
    _plain_date(payment_date, "payment_date")
    config = config or AllocationConfig()
    dues = list(dues)
    for due in dues:
        if not isinstance(due, InstallmentDue):
            raise ValidationError("each due must be an InstallmentDue", field="dues")
    numbers = [d.number for d in dues]
    if len(set(numbers)) != len(numbers):
        raise ValidationError("installment numbers must be unique", field="dues")

    overdue, current, future = split_buckets(dues, payment_date, config.current_rule)
    paid: dict[tuple[int, Component], int] = {}
    steps: list[AllocationStep] = []
    left = amount

    def take(bucket: Bucket, due: InstallmentDue, component: Component) -> None:
        nonlocal left
        part = min(left, due.unpaid(component) - paid.get((due.number, component), 0))
        if part > 0:
            paid[(due.number, component)] = paid.get((due.number, component), 0) + part
            left -= part
            steps.append(AllocationStep(bucket, due.number, component, part))

    def run(bucket: Bucket, group: list[InstallmentDue], order: tuple[Component, ...]) -> None:
        if config.processing == Processing.VERTICAL:
            for component in order:
                for due in group:
                    take(bucket, due, component)
        else:
            for due in group:
                for component in order:
                    take(bucket, due, component)

    run(Bucket.OVERDUE, overdue, config.overdue_order)
    run(Bucket.CURRENT, current, config.current_order)

    advance = 0
    if config.advance_to_principal and left > 0:
        advance = min(left, sum(d.principal_due for d in future))
        left -= advance
        if advance:
            steps.append(AllocationStep(Bucket.ADVANCE, None, Component.PRINCIPAL, advance))

    bucket_of = {d.number: Bucket.OVERDUE for d in overdue} | {d.number: Bucket.CURRENT for d in current}
    parts: list[InstallmentAllocation] = []
    for due in sorted(overdue + current, key=lambda d: d.number):
        amounts = {c.value.lower(): paid.get((due.number, c), 0) for c in Component}
        if any(amounts.values()):
            parts.append(InstallmentAllocation(due.number, due.due_date, bucket_of[due.number], **amounts))
    result = WaterfallResult(amount, payment_date, tuple(parts), advance, left, tuple(steps))
    if result.allocated + result.excess != amount:  # pragma: no cover - the law, checked at runtime
        raise AssertionError("allocation lost or created money")
    return result
