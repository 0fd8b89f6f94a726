"""Staff decisions on a servicing loan, recorded: settlements (their rows and the link the borrower pays), penal
waivers (row, ledger, installments), restructures (row, new schedule), and the postings that zero a loan's
receivables when it is SETTLED or WRITTEN_OFF. Each write is keyed, so a retried activity does nothing twice.

Sources: RBI's Framework for Compromise Settlements and Technical Write-offs (8 June 2023); RBI's penal charges
circular (18 August 2023: waived, never capitalised); ``domain.ledger.postings`` for the entries."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan import queries, schedule_queries
from activities.loan.common import LoanBase
from activities.loan.links import make_link
from activities.providers.payments.links import cancel_link
from db.models import (
    LedgerEntry,
    LedgerTransaction,
    Loan,
    PaymentLink,
    RepaymentInstallment,
    Restructure,
    Settlement,
    Waiver,
)
from domain import ledger
from domain.ledger.accounts import FEES_RECEIVABLE, INTEREST_RECEIVABLE, LOAN_PRINCIPAL, PENAL_RECEIVABLE
from domain.outcomes import PaymentLinkStatus
from workflows.contracts import (
    ClosingPostings,
    InstallmentState,
    ServicingDecisionRecord,
    SettlementLinkRequest,
)

SETTLEMENT = "SETTLEMENT"
log = logging.getLogger(__name__)


RECEIVABLE_ACCOUNTS = {LOAN_PRINCIPAL: "principal", INTEREST_RECEIVABLE: "interest", FEES_RECEIVABLE: "fees",
                       PENAL_RECEIVABLE: "penal"}  # fmt: skip
CANCEL_AT_GATEWAYS_SECONDS = 5  # a closing's gateway cancels, all together: best effort, inside the step's timeout


def receivables(session: Session, loan_id: str) -> dict[str, int]:
    """The loan's receivable balances now (paise, debit positive): principal, interest, fees, penal."""
    accounts = RECEIVABLE_ACCOUNTS
    rows = session.execute(
        select(LedgerEntry.account, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.loan_id == loan_id, LedgerEntry.account.in_(list(accounts)))
        .group_by(LedgerEntry.account)
    ).all()
    out = dict.fromkeys(accounts.values(), 0)
    for account, amount in rows:
        out[accounts[account]] = max(int(amount), 0)
    return out


def cleared_by(session: Session, keys: list[str]) -> dict[str, int]:
    """Paise of each receivable (principal, interest, fees, penal) that the ledger transactions with these
    idempotency keys cleared (their credit legs): what a closing posted, the same however often it is asked."""
    rows = session.execute(
        select(LedgerEntry.account, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerTransaction.idempotency_key.in_(keys),
            LedgerEntry.account.in_(list(RECEIVABLE_ACCOUNTS)),
            LedgerEntry.amount < 0,
        )
        .group_by(LedgerEntry.account)
    ).all()
    out = dict.fromkeys(RECEIVABLE_ACCOUNTS.values(), 0)
    for account, amount in rows:
        out[RECEIVABLE_ACCOUNTS[account]] = -int(amount)
    return out


ENDED_OFFER = frozenset({"PAID_IN_FULL", "LAPSED", "CANCELLED"})
"""Settlement outcomes after which its link must take no money (a PAID one's closing cancels the schedule's links)."""


def _settlement(session: Session, rec: ServicingDecisionRecord) -> list[tuple[str, str]]:
    """The settlement's row created or moved; the (gateway, link id) of the links it cancelled (ENDED_OFFER), for
    cancelling at the gateways."""
    p = rec.payload
    row = session.get(Settlement, p["id"], with_for_update=True)
    now = datetime.now(UTC)
    if row is None:
        session.add(
            Settlement(
                id=p["id"],
                brand_id=p["brandId"],
                loan_id=rec.loan_id,
                amount=p["amount"],
                outstanding=p["outstanding"],
                waiver=p["waiver"],
                reason=p["reason"],
                deadline=date.fromisoformat(p["deadline"]),
                status="PROPOSED",
                proposed_by=p["proposedBy"],
            )
        )
        return []
    if row.status == rec.status:  # a retry: its links are CANCELLED here, and asked again at their gateways
        if rec.status not in ENDED_OFFER:
            return []
        return [
            (str(vendor), str(link_id))
            for vendor, link_id in session.execute(
                select(PaymentLink.provider, PaymentLink.link_id).where(
                    PaymentLink.loan_id == rec.loan_id,
                    PaymentLink.purpose == SETTLEMENT,
                    PaymentLink.status == PaymentLinkStatus.CANCELLED.value,
                )
            )
            if vendor and link_id
        ]
    row.status = rec.status
    if rec.status in ("APPROVED", "REJECTED", "CANCELLED"):
        row.decided_by, row.decided_at = p.get("decidedBy"), now
        row.decision_reason = p.get("reason")
        if p.get("deadline"):
            row.deadline = date.fromisoformat(p["deadline"])
        if "outstanding" in p:  # the figures as they stood at approval
            row.outstanding, row.waiver = p["outstanding"], p["waiver"]
    if rec.status in ("PAID", "PAID_IN_FULL", "LAPSED", "CANCELLED"):
        row.collected = p.get("collected", row.collected)
        row.closed_at = now
    if rec.status in ENDED_OFFER:  # paid in full, lapsed, cancelled: its settlement link is no longer offered
        cancelled = session.execute(
            update(PaymentLink)
            .where(
                PaymentLink.loan_id == rec.loan_id,
                PaymentLink.purpose == SETTLEMENT,
                PaymentLink.status.in_([PaymentLinkStatus.ACTIVE.value, PaymentLinkStatus.HELD.value]),
            )
            .values(status=PaymentLinkStatus.CANCELLED.value)
            .returning(PaymentLink.provider, PaymentLink.link_id)
        ).all()
        return [(str(vendor), str(link_id)) for vendor, link_id in cancelled if vendor and link_id]
    return []


