"""The demo brand: one fast product, providers pointing at the sandbox, one staff user per role.
Idempotent: re-running refreshes provider URLs and keeps everything else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.security import hash_password
from db.models import Brand, BrandStatusReason, EvaluationItem, LoanProduct, StaffBrandRole, StaffUser
from db.session import Database

ROLES = [
    "SUPER_ADMIN",
    "ADMIN",
    "LOAN_EXECUTIVE",
    "CREDIT_EXECUTIVE",
    "SANCTION_MANAGER",
    "SANCTION_HEAD",
    "COLLECTION_EXECUTIVE",
    "COLLECTION_MANAGER",
    "COLLECTION_HEAD",
]
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed by `los up`, development only
SANDBOX_SECRET = "sandbox-webhook-secret"  # noqa: S105


# Default reasons staff pick from when rejecting or sending a loan back (seed 001 Brand Status Reasons).
STATUS_REASONS = [
    ("POLICY_DECLINE", "Does not meet the credit policy", ["REJECTED"]),
    ("INCOME_INSUFFICIENT", "Income too low for the amount asked", ["REJECTED"]),
    ("BUREAU_ADVERSE", "Adverse credit bureau history", ["REJECTED"]),
    ("FRAUD_SUSPECTED", "Suspected fraud or identity mismatch", ["REJECTED"]),
    ("DOCS_MISSING", "Documents missing or unreadable", ["SEND_BACK", "REJECTED"]),
    ("CAM_INCOMPLETE", "Credit appraisal (CAM) incomplete", ["SEND_BACK"]),
    ("CLARIFICATION", "Needs clarification from the credit executive", ["SEND_BACK"]),
    # an offline payment the checker rejects (docs/money-in.md, "Offline payments and the approval queue")
    ("NOT_IN_STATEMENT", "Not found in the lender's bank statement", ["PAYMENT_REJECTED"]),
    ("AMOUNT_MISMATCH", "Amount differs from what reached the account", ["PAYMENT_REJECTED"]),
    ("PROOF_UNCLEAR", "Proof unreadable or not of this payment", ["PAYMENT_REJECTED"]),
]


def staff_email(role: str, brand_code: str = "demo") -> str:
    return f"{role.lower().replace('_', '.')}@{brand_code}.example"


def sendgrid_key(secret: str) -> str:
    """The sandbox SendGrid's Event Webhook verification key for ``secret`` (its signing key is derived from it)."""
    from sandbox.sendgrid_events import sendgrid_public_key

    return sendgrid_public_key(secret)


def icici_keys() -> dict[str, str]:
    """The sandbox ICICI's corporate ids and the published test key pair (the bank's public key, ours private)."""
    from sandbox import bank_scenarios as icici

    return {
        "aggr_id": "AGGR0001",
        "aggr_name": "SANDBOXLENDER",
        "corp_id": "SANDBOXCORP",
        "user_id": "USER1",
        "urn": "SR0001",
        "debit_account": "000451000301",
        "bank_public_key": icici.public_pem(icici.ICICI_BANK_PRIVATE_PEM),
        "client_private_key": icici.ICICI_CLIENT_PRIVATE_PEM,
    }


