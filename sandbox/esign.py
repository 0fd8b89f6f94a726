"""Sandbox eSign vendors: Signzy (Digital Contracting) and SignDesk, each in its own request, answer, error
and callback shape (the adapters' docstrings, ``activities/providers/esign/``, cite the vendors' pages).

Both keep their dockets in ``state["dockets"]`` (id → vendor, status, our references, the uploaded PDF in
base64, the signer, expiry) and behave alike:

- **create** — refuses, in the vendor's error shape, a missing credential (401), a missing required field
  or a PDF that is not base64 of a ``%PDF-`` file (Signzy 422 ``{"error": {...}}``, SignDesk 400
  ``{"status": "failed", "error_code", "error"}``). The same reference (Signzy ``contractName``, SignDesk
  ``reference_id``) answers the same docket again.
- **signing page** ``GET /signzy/sign/{id}``, ``GET /signdesk/sign/{id}``; **sign** ``POST`` on the same URL,
  ``?outcome=SIGNED`` (default) or ``DECLINED``, as the borrower would. Signing again with the outcome given
  answers the docket as it is; a cancelled or expired docket answers 409 (its status in the error).
- **callbacks** after the sandbox's delay, retried: Signzy sends the signer callback (``status`` "200", or
  "500" for a decline) and on signature the customer callback (``finalSignedContract``, ``contractName``),
  with ``Authorization: Basic`` of the credentials given at creation; SignDesk sends ``{docket_id,
  document_id, reference_id, signer_info: [{signer_id, signer_ref_id, status: signed|declined|expired,
  signed_at}]}`` signed (hex HMAC-SHA256) in ``X-SignDesk-Signature``.
- **cancel** — Signzy ``deleteContract``, SignDesk ``cancelDocket`` (a signed docket is refused:
  ``docket_already_signed``); cancelling again is fine.
- **expiry** — past Signzy's ``maximumValidityTime`` (hours) or the end of SignDesk's ``expiry_date`` (IST)
  a docket is EXPIRED: its page and status say so, signing answers 409, SignDesk sends an ``expired``
  callback (Signzy documents none).
- **signed PDF** — Signzy ``pullData`` (``finalSignedContract``), SignDesk ``getDocketInfo``
  (``docket_Info[0].content``): the uploaded PDF with a sandbox signature line appended, so its SHA-256
  differs from the unsigned one.
- **scenario** — a signer whose phone ends in ``0099`` signs as the docket is created: the callbacks go out
  at once, before the loan's workflow waits for them ("webhook before the workflow waits").
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from sandbox.context import Sandbox, missing

IST = timedelta(hours=5, minutes=30)
INSTANT_SIGNER = "0099"  # phone suffix: signs as soon as the docket is created
OUTCOMES = ("SIGNED", "DECLINED")


def pdf_bytes(value: Any) -> bytes | None:
    """The PDF in a base64 field, or None when it is not base64 of a PDF."""
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(b"%PDF-") else None


def first(value: Any) -> dict:
    """The first object of a JSON array (an empty object when there is none)."""
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def signed_pdf(docket: dict) -> str:
    """The docket's PDF with the sandbox's signature line appended (base64)."""
    mark = f"\n% sandbox eSign: signed by {docket['signer']['name']} (Aadhaar OTP) {docket['signed_at']}\n%%EOF\n"
    return base64.b64encode(base64.b64decode(docket["pdf"]) + mark.encode()).decode()


def signzy_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"name": "Error", "status": status, "message": message}}, status_code=status)


def signdesk_answer(status_code: int = 200, **fields: Any) -> JSONResponse:
    body = {
        "status": "success" if status_code < 400 else "failed",
        **fields,
        "api_response_id": f"sbx{time.time_ns()}",
        "response_time_stamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return JSONResponse(body, status_code=status_code)


def signzy_signer_callback(docket: dict) -> dict:
    """Signzy's signer callback (success "200", failure "500")."""
    ok = docket["status"] == "SIGNED"
    return {
        "contractId": docket["docket_id"],
        "customerId": docket["customer_id"],
        "signerEmail": docket["signer"]["email"],
        "signerName": docket["signer"]["name"],
        "signerId": docket["signer_id"],
        "status": "200" if ok else "500",
        "aadhaarErrorCode": "" if ok else "ESP-USER-CANCELLED",
        "aadhaarErrorMessage": "" if ok else "The signer declined to sign",
        "aadhaarStatus": "1" if ok else "0",
        "signerSignedContract": signed_pdf(docket) if ok else "",
        "signerEventTimestamp": int(time.time()),
        "signerMatchData": {"nameMatch": "DIRECT MATCH"} if ok else {},
    }


