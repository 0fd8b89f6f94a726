"""Sandbox banks that disburse: IDFC FIRST Bank transfers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import FastAPI, Header, HTTPException, Request

from sandbox import webhooks
from sandbox.context import Sandbox


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- IDFC bank transfers --------------------------------------------------------------------
    @app.post("/idfc/transfers")
    async def transfer(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        if not idempotency_key:
            raise HTTPException(400, "Idempotency-Key header is required")
        if (done := sbx.idempotent(idempotency_key, "transfer")) is not None:
            return done
        body = await request.json()
        amount = body.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise HTTPException(400, "amount must be a positive integer (paise)")
        transfer_id = sbx.new_id("trf")
        utr = f"IDFC{secrets.randbelow(10**12):012d}"
        sbx.state["transfers"][transfer_id] = {
            "transfer_id": transfer_id,
            "amount": amount,
            "utr": utr,
            "reference_id": body.get("reference_id"),
            "created_at": int(datetime.now(UTC).timestamp()),
        }
        payout = webhooks.idfc_payout_event("payout.processed", sbx.state["transfers"][transfer_id])
        sbx.send_later("idfc", body["callback_url"], payout)
        return sbx.remember(idempotency_key, "transfer", {"transfer_id": transfer_id, "status": "PENDING"})
