"""What the SME activities share: the clients, a request's context in one transaction, the business data vendor
for an operation, and a vendor's refusal as an answer the workflow is not retried on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.sme import SME_VENDORS
from db.session import Database
from db.sme import RequestContext, request_context


def refusal(exc: BusinessRefusal) -> ApplicationError:
    """A vendor's refusal (or no vendor configured): not retried; the workflow holds the request for staff."""
    return ApplicationError(str(exc), type="BusinessRefusal", non_retryable=True)


def loaded(request_id: str, *, lock: bool = False) -> Callable[[Session], RequestContext]:
    """Load a request's context; a missing request is not retried."""

    def load(session: Session) -> RequestContext:
        ctx = request_context(session, request_id, lock=lock)
        if ctx is None:
            raise ApplicationError(f"request {request_id} not found", type="NotFound", non_retryable=True)
        return ctx

    return load


class SmeBase(DbActivities):
    """The clients: database, HTTP, the API's address (callbacks), the key that opens sealed account numbers."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_url: str, secret: bytes = b"") -> None:
        self.db = db
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.secret = secret

    def vendor(self, brand_config: dict[str, Any], operation: str) -> Any:
        """The brand's first active ``sme`` vendor whose adapter has ``operation``. Raises ``BusinessRefusal``
        (code NO_PROVIDER) when none does."""
        for config in ProviderConfig.candidates(brand_config, "sme"):
            cls = SME_VENDORS.get(config.vendor)
            if cls is not None and hasattr(cls, operation):
                return cls(self.http, config)
        raise BusinessRefusal(f"brand has no sme provider for {operation}", code="NO_PROVIDER")
