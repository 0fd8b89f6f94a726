"""Signzy eSign (docket with one signatory; the vendor calls back on sign / expiry)."""

from __future__ import annotations

import base64

from activities.providers.base import HttpProvider
from activities.providers.esign.base import Docket


class SignzyEsign(HttpProvider):
    async def create_docket(
        self,
        *,
        reference_id: str,
        pdf: bytes,
        signer_name: str,
        signer_phone: str,
        expires_in_seconds: int,
        callback_url: str,
        idempotency_key: str,
    ) -> Docket:
        body = await self.call(
            "POST",
            "/signzy/dockets",
            json={
                "reference_id": reference_id,
                "document_base64": base64.b64encode(pdf).decode(),
                "signer": {"name": signer_name, "phone": signer_phone},
                "expires_in": expires_in_seconds,
                "callback_url": callback_url,
            },
            headers={"Idempotency-Key": idempotency_key},
            timeout=30.0,
        )
        return Docket(body["docket_id"], body["signing_url"])