def provider_config(sandbox_url: str, secret: str = SANDBOX_SECRET, code: str = "demo") -> dict[str, Any]:
    def p(vendor: str) -> dict[str, str]:
        return {"vendor": vendor, "base_url": sandbox_url, "api_key": f"sandbox-{vendor}-key", "webhook_secret": secret}

    def primary(vendor: str, primary: bool = True) -> dict[str, Any]:
        return {**p(vendor), "primary": primary, "active": True}

    def sms_options() -> dict[str, str]:
        return {
            "sender_id": "DEMOFN",
            "dlt_entity_id": "1101000000000000001",
            "default_dlt_template_id": "1107000000000000001",
        }

    sender = {"from_email": "loans@demo-finance.example", "from_name": "Demo Finance"}

    return {
        # PAN, Aadhaar and mobile checks at Digitap; DigiLocker's operations only DigiLocker offers
        "kyc": [primary("digitap"), primary("digilocker", False)],
        "ckyc": p("digitap"),
        # several vendors: the primary is tried first, the next takes over when it keeps failing
        "bureau": [primary("cibil"), primary("equifax", False)],
        "pennydrop": [primary("razorpay"), primary("cashfree", False)],
        "employment": p("digitap"),
        "bsa": [primary("cart"), primary("finbox", False), primary("scoreme", False)],
        "aa": [primary("finduit"), primary("cart", False)],
        "sme": [primary("karza"), primary("perfios", False), primary("crif", False)],  # invoice financing
        # the primary opens dockets; the other takes over when it is down
        "esign": [
            {**primary("signzy"), "customer_id": "demo-lender"},
            {**primary("signdesk", False), "application_id": "demo-lender-app", "environment": "sandbox"},
        ],
        # the primary bank sends transfers; a transfer is only ever asked about at the bank that took it
        "disbursal": [
            {**primary("idfc"), "account_number": "7878780080316316", "timeout_seconds": 5},
            {**primary("icici", False), **icici_keys()},
        ],
        # the primary gateway makes the payment links; the next takes over when it is down (each payment comes back
        # by the webhook of the gateway that made its link). Cashfree: api_key is the client secret, which also
        # signs its webhooks; Paytring: api_key is the key, webhook_secret its API secret (requests and callbacks).
        "payments": [
            primary("razorpay"),
            {**primary("cashfree", False), "client_id": "CF-DEMO-APP-01", "api_version": "2025-01-01"},
            primary("paytring", False),
        ],
        # SMS: the sender id (header), DLT principal entity id and a DLT template id for texts without a template
        # of their own (the OTP) — the sandbox's; a brand registers its own on a DLT platform
        "sms": [
            {**primary("gupshup"), **sms_options(), "userid": "2000123456"},
            {**primary("msg91", False), **sms_options(), "template_ids": {}},
            {**primary("nimbusit", False), **sms_options(), "userid": "demofinance"},
        ],
        "email": [
            {**primary("sendgrid"), **sender, "event_webhook_public_key": sendgrid_key(secret)},
            {**primary("brevo", False), **sender},
            {**primary("zepto", False), **sender},
        ],
        "whatsapp": [{**primary("aisensy"), "source": "loan"}],
        # click-to-call (docs/dialer.md): Acefone bridges the agent's extension and the customer; Stringee takes
        # over when Acefone is down. Each collector's extension is an option named after their email.
        "dialer": [
            {
                **primary("acefone"),
                "caller_id": "8062451617",
                **{f"extension.{staff_email(role, code)}": ext for role, ext in DIALER_EXTENSIONS.items()},
            },
            {**primary("stringee", False), "api_key_sid": "SK.0.demo", "from_number": "8062450000"},
        ],
    }


#: the demo staff's dialer extensions (the collection roles, and loan ops who call about documents)
DIALER_EXTENSIONS = {"COLLECTION_EXECUTIVE": "1001", "COLLECTION_MANAGER": "1002", "COLLECTION_HEAD": "1003"}

FULL_KYC = ["PAN", "AADHAAR", "MOBILE", "CKYC", "BANK_ACCOUNT", "EMPLOYMENT", "BANK_STATEMENT"]
DEMO_EVALUATION = [  # (name, metric, comparator, threshold, weight, hard reject)
    ("Bureau score at or above minimum", "bureau.score", ">=", "650", 3, True),
    ("Bureau score at or above 750", "bureau.score", ">=", "750", 3, False),
    ("Bank account holder matches PAN", "kyc.bank_name_match", ">=", "80", 1, False),
    ("Employment verified with EPFO", "kyc.employment_verified", "==", "true", 1, False),
    ("Average salary credit at least ₹25,000", "kyc.bsa_avg_salary", ">=", "2500000", 2, False),
]


