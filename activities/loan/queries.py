"""The SQL of the loan activities, one small named function per aggregate and question.

Each takes the open ``Session`` of the activity's unit of work (``DbActivities._tx``); none commits. Inserts that
carry an idempotency key (or a natural key: a loan's status sequence, a gateway's payment id) do nothing when the
key is already stored, so a retried activity writes once; those that say whether they wrote return it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import (
    AuditLog,
    BankAccount,
    Brand,
    BureauReport,
    Customer,
    Disbursal,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanAgreement,
    LoanStatusHistory,
    ProviderCall,
    StaffBrandRole,
    StaffUser,
)
from db.session import core, insert_once, table
from domain import ledger
from domain.outcomes import AgreementStatus, DisbursalStatus


# ---------------------------------------------------------------------------------------------- loans
def update_loan(session: Session, loan_id: str, **values: Any) -> None:
    session.execute(update(Loan).where(Loan.id == loan_id).values(**values))


def credit_loan(
    session: Session, loan_id: str, amount: int, *, outstanding_principal: int, next_due_at: datetime | None
) -> str:
    """Add ``amount`` paise to the loan's ``total_collected`` and set its outstanding principal (paise) and next due
    instant, in one statement built once; the loan's brand id (RETURNING: no second round trip to load the loan).
    Loan objects this session holds are not refreshed."""
    params = {
        "key_loan_id": loan_id,
        "credit": amount,
        "outstanding_principal": outstanding_principal,
        "next_due_at": next_due_at,
    }
    return core(session).execute(_CREDIT_LOAN, params).scalar_one()


_LOANS = table(Loan)
_CREDIT_LOAN = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("key_loan_id"))
    .values(
        total_collected=_LOANS.c.total_collected + bindparam("credit", type_=BigInteger),
        outstanding_principal=bindparam("outstanding_principal"),
        next_due_at=bindparam("next_due_at"),
    )
    .returning(_LOANS.c.brand_id)
)


def insert_status_history(session: Session, **values: Any) -> str | None:
    """One status move, stored once per (loan, seq); the new row's id, or None when that move was stored.
    ``values``: ``loan_status_history`` columns (a statement built once, executed with them as parameters)."""
    return core(session).execute(_INSERT_STATUS_HISTORY, values).scalar_one_or_none()


_INSERT_STATUS_HISTORY = insert_once(LoanStatusHistory, "loan_id", "seq")


def move_loan_status(
    session: Session, loan_id: str, status: str, reason: str | None, *, closed: datetime | None
) -> tuple[str, int, str | None]:
    """A system move of the loan's status (no staff action, no reassignment): status and reason set, review stage
    cleared, and for a terminal status ``closed`` as ``closed_at`` with no next due instant, in one statement that
    locks the row; (brand id, amount in paise, the staff member it is assigned to)."""
    params = {"key_loan_id": loan_id, "status": status, "status_reason": reason}
    if closed is None:
        row = core(session).execute(_MOVE_STATUS, params).one()
    else:
        row = core(session).execute(_CLOSE_STATUS, {**params, "closed_at": closed}).one()
    return row[0], row[1], row[2]


_MOVE_STATUS = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("key_loan_id"))
    .values(status=bindparam("status"), status_reason=bindparam("status_reason"), review_stage=None)
    .returning(_LOANS.c.brand_id, _LOANS.c.amount, _LOANS.c.assigned_to)
)
_CLOSE_STATUS = _MOVE_STATUS.values(closed_at=bindparam("closed_at"), next_due_at=None)


def insert_audit(session: Session, idempotency_key: str, **values: Any) -> None:
    """One staff action on the audit log, stored once per key."""
    session.execute(
        insert(AuditLog)
        .values(idempotency_key=idempotency_key, **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


# ---------------------------------------------------------------------------------------------- staff
def staff_standing(session: Session, staff_id: str, brand_id: str) -> Any:
    """(active, global role, role in the brand or None) of a staff member; None when there is no such staff."""
    return session.execute(
        select(StaffUser.is_active, StaffUser.role, StaffBrandRole.role)
        .outerjoin(StaffBrandRole, (StaffBrandRole.staff_id == StaffUser.id) & (StaffBrandRole.brand_id == brand_id))
        .where(StaffUser.id == staff_id)
    ).first()


# ---------------------------------------------------------------------------------------------- customers
def set_customer_name(session: Session, customer_id: str, name: str) -> None:
    session.execute(update(Customer).where(Customer.id == customer_id).values(full_name=name))


# ---------------------------------------------------------------------------------------------- provider calls
def record_provider_call(session: Session, idempotency_key: str, **values: Any) -> None:
    """One provider call, stored once per key."""
    session.execute(
        insert(ProviderCall)
        .values(idempotency_key=idempotency_key, **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


# ---------------------------------------------------------------------------------------------- bureau reports
def insert_bureau_report(session: Session, **values: Any) -> None:
    """The loan's report (one per loan: a second insert for the same loan does nothing)."""
    session.execute(insert(BureauReport).values(**values).on_conflict_do_nothing(index_elements=["loan_id"]))


