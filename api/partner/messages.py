"""A loan's delivery log for staff: GET /api/v1/partner/brand/{brandId}/loans/{loanId}/messages — every message the
customer was sent about the loan (SMS, WhatsApp, email), oldest first: the vendor that took it after failover, every
vendor tried, the DLT template id, its status as the vendor's delivery reports moved it. Recipients are masked."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import select

from api.partner.common import Db, Viewer, find_loan, iso, staff_router
from api.responses import ApiModel
from db.models import CustomerMessage

router = staff_router()


class MessageView(ApiModel):
    id: str
    event: str
    kind: str = Field(description="sms, whatsapp or email")
    vendor: str | None = Field(description="the vendor that took it (the last tried when none did)")
    template_id: str | None = Field(description="sms: the DLT template id; whatsapp: the campaign")
    recipient: str = Field(description="masked: a phone's last 4 digits, an email's domain")
    status: str = Field(description="QUEUED, SENT, DELIVERED, READ, FAILED or UNDELIVERED")
    vendor_message_id: str | None
    attempts: list[dict[str, Any]] = Field(description="every vendor tried, then each delivery report")
    error: str | None
    created_at: str
    updated_at: str


@router.get("/brand/{brand_id}/loans/{loan_id}/messages", response_model=list[MessageView])
def loan_messages(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> list[dict]:
    loan = find_loan(session, brand_id, loan_id)
    rows = session.scalars(
        select(CustomerMessage)
        .where(CustomerMessage.loan_id == loan.id, CustomerMessage.brand_id == brand_id)
        .order_by(CustomerMessage.created_at, CustomerMessage.id)
    )
    return [
        {
            "id": m.id,
            "event": m.event,
            "kind": m.kind,
            "vendor": m.vendor,
            "templateId": m.template_id,
            "recipient": m.recipient,
            "status": m.status,
            "vendorMessageId": m.vendor_message_id,
            "attempts": list(m.attempts or []),
            "error": m.error,
            "createdAt": iso(m.created_at),
            "updatedAt": iso(m.updated_at),
        }
        for m in rows
    ]
