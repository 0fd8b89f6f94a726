"""Provider adapters, one package per kind (``<kind>/base.py``: a Protocol and its result dataclasses;
one module per vendor). ``build`` gives the vendor a brand configured for a kind (its primary one when
several are listed); ``call_with_failover`` tries each active vendor in turn.

| kind       | vendors                        | operations                                                        |
|------------|--------------------------------|-------------------------------------------------------------------|
| kyc        | digitap, digilocker            | verify_pan, aadhaar_otp_initiate/submit, mobile_to_pan/address;   |
|            |                                | (digilocker) start_session, fetch_documents                       |
| ckyc       | digitap                        | search, download, fetch                                           |
| bureau     | cibil, equifax                 | pull                                                              |
| bsa        | cart, finbox, scoreme          | analyse_statement                                                 |
| aa         | finduit, cart                  | create_consent, consent_status, fetch_data, parse_webhook         |
| pennydrop  | razorpay, cashfree             | verify_account                                                    |
| employment | digitap                        | phone_to_uan, uan_to_employment                                   |
| esign      | signzy, signdesk               | create_docket, cancel_docket, signed_document, parse_webhook      |
| disbursal  | idfc, icici                    | transfer, transfer_status, parse_webhook                          |
| payments   | razorpay, cashfree, paytring   | create_payment_link, cancel_payment_link, verify_webhook,         |
|            |                                | parse_webhook (captured → payment_received, failed →              |
|            |                                | payment_failed); links with failover: payments/links.create_link; |
|            |                                | (razorpay) autopay: create_mandate_registration, charge_mandate,  |
|            |                                | cancel_mandate, token webhooks                                    |
| sms        | gupshup, msg91, nimbusit       | send_sms; (gupshup, msg91) verify_webhook, parse_webhook (DLR)    |
| email      | sendgrid, brevo, zepto         | send_email, verify_webhook, parse_webhook (delivery events)       |
| whatsapp   | aisensy                        | send_whatsapp                                                     |
| dialer     | acefone, stringee              | initiate, verify_webhook, parse_webhook (own routes: dialer.py)   |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from activities.providers.aa.cart import CartAa
from activities.providers.aa.finduit import FinduitAa
from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError, UnsupportedOperation
from activities.providers.bsa.cart import CartBsa
from activities.providers.bsa.finbox import FinboxBsa
from activities.providers.bsa.scoreme import ScoremeBsa
from activities.providers.bureau.cibil import CibilBureau
from activities.providers.bureau.equifax import EquifaxBureau
from activities.providers.ckyc.digitap import DigitapCkyc
from activities.providers.dialer import AcefoneDialer, StringeeDialer
from activities.providers.disbursal.icici import IciciDisbursal
from activities.providers.disbursal.idfc import IdfcDisbursal
from activities.providers.employment.digitap import DigitapEpfo
from activities.providers.esign.signdesk import SignDeskEsign
from activities.providers.esign.signzy import SignzyEsign
from activities.providers.failover import Attempt, FailoverResult, adapter_for, call_with_failover
from activities.providers.kyc.digilocker import DigiLockerKyc
from activities.providers.kyc.digitap import DigitapKyc
from activities.providers.messaging.aisensy import AiSensyWhatsApp
from activities.providers.messaging.brevo import BrevoEmail
from activities.providers.messaging.gupshup import GupshupSms
from activities.providers.messaging.msg91 import Msg91Sms
from activities.providers.messaging.nimbusit import NimbusItSms
from activities.providers.messaging.sendgrid import SendGridEmail
from activities.providers.messaging.zepto import ZeptoEmail
from activities.providers.payments.cashfree import CashfreeGateway
from activities.providers.payments.paytring import PaytringGateway
from activities.providers.payments.razorpay import RazorpayGateway
from activities.providers.pennydrop.cashfree import CashfreePennyDrop
from activities.providers.pennydrop.razorpay import RazorpayPennyDrop
from activities.providers.sme import SME_VENDORS

VENDORS: dict[str, dict[str, type]] = {
    "kyc": {"digitap": DigitapKyc, "digilocker": DigiLockerKyc},
    "ckyc": {"digitap": DigitapCkyc},
    "bureau": {"cibil": CibilBureau, "equifax": EquifaxBureau},
    "bsa": {"cart": CartBsa, "finbox": FinboxBsa, "scoreme": ScoremeBsa},
    "aa": {"finduit": FinduitAa, "cart": CartAa},
    "pennydrop": {"razorpay": RazorpayPennyDrop, "cashfree": CashfreePennyDrop},
    "employment": {"digitap": DigitapEpfo},
    "esign": {"signzy": SignzyEsign, "signdesk": SignDeskEsign},
    "disbursal": {"idfc": IdfcDisbursal, "icici": IciciDisbursal},
    "payments": {"razorpay": RazorpayGateway, "cashfree": CashfreeGateway, "paytring": PaytringGateway},
    "sms": {"gupshup": GupshupSms, "msg91": Msg91Sms, "nimbusit": NimbusItSms},
    "email": {"sendgrid": SendGridEmail, "brevo": BrevoEmail, "zepto": ZeptoEmail},
    "whatsapp": {"aisensy": AiSensyWhatsApp},
    "dialer": {"acefone": AcefoneDialer, "stringee": StringeeDialer},
    "sme": SME_VENDORS,  # invoice financing's business data (docs/invoice-financing.md)
}

#: Kinds whose vendors call us back at ``/api/v1/webhooks/{brandId}/{vendor}`` (each adapter has
#: ``verify_webhook`` and ``parse_webhook``). Account Aggregators use ReBIT's one notification endpoint
#: (``/api/v1/webhooks/{brandId}/aa``) instead, whatever the vendor; the dialers their own (``api/webhooks/dialer.py``).
CALLBACK_KINDS = tuple(
    kind
    for kind, vendors in VENDORS.items()
    if kind not in ("aa", "dialer") and any(hasattr(cls, "parse_webhook") for cls in vendors.values())
)

__all__ = [
    "CALLBACK_KINDS",
    "VENDORS",
    "Attempt",
    "BusinessRefusal",
    "FailoverResult",
    "ProviderConfig",
    "ProviderError",
    "UnsupportedOperation",
    "adapter_for",
    "build",
    "call_with_failover",
    "webhook_adapter",
]


def build(kind: str, brand_config: Mapping[str, Any], http: httpx.AsyncClient, vendor: str | None = None) -> Any:
    """The adapter for the brand's ``kind`` provider: its primary (first active) vendor, or the named
    ``vendor`` (active or not — e.g. to fetch AA data from the vendor that holds the consent)."""
    if vendor is None:
        cfg = ProviderConfig.from_brand(brand_config, kind)
    else:
        cfg = ProviderConfig.for_vendor(brand_config, kind, vendor)
    return adapter_for(cfg, http)


def webhook_adapter(brand_config: Mapping[str, Any], vendor: str, http: httpx.AsyncClient) -> Any | None:
    """The adapter that owns ``vendor``'s webhooks for this brand: the vendor configured (active or not —
    callbacks for work it started still count) for one of :data:`CALLBACK_KINDS`, or None when the brand
    has no such vendor. The caller then checks the signature (``verify_webhook(raw, headers)``) and parses
    the body (``parse_webhook(body, headers)`` → ``activities.providers.webhooks.InboundEvent``)."""
    for kind in CALLBACK_KINDS:
        cls = VENDORS[kind].get(vendor)
        if cls is None or not hasattr(cls, "parse_webhook"):
            continue
        config = next((c for c in ProviderConfig.configured(brand_config, kind) if c.vendor == vendor), None)
        if config is not None:
            return cls(http, config)
    return None
