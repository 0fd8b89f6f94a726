"""Customer authentication, /api/v1/web/auth (seed 001): register, login, verify-otp, resend-otp,
refresh-token, logout.

OTPs are 6 digits, valid 5 minutes, stored as a keyed hash, 5 wrong tries at most; a resend is allowed
once a minute and 5 times an hour. Verifying returns an access token and a refresh token (rotated on use).

A customer whose status (``customers.status``, set by staff: docs/operations.md, "Customers") is not ACTIVE is
refused with 403 naming the status, before any OTP is sent, at OTP verification and at a token refresh
(``refuse_inactive``); their loans keep being serviced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.messaging.send import Sender
from api import tokens
from api.deps import call_async, db_session, is_uuid
from api.guards import GUARDS
from api.responses import ApiModel
from api.security import Principal, current_customer, hash_otp, new_otp
from db.models import Brand, Customer, OtpChallenge, new_id
from domain import rules
from domain.brand_config import BrandConfig
from domain.errors import AuthenticationError, NotFound, PermissionDenied, ServiceUnavailable, TooManyRequests

router = APIRouter(prefix="/api/v1/web/auth", tags=["web (customer): auth"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]

OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
RESEND_GAP = timedelta(seconds=60)
RESEND_PER_HOUR = 5
ACTIVE = "ACTIVE"  # the one customers.status that may sign in and apply
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PhoneIn(Strict):
    phone_number: str = Field(alias="phoneNumber", min_length=10, max_length=13)
    brand: str = Field(description="brand id or code", min_length=1, max_length=60)


class RegisterIn(PhoneIn):
    utm: dict[str, str] | None = Field(default=None, description="utm_source, utm_medium, utm_campaign, ...")
    device_id: str | None = Field(default=None, alias="deviceId", max_length=200)


class VerifyOtpIn(PhoneIn):
    otp: str = Field(pattern=r"^[0-9]{6}$")


class RefreshIn(Strict):
    refresh_token: str = Field(alias="refreshToken", min_length=20, max_length=200)


class LogoutIn(Strict):
    refresh_token: str | None = Field(default=None, alias="refreshToken", max_length=200)


class OtpSent(ApiModel):
    """An OTP went to the customer's phone by SMS."""

    message: str = Field(description='"OTP sent"')
    customer_id: str
    expires_in_seconds: int = Field(description="seconds the OTP stays valid (300)")


class CustomerTokens(ApiModel):
    """An access token and the refresh token that renews it (single use: each refresh rotates it)."""

    access_token: str = Field(description="JWT, sent as Authorization: Bearer")
    token_type: str = Field(description='"Bearer"')
    expires_at: str = Field(description="ISO 8601 instant with offset when the access token expires")
    refresh_token: str


class CustomerSignIn(CustomerTokens):
    """The customer is signed in: their tokens, id and brand."""

    customer_id: str
    brand_id: str


class LoggedOut(ApiModel):
    """A short confirmation for people."""

    message: str


def refuse_inactive(customer: Customer, action: str) -> None:
    """Refuse ``action`` (e.g. "sign-in", "a loan application") to a customer whose status is not ACTIVE.

    ``customers.status`` is ACTIVE, SUSPENDED or BLOCKED, set by staff with a reason
    (``POST /api/v1/partner/brand/{brandId}/customers/{userId}/status``). Raises PermissionDenied (403, field
    ``status``) naming the status; the staff's reason is not shown to the customer. Nothing else reads the status:
    the customer's loans keep being serviced (workflow timers, autopay, payment links, offline payments).
    """
    if customer.status != ACTIVE:
        raise PermissionDenied(
            f"this account is {customer.status}: {action} is not allowed; please contact the lender "
            "(repayments of existing loans are still accepted)",
            field="status",
        )


