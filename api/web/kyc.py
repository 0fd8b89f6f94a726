"""Customer KYC and profile API, /api/v1/web (seed 001): personal details, Aadhaar OTP, mobile
verification, employment, bank account and statement.

Data the customer gives is stored here; verifying it with providers is the loan workflow's KYC phase.
Steps that need the customer's input while a loan is in progress reach its workflow: Aadhaar OTP as
updates (a wrong OTP is refused at once, nothing stored), new data as a ``kyc_input`` signal.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import UpdateBound, call_async, db_session, temporal
from api.guards import GUARDS
from api.security import Principal, current_customer
from api.types import BirthDate, Rupees, Uuid, WorkStartDate, check_joined_after_birth
from api.web.auth import OtpSent
from api.web.kyc_schemas import (
    AadhaarStep,
    BankAccountAdded,
    BankAccountView,
    BankVerifyRequested,
    DigilockerResumed,
    EmploymentAdded,
    MobileVerified,
    PersonalDetails,
    StatementUploaded,
    UanRequested,
)
from api.workflow_calls import customer_update, signal_active_loan
from db import aadhaar_vault
from db.models import BankAccount, Brand, Customer, Employment, Loan
from domain import kyc as kyc_rules
from domain.documents import DocumentType
from domain.errors import NotFound, ValidationError
from domain.money import to_paise
from domain.status import TERMINAL
from workflows.contracts import AadhaarInitiate, AadhaarOtp, KycInput
from workflows.loan import LoanWorkflow

router = APIRouter(prefix="/api/v1/web", tags=["web (customer): KYC and profile"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
Engine = Annotated[Client, Depends(temporal)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PersonalDetailsIn(Strict):
    first_name: str | None = Field(default=None, alias="firstName", min_length=1, max_length=100)
    last_name: str | None = Field(default=None, alias="lastName", max_length=100)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    dob: BirthDate | None = Field(default=None, alias="dateOfBirth")
    gender: str | None = Field(default=None, pattern="^(MALE|FEMALE|OTHER)$")
    address: str | None = Field(default=None, max_length=500)
    pincode: str | None = None
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)


class AadhaarIn(Strict):
    aadhaar_number: str = Field(alias="aadhaarNumber", min_length=12, max_length=14)


class OtpIn(Strict):
    otp: str = Field(pattern=r"^[0-9]{6}$")


class EmploymentIn(Strict):
    employer_name: str = Field(alias="employerName", min_length=2, max_length=200)
    monthly_salary: Rupees = Field(alias="monthlySalary", description="rupees a month")
    uan: str | None = None
    employment_type: str = Field(default="SALARIED", alias="employmentType", pattern="^(SALARIED|SELF_EMPLOYED)$")
    joined_on: WorkStartDate | None = Field(default=None, alias="joinedOn")


class UanIn(Strict):
    uan: str | None = None


class BankAccountIn(Strict):
    account_number: str = Field(alias="accountNumber", min_length=9, max_length=18)
    ifsc: str = Field(min_length=11, max_length=11)
    primary: bool = Field(
        default=False,
        description="make it the account the loan is disbursed to (the first account always is); a new primary "
        "account is verified by penny drop again before any transfer",
    )


class BankVerifyIn(Strict):
    account_id: Uuid | None = Field(default=None, alias="accountId")


def _details(c: Customer) -> dict:
    return {
        "customerId": c.id,
        "phoneNumber": c.phone,
        "phoneVerified": c.phone_verified,
        "pan": c.pan,
        "panVerified": c.pan_verified,
        "panName": c.pan_name,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "email": c.email,
        "dateOfBirth": c.dob.isoformat() if c.dob else None,
        "gender": c.gender,
        "address": c.address,
        "pincode": c.pincode,
        "city": c.city,
        "state": c.state,
        "aadhaarMasked": c.aadhaar_masked,
        "aadhaarVerified": c.aadhaar_verified,
        "onboardingStep": c.onboarding_step,
    }


@router.get("/personal-details", response_model=PersonalDetails)
def personal_details(me: Me, session: Db) -> dict:
    return _details(session.get_one(Customer, me.id))


@router.post("/personal-details/update", response_model=PersonalDetails)
def update_personal_details(body: PersonalDetailsIn, me: Me, session: Db) -> dict:
    customer = session.get_one(Customer, me.id)
    fields = body.model_dump(exclude_unset=True)
    if "pincode" in fields and fields["pincode"] is not None:
        fields["pincode"] = kyc_rules.validate_pincode(fields["pincode"])
    if fields.get("dob") and fields["dob"] >= date.today():
        raise ValidationError("date of birth must be in the past", field="dateOfBirth")
    for name, value in fields.items():
        setattr(customer, name, value)
    if customer.first_name and customer.onboarding_step == "REGISTERED":
        customer.onboarding_step = "PERSONAL_DETAILS"
    return _details(customer)


def _active_loan(session: Session, customer_id: str) -> Loan | None:
    return session.scalars(
        select(Loan).where(Loan.customer_id == customer_id, Loan.status.not_in([s.value for s in TERMINAL]))
    ).first()


@router.post("/kyc/initiate-aadhaar-otp", response_model=AadhaarStep)
def initiate_aadhaar_otp(
    request: Request, body: AadhaarIn, me: Me, session: Db, client: Engine, bound: UpdateBound
) -> dict:
    """Starts Aadhaar e-KYC for the loan in progress: the provider sends an OTP to the Aadhaar-linked mobile.

    The number goes into the Aadhaar Data Vault (``db.aadhaar_vault``: sealed with the field key, purpose
    ``aadhaar``), and the workflow gets only its reference token and the masked number (UIDAI Aadhaar Data Vault
    circular, 2017; Aadhaar (Data Security) Regulations 2016). 422 naming ``aadhaarNumber`` for a malformed number,
    404 ``loan`` without a loan in progress; a refused update removes the vault entry, so nothing stays."""
    from los.crypto import AADHAAR, seal

    try:
        number = kyc_rules.validate_aadhaar(re.sub(r"\s", "", body.aadhaar_number))
    except ValidationError as exc:  # named as the body spells it, as the workflow's own refusals of it are
        raise ValidationError(exc.message, field="aadhaarNumber") from None
    loan = _active_loan(session, me.id)
    if loan is None:
        raise NotFound("apply for a loan first: Aadhaar is verified as part of the application", field="loan")
    masked = kyc_rules.mask_aadhaar(number)
    token = aadhaar_vault.deposit(
        session,
        sealed=seal(request.app.state.settings.field_key(), AADHAAR, number),
        masked=masked,
        brand_id=loan.brand_id,
        customer_id=me.id,
        loan_id=loan.id,
    )
    session.commit()  # the worker's activity reads it from its own connection
    update = AadhaarInitiate(aadhaar_ref=token, aadhaar_masked=masked)
    try:
        result = call_async(
            customer_update, client, loan.workflow_id, LoanWorkflow.aadhaar_initiate, update, timeout=bound
        )
    except Exception:
        aadhaar_vault.discard(session, token)  # refused, expired or unanswered: the customer enters it again
        session.commit()
        raise
    return {"loanId": loan.id, **result}


@router.post("/kyc/submit-aadhaar-otp", response_model=AadhaarStep)
def submit_aadhaar_otp(body: OtpIn, me: Me, session: Db, client: Engine, bound: UpdateBound) -> dict:
    loan = _active_loan(session, me.id)
    if loan is None:
        raise NotFound("no loan in progress", field="loan")
    session.rollback()
    otp = AadhaarOtp(body.otp)
    result = call_async(customer_update, client, loan.workflow_id, LoanWorkflow.aadhaar_submit, otp, timeout=bound)
    return {"loanId": loan.id, **result}


@router.post("/employment/add", status_code=201, response_model=EmploymentAdded)
def add_employment(body: EmploymentIn, me: Me, session: Db, client: Engine) -> dict:
    uan = kyc_rules.validate_uan(body.uan) if body.uan else None
    implausible = check_joined_after_birth(body.joined_on, session.get_one(Customer, me.id).dob)
    if implausible:
        raise ValidationError(implausible, field="joinedOn")
    row = Employment(
        customer_id=me.id,
        employer_name=body.employer_name.strip(),
        monthly_salary=to_paise(body.monthly_salary, "monthlySalary"),
        uan=uan,
        employment_type=body.employment_type,
        joined_on=body.joined_on,
    )
    session.add(row)
    session.flush()
    loan = _active_loan(session, me.id)
    session.commit()
    if loan is not None:
        call_async(signal_active_loan, client, loan.workflow_id, KycInput("EMPLOYMENT", row.id))
    return {"employmentId": row.id, "uan": uan, "verified": False}


@router.post("/employment/verify-uan", response_model=UanRequested)
def verify_uan(body: UanIn, me: Me, session: Db, client: Engine) -> dict:
    """Adds or confirms the UAN on the latest employment; the loan's KYC phase checks it with EPFO."""
    row = session.scalars(
        select(Employment).where(Employment.customer_id == me.id).order_by(Employment.created_at.desc())
    ).first()
    if row is None:
        raise NotFound("add your employment first", field="employment")
    if body.uan:
        row.uan = kyc_rules.validate_uan(body.uan)
    loan = _active_loan(session, me.id)
    session.commit()
    if loan is not None:
        call_async(signal_active_loan, client, loan.workflow_id, KycInput("EMPLOYMENT", row.id))
    return {"employmentId": row.id, "uan": row.uan, "status": "VERIFICATION_REQUESTED" if loan else "SAVED"}


