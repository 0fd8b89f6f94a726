"""Provider adapters, one package per kind. ``build`` picks the vendor a brand configured."""

from __future__ import annotations

from typing import Any

import httpx

from activities.providers.base import BusinessRefusal, ProviderConfig
from activities.providers.bureau.cibil import CibilBureau
from activities.providers.disbursal.idfc import IdfcDisbursal
from activities.providers.esign.signzy import SignzyEsign
from activities.providers.kyc.digitap import DigitapKyc
from activities.providers.messaging.gupshup import GupshupSms
from activities.providers.payments.razorpay import RazorpayGateway

VENDORS: dict[str, dict[str, type]] = {
    "kyc": {"digitap": DigitapKyc},
    "bureau": {"cibil": CibilBureau},
    "esign": {"signzy": SignzyEsign},
    "disbursal": {"idfc": IdfcDisbursal},
    "payments": {"razorpay": RazorpayGateway},
    "sms": {"gupshup": GupshupSms},
}


def build(kind: str, brand_config: dict[str, Any], http: httpx.AsyncClient) -> Any:
    cfg = ProviderConfig.from_brand(brand_config, kind)
    try:
        cls = VENDORS[kind][cfg.vendor]
    except KeyError as exc:
        raise BusinessRefusal(f"no adapter for {kind} vendor {cfg.vendor!r}") from exc
    return cls(http, cfg)
