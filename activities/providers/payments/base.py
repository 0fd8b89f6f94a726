from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Link:
    link_id: str
    url: str


class PaymentGateway(Protocol):
    async def create_payment_link(
        self, *, amount: int, reference_id: str, description: str, customer_phone: str, notes: dict, callback_url: str
    ) -> Link: ...

    async def cancel_payment_link(self, link_id: str) -> None: ...
