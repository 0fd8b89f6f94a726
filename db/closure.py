"""Closure certificates (No Dues / No Objection, NDC/NOC) and reloan offers: the SQL and the one issuing function the
loan's activity (at closure) and the staff API (regeneration, after the loan's workflow has ended) both call.

A certificate is numbered ``NOC/<BRANDCODE>/<FY>/<seq>`` (e.g. ``NOC/DEMO/2026-27/000001``): a sequence per brand and
Indian financial year (April–March) of the issue date (IST), taken from the brand's counter (``db.numbering``); the
brand's code is in the number because the column is unique across brands. Each issue is a new row with
``version`` = the loan's previous + 1; the highest stored version is the current one. The row is written first
with its number, version and storage key and an empty ``sha256`` (pending), then the PDF is rendered and stored
and the digest set: a retry after a crash in between finishes the same row, so a retried activity never numbers
two. Functions taking a session run in the caller's transaction; money is integer paise, dates IST.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import (
    Brand,
    ClosureCertificate,
    Customer,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    PaymentTransaction,
    ReloanOffer,
    Settlement,
)
from db.numbering import next_number
from db.session import Database
from domain.brand_config import BrandConfig
from domain.money import format_inr

IST = timezone(timedelta(hours=5, minutes=30))
KINDS = ("NO_DUES", "SETTLED")
PENDING = ""  # sha256 of a row numbered but not yet stored


class Store(Protocol):
    """Document storage (``activities.storage``): what issuing needs of it."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str: ...


def financial_year(day: date) -> str:
    """The Indian financial year (April to March) ``day`` falls in, as ``2026-27``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def certificate_prefix(brand_code: str, day: date) -> str:
    """``NOC/<BRANDCODE>/<FY>/``: the code upper-cased (letters, digits, ``-``; over 20 characters shortened with
    a hash so two brands never share a prefix) and the financial year of ``day``."""
    code = re.sub(r"[^A-Z0-9-]", "-", brand_code.upper())
    if len(code) > 20:
        code = f"{code[:13]}-{hashlib.sha256(brand_code.encode()).hexdigest()[:6].upper()}"
    return f"NOC/{code}/{financial_year(day)}/"


def kind_for(status: str) -> str | None:
    """The certificate a loan ended in ``status`` gets: COMPLETED → NO_DUES, SETTLED → SETTLED, else None."""
    return {"COMPLETED": "NO_DUES", "SETTLED": "SETTLED"}.get(status)


def _next_number(session: Session, brand_id: str, prefix: str) -> str:
    def taken(number: str) -> bool:
        found = select(ClosureCertificate.id).where(ClosureCertificate.certificate_no == number)
        return session.scalar(found) is not None

    return next_number(session, brand_id, prefix, taken)


def current_certificate(session: Session, loan_id: str) -> ClosureCertificate | None:
    """The loan's highest stored certificate (None before one is stored)."""
    return session.scalars(
        select(ClosureCertificate)
        .where(ClosureCertificate.loan_id == loan_id, ClosureCertificate.sha256 != PENDING)
        .order_by(ClosureCertificate.version.desc())
    ).first()


