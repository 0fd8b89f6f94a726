"""What recording an offline payment checks before it is written (``api/partner/payments.py``): the reference's
shape per mode, and what the loan's workflow says closes it (today's foreclosure quote; the cooling-off exit amount
on the payment's value date), asked with a bound so recording never waits long for the workflow engine."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime

from fastapi import Request

from api.deps import call_async
from api.web.payments import OfflineMode
from api.workflow_calls import loan_query
from domain.errors import ServiceUnavailable, ValidationError
from workflows.loan import LoanWorkflow
from workflows.options import IST

# What a reference looks like per mode (upper-cased, spaces removed first): NEFT's UTR is 16 characters and RTGS's
# 22, each starting with the sending bank's 4-letter IFSC code (RBI NEFT/RTGS procedural guidelines); IMPS and
# UPI carry NPCI's 12-digit RRN; a cheque its 6-digit MICR number, optionally with the drawee branch's IFSC after
# a hyphen (two banks' cheques may share a number); cash the lender's receipt book number.
REFERENCE_RULES: dict[OfflineMode, tuple[re.Pattern[str], str]] = {
    OfflineMode.NEFT: (re.compile(r"[A-Z]{4}[A-Z0-9]{12}"), "a NEFT UTR: 16 characters, the bank's 4 letters first"),
    OfflineMode.RTGS: (re.compile(r"[A-Z]{4}[A-Z0-9]{18}"), "an RTGS UTR: 22 characters, the bank's 4 letters first"),
    OfflineMode.IMPS: (re.compile(r"[0-9]{12}"), "an IMPS reference (RRN): 12 digits"),
    OfflineMode.UPI: (re.compile(r"[0-9]{12}"), "a UPI reference (UTR/RRN): 12 digits"),
    OfflineMode.CHEQUE: (re.compile(r"[0-9]{6}(-[A-Z]{4}0[A-Z0-9]{6})?"), "a 6-digit cheque number (-IFSC optional)"),
    OfflineMode.CASH: (re.compile(r"[A-Z0-9][A-Z0-9/-]{0,39}"), "the receipt book number: letters, digits, / and -"),
}


QUOTE_WAIT_SECONDS = 3  # how long recording waits for the loan's quote before it goes on without the check


def ask_loan(request: Request, workflow_id: str, query: Callable[[LoanWorkflow, str], dict], on: date) -> dict | None:
    """The loan workflow's answer to ``query`` (``quote_foreclosure`` or ``quote_cooling_off``) for the IST date
    ``on``, or None when it cannot be had within ``QUOTE_WAIT_SECONDS`` (the engine or the worker down, the workflow
    busy or ended, the query failing): recording an offline payment never waits long for the workflow engine. Called
    with no row locked (the workflow's own steps write the loan's row between the tasks that answer queries)."""

    async def ask() -> dict:
        client = await request.app.state.temporal.get()
        return await loan_query(client, workflow_id, query, on.isoformat())

    async def bounded() -> dict | None:
        try:
            return await asyncio.wait_for(ask(), timeout=QUOTE_WAIT_SECONDS)
        except Exception:  # noqa: BLE001 - the caller decides what an unanswered question means
            return None

    return call_async(bounded)


def quote_total(request: Request, workflow_id: str) -> int | None:
    """Today's foreclosure quote of the loan's workflow (paise), or None when it cannot be had (``ask_loan``): a
    typo-catcher only, so recording goes on without it and the checker still sees the amount."""
    answer = ask_loan(request, workflow_id, LoanWorkflow.quote_foreclosure, datetime.now(IST).date())
    return int(answer["total"]) if answer is not None else None


def cooling_off_amount(request: Request, workflow_id: str | None, paid_on: date, amount: int) -> int:
    """The cooling-off exit amount on ``paid_on`` (paise) that a COOLING_OFF payment of ``amount`` pays: 422
    naming ``purpose`` when the exit is not open that day (the look-up period over, a repayment already made, the
    loan not DISBURSED) and naming ``amount`` when it is less (it would not close the loan: record it as a
    PREPAYMENT); 503 when the loan cannot be asked (nothing is recorded: whether it cancels the loan must be known)."""
    answer = ask_loan(request, workflow_id, LoanWorkflow.quote_cooling_off, paid_on) if workflow_id else None
    if answer is None:
        raise ServiceUnavailable("the loan's cooling-off exit could not be confirmed just now; nothing was recorded")
    if not answer.get("available"):
        raise ValidationError(
            f"the cooling-off exit is not open on {paid_on.isoformat()}: {answer.get('reason')}", field="purpose"
        )
    exit_amount = int(answer["amount"])
    if amount < exit_amount:
        raise ValidationError(
            f"{amount / 100:.2f} rupees is less than the cooling-off exit amount of {exit_amount / 100:.2f} rupees"
            f" on {paid_on.isoformat()}: it would not close the loan; record it as a PREPAYMENT",
            field="amount",
        )
    return exit_amount


def within_quote(amount: int, total: int | None, what: str = "today's foreclosure quote") -> None:
    """422 naming ``amount`` when it is more than ``total``, what closes the loan (``what``: today's foreclosure
    quote, or the cooling-off exit amount): a figure typed with a digit too many would otherwise be credited, its
    excess kept as a credit balance to refund. Money really received beyond it is recorded with ``allowExcess``
    (nothing received is refused for good). No quote (``total`` None): no check."""
    if total is not None and amount > total:
        raise ValidationError(
            f"{amount / 100:.2f} rupees is more than {what} of {total / 100:.2f} rupees:"
            ' the rest would be kept as a credit balance to refund; send "allowExcess": true if that much was received',
            field="amount",
        )