# ---------------------------------------------------------------------------------------------- agreements
def agreement_of(session: Session, loan_id: str) -> LoanAgreement | None:
    return session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan_id)).first()


def save_sent_agreement(
    session: Session,
    loan_id: str,
    *,
    storage_key: str,
    sha256: str,
    docket_id: str,
    signing_url: str,
    esign_provider: str,
    expires_at: datetime,
    kfs_hash: str | None = None,
) -> None:
    """The loan's agreement as sent for signature (one per loan: a new docket replaces the earlier one)."""
    session.execute(
        insert(LoanAgreement)
        .values(
            loan_id=loan_id,
            storage_key=storage_key,
            sha256=sha256,
            docket_id=docket_id,
            signing_url=signing_url,
            esign_provider=esign_provider,
            status=AgreementStatus.SENT,
            expires_at=expires_at,
            kfs_hash=kfs_hash,
        )
        .on_conflict_do_update(
            index_elements=["loan_id"],
            set_={
                "docket_id": docket_id,
                "signing_url": signing_url,
                "storage_key": storage_key,
                "sha256": sha256,
                "status": AgreementStatus.SENT,
                "esign_provider": esign_provider,
                "expires_at": expires_at,
                "kfs_hash": kfs_hash,
            },
        )
    )


def close_sent_agreement(session: Session, loan_id: str, status: str, signed_at: datetime | None) -> None:
    """The outcome of an agreement still out for signature (one already closed is left as it is)."""
    session.execute(
        update(LoanAgreement)
        .where(LoanAgreement.loan_id == loan_id, LoanAgreement.status == AgreementStatus.SENT)
        .values(status=status, signed_at=signed_at)
    )


def save_signed_agreement(session: Session, loan_id: str, docket_id: str, storage_key: str, sha256: str) -> None:
    """The signed PDF of the loan's docket ``docket_id``, as stored."""
    session.execute(
        update(LoanAgreement)
        .where(LoanAgreement.loan_id == loan_id, LoanAgreement.docket_id == docket_id)
        .values(signed_storage_key=storage_key, signed_sha256=sha256)
    )


