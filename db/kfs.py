"""The Key Fact Statement of an existing loan, and what its agreement carries (RBI KFS circular RBI/2024-25/18,
15 April 2024; RBI (Digital Lending) Directions, 2025).

A loan's terms were frozen at application: the amount, the tenure, the rate and the upfront charges on the loan
row, every other schedule option on its product (``product_terms``: the fields of the workflow's ``LoanTerms``,
built the same way by ``api.products.loan_terms``). ``loan_kfs`` builds the KFS from them as if the loan were
disbursed on a given day, with the brand's disclosures (Annex A part 2) and its validity from the brand's holiday
calendar; a loan booked with a partner lender takes its upfront charges from the accepted offer
(``partner_charges``), so its fee rows, APR and net disbursal are the partner's. ``agreement_context`` is
everything ``activities/templates/agreement.html`` renders, the KFS as its annex with its hash. Both are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Brand,
    BrandNonRepaymentDate,
    Customer,
    Loan,
    LoanProduct,
    LoanStatusHistory,
    PartnerLender,
    PartnerOffer,
)
from domain import product as engine_terms
from domain import schedule as engine
from domain.brand_config import BrandConfig
from domain.charges import (
    ChargeConfig,
    ChargeKind,
    ChargeLine,
    KfsHead,
    UpfrontCharges,
    charge_config_from_dict,
    compute_upfront_charges,
)
from domain.errors import NotFound, ValidationError
from domain.kfs import (
    KeyFactStatement,
    build_kfs,
    disclosures_from_brand,
    kfs_hash,
    kfs_valid_until,
    working_day_calendar,
)
from domain.money import format_inr, to_paise
from domain.partners import PartnerPricing, offer_charges
from domain.product import HolidayStrategy, Schedule

KFS_ACCEPTED = "KFS_ACCEPTED"  # the status-history action of an acceptance (written by the loan's workflow)


# ------------------------------------------------------------------------------------------- frozen terms
def brand_holidays(session: Session, brand_id: str, since: date | None = None) -> list[date]:
    """The brand's non-repayment dates (its holiday calendar), from ``since`` on, in order."""
    query = select(BrandNonRepaymentDate.day).where(BrandNonRepaymentDate.brand_id == brand_id)
    if since is not None:
        query = query.where(BrandNonRepaymentDate.day >= since)
    return sorted(session.scalars(query))


def product_terms(
    product: LoanProduct, amount: int, tenure: int, holidays: list[date], *, annual_rate_bps: int | None = None
) -> dict[str, Any]:
    """The product's schedule options frozen for one loan of ``amount`` paise over ``tenure`` installments: the
    fields of ``workflows.contracts.LoanTerms`` but its upfront deductions. ``annual_rate_bps``: the loan's own
    (frozen at application), else the product's."""
    return {
        "amount": amount,
        "tenure": tenure,
        "annual_rate_bps": product.annual_rate_bps if annual_rate_bps is None else annual_rate_bps,
        "repay_every": product.repay_every,
        "repay_unit": product.repay_unit,
        "period_seconds": product.period_seconds,
        "interest_method": product.interest_method,
        "amortization": product.amortization,
        "interest_calc": product.interest_calc,
        "days_in_year": product.days_in_year,
        "days_in_month": product.days_in_month,
        "in_multiples_of": product.in_multiples_of,
        "grace_principal": product.grace_principal,
        "grace_interest": product.grace_interest,
        "daily_rate": str(product.daily_rate) if product.daily_rate is not None else None,
        "holidays": holidays,
        "holiday_strategy": product.holiday_strategy or HolidayStrategy.NEXT_WORKING_DAY_EXTEND_TERM.value,
    }


def schedule_terms(terms: dict[str, Any], disbursed_on: date) -> engine_terms.LoanTerms:
    """The engine's terms of ``product_terms`` for a loan disbursed on ``disbursed_on``: exactly what
    ``workflows.contracts.LoanTerms.schedule_terms`` makes of the same fields (a unit test holds them equal)."""
    return engine_terms.LoanTerms(
        principal=terms["amount"],
        annual_rate=Decimal(terms["annual_rate_bps"]) / 100,
        installments=terms["tenure"],
        disbursed_on=disbursed_on,
        repay_every=terms["repay_every"],
        frequency=engine_terms.Frequency(terms["repay_unit"]),
        interest_method=engine_terms.InterestMethod(terms["interest_method"]),
        amortization=engine_terms.Amortization(terms["amortization"]),
        interest_calc=engine_terms.InterestCalc(terms["interest_calc"]),
        days_in_year=engine_terms.DaysInYear(terms["days_in_year"]),
        days_in_month=engine_terms.DaysInMonth(terms["days_in_month"]),
        in_multiples_of=terms["in_multiples_of"],
        grace_principal=terms["grace_principal"],
        grace_interest=terms["grace_interest"],
        daily_rate=Decimal(terms["daily_rate"]) if terms["daily_rate"] is not None else None,
        holidays=frozenset(terms["holidays"]),
        holiday_strategy=engine_terms.HolidayStrategy(terms["holiday_strategy"]),
    )