def signzy_customer_callback(docket: dict) -> dict:
    """Signzy's customer callback once every signer signed, with the extra parameter ``contractName``."""
    return {
        "customerId": docket["customer_id"],
        "contractId": docket["docket_id"],
        "finalSignedContract": signed_pdf(docket),
        "contractCompletionTime": int(time.time()),
        "initialSignerCount": 1,
        "signerCount": 1,
        "deletedSignerCount": 0,
        "contractName": docket["reference"],
    }


def signdesk_callback(docket: dict) -> dict:
    """The SignDesk docket callback (modelled on its ``getSignatureStatus`` answer)."""
    return {
        "docket_id": docket["docket_id"],
        "document_id": docket["document_id"],
        "reference_id": docket["reference"],
        "signer_info": [
            {
                "signer_id": docket["signer_id"],
                "signer_ref_id": docket["loan_ref"],
                "status": docket["status"].lower(),
                "signed_at": docket.get("signed_at"),
            }
        ],
    }


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""
    dockets: dict[str, dict] = sbx.state["dockets"]

    def signzy_headers(body: bytes, secret: str, event_id: str | None) -> dict[str, str]:
        docket = dockets.get(json.loads(body).get("contractId"), {})
        auth = docket.get("auth")
        if not auth:
            return {}
        token = base64.b64encode(f"{auth.get('username', '')}:{auth.get('password', '')}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    sbx.outbox.sign_with("signzy", signzy_headers)

    def notify(docket: dict, after: float | None = None) -> None:
        if docket["vendor"] == "signdesk":
            sbx.send_later("signdesk", docket["callback_url"], signdesk_callback(docket), after)
            return
        sbx.send_later(
            "signzy", docket["signer_callback_url"] or docket["callback_url"], signzy_signer_callback(docket), after
        )
        if docket["status"] == "SIGNED":
            sbx.send_later("signzy", docket["callback_url"], signzy_customer_callback(docket), after)

    def current(docket: dict) -> dict:
        """The docket, EXPIRED once past its expiry (SignDesk then calls back)."""
        if docket["status"] == "PENDING" and time.time() > docket["expires_at"]:
            docket["status"] = "EXPIRED"
            if docket["vendor"] == "signdesk":
                notify(docket)
        return docket

    def finish(docket: dict, outcome: str, after: float | None = None) -> None:
        docket["status"] = outcome
        docket["signed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        notify(docket, after)

    def open_docket(vendor: str, docket_id: str, **fields: Any) -> dict:
        docket = {"vendor": vendor, "docket_id": docket_id, "status": "PENDING", "signed_at": None, **fields}
        dockets[docket_id] = docket
        if docket["signer"]["phone"].endswith(INSTANT_SIGNER):
            finish(docket, "SIGNED", after=0)
        return docket

    def page(docket_id: str, vendor: str) -> str:
        docket = dockets.get(docket_id)
        if docket is None or docket.get("vendor") != vendor:
            return missing("docket")
        status = current(docket)["status"]
        button = "<form method='post'><button type='submit'>Sign with Aadhaar OTP</button></form>"
        return (
            f"<html><body><h1>Sign your loan agreement</h1><p>Docket {docket_id}: {status}</p>"
            f"{button if status == 'PENDING' else ''}</body></html>"
        )

    def sign(docket_id: str, vendor: str, outcome: str) -> tuple[int, dict]:
        docket = dockets.get(docket_id)
        if docket is None or docket.get("vendor") != vendor:
            return 404, {"docket_id": docket_id, "status": "NOT_FOUND"}
        status = current(docket)["status"]
        if status == "PENDING" and outcome in OUTCOMES:
            finish(docket, outcome)
        elif status in ("CANCELLED", "EXPIRED") or outcome not in OUTCOMES or status != outcome:
            return 409, {"docket_id": docket_id, "status": status}
        return 200, {"docket_id": docket_id, "status": docket["status"]}

    # --- Signzy Digital Contracting ------------------------------------------------------------
    @app.post("/signzy/api/customers/{customer_id}/contractdetails")
    async def signzy_create(customer_id: str, request: Request) -> Any:
        if not request.headers.get("authorization"):
            return signzy_error(401, "Authorization Required")
        body = await sbx.json_body(request)
        if (done := sbx.idempotent(body.get("contractName"), "signzy-contract")) is not None:
            return done
        signer = first(body.get("signerdetail"))
        for field in ("signerName", "signerEmail", "callbackUrl", "fileFormat"):
            if not (signer if field.startswith("signer") else body).get(field):
                return signzy_error(422, f"{field} is required")
        if body["fileFormat"] != "base64" or pdf_bytes(body.get("pdfbase64")) is None:
            return signzy_error(422, "pdfbase64 must be a base64 PDF (fileFormat base64)")
        hours = body.get("maximumValidityTime", 720)
        if not isinstance(hours, int) or hours < 24:
            return signzy_error(422, "maximumValidityTime must be at least 24 hours")
        docket = open_docket(
            "signzy",
            sbx.new_id("ctr"),
            customer_id=customer_id,
            reference=body.get("contractName") or "",
            callback_url=body["callbackUrl"],
            signer_callback_url=body.get("signerCallbackUrl"),
            auth=body.get("callbackUrlAuthCredentials") if body.get("callbackUrlAuthPresent") == "true" else None,
            pdf=body["pdfbase64"],
            signer={
                "name": signer["signerName"],
                "email": signer["signerEmail"],
                "phone": signer.get("signerMobile") or "",
            },
            signer_id=sbx.new_id("sgn"),
            signing_url=f"{sbx.base(request)}/signzy/sign/",
            expires_at=time.time() + hours * 3600,
        )
        docket["signing_url"] += docket["docket_id"]
        answer = {
            "signerdetail": [{**signer, "signerId": docket["signer_id"]}],
            "id": docket["docket_id"],
            "customerId": customer_id,
            "callbackUrl": docket["callback_url"],
            "fileFormat": "base64",
        }
        return sbx.remember(body.get("contractName"), "signzy-contract", answer)

    def signzy_contract(body: dict) -> dict | None:
        docket = dockets.get(str(body.get("contractId")))
        if docket is None or docket.get("vendor") != "signzy" or docket["customer_id"] != body.get("customerId"):
            return None
        return current(docket) if docket["status"] != "CANCELLED" else None

    @app.post("/signzy/api/contractdetails/pullData")
    async def signzy_pull(request: Request) -> Any:
        docket = signzy_contract(await sbx.json_body(request))
        if docket is None:
            return signzy_error(404, "contract not found")
        signed = docket["status"] == "SIGNED"
        signer = {"signerName": docket["signer"]["name"], "signerEmail": docket["signer"]["email"], "signOrder": 1}
        signer.update(signerId=docket["signer_id"], esignUrl=docket["signing_url"], status=docket["status"].lower())
        contract = {
            "customerId": docket["customer_id"],
            "contractId": docket["docket_id"],
            "isCompleted": str(signed).lower(),
        }
        contract.update(contractName=docket["reference"], signerdetail=[signer])
        return {"contractResponse": {**contract, "finalSignedContract": signed_pdf(docket) if signed else ""}}

    @app.post("/signzy/api/contractdetails/deleteContract")
    async def signzy_delete(request: Request) -> Any:
        docket = signzy_contract(await sbx.json_body(request))
        if docket is None:
            return signzy_error(404, "contract not found")
        docket["status"] = "CANCELLED"
        return {"deleteResponse": "SUCCESS"}

    @app.get("/signzy/sign/{docket_id}", response_class=HTMLResponse)
    async def signzy_page(docket_id: str) -> str:
        return page(docket_id, "signzy")

    @app.post("/signzy/sign/{docket_id}")
    async def signzy_sign(docket_id: str, outcome: str = "SIGNED") -> Any:
        """The signer completes (or declines with ?outcome=DECLINED); the callbacks follow after the delay."""
        status, body = sign(docket_id, "signzy", outcome)
        return body if status == 200 else signzy_error(status, f"docket is {body['status']}")

    # --- SignDesk eSign -------------------------------------------------------------------------
    @app.post("/signdesk/api/{env}/signRequest")
    async def signdesk_create(env: str, request: Request) -> Any:
        if not (request.headers.get("x-parse-application-id") and request.headers.get("x-parse-rest-api-key")):
            return signdesk_answer(401, error_code="unauthorized", error="invalid application id or api key")
        body = await sbx.json_body(request)
        if (done := sbx.idempotent(body.get("reference_id"), "signdesk-docket")) is not None:
            return done
        document, signer = first(body.get("documents")), first(body.get("signers_info"))
        required = {
            "reference_id": body.get("reference_id"),
            "docket_title": body.get("docket_title"),
            "callback_url": body.get("callback_url"),
            "documents[0].reference_doc_id": document.get("reference_doc_id"),
            "signers_info[0].signer_name": signer.get("signer_name"),
            "signers_info[0].signer_mobile": signer.get("signer_mobile"),
            "signers_info[0].signer_ref_id": signer.get("signer_ref_id"),
        }
        for field, value in required.items():
            if not value:
                return signdesk_answer(400, error_code="missing_parameter", error=f"{field} is required")
        if document.get("content_type") != "pdf" or pdf_bytes(document.get("content")) is None:
            return signdesk_answer(
                400, error_code="invalid_document", error="documents[0].content must be a base64 PDF"
            )
        if signer.get("document_to_be_signed") != document["reference_doc_id"]:
            return signdesk_answer(400, error_code="invalid_parameter", error="document_to_be_signed is unknown")
        try:
            day = datetime.strptime(str(body.get("expiry_date")), "%d-%m-%Y")
        except ValueError:
            return signdesk_answer(400, error_code="invalid_parameter", error="expiry_date must be DD-MM-YYYY")
        docket = open_docket(
            "signdesk",
            sbx.new_id("dkt"),
            document_id=sbx.new_id("doc"),
            reference=body["reference_id"],
            loan_ref=signer["signer_ref_id"],
            callback_url=body["callback_url"],
            pdf=document["content"],
            signer={
                "name": signer["signer_name"],
                "email": signer.get("signer_email") or "",
                "phone": signer["signer_mobile"],
            },
            signer_id=sbx.new_id("sgn"),
            expires_at=(day.replace(tzinfo=UTC) + timedelta(days=1) - IST).timestamp(),
        )
        info = {
            "signer_id": docket["signer_id"],
            "signer_ref_id": docket["loan_ref"],
            "document_id": docket["document_id"],
            "reference_doc_id": document["reference_doc_id"],
            "invitation_link": f"{sbx.base(request)}/signdesk/sign/{docket['docket_id']}",
        }
        answer = signdesk_answer(message="sign request created", docket_id=docket["docket_id"], signer_info=[info])
        return sbx.remember(body["reference_id"], "signdesk-docket", json.loads(bytes(answer.body)))

    def signdesk_docket(body: dict, key: str = "docket_id") -> dict | None:
        wanted = body.get(key)
        found = next((d for d in dockets.values() if d.get("vendor") == "signdesk" and d.get(key) == wanted), None)
        return current(found) if found else None

    @app.post("/signdesk/api/{env}/getSignatureStatus")
    async def signdesk_status(env: str, request: Request) -> Any:
        docket = signdesk_docket(await sbx.json_body(request), "document_id")
        if docket is None:
            return signdesk_answer(404, error_code="document_not_found", error="document not found")
        return signdesk_answer(**signdesk_callback(docket))

    @app.post("/signdesk/api/{env}/getDocketInfo")
    async def signdesk_docket_info(env: str, request: Request) -> Any:
        docket = signdesk_docket(await sbx.json_body(request))
        if docket is None:
            return signdesk_answer(404, error_code="docket_not_found", error="docket not found")
        if docket["status"] != "SIGNED":
            return signdesk_answer(400, error_code="document_not_signed", error=f"docket is {docket['status']}")
        info = {"document_id": docket["document_id"], "content_type": "pdf", "content": signed_pdf(docket)}
        return signdesk_answer(docket_id=docket["docket_id"], docket_Info=[info])

    @app.post("/signdesk/api/{env}/cancelDocket")
    async def signdesk_cancel(env: str, request: Request) -> Any:
        docket = signdesk_docket(await sbx.json_body(request))
        if docket is None:
            return signdesk_answer(404, error_code="docket_not_found", error="docket not found")
        if docket["status"] == "SIGNED":
            return signdesk_answer(400, error_code="docket_already_signed", error="docket is signed")
        if docket["status"] == "PENDING":
            docket["status"] = "CANCELLED"
        return signdesk_answer(docket_id=docket["docket_id"], docket_status=docket["status"].lower())

    @app.get("/signdesk/sign/{docket_id}", response_class=HTMLResponse)
    async def signdesk_page(docket_id: str) -> str:
        return page(docket_id, "signdesk")

    @app.post("/signdesk/sign/{docket_id}")
    async def signdesk_sign(docket_id: str, outcome: str = "SIGNED") -> Any:
        """The signer signs (or declines with ?outcome=DECLINED); the callback follows after the delay."""
        status, body = sign(docket_id, "signdesk", outcome)
        if status == 200:
            return body
        return signdesk_answer(
            status, error_code=f"docket_{body['status'].lower()}", error=f"docket is {body['status']}"
        )
