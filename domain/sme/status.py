"""A financing request's statuses and the moves between them (docs/invoice-financing.md, "States").

```
SUBMITTED → CHECKING → OFFERED → APPROVAL_PENDING → DISBURSING → FUNDED → PAID → CLOSED
                │          │            │                │          │
                ▼          ▼            ▼                ▼          ▼
             REFUSED   EXPIRED      REJECTED       NEEDS_ATTENTION  OVERDUE → PAID
```

REFUSED (duplicate invoice, business or buyer unverified, score below every lender's floor, no offer), EXPIRED (no
offer accepted in time), REJECTED (staff), CANCELLED (the business withdrew before approval) and CLOSED are final.
NEEDS_ATTENTION holds a step that cannot go on as things stand (a vendor down past its retries during the checks, the
bank refusing the advance or the reserve) until staff retry it (or reject the request, before any money went out).
"""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """``sme_financing_requests.status`` and the workflow's status."""

    SUBMITTED = "SUBMITTED"
    CHECKING = "CHECKING"
    REFUSED = "REFUSED"
    OFFERED = "OFFERED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    APPROVAL_PENDING = "APPROVAL_PENDING"
    REJECTED = "REJECTED"
    DISBURSING = "DISBURSING"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    FUNDED = "FUNDED"
    OVERDUE = "OVERDUE"
    PAID = "PAID"
    CLOSED = "CLOSED"


class RefusalReason(StrEnum):
    """Why a request was refused (``sme_financing_requests.reason``), each said in words by :data:`REASON_TEXT`."""

    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    ALREADY_FINANCED = "ALREADY_FINANCED"
    BUSINESS_UNVERIFIED = "BUSINESS_UNVERIFIED"
    BUYER_UNVERIFIED = "BUYER_UNVERIFIED"
    SCORE_TOO_LOW = "SCORE_TOO_LOW"
    NO_OFFER = "NO_OFFER"


REASON_TEXT: dict[str, str] = {
    RefusalReason.DUPLICATE_INVOICE: "this invoice (seller GSTIN, number and amount) was already submitted",
    RefusalReason.ALREADY_FINANCED: "this invoice number has already been financed",
    RefusalReason.BUSINESS_UNVERIFIED: "the business's GSTIN or company record could not be verified",
    RefusalReason.BUYER_UNVERIFIED: "the buyer's GSTIN is not active or the buyer did not confirm the invoice",
    RefusalReason.SCORE_TOO_LOW: "the risk score is below every lender's minimum",
    RefusalReason.NO_OFFER: "no lender's terms fit this invoice (amount or days to due date)",
}

S = RequestStatus
MOVES: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.SUBMITTED: frozenset({S.CHECKING, S.REFUSED, S.CANCELLED}),
    S.CHECKING: frozenset({S.OFFERED, S.REFUSED, S.NEEDS_ATTENTION}),
    S.OFFERED: frozenset({S.APPROVAL_PENDING, S.EXPIRED, S.CANCELLED}),
    S.APPROVAL_PENDING: frozenset({S.DISBURSING, S.REJECTED, S.CANCELLED}),
    S.DISBURSING: frozenset({S.FUNDED, S.NEEDS_ATTENTION}),
    S.NEEDS_ATTENTION: frozenset({S.CHECKING, S.DISBURSING, S.PAID, S.REJECTED}),
    S.FUNDED: frozenset({S.OVERDUE, S.PAID}),
    S.OVERDUE: frozenset({S.PAID}),
    S.PAID: frozenset({S.CLOSED, S.NEEDS_ATTENTION}),
}
FINAL = frozenset({S.REFUSED, S.EXPIRED, S.CANCELLED, S.REJECTED, S.CLOSED})
#: Statuses in which the invoice counts as financed (a second request for it is ALREADY_FINANCED).
FINANCED = frozenset({S.APPROVAL_PENDING, S.DISBURSING, S.NEEDS_ATTENTION, S.FUNDED, S.OVERDUE, S.PAID, S.CLOSED})


def can_move(current: str, new: str) -> bool:
    """Whether a request in ``current`` may move to ``new`` (both RequestStatus values)."""
    return RequestStatus(new) in MOVES.get(RequestStatus(current), frozenset())
