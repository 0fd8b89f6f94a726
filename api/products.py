"""A brand's products as the schedule engine sees them (shared by applications and previews)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from db.kfs import brand_holidays, product_terms
from db.models import LoanProduct
from domain.product import HolidayStrategy
from workflows.contracts import LoanTerms


def loan_terms(session: Session, product: LoanProduct, amount: int, tenure: int) -> LoanTerms:
    """The product's options frozen for one loan of ``amount`` paise over ``tenure`` installments (the schedule
    options by ``db.kfs.product_terms``, which the KFS of an existing loan reads them back with)."""
    holidays = brand_holidays(session, product.brand_id, since=date.today())
    return LoanTerms(**product_terms(product, amount, tenure, holidays), **upfront_deductions(product, amount))


def upfront_deductions(product: LoanProduct, amount: int) -> dict:
    """The product's upfront charges on ``amount`` as the disbursal ledger posting needs them."""
    from domain import ledger
    from domain.charges import ChargeKind, KfsHead, charge_config_from_dict, compute_upfront_charges

    charges = compute_upfront_charges(amount, charge_config_from_dict(product.charges))
    third_party: dict[str, int] = {}
    for line in charges.lines:
        if line.kind == ChargeKind.THIRD_PARTY:
            account = (
                ledger.INSURANCE_PREMIUM_PAYABLE if line.kfs_head == KfsHead.INSURANCE else ledger.THIRD_PARTY_PAYABLE
            )
            third_party[account] = third_party.get(account, 0) + line.amount
    return {
        "upfront_fees": charges.lender_fees + charges.other,
        "upfront_fees_gst": charges.gst,
        "third_party": third_party,
        "net_disbursed": charges.net_disbursed,
    }


def preview_for(
    session: Session,
    product: LoanProduct,
    amount: int,
    tenure: int,
    disbursed_on: date,
    *,
    with_kfs: bool = False,
    loan_account_no: str | None = None,
) -> dict:
    """Schedule preview (and optionally the Key Fact Statement) for ``amount`` over ``tenure`` on
    ``product``, as if disbursed on ``disbursed_on``. Bounds are the product's."""
    from domain import rules
    from domain import schedule as engine
    from domain.charges import charge_config_from_dict, compute_upfront_charges
    from domain.kfs import build_kfs
    from domain.preview import schedule_preview

    rules.check_application(
        amount,
        tenure,
        rules.ProductBounds(product.min_amount, product.max_amount, product.min_tenure, product.max_tenure),
    )
    terms = loan_terms(session, product, amount, tenure)
    plan = engine.generate(terms.schedule_terms(disbursed_on))
    config = charge_config_from_dict(product.charges)
    charges = compute_upfront_charges(amount, config)
    out = schedule_preview(plan, charges)
    out["product"] = {
        "code": product.code,
        "name": product.name,
        "annualRateBps": product.annual_rate_bps,
        "repayEvery": product.repay_every,
        "repayUnit": product.repay_unit,
        "interestMethod": product.interest_method,
        "amortization": product.amortization,
        "holidayStrategy": product.holiday_strategy or HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM.value,
    }
    if with_kfs:
        out["kfs"] = build_kfs(
            plan, charges, config=config, loan_account_no=loan_account_no, issued_on=disbursed_on
        ).as_dict()
    return out


def money_in_policy(charges: dict | None, brand: Any, preview: dict, tenure: int) -> dict[str, Any]:
    """The money-in fields of a new loan's ``LoanPolicy``: the product's foreclosure charge and GST rate, the loan's
    APR (from ``preview``), the cooling-off period (the brand's ``cooling_off_days``, never below RBI's floor: 3 days
    for a tenor of 7 days or more, 1 below; ``domain.closure.cooling_off_days``), the reminder lead and the autopay
    retry rule, and the brand's collections rules (``brand``: a ``domain.brand_config.BrandConfig``)."""
    from domain.charges import charge_config_from_dict
    from domain.closure import cooling_off_days

    config = charge_config_from_dict(charges)
    rows = preview.get("installments") or []
    tenor_days = 0
    if rows:
        first = date.fromisoformat(rows[0]["due_date"])
        last = date.fromisoformat(rows[-1]["due_date"])
        tenor_days = (last - first).days + max(1, int(rows[0].get("days") or 0))
    return {
        "foreclosure_percent": str(config.foreclosure_percent) if config.foreclosure_percent is not None else None,
        "gst_percent": str(config.gst_percent),
        "cooling_off_days": cooling_off_days(max(brand.cooling_off_days, config.cooling_off_days), tenor_days),
        "apr": str(preview["apr"]),
        "reminder_days": brand.reminder_days,
        "autopay_retries": brand.autopay_retries,
        "autopay_retry_days": brand.autopay_retry_days,
        # the collections rules the loan is worked by (buckets, roles by bucket; domain.collection_policy)
        "collections": dict(brand.collections) if brand.collections else None,
    }
