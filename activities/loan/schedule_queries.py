"""The SQL of a loan's repayment schedule, its payment links and its payments (``activities.loan.queries`` names
these too): one small named function per question, each taking the activity's open ``Session``; none commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import PaymentLink, PaymentTransaction, RepaymentInstallment
from db.session import core, insert_once, table
from domain.outcomes import InstallmentStatus, PaymentLinkStatus
from workflows.contracts import InstallmentState


# ---------------------------------------------------------------------------------------------- installments
def reshape_installment(session: Session, loan_id: str, number: int, *, interest: int, fees: int) -> None:
    """Set an installment's interest and fees (a foreclosure or cooling-off exit closing its period early)."""
    inst = installment_for_update(session, loan_id, number)
    inst.interest, inst.fees = interest, fees
    inst.total = inst.principal + interest + fees


def shift_paid(session: Session, loan_id: str, number: int, *, interest: int, principal: int) -> bool:
    """Move what was paid of an installment between interest and principal (paise added to each; a foreclosure's
    credit of interest paid for days after it: ``domain.closure.close_schedule``). True when that alone leaves it
    paid in full (it is marked PAID, and its links are the caller's to mark)."""
    inst = installment_for_update(session, loan_id, number)
    inst.interest_paid += interest
    inst.principal_paid += principal
    settled = all(
        getattr(inst, f"{part}_paid") >= getattr(inst, part) for part in ("principal", "interest", "fees", "penal")
    )
    if settled and inst.status != InstallmentStatus.PAID.value:  # the credit alone paid what was left of it
        inst.status, inst.paid_at = InstallmentStatus.PAID.value, datetime.now(UTC)
        return True
    return False


def _installment_row(loan_id: str, inst: InstallmentState, balance_after: int) -> RepaymentInstallment:
    return RepaymentInstallment(
        loan_id=loan_id,
        installment_no=inst.number,
        due_at=inst.due_at,
        due_date=inst.due_date,
        days=inst.days,
        principal=inst.principal,
        interest=inst.interest,
        fees=inst.fees,
        total=inst.principal + inst.interest + inst.fees,
        balance_after=balance_after,
    )


def add_installments(session: Session, loan_id: str, installments: Iterable[InstallmentState], balance: int) -> None:
    """Schedule rows for ``installments``, each with the principal left after it, from ``balance`` before them."""
    for inst in installments:
        balance -= inst.principal
        session.add(_installment_row(loan_id, inst, balance))


def installment_for_update(session: Session, loan_id: str, installment_no: int) -> RepaymentInstallment:
    return session.scalars(
        select(RepaymentInstallment)
        .where(RepaymentInstallment.loan_id == loan_id, RepaymentInstallment.installment_no == installment_no)
        .with_for_update()
    ).one()


_INST = table(RepaymentInstallment)


def _settled_after(*parts: Any) -> Any:
    """SQL: every part of the installment (penal, fees, interest, principal) paid once ``parts`` are added."""
    cols = (_INST.c.penal_paid, _INST.c.fees_paid, _INST.c.interest_paid, _INST.c.principal_paid)
    owed = (_INST.c.penal, _INST.c.fees, _INST.c.interest, _INST.c.principal)
    return and_(
        *((paid + part if part is not None else paid) >= due for paid, part, due in zip(cols, parts, owed, strict=True))
    )


_PARTS = tuple(bindparam(f"add_{k}", type_=BigInteger) for k in ("penal", "fees", "interest", "principal"))
# Built once: the statement, its compiled form and its cache key are reused by every payment (an ORM UPDATE built
# per call cost about as much CPU as the rest of ``record_payment`` together).
_PAY_INSTALLMENT = (
    update(_INST)
    .where(_INST.c.loan_id == bindparam("key_loan_id"), _INST.c.installment_no == bindparam("key_number"))
    .values(
        penal_paid=_INST.c.penal_paid + _PARTS[0],
        fees_paid=_INST.c.fees_paid + _PARTS[1],
        interest_paid=_INST.c.interest_paid + _PARTS[2],
        principal_paid=_INST.c.principal_paid + _PARTS[3],
        status=case((_settled_after(*_PARTS), InstallmentStatus.PAID.value), else_=_INST.c.status),
        paid_at=case((_settled_after(*_PARTS), bindparam("now", type_=DateTime(timezone=True))), else_=_INST.c.paid_at),
    )
    .returning(_settled_after(None, None, None, None))
)