def _waiver(session: Session, rec: ServicingDecisionRecord) -> None:
    p = rec.payload
    inserted = session.execute(select(Waiver.id).where(Waiver.idempotency_key == rec.key)).scalar_one_or_none()
    if inserted is not None:
        return
    session.add(
        Waiver(
            # the workflow's id for it, which the staff's answer gives (a waiver decided before it has none: a new one)
            **({"id": p["id"]} if p.get("id") else {}),
            brand_id=p["brandId"],
            loan_id=rec.loan_id,
            amount=p["amount"],
            components={str(n): a for n, a in p["parts"]},
            reason=p["reason"],
            staff_id=p["staffId"],
            idempotency_key=rec.key,
        )
    )
    queries.post_ledger(session, rec.loan_id, f"loan-{rec.loan_id}:{rec.key}", ledger.waiver(penal=p["amount"]))
    for number, amount in p["parts"]:
        session.execute(
            update(RepaymentInstallment)
            .where(RepaymentInstallment.loan_id == rec.loan_id, RepaymentInstallment.installment_no == number)
            .values(penal=RepaymentInstallment.penal - amount)
        )


def _restructure(session: Session, rec: ServicingDecisionRecord) -> None:
    p = rec.payload
    row = session.get(Restructure, p["id"], with_for_update=True)
    if row is None:
        session.add(
            Restructure(
                id=p["id"],
                brand_id=p["brandId"],
                loan_id=rec.loan_id,
                outstanding_principal=p["outstanding"],
                installments=p["installments"],
                emi=p["emi"],
                first_due=date.fromisoformat(p["firstDue"]),
                schedule=p.get("schedule", []),
                reason=p["reason"],
                status="PROPOSED",
                proposed_by=p["proposedBy"],
            )
        )
        return
    if row.status == rec.status:
        return
    row.status, row.decided_by, row.decided_at = rec.status, p.get("decidedBy"), datetime.now(UTC)
    if rec.status != "APPROVED":
        return
    # the new schedule replaces every installment from the first one still owed
    new = [_installment(i) for i in p["rescheduled"]]
    schedule_queries.delete_installments_from(session, rec.loan_id, p["from"])
    schedule_queries.add_installments(session, rec.loan_id, new, p["outstanding"])
    session.execute(
        update(Loan)
        .where(Loan.id == rec.loan_id)
        .values(restructured_at=datetime.now(UTC), bureau_flag="RESTRUCTURED", next_due_at=new[0].due_at)
    )


def _installment(raw: dict[str, Any]) -> InstallmentState:
    return InstallmentState(
        raw["number"],
        datetime.fromisoformat(raw["dueAt"]),
        raw["principal"],
        raw["interest"],
        due_date=date.fromisoformat(raw["dueDate"]) if raw.get("dueDate") else None,
        days=raw.get("days", 0),
        fees=raw.get("fees", 0),
        penal=raw.get("penal", 0),
    )