def seed_brand(
    db: Database,
    sandbox_url: str,
    *,
    code: str = "demo",
    name: str = "Demo Finance",
    period_seconds: int | None = 5,
    esign_expiry_seconds: int = 900,
    password: str = DEMO_PASSWORD,
    kyc_steps: list[str] | None = None,
) -> dict[str, Any]:
    """``kyc_steps`` None keeps the brand's KYC to the PAN check (tests of other stages use that);
    `los up` seeds the demo brand with the full pipeline, BRE rules and evaluation items."""
    with db.unit_of_work() as session:
        brand = session.scalars(select(Brand).where(Brand.code == code)).first()
        config = {
            "min_credit_score": 650,
            "auto_sanction_score": 750,
            "esign_expiry_seconds": esign_expiry_seconds,
            "providers": provider_config(sandbox_url, code=code),
            "kyc_steps": kyc_steps or ["PAN"],
            "kyc_timeout_seconds": 3600,
            "name_match_threshold": 80,
            # demo brands: a transfer with no bank callback after 5 s is asked about at the next reconciler run
            "transfer_sla_seconds": 5,
        }
        if kyc_steps:
            config.update(
                {
                    "bre": {
                        "min_bureau_score": 650,
                        "max_dpd": 30,
                        "dpd_lookback_months": 12,
                        "max_active_loans": 5,
                        "max_enquiries_30d": 6,
                        "min_age": 21,
                        "max_age": 60,
                        "salary_threshold": 15_000_00,
                        "rejection_duration_days": 30,
                    },
                    "evaluation_version": "V1",
                    "auto_sanction_threshold": 80,
                    "manual_review_threshold": 50,
                    "allocation_role": "CREDIT_EXECUTIVE",
                    "allocation_cap": 25,
                }
            )
        if brand is None:
            brand = Brand(code=code, name=name, config=config)
            session.add(brand)
            session.flush()
        else:
            brand.config = {**brand.config, "providers": config["providers"]}
        if kyc_steps and not session.scalars(select(EvaluationItem).where(EvaluationItem.brand_id == brand.id)).first():
            for item_name, metric, comparator, threshold, weight, hard in DEMO_EVALUATION:
                session.add(
                    EvaluationItem(
                        brand_id=brand.id,
                        version="V1",
                        name=item_name,
                        metric=metric,
                        comparator=comparator,
                        threshold=threshold,
                        weight=weight,
                        hard_reject=hard,
                    )
                )
        products = {
            "DEMO-FAST": dict(
                name="Demo personal loan (each month lasts a few seconds)",
                period_seconds=period_seconds,
                charges={
                    "upfront": [{"name": "Processing fee", "percent": "1", "kfs_head": "PROCESSING_FEE"}],
                    "penal": {"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00},
                },
            ),
            "PL-MONTHLY": dict(
                name="Personal loan, monthly EMI",
                period_seconds=None,
                charges={
                    "upfront": [
                        {"name": "Processing fee", "percent": "2", "minimum": 500_00, "kfs_head": "PROCESSING_FEE"},
                        {
                            "name": "Credit life insurance",
                            "kind": "THIRD_PARTY",
                            "flat": 300_00,
                            "kfs_head": "INSURANCE",
                        },
                    ],
                    "penal": {"basis": "PERCENT_PER_ANNUM", "annual_percent": "24"},
                    "bounce_charge": 500_00,
                    "foreclosure_percent": "2",
                },
            ),
        }
        for pcode, extra in products.items():
            if (
                session.scalars(
                    select(LoanProduct).where(LoanProduct.brand_id == brand.id, LoanProduct.code == pcode)
                ).first()
                is None
            ):
                session.add(
                    LoanProduct(
                        brand_id=brand.id,
                        code=pcode,
                        min_amount=5_000_00,
                        max_amount=5_00_000_00,
                        min_tenure=1,
                        max_tenure=24,
                        annual_rate_bps=2400,
                        repay_every=1,
                        repay_unit="MONTHS",
                        **extra,
                    )
                )
        users = []
        for role in ROLES:
            email = staff_email(role, code)
            user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
            if user is None:
                user = StaffUser(
                    brand_id=brand.id,
                    email=email,
                    name=role.replace("_", " ").title(),
                    role=role,
                    password_hash=hash_password(password),
                )
                session.add(user)
                session.flush()
                session.add(StaffBrandRole(staff_id=user.id, brand_id=brand.id, role=role))
            users.append({"role": role, "email": email, "password": password, "id": user.id})
        if not session.scalars(select(BrandStatusReason).where(BrandStatusReason.brand_id == brand.id)).first():
            for reason_code, label, statuses in STATUS_REASONS:
                session.add(BrandStatusReason(brand_id=brand.id, code=reason_code, label=label, statuses=statuses))
        return {"brand_id": brand.id, "brand_code": code, "staff": users}


#: Vendors that send delivery reports, and whether their registered URL carries the token (they sign nothing).
DELIVERY_REPORTS = {"gupshup": True, "msg91": True, "brevo": False, "zepto": False, "sendgrid": False}


def register_delivery_reports(sandbox_url: str, api_url: str, brand_id: str, secret: str = SANDBOX_SECRET) -> None:
    """Tell the sandbox's messaging vendors where the brand's delivery reports go, as a lender registers the URL in
    each vendor's panel (``/api/v1/webhooks/{brandId}/{vendor}``; Gupshup's and MSG91's with ``?token=``, since
    they sign nothing). Best effort: a sandbox that is not up yet only means reports stay unsent."""
    import httpx

    base = api_url.rstrip("/")
    try:
        with httpx.Client(timeout=5) as http:
            for vendor, token in DELIVERY_REPORTS.items():
                url = f"{base}/api/v1/webhooks/{brand_id}/{vendor}" + (f"?token={secret}" if token else "")
                http.put(f"{sandbox_url.rstrip('/')}/_messaging/webhooks/{vendor}", json={"url": url})
    except httpx.HTTPError:
        pass


def register_dialer_webhooks(sandbox_url: str, api_url: str, brand_id: str) -> None:
    """Tell the sandbox's dialers (Acefone, Stringee) where the brand's call events go, as a lender sets it in each
    vendor's panel (``/api/v1/webhooks/{brandId}/{vendor}``). Best effort, like :func:`register_delivery_reports`."""
    import httpx

    base = api_url.rstrip("/")
    try:
        with httpx.Client(timeout=5) as http:
            for vendor in ("acefone", "stringee"):
                url = f"{base}/api/v1/webhooks/{brand_id}/{vendor}"
                http.put(f"{sandbox_url.rstrip('/')}/_dialer/webhooks/{vendor}", json={"url": url})
    except httpx.HTTPError:
        pass
