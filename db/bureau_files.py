"""Bureau (CIC) submission files in the database: the brand's loans read as accounts, the file built once per brand
and reference date (``domain.cic`` decides what goes in and writes the TUDF text), the CIC's rejections recorded
and carried into the next file. Every function works in the caller's transaction; money is paise, dates IST.
docs/bureau-reporting.md.

A brand reports when its config has ``bureau_reporting.enabled``; the member code and short name the CIC issued
are ``bureau_reporting.memberCode`` and ``memberShortName`` (default: the brand's name), the account type
``accountType`` (default ``05``, personal loan).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.collections import overdue_paise
from db.models import (
    Brand,
    BureauFile,
    BureauFileRecord,
    Customer,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanProduct,
    PaymentTransaction,
    RepaymentInstallment,
    Settlement,
)
from domain import cic
from domain.errors import Conflict, NotFound, ValidationError
from domain.ledger.accounts import LOAN_PRINCIPAL

IST = timezone(timedelta(hours=5, minutes=30), "IST")
VALIDATED = "VALIDATED"
VALIDATION_FAILED = "VALIDATION_FAILED"
SUBMITTED = "SUBMITTED"
REJECTED_RECORDS = "REJECTED_RECORDS"
STATUSES = (VALIDATED, VALIDATION_FAILED, SUBMITTED, REJECTED_RECORDS)
REPORTED_STATUSES = ("DISBURSED", "OVERDUE", "OVERPAID", "COMPLETED", "SETTLED", "WRITTEN_OFF", "CANCELLED")
CLOSED_STATUSES = frozenset({"COMPLETED", "SETTLED", "WRITTEN_OFF", "CANCELLED"})
FREQUENCY = {("MONTHS", 1): "MONTHLY", ("MONTHS", 3): "QUARTERLY", ("WEEKS", 1): "WEEKLY",
             ("WEEKS", 2): "FORTNIGHTLY", ("DAYS", 1): "DAILY"}  # fmt: skip


@dataclass(frozen=True)
class ReportingConfig:
    enabled: bool
    member_code: str
    member_short_name: str
    account_type: str

    @classmethod
    def of(cls, brand: Brand) -> ReportingConfig:
        raw = (brand.config or {}).get("bureau_reporting") or {}
        if not isinstance(raw, Mapping):
            raw = {}
        return cls(
            enabled=bool(raw.get("enabled")),
            member_code=str(raw.get("memberCode") or raw.get("member_code") or ""),
            member_short_name=str(raw.get("memberShortName") or raw.get("member_short_name") or brand.name)[:16],
            account_type=str(raw.get("accountType") or raw.get("account_type") or "05"),
        )


def ist_date(value: datetime | None) -> date | None:
    return value.astimezone(IST).date() if value is not None else None


def end_of(day: date) -> datetime:
    """00:00 IST of the day after ``day``: what happened "on or before" ``day`` is before it."""
    return datetime.combine(day + timedelta(days=1), time.min, IST)


def reporting_brands(session: Session) -> list[str]:
    """Active brands with bureau reporting on, oldest first."""
    brands = session.scalars(select(Brand).where(Brand.is_active.is_(True)).order_by(Brand.created_at, Brand.id))
    return [b.id for b in brands if ReportingConfig.of(b).enabled]


# ------------------------------------------------------------------------------------------- accounts
def _by_loan(session: Session, stmt: Any) -> dict[str, Any]:
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in session.execute(stmt)}


def load_accounts(
    session: Session, brand_id: str, reference: date, config: ReportingConfig
) -> tuple[list[cic.Account], dict[str, cic.AccountRecord]]:
    """The brand's disbursed loans as accounts (for the selection) and as records (for the file) as on
    ``reference``, in disbursal order. The state is the loan's as the file is built (after the reference date's
    day-end); payments count up to the end of ``reference``."""
    cut = end_of(reference)
    rows = session.execute(
        select(Loan, Customer, LoanProduct, overdue_paise(Loan.id).label("overdue"))
        .join(Customer, Customer.id == Loan.customer_id)
        .join(LoanProduct, LoanProduct.id == Loan.product_id)
        .where(
            Loan.brand_id == brand_id,
            Loan.disbursed_at.is_not(None),
            Loan.disbursed_at < cut,
            Loan.status.in_(REPORTED_STATUSES),
        )
        .order_by(Loan.disbursed_at, Loan.id)
    ).all()
    ids = [r[0].id for r in rows]
    if not ids:
        return [], {}
    pay = PaymentTransaction
    last_paid = (
        select(pay.loan_id, pay.collected_at, pay.amount)
        .ext(distinct_on(pay.loan_id))
        .where(pay.loan_id.in_(ids), pay.status == "SUCCESS", pay.collected_at < cut)
        .order_by(pay.loan_id, pay.collected_at.desc())
    )
    payments = _by_loan(session, last_paid)
    emi = _by_loan(
        session,
        select(RepaymentInstallment.loan_id, RepaymentInstallment.total)
        .ext(distinct_on(RepaymentInstallment.loan_id))
        .where(RepaymentInstallment.loan_id.in_(ids))
        .order_by(RepaymentInstallment.loan_id, RepaymentInstallment.installment_no),
    )
    wo_total = _by_loan(
        session,
        select(LedgerTransaction.loan_id, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.loan_id.in_(ids), LedgerTransaction.kind == "WRITE_OFF", LedgerEntry.amount > 0)
        .group_by(LedgerTransaction.loan_id),
    )
    wo_principal = _by_loan(
        session,
        select(LedgerTransaction.loan_id, -func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(
            LedgerTransaction.loan_id.in_(ids),
            LedgerTransaction.kind == "WRITE_OFF",
            LedgerEntry.account == LOAN_PRINCIPAL,
        )
        .group_by(LedgerTransaction.loan_id),
    )
    settled = _by_loan(
        session,
        select(Settlement.loan_id, func.sum(Settlement.amount))
        .where(Settlement.loan_id.in_(ids), Settlement.status == "PAID")
        .group_by(Settlement.loan_id),
    )
    accounts: list[cic.Account] = []
    records: dict[str, cic.AccountRecord] = {}
    for loan, customer, product, overdue in rows:
        opened = ist_date(loan.disbursed_at)
        assert opened is not None
        terminal = loan.status in CLOSED_STATUSES
        closed_on = ist_date(loan.closed_at) if terminal else None
        extra: tuple[str, ...] = ()
        if terminal and closed_on is None:
            extra = (f"the loan is {loan.status} but has no closure date",)
        closed_by_ref = closed_on is not None and closed_on <= reference
        state = cic.Snapshot(
            status=loan.status,
            asset_class=loan.asset_class,
            dpd_bucket=cic.dpd_bucket(loan.dpd),
            bureau_flag=loan.bureau_flag,
            closed=closed_by_ref,
        )
        accounts.append(cic.Account(loan.id, opened, closed_on, state))
        paid = payments.get(loan.id)
        records[loan.id] = cic.AccountRecord(
            loan_id=loan.id,
            member_code=config.member_code,
            member_short_name=config.member_short_name,
            reported_on=reference,
            name=customer.pan_name
            or customer.full_name
            or " ".join(p for p in (customer.first_name, customer.last_name) if p)
            or None,
            dob=customer.dob,
            gender=customer.gender,
            pan=customer.pan,
            ckyc=customer.ckyc_number,
            phone=customer.phone,
            email=customer.email,
            address=customer.address,
            state=customer.state,
            pincode=customer.pincode,
            opened_on=opened,
            sanctioned=loan.amount,
            balance=0 if closed_by_ref and loan.bureau_flag is None else max(loan.outstanding_principal, 0),
            overdue=int(overdue or 0),
            dpd=loan.dpd,
            asset_class=loan.asset_class,
            npa_since=loan.asset_class_since if loan.asset_class == "NPA" else None,
            last_payment_on=ist_date(paid[0]) if paid else None,
            last_payment=int(paid[1]) if paid else None,
            closed_on=closed_on,
            bureau_flag=loan.bureau_flag,
            written_off_total=int(wo_total[loan.id]) if loan.id in wo_total else None,
            written_off_principal=int(wo_principal[loan.id]) if loan.id in wo_principal else None,
            settlement_amount=int(settled[loan.id]) if loan.id in settled else None,
            rate_bps=loan.annual_rate_bps,
            tenure=loan.tenure,
            emi=int(emi[loan.id]) if loan.id in emi else None,
            frequency=FREQUENCY.get((product.repay_unit, product.repay_every)),
            account_type=config.account_type,
            extra_errors=extra,
        )
    return accounts, records


def reported_before(session: Session, brand_id: str, reference: date) -> dict[str, cic.Snapshot]:
    """Loan id → the state the latest file before ``reference`` reported of it."""
    r = BureauFileRecord
    stmt = (
        select(r.loan_id, r.snapshot)
        .ext(distinct_on(r.loan_id))
        .where(r.brand_id == brand_id, r.reference_date < reference)
        .order_by(r.loan_id, r.reference_date.desc())
    )
    return {loan_id: cic.Snapshot.of(snap) for loan_id, snap in session.execute(stmt)}


def to_resubmit(session: Session, brand_id: str, reference: date) -> list[BureauFileRecord]:
    """The records of earlier files the CIC rejected and no later file has carried yet."""
    r = BureauFileRecord
    return list(
        session.scalars(
            select(r)
            .where(r.brand_id == brand_id, r.resubmit.is_(True), r.reference_date < reference)
            .order_by(r.reference_date, r.id)
        )
    )


# ------------------------------------------------------------------------------------------- building
def find_file(session: Session, brand_id: str, file_id: str, *, lock: bool = False) -> BureauFile:
    row = session.get(BureauFile, file_id, with_for_update=lock)
    if row is None or row.brand_id != brand_id:
        raise NotFound("bureau file not found")
    return row


def build_file(
    session: Session,
    brand_id: str,
    reference: date,
    *,
    kind: str | None = None,
    created_by: str | None = None,
    rebuild: bool = False,
) -> tuple[BureauFile, bool]:
    """The brand's file as on ``reference``, built unless there is one already (then it is returned as it is, and
    ``False``): the accounts ``domain.cic`` selects (incremental or full by the date), rendered in TUDF, validated,
    stored with a record per account; rejected records of earlier files are carried into it. ``rebuild`` builds
    again a file not yet submitted (after its errors were fixed at the source)."""
    found = cic.kind_of(reference)
    if found is None or (kind is not None and kind != found):
        cic.calendar.check_reference_date(reference, kind or cic.INCREMENTAL)
    assert found is not None
    kind = found
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    existing = session.scalar(
        select(BureauFile)
        .where(BureauFile.brand_id == brand_id, BureauFile.reference_date == reference)
        .with_for_update()
    )
    if existing is not None and not rebuild:
        return existing, False
    if existing is not None:
        if existing.status in (SUBMITTED, REJECTED_RECORDS):
            raise Conflict("the file was submitted: it cannot be built again; corrections go with the next file")
        _forget(session, existing)
    config = ReportingConfig.of(brand)
    accounts, records = load_accounts(session, brand_id, reference, config)
    again = to_resubmit(session, brand_id, reference)
    again_ids = [r.loan_id for r in again]
    if kind == cic.FULL:
        chosen = cic.select_full(accounts, cic.previous_full_date(reference), reference, again_ids)
    else:
        chosen = cic.select_incremental(
            accounts, cic.previous_reference_date(reference), reference, reported_before(session, brand_id, reference),
            again_ids,
        )  # fmt: skip
    chosen = [loan_id for loan_id in chosen if loan_id in records]
    header = cic.Header(config.member_code, config.member_short_name, reference)
    header_errors = [e.as_dict() for e in cic.validate_header(header)]
    errors = {loan_id: [e.as_dict() for e in cic.validate_record(records[loan_id])] for loan_id in chosen}
    invalid = sum(1 for e in errors.values() if e)
    row = existing or BureauFile(brand_id=brand_id, reference_date=reference)
    row.kind = kind
    row.due_date = cic.due_date(kind, reference)
    row.status = VALIDATION_FAILED if invalid or header_errors else VALIDATED
    row.format = "TUDF"
    row.records = len(chosen)
    row.invalid_records = invalid
    row.rejected_records = 0
    row.header_errors = header_errors
    row.content = cic.render_file(header, (records[loan_id] for loan_id in chosen))
    row.created_by = created_by
    row.updated_at = datetime.now(UTC)
    by_account = {a.loan_id: a for a in accounts}
    if existing is None:
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # built meanwhile by another run
            other = session.scalar(
                select(BureauFile).where(BureauFile.brand_id == brand_id, BureauFile.reference_date == reference)
            )
            assert other is not None
            return other, False
    carried = 0
    chosen_set = set(chosen)
    for old in again:
        if old.loan_id in chosen_set:
            old.resubmit = False
            old.resubmitted_in = row.id
            carried += 1
    row.resubmitted_records = carried
    for loan_id in chosen:
        session.add(
            BureauFileRecord(
                file_id=row.id,
                brand_id=brand_id,
                loan_id=loan_id,
                account_number=cic.account_number(loan_id),
                reference_date=reference,
                snapshot=by_account[loan_id].state.as_dict(),
                errors=errors[loan_id],
            )
        )
    session.flush()
    return row, True


def _forget(session: Session, row: BureauFile) -> None:
    """Undo a file not yet submitted before it is built again: the rejections it carried wait again, its records
    go."""
    session.execute(
        update(BureauFileRecord)
        .where(BureauFileRecord.resubmitted_in == row.id)
        .values(resubmit=True, resubmitted_in=None)
    )
    for rec in session.scalars(select(BureauFileRecord).where(BureauFileRecord.file_id == row.id)):
        session.delete(rec)
    session.flush()


# ------------------------------------------------------------------------------------------- after building
def list_files(session: Session, brand_id: str, limit: int = 100, offset: int = 0) -> tuple[list[BureauFile], int]:
    base = select(BureauFile).where(BureauFile.brand_id == brand_id)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(BureauFile.reference_date.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def file_records(session: Session, file_id: str) -> list[BureauFileRecord]:
    return list(
        session.scalars(
            select(BureauFileRecord).where(BureauFileRecord.file_id == file_id).order_by(BureauFileRecord.created_at,
                                                                                            BureauFileRecord.id)
        )
    )  # fmt: skip


@dataclass(frozen=True)
class Rejection:
    account_number: str | None
    loan_id: str | None
    reason: str


def record_rejections(session: Session, row: BureauFile, rejections: Iterable[Rejection]) -> list[BureauFileRecord]:
    """Mark the records the CIC rejected (by account number or loan id) with the reason, for resubmission with the
    next file. Every one must be a record of this file (else ``ValidationError`` naming it); the file must have
    been submitted. Returns the records marked."""
    if row.status not in (SUBMITTED, REJECTED_RECORDS):
        raise Conflict("only a submitted file has records the bureau rejected: mark it submitted first")
    records = {r.loan_id: r for r in file_records(session, row.id)}
    marked: list[BureauFileRecord] = []
    now = datetime.now(UTC)
    for i, rej in enumerate(rejections):
        if rej.account_number:
            loan_id = cic.loan_id_of_account(rej.account_number)
            where = f"records[{i}].accountNumber"
        else:
            loan_id = rej.loan_id
            where = f"records[{i}].loanId"
        rec = records.get(loan_id or "")
        if rec is None:
            raise ValidationError("is not an account of this file", field=where)
        if not rej.reason.strip():
            raise ValidationError("the bureau's reason is needed", field=f"records[{i}].reason")
        rec.rejection_reason = rej.reason.strip()
        rec.rejected_at = now
        if rec.resubmitted_in is None:
            rec.resubmit = True
        marked.append(rec)
    row.rejected_records = sum(1 for r in records.values() if r.rejection_reason)
    row.status = REJECTED_RECORDS
    row.updated_at = now
    session.flush()
    return marked


def mark_submitted(session: Session, row: BureauFile, staff_id: str | None) -> bool:
    """The file was sent to the CICs. Only a validated file can be; marking one already submitted changes
    nothing (``False``)."""
    if row.status in (SUBMITTED, REJECTED_RECORDS):
        return False
    if row.status != VALIDATED:
        raise Conflict("the file has validation errors: fix them at the source and build it again")
    row.status = SUBMITTED
    row.submitted_at = datetime.now(UTC)
    row.submitted_by = staff_id
    row.updated_at = row.submitted_at
    session.flush()
    return True


def today_ist() -> date:
    return datetime.now(IST).date()
