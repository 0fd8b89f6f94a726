"""A brand's products as the schedule engine sees them (shared by applications and previews)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import BrandNonRepaymentDate, LoanProduct
from domain.product import HolidayStrategy
from workflows.contracts import LoanTerms


def brand_holidays(session: Session, brand_id: str, since: date | None = None) -> list[date]:
    query = select(BrandNonRepaymentDate.day).where(BrandNonRepaymentDate.brand_id == brand_id)
    if since is not None:
        query = query.where(BrandNonRepaymentDate.day >= since)
    return sorted(session.scalars(query))


def loan_terms(session: Session, product: LoanProduct, amount: int, tenure: int) -> LoanTerms:
    """The product's options frozen for one loan of ``amount`` paise over ``tenure`` installments."""
    return LoanTerms(
        amount=amount,
        tenure=tenure,
        annual_rate_bps=product.annual_rate_bps,
        repay_every=product.repay_every,
        repay_unit=product.repay_unit,
        period_seconds=product.period_seconds,
        interest_method=product.interest_method,
        amortization=product.amortization,
        interest_calc=product.interest_calc,
        days_in_year=product.days_in_year,
        days_in_month=product.days_in_month,
        in_multiples_of=product.in_multiples_of,
        grace_principal=product.grace_principal,
        grace_interest=product.grace_interest,
        daily_rate=str(product.daily_rate) if product.daily_rate is not None else None,
        holidays=brand_holidays(session, product.brand_id, since=date.today()),
        holiday_strategy=product.holiday_strategy or HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM.value,
        **upfront_deductions(product, amount),
    )


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
