"""Inputs and outputs of co-lending (``workflows.colending``, ``activities.colending``). Dataclasses, so fields can
be added later without breaking recorded histories; money is integer paise, rates and shares basis points, dates
IST."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class CoLendLine:
    """One installment of the loan's schedule as disbursed (the partner's schedule is split from these)."""

    number: int
    due_date: date | None
    principal: int
    interest: int
    fees: int = 0


@dataclass
class CoLendBookRequest:
    """Book the disbursed loan as co-lent with the partner it was booked with (``partner_id``), if the brand has a
    co-lending agreement with that partner: the loan's principal, blended rate, tenure, disbursal date (IST) and
    schedule."""

    loan_id: str
    brand_id: str
    partner_id: str
    partner_code: str
    amount: int
    blended_rate_bps: int
    tenure: int
    disbursed_on: date
    schedule: list[CoLendLine]
    idempotency_key: str


@dataclass
class CoLentBook:
    """A co-lent loan as booked: the partner's share (bps) and the principal each lender funds."""

    partner_code: str
    partner_share_bps: int
    originator_principal: int
    partner_principal: int


@dataclass
class CoLendStepRequest:
    """One step of the partner's lifecycle for the loan (``domain.colending.lifecycle.STEPS``)."""

    loan_id: str
    brand_id: str
    step: str
    idempotency_key: str


@dataclass
class CoLendStepResult:
    """How a step ended: DONE with the partner's reference, or FAILED with the partner's reason (the loan goes on;
    the partner's side waits for ops)."""

    step: str
    status: str
    reference: str | None = None
    reason: str | None = None


@dataclass
class CoLendPayment:
    """A payment the loan applied, by component (paise), to split between the lenders once (``payment_id``)."""

    loan_id: str
    brand_id: str
    payment_id: str
    principal: int
    interest: int
    fees: int
    penal: int
    value_date: date
    idempotency_key: str


@dataclass
class CoLendSplit:
    """A payment's split: each lender's parts (component → paise) and the partner's wallet order id (None when the
    partner's part is zero)."""

    originator: dict[str, int] = field(default_factory=dict)
    partner: dict[str, int] = field(default_factory=dict)
    order_id: str | None = None


@dataclass
class CoLendReschedule:
    """A co-lent loan's schedule changed (a restructure approved, ``version`` its schedule version): send the
    partner its part of what is left of it (``activities.colending.CoLendingActivities.colending_reschedule``)."""

    loan_id: str
    brand_id: str
    version: int