def pay_installment(
    session: Session, loan_id: str, number: int, *, penal: int, fees: int, interest: int, principal: int, now: datetime
) -> bool:
    """Add a payment's parts (paise) to the installment's paid amounts, and mark it PAID at ``now`` when every part
    of it (penal, fees, interest, principal) is then paid, in one statement that locks the row; True when this
    payment leaves it paid in full. (PostgreSQL evaluates SET expressions on the row as it was, so the test there
    adds the parts again; RETURNING reads the row as written.) A Core statement on the session's connection
    (``db.session.core``, which flushes what the session holds pending first: a reshape or a credit's shift of the
    same row lands before it); installment objects this session holds are not refreshed."""
    paid_in_full = (
        core(session)
        .execute(
            _PAY_INSTALLMENT,
            {
                "key_loan_id": loan_id,
                "key_number": number,
                "add_penal": penal,
                "add_fees": fees,
                "add_interest": interest,
                "add_principal": principal,
                "now": now,
            },
        )
        .scalar_one()
    )
    return bool(paid_in_full)


def installment_status(session: Session, loan_id: str, installment_no: int, *, share: bool = False) -> str | None:
    """The installment's status (``InstallmentStatus``), None when the loan has no such installment. ``share``: the
    row locked FOR SHARE, so a payment being recorded on it (``pay_installment`` holds it) is waited for and seen."""
    query = select(RepaymentInstallment.status).where(
        RepaymentInstallment.loan_id == loan_id, RepaymentInstallment.installment_no == installment_no
    )
    return session.scalars(query.with_for_update(read=True) if share else query).first()


def delete_installments_from(session: Session, loan_id: str, installment_no: int) -> None:
    """Drop the schedule rows from ``installment_no`` on (they are about to be re-amortised)."""
    session.execute(
        delete(RepaymentInstallment).where(
            RepaymentInstallment.loan_id == loan_id,
            RepaymentInstallment.installment_no >= installment_no,
        )
    )


def add_penal(session: Session, loan_id: str, installment_no: int, amount: int) -> None:
    session.execute(
        update(RepaymentInstallment)
        .where(
            RepaymentInstallment.loan_id == loan_id,
            RepaymentInstallment.installment_no == installment_no,
        )
        .values(penal=RepaymentInstallment.penal + amount)
    )


def mark_overdue(session: Session, loan_id: str, installment_no: int) -> None:
    """A still-pending installment becomes overdue (one paid meanwhile is left as it is)."""
    session.execute(
        update(RepaymentInstallment)
        .where(
            RepaymentInstallment.loan_id == loan_id,
            RepaymentInstallment.installment_no == installment_no,
            RepaymentInstallment.status == InstallmentStatus.PENDING,
        )
        .values(status=InstallmentStatus.OVERDUE)
    )


# ---------------------------------------------------------------------------------------------- payment links
def installment_links_for_update(session: Session, loan_id: str, installment_no: int) -> list[PaymentLink]:
    """Every link of the installment (any amount, any status), locked."""
    return list(
        session.scalars(
            select(PaymentLink)
            .where(PaymentLink.loan_id == loan_id, PaymentLink.installment_no == installment_no)
            .with_for_update()
        ).all()
    )


def insert_payment_link(session: Session, **values: Any) -> bool:
    """A link, stored once: one ACTIVE link per (loan, installment, amount, purpose) and each gateway link id once
    (a retried call that got the same link back writes nothing). True when this row was written."""
    written = session.execute(
        insert(PaymentLink).values(**values).on_conflict_do_nothing().returning(PaymentLink.id)
    ).scalar_one_or_none()
    return written is not None


def link_status(session: Session, link_id: str) -> str | None:
    """The status of the gateway's link ``link_id`` in ``payment_links`` (link ids are unique), or None when it is
    not recorded."""
    return session.scalars(select(PaymentLink.status).where(PaymentLink.link_id == link_id)).first()


def active_link_url(session: Session, loan_id: str, installment_no: int, amount: int, purpose: str) -> str | None:
    """The URL of the ACTIVE link for this loan, installment, amount (paise) and purpose, if there is one."""
    return session.scalars(
        select(PaymentLink.url).where(
            PaymentLink.loan_id == loan_id,
            PaymentLink.installment_no == installment_no,
            PaymentLink.amount == amount,
            PaymentLink.purpose == purpose,
            PaymentLink.status == PaymentLinkStatus.ACTIVE,
        )
    ).first()


def supersede_links(
    session: Session, loan_id: str, installment_no: int, purpose: str, *, keep_link_id: str, created_before: datetime
) -> list[tuple[str, str]]:
    """Every ACTIVE link of the loan with this installment number and purpose other than ``keep_link_id``, recorded
    before ``created_before``, reads SUPERSEDED; their (gateway, link id), for cancelling at the gateway."""
    rows = session.execute(
        update(PaymentLink)
        .where(
            PaymentLink.loan_id == loan_id,
            PaymentLink.installment_no == installment_no,
            PaymentLink.purpose == purpose,
            PaymentLink.status == PaymentLinkStatus.ACTIVE,
            PaymentLink.link_id != keep_link_id,
            PaymentLink.created_at < created_before,
        )
        .values(status=PaymentLinkStatus.SUPERSEDED)
        .returning(PaymentLink.provider, PaymentLink.link_id)
        .execution_options(synchronize_session=False)
    ).all()
    return [(r[0], r[1]) for r in rows]