def frozen_charges(loan: Loan, config: ChargeConfig) -> UpfrontCharges:
    """The loan's upfront charges as frozen at application (``loans.upfront_charges``: name, kind, rupee amount,
    basis per line). The product's charges today give the same lines unless they changed since; then the frozen
    lines stand, each under the KFS head of the product's line of that name (``OTHER`` when none). Loans from
    before charges were frozen (no ``net_disbursed``) take the product's charges."""
    current = compute_upfront_charges(loan.amount, config)
    stored = loan.upfront_charges or []
    if loan.net_disbursed is None:
        return current
    same = [(line.name, str(line.kind), line.amount) for line in current.lines] == [
        (line.get("name"), line.get("kind"), to_paise(line.get("amount", "0"))) for line in stored
    ]
    if same:
        return current
    heads = {line.name: line.kfs_head for line in current.lines}
    lines = tuple(
        ChargeLine(
            str(line["name"]),
            ChargeKind(line["kind"]),
            to_paise(line["amount"]),
            heads.get(str(line["name"]), KfsHead.OTHER),
            str(line.get("basis") or ""),
        )
        for line in stored
    )
    return UpfrontCharges(loan.amount, lines, config.gst_percent)


def booked_offer(session: Session, loan_id: str) -> tuple[PartnerOffer, PartnerLender] | None:
    """The partner offer the loan was booked on (status ACCEPTED, latest round) with its partner, or None."""
    row = session.execute(
        select(PartnerOffer, PartnerLender)
        .join(PartnerLender, PartnerLender.id == PartnerOffer.partner_id)
        .where(PartnerOffer.loan_id == loan_id, PartnerOffer.status == "ACCEPTED")
        .order_by(PartnerOffer.round.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def partner_charges(session: Session, loan: Loan, config: ChargeConfig) -> UpfrontCharges | None:
    """The upfront charges of a loan booked with a partner lender, from the accepted offer alone
    (``domain.partners.offer_charges``): the partner's processing fee and its GST, and the pass-through charges the
    offer carried (their lines as frozen on the loan, under the product's KFS heads). None when the loan was not
    booked with a partner: its own frozen charges apply (``frozen_charges``). The lines sum to the offer's
    deductions, so the KFS's fee rows, its APR (RBI KFS circular of 15 April 2024, Annex B) and its net disbursal
    are the offer's."""
    booked = booked_offer(session, loan.id)
    if booked is None:
        return None
    offer, partner = booked
    frozen = frozen_charges(loan, config)
    try:
        gst_percent = PartnerPricing.of(partner.pricing).gst_percent
    except ValidationError:  # a partner's pricing changed to something unreadable: the basis text only
        gst_percent = config.gst_percent
    return offer_charges(
        offer.amount, offer.fees, offer.gst, lender=partner.name,
        third_party=[line for line in frozen.lines if line.kind == ChargeKind.THIRD_PARTY],
        third_party_total=offer.third_party, gst_percent=gst_percent,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- the KFS
def _loan(session: Session, loan_id: str) -> Loan:
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFound("loan not found")
    return loan


def _kfs_of(session: Session, loan: Loan, on: date) -> tuple[KeyFactStatement, Schedule]:
    product = session.get_one(LoanProduct, loan.product_id)
    brand = session.get_one(Brand, loan.brand_id)
    holidays = brand_holidays(session, loan.brand_id, since=on)
    terms = product_terms(product, loan.amount, loan.tenure, holidays, annual_rate_bps=loan.annual_rate_bps)
    plan = engine.generate(schedule_terms(terms, on))
    config = charge_config_from_dict(product.charges)
    term_days = (plan.rows[-1].due_date - on).days
    kfs = build_kfs(
        plan,
        partner_charges(session, loan, config) or frozen_charges(loan, config),
        config=config,
        loan_type=product.name,
        loan_account_no=loan.id,
        disclosures=disclosures_from_brand(BrandConfig.of(brand.config), brand.name),
        issued_on=on,
        valid_until=kfs_valid_until(on, term_days, working_day_calendar(holidays)),
    )
    return kfs, plan


def loan_kfs(session: Session, loan_id: str, on: date) -> tuple[KeyFactStatement, dict[str, Any]]:
    """The KFS of loan ``loan_id`` from its frozen terms, as if disbursed on ``on`` (the IST date it is issued
    on), valid for 3 working days after it (1 for tenors under 7 days) by the brand's holiday calendar, with the
    brand's disclosures; ``loan_account_no`` is the loan id. Answers the statement and its ``as_dict``."""
    kfs, _ = _kfs_of(session, _loan(session, loan_id), on)
    return kfs, kfs.as_dict()


def latest_kfs_acceptance(session: Session, loan_id: str) -> dict[str, Any] | None:
    """The latest KFS acceptance in the loan's status history (action ``KFS_ACCEPTED``): its ``details``
    (``kfsHash``, ``issuedOn``, ``validUntil``, ``acceptedAt``), or None."""
    details = session.scalars(
        select(LoanStatusHistory.details)
        .where(LoanStatusHistory.loan_id == loan_id, LoanStatusHistory.action == KFS_ACCEPTED)
        .order_by(LoanStatusHistory.seq.desc())
        .limit(1)
    ).first()
    return dict(details) if details else None


# ------------------------------------------------------------------------------------------- the agreement
def schedule_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """A schedule's rows as the agreement prints them: amounts in ₹ (``format_inr``), the due date ISO."""
    return [
        {
            "number": r.number,
            "principal": format_inr(r.principal),
            "interest": format_inr(r.interest),
            "total": format_inr(r.total),
            "balance": format_inr(r.balance),
            "due_date": r.due_date.isoformat(),
        }
        for r in rows
    ]


def mask_pan(pan: str | None) -> str:
    """``AB`` + ``XXXXX`` + the last three characters (``ABXXXXX34F``); an empty PAN shows as a dash."""
    return f"{pan[:2]}XXXXX{pan[-3:]}" if pan else "—"


def agreement_context(session: Session, loan_id: str, on: date) -> dict[str, Any]:
    """Everything ``agreement.html`` renders for loan ``loan_id``, generated on ``on`` (IST): the brand (name,
    legal name, logo URL), the borrower (name, phone, masked PAN), the terms and the repayment schedule, the
    sanction conditions, and the KFS as the annex (``kfs``, the dict; ``kfs_hash``, its SHA-256).

    The annexed KFS is the version the borrower accepted: issued on the ``issuedOn`` of the latest
    ``KFS_ACCEPTED`` row of the loan's history (recomputed; ``kfs_hash`` equals the accepted hash unless the
    product, the brand's holidays or its disclosures changed since), else issued on ``on``. The terms and the
    schedule are the annex's."""
    loan = _loan(session, loan_id)
    customer = session.get_one(Customer, loan.customer_id)
    brand = session.get_one(Brand, loan.brand_id)
    config = BrandConfig.of(brand.config)
    accepted = latest_kfs_acceptance(session, loan.id)
    issued_on = date.fromisoformat(accepted["issuedOn"]) if accepted and accepted.get("issuedOn") else on
    kfs, plan = _kfs_of(session, loan, issued_on)
    annex = kfs.as_dict()
    rows = plan.rows
    terms = plan.terms
    return {
        "loan_id": loan.id,
        "generated_on": on.isoformat(),
        "brand_name": brand.name,
        "lender_legal_name": config.lender_legal_name or brand.name,
        "logo_url": config.logo_url or None,
        "partner_name": config.partner_name or None,
        "borrower_name": customer.full_name or "—",
        "phone": customer.phone,
        "pan_masked": mask_pan(customer.pan),
        "amount": format_inr(loan.amount),
        "rate": f"{loan.annual_rate_bps / 100:.2f}",
        "rate_text": kfs.interest_rate_text,
        "tenure": loan.tenure,
        "frequency": f"every {terms.repay_every} {terms.frequency.value.lower()}",
        "repayment_frequency": kfs.repayment_frequency,
        "emi": format_inr(plan.emi),
        "total_interest": format_inr(sum(r.interest for r in rows)),
        "total_payable": format_inr(sum(r.total for r in rows)),
        "net_disbursed": format_inr(kfs.net_disbursed),
        "apr": str(kfs.apr),
        "schedule": schedule_rows(rows),
        "sanction_conditions": loan.sanction_conditions or None,
        "kfs": annex,
        "kfs_hash": kfs_hash(annex),
        "kfs_accepted": accepted,
    }
