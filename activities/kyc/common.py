"""What every KYC and decision activity shares: the class with its clients and helpers, the los.crypto purposes
of the fields these activities open, and small conversions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.orm import Session
from temporalio import activity

from activities.base import DbActivities
from activities.kyc import queries
from activities.messaging.send import Sender, activity_origin
from activities.pii import redact
from activities.providers import call_with_failover
from activities.providers.base import BusinessRefusal
from activities.providers.heartbeat import keep_alive
from db.models import Brand, Customer, Loan
from db.session import Database
from domain.outcomes import KycStepStatus
from los.crypto import AADHAAR, BANK_ACCOUNT, STATEMENT_PASSWORD, digilocker_state  # noqa: F401 - re-exported
from workflows.contracts import BeneficiaryCheckRequest, KycStepRequest, KycStepResult

STATEMENT_PASSWORD_CODES = frozenset({"STATEMENT_PASSWORD_REQUIRED", "STATEMENT_PASSWORD_INCORRECT"})

# A step's work once its loan, customer and brand are loaded.
StepHandler = Callable[[KycStepRequest, Loan, Customer, Brand], Awaitable[KycStepResult]]


def score_of(value: float | None) -> Decimal | None:
    """A 0–100 match score as stored (two decimals)."""
    return None if value is None else Decimal(str(round(value, 2)))


def revive(value: Any) -> Any:
    """Facts cross the workflow as JSON: a decimal score comes back as a string."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return jsonable(asdict(value))
    return value


class KycBase(DbActivities):
    """The clients every KYC and decision activity uses, and the shape of a step: load the loan's context, run the
    step, record a vendor's refusal and hand the workflow only redacted text."""

    def __init__(self, db: Database, http: httpx.AsyncClient, storage: Any, api_url: str, secret: bytes):
        self.db = db
        self.http = http
        self.storage = storage
        self.api_url = api_url.rstrip("/")
        self.secret = secret  # keys the Aadhaar hash and opens sealed fields

    async def _run_step(self, req: KycStepRequest, handler: StepHandler) -> KycStepResult:
        """Load the loan's context and run ``handler``, heartbeating throughout (a worker that dies while a vendor
        answers or a statement is read is noticed within the call's heartbeat timeout, workflows/heartbeats.py)."""
        async with keep_alive(f"KYC {req.step}"):
            return await self._step(req, handler)

    async def _step(self, req: KycStepRequest, handler: StepHandler) -> KycStepResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            result = await handler(req, loan, customer, brand)
            # a vendor's reason may quote what it was sent: only the redacted text reaches the workflow
            return replace(result, reason=redact(result.reason)) if result.reason else result
        except BusinessRefusal as exc:
            await self._record(
                req,
                customer.id,
                req.step,
                getattr(exc, "vendor", None) or "-",
                "REFUSED",
                {"reason": str(exc)},
                list(getattr(exc, "attempts", ())),
            )
            return KycStepResult(req.step, KycStepStatus.FAILED, redact(str(exc)))

    async def _record(
        self,
        req: KycStepRequest | BeneficiaryCheckRequest,
        customer_id: str,
        kind: str,
        vendor: str,
        outcome: str,
        response: dict,
        attempts: list,
        score: Decimal | None = None,
    ) -> None:
        """The step's provider call on ``provider_calls`` (key: the step's key and the kind)."""

        def write(session: Session) -> None:
            queries.record_provider_call(
                session,
                f"{req.idempotency_key}:{kind.lower()}",
                loan_id=req.loan_id,
                customer_id=customer_id,
                kind=kind,
                provider=vendor,
                outcome=outcome,
                response=response,
                attempts=attempts,
                score=score,
            )

        await self._tx(write)

    async def _failover(self, kind: str, brand: Brand, op: str, *args: Any, **kwargs: Any) -> Any:
        """One provider operation through the brand's vendors; a refusal raises ``BusinessRefusal`` (an
        answer), a fault of every vendor raises so the activity retries."""
        return await call_with_failover(kind, brand.config, self.http, op, *args, **kwargs)

    async def _sms(self, brand: Brand, phone: str, template: str, text: str) -> None:
        """Best effort, through the messaging pipeline: failover across the brand's SMS vendors, logged in
        ``customer_messages`` under this activity's key (a retried step does not send it twice)."""
        try:
            key, loan_id = activity_origin(template)
            await Sender(self.db, self.http).sms_text(brand, phone, template, text, key=key, loan_id=loan_id)
        except Exception as exc:  # noqa: BLE001 - a message never fails the step
            activity.logger.warning("SMS %s not sent: %s", template, exc)
