"""Payment receipts: one numbered PDF per credited payment, built from its ``payment_transactions`` row.

A receipt states what the borrower paid and how the lender applied it, in the row's own figures: the amount,
the date received (IST; an offline payment's value date), the mode and reference (UTR), the allocation to penal
charges, fees, interest, principal, advance to principal and excess (the credit balance), the principal
outstanding after it, the lender's legal name (brand setting ``lender_legal_name``) and the loan id. The parts
always add up to the amount, because they are the parts the ledger was posted with.

Receipt numbers are ``<BRANDCODE>/<FY>/<seq>`` (e.g. ``DEMO/2026-27/000042``): a sequence per brand and Indian
financial year (1 April to 31 March, Income-tax Act 1961 s.3), taken from the brand's counter for the prefix in the
numbering transaction (``db.numbering``: gapless, two receipts never share a number, the same cost in any year);
the column is unique as well.

The PDF is written directly (PDF 1.4, the standard Helvetica and Courier fonts, an uncompressed text stream) rather than
printed by Chromium like the agreement: a receipt is issued for every payment of every loan for years, and a
plain text document costs microseconds instead of a browser render of a few hundred milliseconds of CPU on the
worker that also applies payments; and its text can be read back by any PDF reader (the tests read the figures
out of it). The standard fonts have no rupee sign, so amounts read ``Rs.``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.loan.common import LoanBase
from activities.messaging.send import Sender
from db.models import Brand, Customer, Loan, PaymentTransaction
from db.numbering import next_number
from db.receipts import interest_credited, offline_value_dates, payments_without_receipt
from domain.brand_config import BrandConfig
from domain.money import format_inr
from workflows.contracts import ReceiptNotice, ReceiptRequest, ReceiptSweepWindow, UnreceiptedPayment
from workflows.options import IST


def financial_year(day: date) -> str:
    """The Indian financial year (April to March) ``day`` falls in, as ``2026-27``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def receipt_prefix(brand_code: str, day: date) -> str:
    """``<BRANDCODE>/<FY>/``: the brand's code upper-cased (letters, digits and ``-`` only; a code over 20
    characters is shortened with a hash so two brands never share a prefix), and the financial year of ``day``."""
    code = re.sub(r"[^A-Z0-9-]", "-", brand_code.upper())
    if len(code) > 20:
        code = f"{code[:13]}-{hashlib.sha256(brand_code.encode()).hexdigest()[:6].upper()}"
    return f"{code}/{financial_year(day)}/"


@dataclass(frozen=True)
class Receipt:
    """What a receipt states; amounts in paise. ``principal`` is the scheduled principal repaid, ``advance``
    the principal repaid ahead of schedule, ``excess`` what became the credit balance. ``received_on`` is an
    IST date; ``outstanding_after`` None when the payment was recorded before it was kept. ``interest_credit``: the
    interest paid ahead for days the loan did not run, moved to principal by the payment that foreclosed it
    (``domain.closure``); not part of the amount, so it is stated apart from the allocation."""

    receipt_no: str
    brand_id: str
    lender: str
    brand_name: str
    loan_id: str
    borrower: str
    payment_id: str
    gateway: str
    amount: int
    received_on: date
    issued_on: date
    mode: str | None
    reference: str | None
    penal: int
    fees: int
    interest: int
    principal: int
    advance: int
    excess: int
    outstanding_after: int | None
    recovery: int = 0
    interest_credit: int = 0  # interest paid ahead that this (foreclosing) payment moved to principal

    def lines(self) -> list[tuple[str, int]]:
        """The allocation as (label, paise), in the waterfall's order; they sum to ``amount``. Money received on a
        written-off loan adds its own line (``recovery``): it pays nothing on the schedule, which the write-off took
        off the books, and is booked as recovery income (``db.receipts.record_credit_balance``)."""
        lines = [
            ("Penal charges", self.penal),
            ("Fees", self.fees),
            ("Interest", self.interest),
            ("Principal", self.principal),
            ("Advance to principal", self.advance),
            ("Excess (credit balance)", self.excess),
        ]
        if self.recovery:
            lines.append(("Recovery on the written-off loan", self.recovery))
        return lines


def rupees(paise: int) -> str:
    """``Rs. 12,34,567.89`` (Indian grouping; the standard PDF fonts have no rupee sign)."""
    return format_inr(paise).replace("₹", "Rs. ")


# Amounts are set in Courier (every character 600/1000 em, declared in /Widths so a viewer that substitutes the
# font still spaces them so), which right-aligns them exactly whatever font the viewer draws with.
MONO_EM = 600


