"""SQLAlchemy 2 typed models, one module per aggregate. Money is BIGINT paise; timestamps are timezone-aware.

Every model is re-exported here, so ``from db.models import Loan`` works and importing this package registers
every table on ``Base.metadata`` (what Alembic compares against)."""

from db.models.base import NAMING, Base, created, fk, new_id, pk
from db.models.brands import (
    BlocklistEntry,
    Brand,
    BrandApiKey,
    BrandNonRepaymentDate,
    BrandStatusReason,
    EvaluationItem,
    LoanProduct,
)
from db.models.customers import AaConsent, BankAccount, BsaReport, Customer, CustomerDocument, Employment, OtpChallenge
from db.models.ledger import (
    LedgerEntry,
    LedgerTransaction,
    ParkedPayment,
    PaymentLink,
    PaymentTransaction,
    RepaymentInstallment,
)
from db.models.loans import (
    BureauReport,
    CamRecord,
    Disbursal,
    Loan,
    LoanAgreement,
    LoanComment,
    LoanDecision,
    LoanStatusHistory,
    ProviderCall,
)
from db.models.money_in import (
    CustomerMessage,
    Mandate,
    MandateDebit,
    MessageTemplate,
    OfflinePayment,
    PaymentAttempt,
    Refund,
)
from db.models.staff import (
    AuditLog,
    PartnerUnavailabilityDate,
    StaffActivitySession,
    StaffBrandRole,
    StaffLoginLog,
    StaffNotification,
    StaffUser,
)
from db.models.tokens import RefreshToken, RevokedAccessToken
from db.models.webhooks import WebhookEvent

__all__ = [
    "Refund",
    "PaymentAttempt",
    "OfflinePayment",
    "MessageTemplate",
    "MandateDebit",
    "Mandate",
    "CustomerMessage",
    "AaConsent",
    "AuditLog",
    "BankAccount",
    "Base",
    "BlocklistEntry",
    "Brand",
    "BrandApiKey",
    "BrandNonRepaymentDate",
    "BrandStatusReason",
    "BsaReport",
    "BureauReport",
    "CamRecord",
    "Customer",
    "CustomerDocument",
    "Disbursal",
    "Employment",
    "EvaluationItem",
    "LedgerEntry",
    "LedgerTransaction",
    "Loan",
    "LoanAgreement",
    "LoanComment",
    "LoanDecision",
    "LoanProduct",
    "LoanStatusHistory",
    "NAMING",
    "OtpChallenge",
    "ParkedPayment",
    "PartnerUnavailabilityDate",
    "PaymentLink",
    "PaymentTransaction",
    "ProviderCall",
    "RefreshToken",
    "RepaymentInstallment",
    "RevokedAccessToken",
    "StaffActivitySession",
    "StaffBrandRole",
    "StaffLoginLog",
    "StaffNotification",
    "StaffUser",
    "WebhookEvent",
    "created",
    "fk",
    "new_id",
    "pk",
]
