"""The demo brand: one fast product, providers pointing at the sandbox, one staff user per role.
Idempotent: re-running refreshes provider URLs and keeps everything else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.security import hash_password
from db.models import Brand, LoanProduct, StaffUser
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


def staff_email(role: str, brand_code: str = "demo") -> str:
    return f"{role.lower().replace('_', '.')}@{brand_code}.example"


def provider_config(sandbox_url: str, secret: str = SANDBOX_SECRET) -> dict[str, Any]:
    def p(vendor: str) -> dict[str, str]:
        return {"vendor": vendor, "base_url": sandbox_url, "api_key": f"sandbox-{vendor}-key", "webhook_secret": secret}

    return {
        "kyc": p("digitap"),
        "bureau": p("cibil"),
        "esign": p("signzy"),
        "disbursal": p("idfc"),
        "payments": p("razorpay"),
        "sms": p("gupshup"),
    }


def seed_brand(
    db: Database,
    sandbox_url: str,
    *,
    code: str = "demo",
    name: str = "Demo Finance",
    period_seconds: int | None = 5,
    esign_expiry_seconds: int = 900,
    password: str = DEMO_PASSWORD,
) -> dict[str, Any]:
    with db.unit_of_work() as session:
        brand = session.scalars(select(Brand).where(Brand.code == code)).first()
        config = {
            "min_credit_score": 650,
            "auto_sanction_score": 750,
            "esign_expiry_seconds": esign_expiry_seconds,
            "providers": provider_config(sandbox_url),
        }
        if brand is None:
            brand = Brand(code=code, name=name, config=config)
            session.add(brand)
            session.flush()
        else:
            brand.config = {**brand.config, "providers": config["providers"]}
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
                session.add(
                    StaffUser(
                        brand_id=brand.id,
                        email=email,
                        name=role.replace("_", " ").title(),
                        role=role,
                        password_hash=hash_password(password),
                    )
                )
            users.append({"role": role, "email": email, "password": password})
        return {"brand_id": brand.id, "brand_code": code, "staff": users}