def _pdf_text(value: str) -> str:
    """A PDF literal string's body: WinAnsi-encodable text (others become ``?``), with ``\\ ( )`` escaped."""
    value = value.encode("cp1252", "replace").decode("cp1252")
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def receipt_pdf(r: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF (see the module docstring for why it is written directly)."""
    ops: list[str] = []

    def put(x: float, y: float, value: str, size: float = 10, bold: bool = False, mono: bool = False) -> None:
        font = ("F4" if bold else "F3") if mono else ("F2" if bold else "F1")
        ops.append(f"BT /{font} {size:g} Tf {x:.2f} {y:.2f} Td ({_pdf_text(value)}) Tj ET")

    def row(y: float, label: str, value: str, bold: bool = False) -> None:
        put(60, y, label, bold=bold)
        put(535 - len(value) * MONO_EM * 10 / 1000, y, value, bold=bold, mono=True)

    put(60, 790, r.lender, 14, bold=True)
    put(60, 772, f"{r.brand_name}: payment receipt", 11)
    y = 740
    for label, value in (
        ("Receipt no.", r.receipt_no),
        ("Loan id", r.loan_id),
        ("Borrower", r.borrower),
        ("Received on", r.received_on.isoformat()),
        ("Mode", r.mode or "-"),
        ("Reference", r.reference or "-"),
        ("Payment id", f"{r.gateway}:{r.payment_id}"),
        ("Issued on", r.issued_on.isoformat()),
    ):
        put(60, y, label)
        put(200, y, value)
        y -= 16
    y -= 10
    row(y, "Amount received", rupees(r.amount), bold=True)
    y -= 22
    put(60, y, "Applied to", bold=True)
    y -= 16
    for label, paise in r.lines():
        row(y, label, rupees(paise))
        y -= 16
    if r.interest_credit:  # no money received: stated under the allocation, which sums to the amount
        y -= 6
        row(y, "Interest paid ahead, credited to principal", rupees(r.interest_credit))
        y -= 16
    y -= 8
    outstanding = rupees(r.outstanding_after) if r.outstanding_after is not None else "-"
    row(y, "Principal outstanding after this payment", outstanding, bold=True)
    put(60, y - 40, "This receipt is generated electronically and needs no signature.", 8)
    stream = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R /F4 8 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        *(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 "
            b"/Widths [%s] >>" % (name, b" ".join([b"%d" % MONO_EM] * 95))
            for name in (b"Courier", b"Courier-Bold")
        ),
    ]
    return pdf_of(objects)


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF 1.4 file of ``objects`` (object 1 the catalog), with its cross-reference table and trailer."""
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _next_number(session: Session, brand_id: str, prefix: str) -> str:
    """The brand's next receipt number under ``prefix`` (``db.numbering``)."""

    def taken(number: str) -> bool:
        return session.scalar(select(PaymentTransaction.id).where(PaymentTransaction.receipt_no == number)) is not None

    return next_number(session, brand_id, prefix, taken)


class ReceiptDocActivities(LoanBase):
    """Receipts of credited payments (``issue_receipt``)."""

    @activity.defn
    async def issue_receipt(self, req: ReceiptRequest) -> str:
        """Number, render and store the receipt of the payment (``req.gateway``, ``req.payment_id``) of loan
        ``req.loan_id``, and set the row's ``receipt_no`` and ``receipt_key``; returns the receipt number.

        Idempotent: a payment that has its receipt gets the same number back and nothing is written; one that
        was numbered but not yet stored (a retry after a crash) keeps its number. Raises a non-retryable
        ``ApplicationError`` of type ``NotFound`` when the loan has no such credited payment."""

        def number(session: Session) -> Receipt | str:
            pay = session.scalars(
                select(PaymentTransaction)
                .where(
                    PaymentTransaction.loan_id == req.loan_id,
                    PaymentTransaction.gateway == req.gateway,
                    PaymentTransaction.gateway_payment_id == req.payment_id,
                    PaymentTransaction.status == "SUCCESS",
                )
                .with_for_update()
            ).first()
            if pay is None:
                raise ApplicationError(
                    f"loan {req.loan_id} has no credited payment {req.gateway}:{req.payment_id}",
                    type="NotFound",
                    non_retryable=True,
                )
            if pay.receipt_no and pay.receipt_key:
                return pay.receipt_no
            loan, customer, brand = self._context(req.loan_id)(session)
            received_on = pay.collected_at.astimezone(IST).date()
            if pay.gateway == "offline":  # dated by the value date ops recorded, not the day it was approved
                value_dates = offline_value_dates(session, [pay.gateway_payment_id])
                received_on = value_dates.get(pay.gateway_payment_id, received_on)
            if not pay.receipt_no:
                pay.receipt_no = _next_number(session, brand.id, receipt_prefix(brand.code, received_on))
            credit = interest_credited(session, pay.gateway, pay.gateway_payment_id)
            return replace(_receipt(pay, loan, customer, brand, received_on), interest_credit=credit)

        found = await self._tx(number)
        if isinstance(found, str):
            return found
        key = receipt_key(found)
        await asyncio.to_thread(self.storage.put, key, receipt_pdf(found), "application/pdf")

        def stored(session: Session) -> None:
            session.execute(
                update(PaymentTransaction)
                .where(
                    PaymentTransaction.loan_id == req.loan_id,
                    PaymentTransaction.gateway == req.gateway,
                    PaymentTransaction.gateway_payment_id == req.payment_id,
                )
                .values(receipt_key=key)
            )

        await self._tx(stored)
        return found.receipt_no

    @activity.defn
    async def issue_receipt_and_notify(self, req: ReceiptNotice) -> str:
        """The payment's receipt (``issue_receipt``), then the borrower's PAYMENT_RECEIVED notice with its number:
        one activity task instead of two. Idempotent as each is: the receipt keeps its number, the notice is logged
        once per ``req.key`` (a retry after a crash sends nothing twice). A messaging vendor's fault is logged, never
        raised; a database fault raises (retried). Returns the receipt number. Raises a non-retryable
        ``ApplicationError`` of type ``NotFound`` when the loan has no such credited payment."""
        number = await self.issue_receipt(ReceiptRequest(req.loan_id, req.gateway, req.payment_id))
        try:
            await Sender(self.db, self.http, self.api_url).notice(
                req.loan_id, "PAYMENT_RECEIVED", req.key, {**req.values, "receiptNo": number}
            )
        except LookupError as exc:
            raise ApplicationError(str(exc), type="NotFound", non_retryable=True) from exc
        return number

    @activity.defn
    async def payments_without_receipt(self, window: ReceiptSweepWindow) -> list[UnreceiptedPayment]:
        """The receipt sweep's work (``workflows.receipt_sweep``): credited payments collected in the window whose
        receipt is not stored (``db.receipts.payments_without_receipt``), oldest first."""

        def read(session: Session) -> list[UnreceiptedPayment]:
            found = payments_without_receipt(session, since=window.since, before=window.before, limit=window.limit)
            # an offline payment's notice is dated by its value date, as its receipt is
            value_dates = offline_value_dates(session, [pid for _, gateway, pid, _, _ in found if gateway == "offline"])
            return [
                UnreceiptedPayment(
                    loan_id, gateway, pid, amount, value_dates.get(pid, at.astimezone(IST).date()).isoformat()
                )
                for loan_id, gateway, pid, amount, at in found
            ]

        return await self._tx(read)


def receipt_key(r: Receipt) -> str:
    """Where the receipt's PDF is stored: ``receipts/<brand id>/<loan id>/<gateway>-<payment id>.pdf``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{r.gateway}-{r.payment_id}")[:120]
    return f"receipts/{r.brand_id}/{r.loan_id}/{name}.pdf"


def _receipt(pay: PaymentTransaction, loan: Loan, customer: Customer, brand: Brand, received_on: date) -> Receipt:
    config = BrandConfig.of(brand.config)
    return Receipt(
        receipt_no=pay.receipt_no or "",
        brand_id=brand.id,
        lender=config.lender_legal_name or brand.name,
        brand_name=brand.name,
        loan_id=loan.id,
        borrower=customer.full_name or customer.phone,
        payment_id=pay.gateway_payment_id,
        gateway=pay.gateway,
        amount=pay.amount,
        received_on=received_on,
        issued_on=datetime.now(UTC).astimezone(IST).date(),
        mode=pay.mode,
        reference=pay.reference,
        penal=pay.penal_part,
        fees=pay.fees_part,
        interest=pay.interest_part,
        principal=pay.principal_part - pay.advance_part,
        advance=pay.advance_part,
        excess=pay.excess_part,
        outstanding_after=pay.outstanding_after,
        # a recovery's row (db.receipts.record_credit_balance on a written-off loan) has every part zero: what the
        # parts do not cover is the recovery (nothing, for any other payment, whose parts add up to its amount)
        recovery=max(
            0, pay.amount - pay.penal_part - pay.fees_part - pay.interest_part - pay.principal_part - pay.excess_part
        ),
    )


__all__ = [
    "Receipt",
    "ReceiptDocActivities",
    "financial_year",
    "receipt_key",
    "receipt_pdf",
    "receipt_prefix",
    "rupees",
]