def find_brand(session: Session, ref: str) -> Brand:
    cond = (Brand.code == ref) | (Brand.id == ref) if is_uuid(ref) else Brand.code == ref
    brand = session.scalars(select(Brand).where(cond)).first()
    if brand is None or not brand.is_active:
        raise NotFound(f"brand {ref!r} not found", field="brand")
    return brand


def _customer(session: Session, body: PhoneIn) -> tuple[Brand, str, Customer | None]:
    brand = find_brand(session, body.brand)
    phone = rules.normalise_phone(body.phone_number)
    customer = session.scalars(select(Customer).where(Customer.brand_id == brand.id, Customer.phone == phone)).first()
    return brand, phone, customer


def send_otp(request: Request, session: Session, brand: Brand, customer: Customer) -> dict:
    now = datetime.now(UTC)
    recent = session.scalars(
        select(OtpChallenge.created_at).where(
            OtpChallenge.customer_id == customer.id, OtpChallenge.created_at > now - timedelta(hours=1)
        )
    ).all()
    if recent and max(recent) > now - RESEND_GAP:
        wait = int((max(recent) + RESEND_GAP - now).total_seconds()) + 1
        raise TooManyRequests(f"an OTP was just sent; try again in {wait} s", field="phoneNumber")
    if len(recent) >= RESEND_PER_HOUR:
        raise TooManyRequests("too many OTPs this hour; try again later", field="phoneNumber")
    code = new_otp()
    session.add(
        OtpChallenge(
            customer_id=customer.id,
            code_hash=hash_otp(request.app.state.settings, customer.id, code),
            expires_at=now + OTP_TTL,
        )
    )
    session.flush()
    http: httpx.AsyncClient = request.app.state.http
    text = f"{code} is your {brand.name} verification code. Valid for 5 minutes."
    try:  # with failover across the brand's SMS vendors, logged (without the text) like every message
        status = call_async(Sender(request.app.state.db, http).sms_text, brand, customer.phone, "OTP", text)
    except Exception as exc:  # noqa: BLE001 - nothing is stored: the transaction rolls back
        raise ServiceUnavailable(f"could not send OTP: {exc}") from exc
    if status != "SENT":
        raise ServiceUnavailable("could not send OTP: no SMS vendor took it; try again shortly")
    return {"message": "OTP sent", "customerId": customer.id, "expiresInSeconds": int(OTP_TTL.total_seconds())}


@router.post("/register", status_code=201, response_model=OtpSent)
def register(request: Request, body: RegisterIn, session: Db) -> dict:
    """Create the customer (or find them again) and send an OTP. UTM parameters from the body or the
    query string are kept from the first registration."""
    brand, phone, customer = _customer(session, body)
    utm = {k: v[:200] for k, v in (body.utm or {}).items() if k in UTM_KEYS}
    utm.update({k: v[:200] for k, v in request.query_params.items() if k in UTM_KEYS})
    if customer is None:
        customer = Customer(id=new_id(), brand_id=brand.id, phone=phone, utm=utm, device_id=body.device_id)
        customer.assigned_to = allocate_customer(session, brand)
        session.add(customer)
        session.flush()
    refuse_inactive(customer, "sign-in")
    return send_otp(request, session, brand, customer)


