"""Sandbox eSign vendors: Signzy."""

from __future__ import annotations

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import HTMLResponse

from sandbox import webhooks
from sandbox.context import Sandbox, missing


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- Signzy eSign ---------------------------------------------------------------------------
    @app.post("/signzy/dockets")
    async def create_docket(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        if (done := sbx.idempotent(idempotency_key, "docket")) is not None:
            return done
        body = await request.json()
        for field in ("reference_id", "document_base64", "callback_url"):
            if not body.get(field):
                raise HTTPException(400, f"{field} is required")
        docket_id = sbx.new_id("dkt")
        sbx.state["dockets"][docket_id] = {
            "docket_id": docket_id,
            "reference_id": body["reference_id"],
            "callback_url": body["callback_url"],
            "status": "PENDING",
            "signer": body.get("signer", {}),
            "pdf_bytes": len(body["document_base64"]),
        }
        return sbx.remember(
            idempotency_key,
            "docket",
            {"docket_id": docket_id, "signing_url": f"{sbx.base(request)}/signzy/sign/{docket_id}"},
        )

    @app.get("/signzy/sign/{docket_id}", response_class=HTMLResponse)
    def signing_page(docket_id: str) -> str:
        docket = sbx.state["dockets"].get(docket_id) or missing("docket")
        return (
            f"<html><body><h1>Sign your loan agreement</h1><p>Docket {docket_id}: {docket['status']}</p>"
            f"<form method='post'><button type='submit'>Sign with Aadhaar OTP</button></form></body></html>"
        )

    @app.post("/signzy/sign/{docket_id}")
    async def sign_docket(docket_id: str, outcome: str = "SIGNED") -> dict:
        """The signer completes (or declines with ?outcome=DECLINED); the webhook follows after the delay."""
        docket = sbx.state["dockets"].get(docket_id) or missing("docket")
        if docket["status"] != "PENDING":
            return {"docket_id": docket_id, "status": docket["status"]}
        docket["status"] = outcome
        sbx.send_later("signzy", docket["callback_url"], webhooks.signzy_event(sbx.new_id("evt"), docket, outcome))
        return {"docket_id": docket_id, "status": outcome}
