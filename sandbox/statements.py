"""Sandbox bank-statement analysis (CART, Finbox, ScoreMe) and Account Aggregators (FINDUIT, CART)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse

from sandbox import scenarios, webhooks
from sandbox.context import Sandbox
from sandbox.formats import CART_STATUS, cart_format, finbox_format, finduit_format, scoreme_format


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- Bank statement analysis: CART, Finbox, ScoreMe -----------------------------------------
    def upload_statement(vendor: str, pdf: bytes, password: str | None, reference_id: str, key: str | None) -> dict:
        """Store an uploaded statement and its analysis (refusals raised here, at upload, as vendors do).
        Same Idempotency-Key → the same statement."""
        scope = f"{vendor}-statement"
        if (done := sbx.idempotent(key, scope)) is not None:
            return sbx.state["statements"][done]
        analysis = scenarios.statement_analysis(pdf, password, sbx.today())
        statement_id = sbx.new_id({"cart": "cst", "finbox": "fbx", "scoreme": "SM"}[vendor])
        sbx.state["statements"][statement_id] = {
            "id": statement_id,
            "vendor": vendor,
            "reference_id": reference_id,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "pending_polls": scenarios.statement_pending_polls(pdf),
            "analysis": analysis,
        }
        sbx.remember(key, scope, statement_id)
        return sbx.state["statements"][statement_id]

    def poll_statement(vendor: str, statement_id: str) -> tuple[dict, bool]:
        record = sbx.state["statements"].get(statement_id)
        if record is None or record["vendor"] != vendor:
            sbx.refuse(404, "STATEMENT_NOT_FOUND", "unknown statement")
        if record["pending_polls"] > 0:
            record["pending_polls"] -= 1
            return record, False
        return record, True

    def decode_file(data: Any) -> bytes:
        try:
            return base64.b64decode(str(data or ""), validate=True)
        except (binascii.Error, ValueError):
            return sbx.refuse(400, "INVALID_FILE", "file must be base64")

    @app.post("/cart/v1/statements")
    async def cart_upload(
        request: Request,
        file: UploadFile = File(...),
        reference_id: str = Form(...),
        password: str | None = Form(None),
        idempotency_key: str | None = Header(None),
    ) -> Any:
        pdf = await file.read()
        if fault := scenarios.statement_fault(pdf, "cart"):
            return await sbx.misbehave(request, fault)
        record = upload_statement("cart", pdf, password, reference_id, idempotency_key)
        return {"statementId": record["id"], "status": "PROCESSING"}

    @app.get("/cart/v1/statements/{statement_id}/analysis")
    def cart_analysis(statement_id: str) -> dict:
        record, ready = poll_statement("cart", statement_id)
        if not ready:
            return {"statementId": statement_id, "status": "PROCESSING"}
        return {"statementId": statement_id, "status": "COMPLETED", "analysis": cart_format(record["analysis"])}

    @app.post("/finbox/bankconnect/v1/statement/upload")
    async def finbox_upload(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        body = await sbx.json_body(request)
        pdf = decode_file(body.get("file"))
        if fault := scenarios.statement_fault(pdf, "finbox"):
            return await sbx.misbehave(request, fault)
        record = upload_statement(
            "finbox", pdf, body.get("pdf_password"), str(body.get("link_id", "")), idempotency_key
        )
        return {"entity_id": record["id"], "statement_id": f"st_{record['id']}", "status": "in_progress"}

    @app.get("/finbox/bankconnect/v1/entity/{entity_id}/insights")
    def finbox_insights(entity_id: str) -> dict:
        record, ready = poll_statement("finbox", entity_id)
        if not ready:
            return {"entity_id": entity_id, "progress": "processing"}
        return {"entity_id": entity_id, "progress": "completed", **finbox_format(record["analysis"])}

    @app.post("/scoreme/bsa/v1/upload")
    async def scoreme_upload(request: Request, idempotency_key: str | None = Header(None)) -> Any:
        body = await sbx.json_body(request)
        pdf = decode_file(body.get("fileData"))
        if fault := scenarios.statement_fault(pdf, "scoreme"):
            return await sbx.misbehave(request, fault)
        record = upload_statement(
            "scoreme", pdf, body.get("filePassword"), str(body.get("referenceId", "")), idempotency_key
        )
        return {"responseCode": "SRC001", "responseMessage": "File uploaded", "data": {"referenceId": record["id"]}}

    @app.get("/scoreme/bsa/v1/report/{reference_id}")
    def scoreme_report(reference_id: str) -> dict:
        record, ready = poll_statement("scoreme", reference_id)
        if not ready:
            return {"responseCode": "SRC002", "responseMessage": "Analysis in progress"}
        return {"responseCode": "SRC001", "responseMessage": "Success", "data": scoreme_format(record["analysis"])}

    # --- Account Aggregator: FINDUIT and CART -------------------------------------------------------
    def create_consent(vendor: str, phone: str, reference_id: str, callback_url: str, key: str | None) -> dict:
        if not phone or not callback_url:
            sbx.refuse(400, "INVALID_REQUEST", "mobile and callback URL are required")
        scope = f"{vendor}-consent"
        if (done := sbx.idempotent(key, scope)) is not None:
            return sbx.state["consents"][done]
        handle = sbx.new_id({"finduit": "fdc", "cart": "cac"}[vendor])
        sbx.state["consents"][handle] = {
            "vendor": vendor,
            "handle": handle,
            "phone": phone,
            "reference_id": reference_id,
            "callback_url": callback_url,
            "status": "PENDING",
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "session_id": None,
        }
        sbx.remember(key, scope, handle)
        return sbx.state["consents"][handle]

    def consent_of(vendor: str, handle: str) -> dict:
        consent = sbx.state["consents"].get(handle)
        if consent is None or consent["vendor"] != vendor:
            sbx.refuse(404, "CONSENT_NOT_FOUND", "unknown consent handle")
        return consent

    def set_consent_status(consent: dict, status: str, after: float | None = None) -> None:
        consent["status"] = status
        sbx.send_later(consent["vendor"], consent["callback_url"], webhooks.rebit_consent_notification(consent), after)

    async def revoke_later(consent: dict) -> None:
        await asyncio.sleep(sbx.delay * 2 + 0.1)
        if consent["status"] == "APPROVED":
            set_consent_status(consent, "REVOKED", after=0)

    def decide(vendor: str, handle: str, outcome: str | None) -> dict:
        """The customer acts on the consent page: ``outcome`` APPROVED/REJECTED, or (none given) what
        ``scenarios.aa_decision`` says for their phone. Acting twice changes nothing."""
        consent = consent_of(vendor, handle)
        if consent["status"] != "PENDING":
            return consent
        if outcome is not None and outcome.upper() not in {"APPROVED", "REJECTED"}:
            raise HTTPException(400, "outcome must be APPROVED or REJECTED")
        plan = [outcome.upper()] if outcome else scenarios.aa_decision(consent["phone"])
        set_consent_status(consent, plan[0])
        if plan[1:] == ["REVOKED"]:
            sbx.outbox.spawn(revoke_later(consent))
        return consent

    def revoke(vendor: str, handle: str) -> dict:
        consent = consent_of(vendor, handle)
        if consent["status"] != "APPROVED":
            sbx.refuse(409, "CONSENT_NOT_ACTIVE", f"consent is {consent['status']}")
        set_consent_status(consent, "REVOKED")
        return consent

    def consent_data(vendor: str, handle: str) -> tuple[str, dict]:
        consent = consent_of(vendor, handle)
        if consent["status"] != "APPROVED":
            sbx.refuse(
                409, "CONSENT_NOT_ACTIVE", f"consent is {consent['status']}, data can be fetched only when approved"
            )
        if consent["session_id"] is None:
            consent["session_id"] = sbx.new_id("ses")
            consent["analysis"] = scenarios.aa_analysis(consent["phone"], sbx.today())
        return consent["session_id"], consent["analysis"]

    def consent_page(vendor: str, handle: str) -> str:
        consent = consent_of(vendor, handle)
        return (
            f"<html><body><h1>Share your bank statements</h1><p>{vendor.upper()} consent {handle}: "
            f"{consent['status']}</p><form method='post' action='?outcome=APPROVED'><button>Approve</button></form>"
            f"<form method='post' action='?outcome=REJECTED'><button>Reject</button></form></body></html>"
        )

    @app.post("/finduit/v1/consents")
    async def finduit_consent(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        body = await sbx.json_body(request)
        consent = create_consent(
            "finduit",
            str((body.get("customer") or {}).get("mobile", "")),
            str(body.get("reference_id", "")),
            str(body.get("callback_url", "")),
            idempotency_key,
        )
        return {
            "consent_handle": consent["handle"],
            "consent_url": f"{sbx.base(request)}/finduit/consent/{consent['handle']}",
            "status": consent["status"],
            "expires_at": consent["expires_at"],
        }

    @app.get("/finduit/v1/consents/{handle}")
    def finduit_consent_status(handle: str) -> dict:
        consent = consent_of("finduit", handle)
        return {"consent_handle": handle, "status": consent["status"]}

    @app.get("/finduit/consent/{handle}", response_class=HTMLResponse)
    def finduit_consent_page(handle: str) -> str:
        return consent_page("finduit", handle)

    @app.post("/finduit/consent/{handle}")
    async def finduit_decide(handle: str, outcome: str | None = None) -> dict:
        consent = decide("finduit", handle, outcome)
        return {"consent_handle": handle, "status": consent["status"]}

    @app.post("/finduit/v1/consents/{handle}/revoke")
    async def finduit_revoke(handle: str) -> dict:
        return {"consent_handle": handle, "status": revoke("finduit", handle)["status"]}

    @app.post("/finduit/v1/consents/{handle}/fetch")
    async def finduit_fetch(handle: str) -> dict:
        session_id, analysis = consent_data("finduit", handle)
        return {
            "consent_handle": handle,
            "session_id": session_id,
            "status": "READY",
            "analysis": finduit_format(analysis),
        }

    @app.post("/cart/aa/consent-requests")
    async def cart_consent(request: Request, idempotency_key: str | None = Header(None)) -> dict:
        body = await sbx.json_body(request)
        consent = create_consent(
            "cart",
            str(body.get("mobileNumber", "")),
            str(body.get("clientRefId", "")),
            str(body.get("webhookUrl", "")),
            idempotency_key,
        )
        return {
            "consentHandle": consent["handle"],
            "redirectUrl": f"{sbx.base(request)}/cart/aa/consent/{consent['handle']}",
            "consentStatus": CART_STATUS[consent["status"]],
            "consentExpiry": consent["expires_at"],
        }

    @app.get("/cart/aa/consent-requests/{handle}")
    def cart_consent_status(handle: str) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[consent_of("cart", handle)["status"]]}

    @app.get("/cart/aa/consent/{handle}", response_class=HTMLResponse)
    def cart_consent_page(handle: str) -> str:
        return consent_page("cart", handle)

    @app.post("/cart/aa/consent/{handle}")
    async def cart_decide(handle: str, outcome: str | None = None) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[decide("cart", handle, outcome)["status"]]}

    @app.post("/cart/aa/consent-requests/{handle}/revoke")
    async def cart_revoke(handle: str) -> dict:
        return {"consentHandle": handle, "consentStatus": CART_STATUS[revoke("cart", handle)["status"]]}

    @app.post("/cart/aa/consent-requests/{handle}/data")
    async def cart_fetch(handle: str) -> dict:
        session_id, analysis = consent_data("cart", handle)
        return {"consentHandle": handle, "dataSessionId": session_id, "analysis": cart_format(analysis)}
