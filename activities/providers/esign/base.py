"""What an eSign vendor's adapter offers: open a docket (one signer, Aadhaar eSign), cancel it, download the signed
document, and turn the vendor's callback into an ``EsignEvent``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Docket:
    """The vendor's document/request id and the URL the signer opens."""

    docket_id: str
    signing_url: str


class EsignProvider(Protocol):
    async def create_docket(
        self,
        *,
        reference_id: str,
        pdf: bytes,
        signer_name: str,
        signer_phone: str,
        signer_email: str | None,
        expires_in_seconds: int,
        callback_url: str,
        idempotency_key: str,
    ) -> Docket:
        """Upload ``pdf`` for one signer; ``reference_id`` is the loan id; ``idempotency_key`` our unique
        reference for this docket (the same key never opens two). ``BusinessRefusal`` when the vendor refuses,
        ``ProviderError`` on a transient fault."""
        ...

    async def cancel_docket(self, docket_id: str) -> None:
        """Cancel an unsigned docket so it can never be signed (a docket already cancelled or expired is fine).
        ``BusinessRefusal`` (code ``ALREADY_SIGNED``) when it was signed meanwhile."""
        ...

    async def signed_document(self, docket_id: str) -> bytes:
        """The signed PDF of a signed docket."""
        ...
