"""SME invoice financing, the business's side: /api/v1/sme/... (docs/invoice-financing.md).

- onboarding and invoices (``api.sme.business``): ``/business``, ``/invoices`` (PDF upload);
- financing requests, offers, accept, cancel, and the gateways' and banks' callbacks (``api.sme.requests``);
- credits to a financed invoice's virtual account, Razorpay Smart Collect's webhook (``api.webhooks.sme_collect``).

Sign-in is the customer OTP (``/api/v1/web/auth/register``, ``/verify-otp``): the business is the signed-in
customer's. Staff queues and decisions are in ``api.partner.sme``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.guards import GUARDS
from api.sme import business, requests
from api.webhooks import sme_collect

router = APIRouter(prefix="/api/v1/sme", tags=["sme (business)"], dependencies=GUARDS)
router.include_router(business.router)
router.include_router(requests.router)
router.include_router(sme_collect.router)
