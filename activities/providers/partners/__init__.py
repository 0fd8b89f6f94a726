"""Partner lender adapters, one module per lender (interface: ``activities.providers.partners.base``).

``ADAPTERS`` maps the adapter code a partner is configured with to its class; :func:`adapter` builds one."""

from __future__ import annotations

import httpx

from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.partners.base import (
    CallbackRejected,
    DisbursalCallback,
    PartnerAdapter,
    PartnerApplication,
    PartnerDecision,
    PartnerDisbursalStatus,
    ResendAnswer,
)
from activities.providers.partners.kavach import Kavach
from activities.providers.partners.lendbox import Lendbox
from activities.providers.partners.navodaya import Navodaya

ADAPTERS: dict[str, type[PartnerAdapter]] = {cls.code: cls for cls in (Lendbox, Kavach, Navodaya)}


def adapter(http: httpx.AsyncClient, code: str, settings: dict) -> PartnerAdapter:
    """The adapter ``code`` with the partner's ``settings`` (``base_url``, ``api_key``, ``webhook_secret`` and
    options); BusinessRefusal (code NO_PROVIDER) for an adapter this build does not have."""
    cls = ADAPTERS.get(code)
    if cls is None:
        raise BusinessRefusal(f"no partner adapter {code!r}", code="NO_PROVIDER")
    config = ProviderConfig._parse("partner", {"vendor": code, **settings})
    return cls(http, config)


__all__ = [
    "ADAPTERS",
    "CallbackRejected",
    "DisbursalCallback",
    "PartnerAdapter",
    "PartnerApplication",
    "PartnerDecision",
    "PartnerDisbursalStatus",
    "ResendAnswer",
    "adapter",
]