def allocate_customer(session: Session, brand: Brand) -> str | None:
    """A new customer goes to a loan executive of the brand by round robin (seed 001 auto-allocation),
    skipping staff on leave today and those at the brand's workload cap (customers assigned, not yet
    with a loan that closed)."""
    from sqlalchemy import func

    from db.models import PartnerUnavailabilityDate, StaffBrandRole, StaffUser
    from domain import assignment

    config = BrandConfig.of(brand.config)
    role = config.customer_allocation_role
    staff = session.execute(
        select(StaffUser.id, StaffBrandRole.brand_id, StaffBrandRole.role, StaffUser.is_active)
        .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
        .where(StaffBrandRole.brand_id == brand.id, StaffBrandRole.role == role)
    ).all()
    if not staff:
        return None
    today = datetime.now(UTC).date()
    load = dict(
        session.execute(
            select(Customer.assigned_to, func.count())
            .where(Customer.brand_id == brand.id, Customer.assigned_to.is_not(None))
            .group_by(Customer.assigned_to)
        ).all()
    )
    away = set(
        session.scalars(select(PartnerUnavailabilityDate.staff_id).where(PartnerUnavailabilityDate.day == today))
    )
    last = session.scalar(
        select(Customer.assigned_to)
        .where(Customer.brand_id == brand.id, Customer.assigned_to.is_not(None))
        .order_by(Customer.created_at.desc())
        .limit(1)
    )
    picked = assignment.assign(
        [
            assignment.StaffCandidate(
                s.id,
                s.brand_id,
                s.role,
                s.is_active,
                load.get(s.id, 0),
                frozenset({today}) if s.id in away else frozenset(),
            )
            for s in staff
        ],
        brand_id=brand.id,
        role=role,
        on=today,
        last_assigned_id=last,
        cap=config.customer_allocation_cap,
    )
    return picked.staff_id


@router.post("/login", response_model=OtpSent)
def login(request: Request, body: PhoneIn, session: Db) -> dict:
    brand, _, customer = _customer(session, body)
    if customer is None:
        raise NotFound("no customer with this phone number; register first", field="phoneNumber")
    refuse_inactive(customer, "sign-in")
    return send_otp(request, session, brand, customer)


@router.post("/resend-otp", response_model=OtpSent)
def resend_otp(request: Request, body: PhoneIn, session: Db) -> dict:
    return login(request, body, session)


@router.post("/verify-otp", response_model=CustomerSignIn)
def verify_otp(request: Request, body: VerifyOtpIn, session: Db) -> dict:
    brand, _, customer = _customer(session, body)
    if customer is None:
        raise AuthenticationError("invalid OTP")
    refuse_inactive(customer, "sign-in")
    check_otp(request, session, customer, body.otp)
    customer.phone_verified = True
    pair = tokens.login_tokens(session, request.app.state.settings, Principal("customer", customer.id, brand.id))
    return {**pair, "customerId": customer.id, "brandId": brand.id}


def check_otp(request: Request, session: Session, customer: Customer, otp: str) -> None:
    """The customer's latest OTP: unexpired, fewer than 5 wrong tries, and equal; consumed on success."""
    challenge = session.scalars(
        select(OtpChallenge)
        .where(OtpChallenge.customer_id == customer.id, OtpChallenge.consumed_at.is_(None))
        .order_by(OtpChallenge.created_at.desc())
        .with_for_update()
    ).first()
    now = datetime.now(UTC)
    if challenge is None or challenge.expires_at < now or challenge.attempts >= OTP_MAX_ATTEMPTS:
        raise AuthenticationError("OTP expired or too many attempts; request a new one")
    if challenge.code_hash != hash_otp(request.app.state.settings, customer.id, otp):
        challenge.attempts += 1
        session.commit()  # the failed attempt counts even though we answer with an error
        raise AuthenticationError(f"invalid OTP ({OTP_MAX_ATTEMPTS - challenge.attempts} tries left)")
    challenge.consumed_at = now


@router.post("/refresh-token", response_model=CustomerTokens)
def refresh_token(request: Request, body: RefreshIn, session: Db) -> dict:
    def principal_for(subject_id: str, brand_id: str) -> Principal:
        customer = session.get(Customer, subject_id)
        if customer is None:
            raise AuthenticationError("account not found")
        refuse_inactive(customer, "sign-in")
        return Principal("customer", subject_id, brand_id)

    return tokens.rotate(session, request.app.state.settings, body.refresh_token, "customer", principal_for)


@router.post("/logout", response_model=LoggedOut)
def logout(body: LogoutIn, me: Me, session: Db) -> dict:
    tokens.logout(session, me, me.jti, me.expires_at, body.refresh_token)
    return {"message": "logged out"}