# ---------------------------------------------------------------------------------------------- disbursals
def reserve_disbursal(session: Session, idempotency_key: str, **values: Any) -> Disbursal:
    """The disbursal under ``idempotency_key``, inserted unless it is already there."""
    session.execute(
        insert(Disbursal)
        .values(idempotency_key=idempotency_key, **values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    return session.scalars(select(Disbursal).where(Disbursal.idempotency_key == idempotency_key)).one()


def beneficiary_account(session: Session, customer_id: str, account_id: str | None) -> BankAccount | None:
    """The customer's verified account ``account_id`` (else their verified primary account)."""
    q = select(BankAccount).where(BankAccount.customer_id == customer_id, BankAccount.penny_drop_status == "VERIFIED")
    q = q.where(BankAccount.id == account_id) if account_id else q.where(BankAccount.is_primary)
    return session.scalars(q).first()


def mark_sent(session: Session, disbursal_id: str, at: datetime) -> None:
    """The transfer request is about to leave for the bank (stamped first: a lost answer is asked about, never
    sent blind again)."""
    stamp = update(Disbursal).where(Disbursal.id == disbursal_id, Disbursal.sent_at.is_(None)).values(sent_at=at)
    session.execute(stamp)


def fail_disbursal(session: Session, transfer_id: str, reason: str | None, source: str) -> None:
    """The bank failed the transfer (a settled one stays settled)."""
    session.execute(
        update(Disbursal)
        .where(Disbursal.transfer_id == transfer_id, Disbursal.status != DisbursalStatus.SETTLED)
        .values(status=DisbursalStatus.FAILED, failure_reason=reason, outcome_source=source)
    )


def refuse_disbursal(session: Session, disbursal_id: str, reason: str) -> None:
    """The bank refused the attempt's request outright: FAILED with its words (no transfer exists)."""
    session.execute(
        update(Disbursal)
        .where(Disbursal.id == disbursal_id, Disbursal.transfer_id.is_(None))
        .values(status=DisbursalStatus.FAILED, failure_reason=reason[:500], outcome_source="refused")
    )


def pending_transfers(session: Session) -> list[tuple[Disbursal, str, dict]]:
    """Transfers the bank took and has not settled, with their brand's id and config (oldest first)."""
    rows = session.execute(
        select(Disbursal, Loan.brand_id, Brand.config)
        .join(Loan, Loan.id == Disbursal.loan_id)
        .join(Brand, Brand.id == Loan.brand_id)
        .where(Disbursal.status == DisbursalStatus.PENDING, Disbursal.transfer_id.is_not(None))
        .order_by(Disbursal.created_at)
        .limit(500)
    ).all()
    return [(d, brand_id, config or {}) for d, brand_id, config in rows]


def brand_of(session: Session, brand_id: str) -> Brand:
    return session.get_one(Brand, brand_id)


def set_transfer(session: Session, disbursal_id: str, transfer_id: str) -> None:
    """The bank accepted the transfer: it is pending under the bank's transfer id."""
    session.execute(
        update(Disbursal)
        .where(Disbursal.id == disbursal_id)
        .values(transfer_id=transfer_id, status=DisbursalStatus.PENDING)
    )


def settle_disbursal(session: Session, transfer_id: str, utr: str | None, settled_at: datetime) -> None:
    session.execute(
        update(Disbursal)
        .where(Disbursal.transfer_id == transfer_id)
        .values(status=DisbursalStatus.SETTLED, utr=utr, settled_at=settled_at, failure_reason=None)
    )


# ---------------------------------------------------------------------------------------------- ledger
def post_ledger(
    session: Session, loan_id: str, key: str, txn: ledger.Transaction, value_date: date | None = None
) -> bool:
    """Insert one balanced ledger transaction unless its key was already posted. ``value_date``: the IST date it
    counts from in a ledger as of a date (default: today in IST)."""
    connection = core(session)
    txn_id = connection.execute(
        _INSERT_LEDGER_TXN,
        {"loan_id": loan_id, "kind": txn.kind, "idempotency_key": key, "value_date": value_date or ist_today()},
    ).scalar_one_or_none()
    if txn_id is None:
        return False
    if not txn.legs:  # nothing to post (every ledger builder makes legs; an empty executemany would insert a row)
        return True
    connection.execute(
        _INSERT_LEDGER_ENTRY,
        [{"transaction_id": txn_id, "account": leg.account, "amount": leg.amount} for leg in txn.legs],
    )
    return True


# Built once (Core, on the tables): reused by every posting, with nothing to flush from the session.
_INSERT_LEDGER_TXN = insert_once(LedgerTransaction, "idempotency_key")
_INSERT_LEDGER_ENTRY = insert(table(LedgerEntry))


def ist_today() -> date:
    """Today's date in India (IST, UTC+05:30): the value date of postings made now."""
    return (datetime.now(UTC) + timedelta(hours=5, minutes=30)).date()