def _masked(account: BankAccount) -> str:
    return "XXXXXXXX" + account.account_last4


@router.post("/bank/add-account", status_code=201, response_model=BankAccountAdded)
def add_bank_account(request: Request, body: BankAccountIn, me: Me, session: Db) -> dict:
    """A bank account for disbursal and penny drop. The number is stored encrypted and shown masked."""
    from los.crypto import BANK_ACCOUNT, fingerprint, seal

    number = kyc_rules.validate_account_number(body.account_number)
    ifsc = kyc_rules.validate_ifsc(body.ifsc)
    key = request.app.state.settings.field_key()
    mark = fingerprint(key, BANK_ACCOUNT, number)
    existing = session.scalars(select(BankAccount).where(BankAccount.customer_id == me.id)).all()
    if any(a.account_fingerprint == mark and a.ifsc == ifsc for a in existing):
        raise ValidationError("this account is already added", field="accountNumber")
    primary = body.primary or not existing
    if primary:
        for other in existing:
            other.is_primary = False
    row = BankAccount(
        customer_id=me.id,
        account_sealed=seal(key, BANK_ACCOUNT, number),
        account_fingerprint=mark,
        account_last4=number[-4:],
        ifsc=ifsc,
        is_primary=primary,
    )
    session.add(row)
    session.flush()
    return {
        "accountId": row.id,
        "ifsc": ifsc,
        "accountNumberMasked": _masked(row),
        "isPrimary": row.is_primary,
        "pennyDropStatus": row.penny_drop_status,
    }


