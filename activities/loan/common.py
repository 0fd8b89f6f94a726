"""What every loan activity shares: the class with its clients (database, HTTP, storage, PDF renderer, the API's
address for webhooks), recording a provider call, a best-effort customer message, and turning a provider's
refusal into an error the workflow is not retried on."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.documents import PdfRenderer
from activities.loan import queries
from activities.messaging.send import Sender, activity_origin
from activities.providers.base import BusinessRefusal
from activities.storage import LocalStorage
from db.models import Brand
from db.session import Database
from workflows.contracts import ProviderRequest


def refusal(exc: BusinessRefusal) -> ApplicationError:
    """A provider's refusal is an answer: the activity fails without retrying."""
    return ApplicationError(str(exc), type="BusinessRefusal", non_retryable=True)


class LoanBase(DbActivities):
    """The clients every loan activity uses."""

    def __init__(
        self,
        db: Database,
        http: httpx.AsyncClient,
        storage: LocalStorage,
        renderer: PdfRenderer,
        api_url: str,
        secret: bytes = b"",
    ):
        self.secret = secret  # opens sealed fields (the beneficiary's account number, inside the transfer only)
        self.db = db
        self.http = http
        self.storage = storage
        self.renderer = renderer
        self.api_url = api_url.rstrip("/")

    def _callback(self, brand_id: str, vendor: str) -> str:
        return f"{self.api_url}/api/v1/webhooks/{brand_id}/{vendor}"

    async def _record_call(self, req: ProviderRequest, kind: str, outcome: str, response: dict) -> None:
        def write(session: Session) -> None:
            queries.record_provider_call(
                session,
                req.idempotency_key,
                loan_id=req.loan_id,
                kind=kind,
                provider=req.provider,
                outcome=outcome,
                response=response,
            )

        await self._tx(write)

    async def _email(
        self,
        brand: Brand,
        to: str | None,
        subject: str,
        text: str,
        attachments: list[tuple[str, str, bytes]] | None = None,
        reference: str | None = None,
    ) -> None:
        """Best effort, like ``_notify``: an email through the brand's ``email`` vendors with failover, logged in
        ``customer_messages`` (none configured, or no address: nothing sent). ``attachments``: (filename, MIME type,
        bytes)."""
        if not to:
            return
        try:
            key, loan_id = activity_origin(f"email:{reference or subject[:40]}")
            # our reference travels with the message (the vendor's events carry it back) and keys its log row
            key = reference or key
            await Sender(self.db, self.http).email_text(
                brand, to, subject, text, attachments, key=key, loan_id=loan_id, name="EMAIL"
            )
        except Exception as exc:  # noqa: BLE001
            activity.logger.warning("email %r not sent: %s", subject, exc)

    async def _notify(self, brand: Brand, phone: str, template: str, text: str) -> None:
        """Best effort: a customer message never fails the loan step that triggered it. Sent through the messaging
        pipeline (failover across the brand's SMS vendors, logged in ``customer_messages`` under this activity's
        key, so a retried step does not send it twice)."""
        try:
            key, loan_id = activity_origin(template)
            await Sender(self.db, self.http).sms_text(brand, phone, template, text, key=key, loan_id=loan_id)
        except Exception as exc:  # noqa: BLE001
            activity.logger.warning("SMS %s not sent: %s", template, exc)