class ServicingDecisionActivities(LoanBase):
    @activity.defn
    async def record_servicing_decision(self, rec: ServicingDecisionRecord) -> None:
        """Record a staff decision on a servicing loan (``rec.kind``): SETTLEMENT — the row created (PROPOSED) or
        moved to ``rec.status`` (APPROVED/REJECTED by ``decidedBy``; PAID/LAPSED with what was collected); WAIVER —
        the row, the ledger (Dr PENAL_CHARGES_WAIVED / Cr PENAL_CHARGES_RECEIVABLE) and each installment's penal
        reduced; RESTRUCTURE — the row created, or APPROVED with the new schedule in place of the rest and the loan
        flagged RESTRUCTURED for the bureau. Idempotent (rows by id or ``rec.key``, the ledger by key)."""

        def write(session: Session) -> list[tuple[str, str]]:
            if rec.kind == SETTLEMENT:
                return _settlement(session, rec)
            if rec.kind == "WAIVER":
                _waiver(session, rec)
            elif rec.kind == "RESTRUCTURE":
                _restructure(session, rec)
            else:
                raise ValueError(f"unknown servicing decision {rec.kind!r}")
            return []

        cancelled = await self._tx(write)
        if cancelled:  # an ended settlement's link: no longer offered, so not payable at its gateway either
            await self._cancel_at_gateways(rec.loan_id, cancelled)

    @activity.defn
    async def record_closing_postings(self, req: ClosingPostings) -> dict:
        """Zero the loan's receivables as it ends SETTLED or WRITTEN_OFF, from its ledger as it stands: SETTLEMENT —
        penal, fees and interest receivable waived (Dr the contra-income accounts) and the principal not paid
        written off (Dr WRITE_OFF_EXPENSE); WRITE_OFF — all four written off (Dr WRITE_OFF_EXPENSE). Sets the loan's
        bureau flag (SETTLED / WRITTEN_OFF). A settled loan's schedule is closed as the workflow closes it (what was
        waived leaves the installments, which read PAID: nothing is due any more) and its links still offered are
        cancelled, here and at their gateways (``schedule_queries.close_settled_schedule``); a written-off loan's dues
        stay (the borrower still owes them; a payment is a recovery). Returns the paise posted by component, read
        from the closing's own ledger transactions, so a retry (a crash after the commit) answers the same. Once per
        loan and kind; the gateways' cancels are best effort, at most ``CANCEL_AT_GATEWAYS_SECONDS`` in all."""

        def write(session: Session) -> dict:
            owed = receivables(session, req.loan_id)
            key = f"loan-{req.loan_id}:{req.kind.lower()}"
            keys = [f"{key}:waiver", f"{key}:principal"] if req.kind == SETTLEMENT else [key]
            if req.kind == SETTLEMENT:
                if owed["interest"] + owed["fees"] + owed["penal"]:
                    txn = ledger.waiver(interest=owed["interest"], fees=owed["fees"], penal=owed["penal"])
                    queries.post_ledger(session, req.loan_id, f"{key}:waiver", txn)
                if owed["principal"]:
                    txn = ledger.write_off(principal=owed["principal"])
                    queries.post_ledger(session, req.loan_id, f"{key}:principal", txn)
                flag = "SETTLED"
            else:
                if sum(owed.values()):
                    txn = ledger.write_off(
                        principal=owed["principal"], interest=owed["interest"], fees=owed["fees"], penal=owed["penal"]
                    )
                    queries.post_ledger(session, req.loan_id, key, txn)
                flag = "WRITTEN_OFF"
            session.execute(
                update(Loan).where(Loan.id == req.loan_id).values(bureau_flag=flag, outstanding_principal=0)
            )
            if req.kind == SETTLEMENT:
                closed[:] = schedule_queries.close_settled_schedule(session, req.loan_id, datetime.now(UTC))
            return cleared_by(session, keys)

        closed: list[tuple[str, str]] = []
        posted = await self._tx(write)
        if closed:  # the links no longer offered must not take money (a payment made anyway is still recorded)
            await self._cancel_at_gateways(req.loan_id, closed)
        return posted

    async def _cancel_at_gateways(self, loan_id: str, links: list[tuple[str, str]]) -> None:
        """Cancel each (gateway, link id) at its gateway, best effort and at most ``CANCEL_AT_GATEWAYS_SECONDS`` in
        all (the links are already CANCELLED here; a payment made on one anyway is still recorded)."""
        _, _, brand = await self._tx(self._context(loan_id))

        async def cancel_all() -> None:
            for vendor, link_id in links:
                await cancel_link(brand.config, self.http, vendor, link_id, loan_id)

        try:
            await asyncio.wait_for(cancel_all(), timeout=CANCEL_AT_GATEWAYS_SECONDS)
        except TimeoutError:
            log.warning("loan %s: not every closed link was cancelled at its gateway in time", loan_id)

    @activity.defn
    async def settlement_link(self, req: SettlementLinkRequest) -> str:
        """The payment link for an approved settlement (purpose SETTLEMENT, the settlement's amount), at the brand's
        gateways with failover; one per settlement and ``req.version`` (the same reference gives the same link back; a
        version > 0 is the link remade for what is still to pay after part-payments). Its URL. An earlier settlement
        link still ACTIVE (a lapsed settlement's, or this one's before the remake) is superseded and cancelled at its
        gateway: one open settlement, one payable settlement link."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        return await make_link(
            self, loan, customer, brand, amount=req.amount, installment_no=0, purpose=SETTLEMENT,
            reference_id=f"{loan.id}:{SETTLEMENT}:{req.settlement_id}" + (f":{req.version}" if req.version else ""),
            description=f"{brand.name} loan settlement",
            replaces_others=True,  # a lapsed settlement's link: superseded, cancelled at its gateway
        )  # fmt: skip