def close_settled_schedule(session: Session, loan_id: str, now: datetime) -> list[tuple[str, str]]:
    """A settled loan's schedule as the workflow leaves it (``domain.settlement.waive_remaining``): each installment
    asks what was paid of it (the rest was waived, in the ledger) and reads PAID, so nothing shows as due. Its links
    still offered (ACTIVE, HELD) read CANCELLED; their (gateway, link id), for cancelling at the gateway."""
    i = RepaymentInstallment
    session.execute(
        update(i)
        .where(i.loan_id == loan_id, i.status != InstallmentStatus.PAID.value)
        .values(
            principal=i.principal_paid,
            interest=i.interest_paid,
            fees=i.fees_paid,
            penal=i.penal_paid,
            total=i.principal_paid + i.interest_paid + i.fees_paid,
            status=InstallmentStatus.PAID.value,
            paid_at=func.coalesce(i.paid_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        update(PaymentLink)
        .where(
            PaymentLink.loan_id == loan_id,
            PaymentLink.status.in_([PaymentLinkStatus.ACTIVE.value, PaymentLinkStatus.HELD.value]),
        )
        .values(status=PaymentLinkStatus.CANCELLED.value)
        .returning(PaymentLink.provider, PaymentLink.link_id)
        .execution_options(synchronize_session=False)
    ).all()
    return [(r[0], r[1]) for r in rows]


def one_off_link_paid(session: Session, loan_id: str, gateway: str, purpose: str, amount: int) -> None:
    """The borrower's one-off link (prepayment, foreclosure, cooling-off: installment 0) that this payment paid reads
    PAID: the gateway's first event may not name the link, so it is known by gateway, purpose and amount."""
    session.execute(
        update(PaymentLink)
        .where(
            PaymentLink.loan_id == loan_id,
            PaymentLink.installment_no == 0,
            PaymentLink.provider == gateway,
            PaymentLink.purpose == purpose,
            PaymentLink.amount == amount,
            PaymentLink.status == PaymentLinkStatus.ACTIVE,
        )
        .values(status=PaymentLinkStatus.PAID)
    )


def links_paid(session: Session, loan_id: str, *, link_id: str | None, installments: Iterable[int]) -> None:
    """The link a payment paid (``link_id``, whatever its status: a SUPERSEDED link paid all the same was paid) and
    every link still offered (ACTIVE) or HELD of each installment it paid in full read PAID, in one statement built
    once; nothing when there are neither. A SUPERSEDED or CANCELLED link nobody paid keeps its status (it was never
    paid: reconciliation and staff read the links as they were). Called after the installments are updated, so a
    payment locks its installments before their links, as ``ensure_payment_link`` expects."""
    numbers = list(installments)
    if not link_id and not numbers:
        return
    core(session).execute(_LINKS_PAID, {"key_loan_id": loan_id, "key_link_id": link_id, "key_numbers": numbers})


_LINKS = table(PaymentLink)
_LINKS_PAID = (
    update(_LINKS)
    .where(
        _LINKS.c.loan_id == bindparam("key_loan_id"),
        or_(  # a NULL link id and an empty list each match nothing
            _LINKS.c.link_id == bindparam("key_link_id"),
            and_(
                _LINKS.c.installment_no.in_(bindparam("key_numbers", expanding=True)),
                _LINKS.c.status.in_([PaymentLinkStatus.ACTIVE.value, PaymentLinkStatus.HELD.value]),
            ),
        ),
    )
    .values(status=PaymentLinkStatus.PAID.value)
)


# ---------------------------------------------------------------------------------------------- payments
def recorded_since(session: Session, loan_id: str, gateway: str, amount: int, since: datetime) -> bool:
    """Whether the loan has recorded at least ``amount`` paise of ``gateway``'s payments since ``since`` (both
    clocks PostgreSQL's: ``payment_transactions.collected_at``, ``payment_links.created_at``): the money a link
    paid at that gateway has reached the loan."""
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentTransaction.amount), 0)).where(
            PaymentTransaction.loan_id == loan_id,
            PaymentTransaction.gateway == gateway,
            PaymentTransaction.collected_at >= since,
        )
    )
    return int(total or 0) >= amount


_INSERT_PAYMENT = insert_once(PaymentTransaction, "gateway", "gateway_payment_id")


def insert_payment(session: Session, **values: Any) -> str | None:
    """One payment, stored once per (gateway, gateway payment id); the new row's id, or None when it was stored.
    ``values``: ``payment_transactions`` columns (a statement built once, executed with them as parameters)."""
    return core(session).execute(_INSERT_PAYMENT, values).scalar_one_or_none()