def claim_certificate(
    session: Session, loan_id: str, kind: str, staff_id: str | None, *, regenerate: bool, today: date
) -> ClosureCertificate:
    """The row to issue: with ``regenerate`` False, the loan's latest row if it has one (stored or pending: issued
    once), else a new one; with ``regenerate`` True, always a new version. Locks the loan row, so two issues of
    one loan take turns. Raises ValueError for a kind not in :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    loan = session.scalars(select(Loan).where(Loan.id == loan_id).with_for_update()).one()
    latest = session.scalars(
        select(ClosureCertificate)
        .where(ClosureCertificate.loan_id == loan_id)
        .order_by(ClosureCertificate.version.desc())
    ).first()
    if latest is not None and not regenerate:
        return latest
    brand = session.get_one(Brand, loan.brand_id)
    number = _next_number(session, brand.id, certificate_prefix(brand.code, today))
    version = (latest.version if latest else 0) + 1
    key = f"closure/{brand.id}/{loan.id}/noc-v{version}.pdf"
    session.execute(
        insert(ClosureCertificate)
        .values(
            brand_id=brand.id,
            loan_id=loan.id,
            certificate_no=number,
            kind=kind,
            version=version,
            storage_key=key,
            sha256=PENDING,
            generated_by=staff_id,
            sent=False,
        )
        .on_conflict_do_nothing(index_elements=["loan_id", "version"])
    )
    return session.scalars(
        select(ClosureCertificate).where(ClosureCertificate.loan_id == loan_id, ClosureCertificate.version == version)
    ).one()


def settlement_waived(session: Session, loan_id: str) -> int:
    """Paise the lender gave up when the loan closed SETTLED, as the ledger has it: the receivables its closing
    postings cleared (``record_closing_postings``: penal, fees and interest waived, principal written off). It is
    more than the waiver agreed at approval when interest or penal charges accrued between approval and payment."""
    cleared = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.loan_id == loan_id,
            LedgerTransaction.idempotency_key.in_(
                [f"loan-{loan_id}:settlement:waiver", f"loan-{loan_id}:settlement:principal"]
            ),
            LedgerEntry.amount < 0,
        )
    )
    return -int(cleared or 0)


def certificate_context(session: Session, cert: ClosureCertificate, issued_on: date) -> dict[str, Any]:
    """What ``activities/templates/noc.html`` prints: brand (name, logo, lender's legal name), the borrower, the
    loan, the amounts disbursed and repaid (paise and as text), the closure date and how it closed; for SETTLED
    also the settlement amount agreed and what was waived."""
    loan = session.get_one(Loan, cert.loan_id)
    customer = session.get_one(Customer, loan.customer_id)
    brand = session.get_one(Brand, loan.brand_id)
    config = BrandConfig.of(brand.config)
    paid = session.execute(
        select(
            func.coalesce(func.sum(PaymentTransaction.amount), 0),
            func.coalesce(func.sum(PaymentTransaction.excess_part), 0),
        ).where(PaymentTransaction.loan_id == loan.id, PaymentTransaction.status == "SUCCESS")
    ).one()
    settlement = session.scalars(
        select(Settlement)
        .where(Settlement.loan_id == loan.id, Settlement.status.in_(("APPROVED", "PAID")))
        .order_by(Settlement.created_at.desc())
    ).first()
    repaid = int(paid[0]) - int(paid[1])
    closed_on = (loan.closed_at or datetime.now(UTC)).astimezone(IST).date()
    waived = settlement_waived(session, loan.id) if settlement else 0
    if settlement and not waived:  # not closed yet (a letter asked for early) or closed before the postings' keys
        waived = sum(int(v) for v in (settlement.waiver or {}).values() if isinstance(v, int))
    return {
        "certificate_no": cert.certificate_no,
        "version": cert.version,
        "kind": cert.kind,
        "brand_name": brand.name,
        "logo_url": config.logo_url,
        "lender": config.lender_legal_name or brand.name,
        "borrower_name": customer.full_name or customer.pan_name or customer.phone,
        "loan_id": loan.id,
        "loan_ref": loan.id[:8],
        "disbursed_on": loan.disbursed_at.astimezone(IST).date().isoformat() if loan.disbursed_at else None,
        "amount": loan.amount,
        "amount_inr": format_inr(loan.amount),
        "net_disbursed_inr": format_inr(loan.net_disbursed) if loan.net_disbursed is not None else None,
        "repaid": repaid,
        "repaid_inr": format_inr(repaid),
        "closed_on": closed_on.isoformat(),
        "closed_as": loan.closed_as or ("SETTLED" if cert.kind == "SETTLED" else None),
        "settlement_amount_inr": format_inr(settlement.amount) if settlement else None,
        "waived_inr": format_inr(waived) if waived else None,
        "issued_on": issued_on.isoformat(),
    }


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate as issued: its number, version, kind, where its PDF is and whether the notice went out."""

    certificate_no: str
    version: int
    kind: str
    storage_key: str
    sent: bool

    def as_dict(self) -> dict[str, Any]:
        return {"certificateNo": self.certificate_no, "version": self.version, "kind": self.kind}


async def issue_certificate(
    db: Database,
    store: Store,
    render: Callable[[dict[str, Any]], Awaitable[bytes]],
    *,
    loan_id: str,
    kind: str,
    staff_id: str | None = None,
    regenerate: bool = False,
    notify: Callable[[IssuedCertificate], Awaitable[None]] | None = None,
) -> IssuedCertificate:
    """Number (or find), render, store and record the loan's closure certificate; then ``notify`` (the NOC_ISSUED
    notice) once per certificate, unless it was sent before.

    ``render`` turns :func:`certificate_context` into the PDF (``activities/templates/noc.html`` printed by the
    caller's renderer). Without ``regenerate`` the loan is issued one certificate, however often this runs (a
    retried activity finishes the one it started); with it, a new version. Raises ValueError for an unknown
    ``kind`` and ``sqlalchemy.exc.NoResultFound`` for an unknown loan."""
    today = datetime.now(UTC).astimezone(IST).date()

    def claim(session: Session) -> tuple[ClosureCertificate, dict[str, Any] | None]:
        cert = claim_certificate(session, loan_id, kind, staff_id, regenerate=regenerate, today=today)
        session.expunge(cert)
        return cert, None if cert.sha256 != PENDING else certificate_context(session, cert, today)

    cert, context = await _tx(db, claim)
    if context is not None:
        pdf = await render(context)
        await asyncio.to_thread(store.put, cert.storage_key, pdf, "application/pdf")
        digest = hashlib.sha256(pdf).hexdigest()

        def stored(session: Session) -> None:
            session.execute(update(ClosureCertificate).where(ClosureCertificate.id == cert.id).values(sha256=digest))

        await _tx(db, stored)
    issued = IssuedCertificate(cert.certificate_no, cert.version, cert.kind, cert.storage_key, cert.sent)
    if notify is not None and not cert.sent:
        await notify(issued)

        def sent(session: Session) -> None:
            session.execute(update(ClosureCertificate).where(ClosureCertificate.id == cert.id).values(sent=True))

        await _tx(db, sent)
        issued = IssuedCertificate(cert.certificate_no, cert.version, cert.kind, cert.storage_key, True)
    return issued


async def _tx(db: Database, fn: Callable[[Session], Any]) -> Any:
    def run() -> Any:
        with db.unit_of_work() as session:
            return fn(session)

    return await asyncio.to_thread(run)


# ------------------------------------------------------------------------------------------------ reloan offers
def open_offer(session: Session, customer_id: str, today: date) -> ReloanOffer | None:
    """The customer's newest offer still OFFERED and not past its last day (``today``, IST)."""
    return session.scalars(
        select(ReloanOffer)
        .where(
            ReloanOffer.customer_id == customer_id,
            ReloanOffer.status == "OFFERED",
            ReloanOffer.expires_on >= today,
        )
        .order_by(ReloanOffer.created_at.desc())
    ).first()


def insert_offer(
    session: Session, *, brand_id: str, customer_id: str, previous_loan_id: str, amount: int, expires_on: date
) -> ReloanOffer:
    """The offer for ``previous_loan_id``, made once (a second call returns the first, unchanged)."""
    session.execute(
        insert(ReloanOffer)
        .values(
            brand_id=brand_id,
            customer_id=customer_id,
            previous_loan_id=previous_loan_id,
            amount=amount,
            expires_on=expires_on,
            status="OFFERED",
        )
        .on_conflict_do_nothing(index_elements=["previous_loan_id"])
    )
    return session.scalars(select(ReloanOffer).where(ReloanOffer.previous_loan_id == previous_loan_id)).one()


def accept_offer(session: Session, offer_id: str, new_loan_id: str) -> None:
    """Mark the offer ACCEPTED by the loan it became."""
    session.execute(
        update(ReloanOffer).where(ReloanOffer.id == offer_id).values(status="ACCEPTED", new_loan_id=new_loan_id)
    )


def last_closed_loan(session: Session, customer_id: str) -> Loan | None:
    """The customer's most recently closed loan (COMPLETED, SETTLED or WRITTEN_OFF)."""
    return session.scalars(
        select(Loan)
        .where(Loan.customer_id == customer_id, Loan.status.in_(("COMPLETED", "SETTLED", "WRITTEN_OFF")))
        .order_by(Loan.closed_at.desc().nulls_last(), Loan.created_at.desc())
    ).first()


__all__ = [
    "KINDS",
    "IssuedCertificate",
    "accept_offer",
    "certificate_context",
    "certificate_prefix",
    "claim_certificate",
    "current_certificate",
    "financial_year",
    "insert_offer",
    "issue_certificate",
    "kind_for",
    "last_closed_loan",
    "open_offer",
]