@router.post("/bank/verify", response_model=BankVerifyRequested)
def verify_bank_account(body: BankVerifyIn, me: Me, session: Db, client: Engine) -> dict:
    """Penny drop: ₹1 to the account, beneficiary name matched against the PAN name (in the KYC phase)."""
    query = select(BankAccount).where(BankAccount.customer_id == me.id)
    query = query.where(BankAccount.id == body.account_id) if body.account_id else query.where(BankAccount.is_primary)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound("no such bank account", field="accountId")
    loan = _active_loan(session, me.id)
    session.commit()
    if loan is not None:
        call_async(signal_active_loan, client, loan.workflow_id, KycInput("BANK_ACCOUNT", row.id))
    return {
        "accountId": row.id,
        "pennyDropStatus": row.penny_drop_status,
        "status": "VERIFICATION_REQUESTED" if loan else "SAVED",
    }


@router.get("/bank/accounts", response_model=list[BankAccountView])
def bank_accounts(me: Me, session: Db) -> list[dict]:
    rows = session.scalars(
        select(BankAccount).where(BankAccount.customer_id == me.id).order_by(BankAccount.created_at)
    ).all()
    return [
        {
            "accountId": r.id,
            "ifsc": r.ifsc,
            "bankName": r.bank_name,
            "accountNumberMasked": _masked(r),
            "beneficiaryName": r.beneficiary_name,
            "nameMatchScore": str(r.name_match_score) if r.name_match_score is not None else None,
            "pennyDropStatus": r.penny_drop_status,
            "isPrimary": r.is_primary,
        }
        for r in rows
    ]


