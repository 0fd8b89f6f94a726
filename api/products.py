"""A brand's products as the schedule engine sees them (shared by applications and previews)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import BrandNonRepaymentDate, LoanProduct
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
    )
