"""Razorpay payment links; captures arrive as `payment.captured` webhooks."""

from __future__ import annotations

from activities.providers.base import HttpProvider
from activities.providers.payments.base import Link


class RazorpayGateway(HttpProvider):
    async def create_payment_link(
        self, *, amount: int, reference_id: str, description: str, customer_phone: str, notes: dict, callback_url: str
    ) -> Link:
        body = await self.call(
            "POST",
            "/razorpay/payment_links",
            json={
                "amount": amount,
                "currency": "INR",
                "reference_id": reference_id,
                "description": description,
                "customer": {"contact": customer_phone},
                "notes": notes,
                "callback_url": callback_url,
            },
        )
        return Link(body["id"], body["short_url"])

    async def cancel_payment_link(self, link_id: str) -> None:
        await self.call("POST", f"/razorpay/payment_links/{link_id}/cancel")
