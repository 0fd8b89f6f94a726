"""The values a notice is rendered with: the workflow's (its names, camelCase or snake_case, mapped onto the event's
variables) completed with what the loan's records say — so a template can use a variable the caller did not pass.

Derived when not given: SANCTIONED ``amount``, ``tenure_months`` (the loan); DISBURSED ``amount`` (net disbursed),
``utr``; ``days_before`` (from ``due_date``, IST); ``payment_link`` (the loan's active payment link, the
installment's when ``installment`` is given); ``receipt_link`` (from ``paymentId``, the customer app's receipt
route); ``paid_on``, ``closed_on`` (today, IST); ``mandate_ref`` (the loan's active mandate: method and the end of the
gateway's token). Values stay raw (paise, ISO dates): ``templates.render`` writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Loan, Mandate, PaymentLink

IST = timezone(timedelta(hours=5, minutes=30))
#: the workflow's names whose variable is named otherwise
#: the events whose notice carries the loan's payment link when the caller gave none
LINKED_EVENTS = ("DUE_REMINDER", "DUE_TODAY", "OVERDUE", "PAYMENT_FAILED", "COLLECTION_PAYMENT_LINK")
ALIASES = {"charge_on": "debit_date", "receipt_number": "receipt_no"}


def snake(name: str) -> str:
    return ALIASES.get(s := re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(), s)


def normalise(values: Mapping[str, Any]) -> dict[str, Any]:
    """``dueDate`` → ``due_date``, ``chargeOn`` → ``debit_date``...; None values dropped."""
    return {snake(k): v for k, v in values.items() if v is not None}


def today() -> str:
    return datetime.now(UTC).astimezone(IST).date().isoformat()


def complete(session: Session, loan: Loan, event: str, values: Mapping[str, Any], api_url: str) -> dict[str, Any]:
    """The notice's values, normalised and completed from the loan's records (see the module docstring)."""
    v = normalise(values)
    if event == "SANCTIONED":
        v.setdefault("amount", loan.amount)
        v.setdefault("tenure_months", loan.tenure)
    if event == "DISBURSED":
        v.setdefault("amount", loan.net_disbursed or loan.amount)
        if loan.disbursal_utr:
            v.setdefault("utr", loan.disbursal_utr)
    if "due_date" in v and "days_before" not in v:
        try:
            v["days_before"] = max(0, (date.fromisoformat(str(v["due_date"])[:10]) - date.fromisoformat(today())).days)
        except ValueError:
            pass
    if event in LINKED_EVENTS and "payment_link" not in v:
        query = select(PaymentLink).where(PaymentLink.loan_id == loan.id, PaymentLink.status == "ACTIVE")
        if isinstance(v.get("installment"), int):
            query = query.where(PaymentLink.installment_no == v["installment"])
        link = session.scalars(query.order_by(PaymentLink.created_at.desc())).first()
        if link is not None:
            v["payment_link"] = link.url
    if event == "PAYMENT_RECEIVED":
        v.setdefault("paid_on", today())
        if "receipt_link" not in v and v.get("payment_id") and api_url:
            v["receipt_link"] = f"{api_url}/api/v1/web/loans/{loan.id}/receipts/{v['payment_id']}"
    if event == "CLOSED":
        v.setdefault("closed_on", today())
    if event == "MANDATE_DEBIT_NOTICE" and "mandate_ref" not in v:
        mandate = session.scalars(
            select(Mandate)
            .where(Mandate.loan_id == loan.id, Mandate.status == "ACTIVE")
            .order_by(Mandate.created_at.desc())
        ).first()
        if mandate is not None:
            v["mandate_ref"] = f"{mandate.method}-{(mandate.token_id or mandate.id)[-6:]}"
    return v
