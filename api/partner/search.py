"""Global search: one box for name, phone, PAN, loan id, UTR and email, with trigram (pg_trgm) fuzzy matching on
names. POST /api/v1/partner/brand/{brandId}/global-search.

What the term looks like decides what is asked (docs/operations.md, "Global search"):

* a phone (10 or more digits, with or without +91, spaces or dashes): its last 10 digits, exactly (digits alone
  are also asked as a bank reference, below: a 12-digit IMPS UTR or UPI RRN reads as a phone with +91);
* a PAN (``ABCDE1234F``, any case): exactly, upper-cased (``ix_customers_brand_pan``);
* an e-mail (has ``@``): exactly, case-insensitive (``ix_customers_brand_email`` on ``lower(email)``);
* a UUID: the loan with that id, or the customer with that id;
* a bank reference (6-40 letters and digits): a loan's disbursal UTR (``ix_loans_brand_utr``; matched on ``utr``) or
  the reference of an offline payment on one of the brand's loans (matched on ``reference``);
* anything with letters: customers whose name (``full_name``) is similar by trigrams (``%`` operator, pg_trgm's
  threshold set to 0.4, ``similarity()`` descending), then, if those do not fill the page, whose name on the PAN
  (``pan_name``) is, each through its GIN ``gin_trgm_ops`` index.

Exact matches come first, then names by similarity. Every query is filtered by the path's brand; PANs are shown
masked (``ABXXXXX34F``), Aadhaar never.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, func, or_, select, text
from sqlalchemy.orm import Session

from api.access import Allow
from api.deps import is_uuid
from api.partner.common import Db, staff_router
from api.responses import ApiModel
from api.security import Principal
from api.types import Whole
from db.kfs import mask_pan
from db.models import Customer, Loan, OfflinePayment
from domain.access import Permission as P

router = staff_router()

PAN = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
REFERENCE = re.compile(r"^[A-Z0-9]{6,40}$")
PHONE_CHARS = re.compile(r"^\+?[0-9][0-9 \-]{8,18}$")
# pg_trgm's threshold for ``%`` in this transaction (its default 0.3 lets a common surname alone match thousands of
# names, each rechecked: bench/search.py); one typo in a name keeps it well above this
SIMILARITY = 0.4


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=2, max_length=100, description="a name, phone, PAN, loan id, UTR or e-mail")
    limit: Whole = Field(default=20, ge=1, le=50, description="at most this many results")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if len(value.strip()) < 2:
            raise ValueError("at least 2 characters besides spaces")
        return value.strip()


class SearchHit(ApiModel):
    """One result: a customer, or a loan with its customer."""

    type: str = Field(description="customer or loan")
    id: str = Field(description="the customer's or the loan's id")
    matched_on: str = Field(
        description="phone, pan, email, customerId, loanId, utr (a disbursal's), reference (an offline payment's), name"
    )
    score: str | None = Field(description="trigram similarity 0-1 of a name match, a decimal string; null if exact")
    customer_id: str
    name: str | None = Field(description="the customer's name (or the name on the PAN)")
    phone: str
    pan_masked: str | None = Field(description="ABXXXXX34F; never the full PAN")
    email: str | None
    customer_status: str = Field(description="ACTIVE, BLOCKED or SUSPENDED")
    loan_id: str | None = Field(description="loans only")
    loan_status: str | None = Field(description="loans only")
    amount_paise: int | None = Field(description="loans only: the amount applied for, paise")
    disbursal_utr: str | None = Field(description="loans only")


class SearchResult(ApiModel):
    query: str = Field(description="the query as asked (a PAN masked)")
    items: list[SearchHit]
    count: int


# ------------------------------------------------------------------------------------------- matching
def phone_digits(term: str) -> str | None:
    """The last 10 digits of a term that reads as a phone number, else None."""
    if not PHONE_CHARS.match(term.strip()):
        return None
    digits = re.sub(r"\D", "", term)
    return digits[-10:] if len(digits) >= 10 else None


def phone_forms(last10: str) -> list[str]:
    """How a number may be stored: 10 digits, or with the country code."""
    return [last10, f"91{last10}", f"+91{last10}", f"0{last10}"]


def exact_customer_match(term: str) -> tuple[ColumnElement[bool], str] | None:
    """The exact condition the term asks for on customers (phone, PAN or e-mail) and its name, or None."""
    term = term.strip()
    if (digits := phone_digits(term)) is not None:
        return Customer.phone.in_(phone_forms(digits)), "phone"
    if PAN.match(term.upper()):
        return Customer.pan == term.upper(), "pan"
    if "@" in term:
        return func.lower(Customer.email) == term.lower(), "email"
    return None


def customer_filter(term: str) -> ColumnElement[bool]:
    """The customer list's ``search``: the exact match the term asks for, or a name like it (trigram)."""
    exact = exact_customer_match(term)
    if exact is not None:
        return exact[0]
    if is_uuid(term.strip()):
        return Customer.id == term.strip()
    name = term.strip()
    return or_(Customer.full_name.ilike(f"%{name}%"), Customer.full_name.op("%")(name))


