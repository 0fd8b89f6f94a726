"""What the customer KYC and profile routes (``api.web.kyc``) answer."""

from __future__ import annotations

from pydantic import Field

from api.files import KycDocument
from api.responses import ApiModel

REQUESTED = "VERIFICATION_REQUESTED (a loan is in progress: its KYC phase checks it) or SAVED (no loan yet)"


class PersonalDetails(ApiModel):
    """The customer's profile and how far onboarding and verification went."""

    customer_id: str
    phone_number: str = Field(description="10 digits, as registered")
    phone_verified: bool
    pan: str | None
    pan_verified: bool
    pan_name: str | None = Field(description="the name the PAN check returned")
    first_name: str | None
    last_name: str | None
    email: str | None
    date_of_birth: str | None = Field(description="YYYY-MM-DD")
    gender: str | None = Field(description="MALE, FEMALE or OTHER")
    address: str | None
    pincode: str | None = Field(description="6 digits")
    city: str | None
    state: str | None
    aadhaar_masked: str | None = Field(description="the last 4 digits only, e.g. XXXX XXXX 1234")
    aadhaar_verified: bool
    onboarding_step: str = Field(description="REGISTERED, PERSONAL_DETAILS, ...")


class AadhaarStep(ApiModel):
    """The loan's Aadhaar e-KYC moved on."""

    loan_id: str
    status: str = Field(description="OTP_SENT (initiate) or VERIFIED (submit)")


class EmploymentAdded(ApiModel):
    """The employment is on file; its UAN is checked in the loan's KYC phase."""

    employment_id: str
    uan: str | None = Field(description="12 digits")
    verified: bool = Field(description="false: not yet checked")


class UanRequested(ApiModel):
    """The UAN on the latest employment, and what happens next."""

    employment_id: str
    uan: str | None = Field(description="12 digits")
    status: str = Field(description=REQUESTED)


class BankAccountAdded(ApiModel):
    """The bank account is on file (number stored encrypted, shown masked)."""

    account_id: str
    ifsc: str
    account_number_masked: str = Field(description="XXXXXXXX and the last 4 digits")
    is_primary: bool = Field(description="the customer's first account is the primary one")
    penny_drop_status: str = Field(description="PENDING, VERIFIED or FAILED")


class BankVerifyRequested(ApiModel):
    """The penny drop of an account, and what happens next."""

    account_id: str
    penny_drop_status: str = Field(description="PENDING, VERIFIED or FAILED")
    status: str = Field(description=REQUESTED)


class BankAccountView(ApiModel):
    """One of the customer's bank accounts."""

    account_id: str
    ifsc: str
    bank_name: str | None
    account_number_masked: str = Field(description="XXXXXXXX and the last 4 digits")
    beneficiary_name: str | None = Field(description="the account holder's name the penny drop returned")
    name_match_score: str | None = Field(description='0-100 with 2 decimals, e.g. "92.50": beneficiary vs PAN name')
    penny_drop_status: str = Field(description="PENDING, VERIFIED or FAILED")
    is_primary: bool


class StatementUploaded(KycDocument):
    """The stored bank statement (a BANK_STATEMENT document) and what happens next."""

    status: str = Field(
        description="ANALYSIS_REQUESTED (a loan is in progress: its statement analysis reads it) or SAVED"
    )


class MobileVerified(ApiModel):
    """The registered mobile number is verified."""

    phone_number: str
    phone_verified: bool = Field(description="true")


class DigilockerResumed(ApiModel):
    """DigiLocker authorised: the loan's DigiLocker step fetches the documents."""

    loan_id: str
    status: str = Field(description='"DOCUMENTS_REQUESTED"')
    message: str
