"""SQLAlchemy 2 typed models, one module per aggregate. Money is BIGINT paise; timestamps are timezone-aware.

Every model is re-exported here, so ``from db.models import Loan`` works and importing this package registers
every table on ``Base.metadata`` (what Alembic compares against)."""

from db.models.aadhaar import AadhaarVaultEntry  # noqa: F401  (the Aadhaar Data Vault)
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
from db.models.bureau_files import BureauFile, BureauFileRecord
from db.models.colending import *  # noqa: F403  (co-lending: db/models/colending.py, its __all__)
from db.models.collections import (
    ClosureCertificate,
    CollectionAllocation,
    CollectionFollowUp,
    CollectorProfile,
    DialerCall,
    DialerCallEvent,
    FieldVisit,
    ReloanOffer,
    Restructure,
    Settlement,
    Waiver,
)
from db.models.customers import AaConsent, BankAccount, BsaReport, Customer, CustomerDocument, Employment, OtpChallenge
from db.models.late_money import *  # noqa: F403  (partner disbursal re-sends, SME credit balances)
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
from db.models.numbering import DocumentSequence
from db.models.operations import (
    LeadForm,
    PolicySimulation,
    PolicyVersion,
    StaffReminder,
    StaffReminderLog,
)
from db.models.partners import *  # noqa: F403  (partner lenders: db/models/partners.py, its __all__)
from db.models.portfolio import PortfolioSnapshot
from db.models.sme import *  # noqa: F403  (SME invoice financing: db/models/sme.py, its __all__)
from db.models.sme_refunds import *  # noqa: F403  (refunds of SME credit balances: db/models/sme_refunds.py)
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
    "LeadForm",
    "PolicySimulation",
    "PolicyVersion",
    "StaffReminder",
    "StaffReminderLog",
    "ClosureCertificate",
    "CollectionAllocation",
    "CollectionFollowUp",
    "CollectorProfile",
    "DialerCall",
    "DialerCallEvent",
    "FieldVisit",
    "ReloanOffer",
    "Restructure",
    "Settlement",
    "Waiver",
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
    "BureauFile",
    "BureauFileRecord",
    "BureauReport",
    "CamRecord",
    "Customer",
    "CustomerDocument",
    "Disbursal",
    "Employment",
    "DocumentSequence",
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
    "PortfolioSnapshot",
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