def _customer_hit(c: Customer, matched_on: str, score: float | None = None) -> dict[str, Any]:
    return {
        "type": "customer",
        "id": c.id,
        "matchedOn": matched_on,
        "score": f"{score:.3f}" if score is not None else None,
        "customerId": c.id,
        "name": c.full_name or c.pan_name,
        "phone": c.phone,
        "panMasked": mask_pan(c.pan) if c.pan else None,
        "email": c.email,
        "customerStatus": c.status,
        "loanId": None,
        "loanStatus": None,
        "amountPaise": None,
        "disbursalUtr": None,
    }


def _loan_hit(loan: Loan, c: Customer, matched_on: str) -> dict[str, Any]:
    return {
        **_customer_hit(c, matched_on),
        "type": "loan",
        "id": loan.id,
        "loanId": loan.id,
        "loanStatus": loan.status,
        "amountPaise": loan.amount,
        "disbursalUtr": loan.disbursal_utr,
    }


def search(session: Session, brand_id: str, term: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` results for ``term`` in brand ``brand_id``: exact matches first, then similar names."""
    term = term.strip()
    hits: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(hit: dict[str, Any]) -> None:
        key = (hit["type"], hit["id"])
        if key not in seen and len(hits) < limit:
            seen.add(key)
            hits.append(hit)

    exact = exact_customer_match(term)
    if exact is not None:
        condition, kind = exact
        for c in session.scalars(
            select(Customer).where(Customer.brand_id == brand_id, condition).order_by(Customer.created_at).limit(limit)
        ):
            add(_customer_hit(c, kind))
    if is_uuid(term):
        loans = _loans(select(Loan, Customer).where(Loan.id == term.lower()), brand_id)
        for loan, c in session.execute(loans):
            add(_loan_hit(loan, c, "loanId"))
        customer = session.get(Customer, term.lower())
        if customer is not None and customer.brand_id == brand_id:
            add(_customer_hit(customer, "customerId"))
    reference = term.upper()
    # also for a term read as a phone: an IMPS UTR and a UPI RRN are 12 digits, as a phone with its country code is
    if (exact is None or exact[1] == "phone") and REFERENCE.match(reference) and any(ch.isdigit() for ch in reference):
        by_utr = select(Loan, Customer).where(Loan.disbursal_utr == reference)
        for loan, c in session.execute(_loans(by_utr, brand_id).limit(limit)):
            add(_loan_hit(loan, c, "utr"))
        paid = select(OfflinePayment.loan_id).where(
            OfflinePayment.brand_id == brand_id, OfflinePayment.reference == reference
        )
        for loan, c in session.execute(_loans(select(Loan, Customer).where(Loan.id.in_(paid)), brand_id).limit(limit)):
            add(_loan_hit(loan, c, "reference"))
    # names: the customer's name first; the name on the PAN only when those do not fill the page
    if exact is None and any(ch.isalpha() for ch in term) and len(hits) < limit:
        session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {SIMILARITY}"))
    for column in (Customer.full_name, Customer.pan_name):
        if exact is None and any(ch.isalpha() for ch in term) and len(hits) < limit:
            for c, score in session.execute(_similar_names(brand_id, term, limit, column)):
                add(_customer_hit(c, "name", float(score)))
    return hits


def _loans(query: Select, brand_id: str) -> Select:
    return query.join(Customer, Customer.id == Loan.customer_id).where(Loan.brand_id == brand_id)


def _similar_names(brand_id: str, term: str, limit: int, column: Any) -> Select:
    """Customers whose ``column`` (``full_name`` or ``pan_name``) is trigram-similar to ``term`` (``%``, a GIN index
    scan), best first. One column per query: an OR of the two makes PostgreSQL scan the table."""
    score = func.similarity(column, term).label("score")
    return (
        select(Customer, score)
        .where(Customer.brand_id == brand_id, column.op("%")(term))
        .order_by(score.desc(), Customer.id)
        .limit(limit)
    )


# ------------------------------------------------------------------------------------------- route
@router.post("/brand/{brand_id}/global-search", response_model=SearchResult)
def global_search(
    brand_id: str,
    body: SearchIn,
    staff: Annotated[Principal, Allow(P.LOANS_VIEW, P.CUSTOMERS_VIEW)],
    session: Db,
) -> dict:
    """One box for name, phone, PAN, loan id, UTR and e-mail in this brand: ``{query, items, count}``, each item
    a customer or a loan (with its customer), PAN masked. Exact matches first, then names by trigram similarity."""
    items = search(session, brand_id, body.query, body.limit)
    shown = mask_pan(body.query.upper()) if PAN.match(body.query.upper()) else body.query  # not even echoed in full
    return {"query": shown, "items": items, "count": len(items)}