@router.post("/bank/upload-statement", status_code=201, response_model=StatementUploaded)
def upload_statement(request: Request, me: Me, session: Db, client: Engine) -> dict:
    """A bank statement (PDF, multipart ``file``, and ``password`` if the PDF is password-protected) for the
    loan's bank-statement analysis step. The password is kept encrypted and used for the analysis only."""
    from api.web.documents import store_upload

    doc = store_upload(request, me, session, DocumentType.BANK_STATEMENT, with_password=True)
    loan = _active_loan(session, me.id)
    session.commit()
    if loan is not None:
        call_async(signal_active_loan, client, loan.workflow_id, KycInput("BANK_STATEMENT", doc["id"]))
    return {**doc, "status": "ANALYSIS_REQUESTED" if loan else "SAVED"}


class VerifyMobileIn(Strict):
    otp: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


@router.post("/kyc/verify-mobile", response_model=OtpSent | MobileVerified)
def verify_mobile(request: Request, body: VerifyMobileIn, me: Me, session: Db) -> dict:
    """Mobile verification: without ``otp`` an OTP goes to the registered number; with it, the number is
    marked verified (same OTP rules as login: 5 minutes, 5 tries, resend throttled)."""
    from api.web.auth import check_otp, send_otp

    customer = session.get_one(Customer, me.id)
    brand = session.get_one(Brand, me.brand_id)
    if body.otp is None:
        return send_otp(request, session, brand, customer)
    check_otp(request, session, customer, body.otp)
    customer.phone_verified = True
    return {"phoneNumber": customer.phone, "phoneVerified": True}


@router.get("/kyc/digilocker/callback", include_in_schema=True, response_model=DigilockerResumed)
def digilocker_callback(
    request: Request, session: Db, client: Engine, code: str | None = None, state: str = "", error: str | None = None
) -> dict:
    """Where DigiLocker sends the customer back (``?code=&state=``): the loan's DigiLocker step resumes.
    ``state`` carries the loan id and a MAC, so a forged callback is refused."""
    import hmac

    from los.crypto import digilocker_state

    loan_id = state.split(".", 1)[0]
    expected = digilocker_state(loan_id, request.app.state.settings.field_key())
    if not hmac.compare_digest(expected.encode(), state.encode()):
        raise ValidationError("unknown or tampered state", field="state")
    if error or not code:
        raise ValidationError(f"DigiLocker did not authorise: {error or 'no code'}", field="code")
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound("loan not found", field="state")
    session.rollback()
    call_async(signal_active_loan, client, loan.workflow_id, KycInput("DIGILOCKER", code))
    return {"loanId": loan.id, "status": "DOCUMENTS_REQUESTED", "message": "You can close this window."}
