"""Sandbox identity vendors: Digitap (PAN, Aadhaar OTP, mobile look-ups, CKYC, EPFO) and DigiLocker."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

from sandbox import scenarios
from sandbox.context import Sandbox, missing

DIGILOCKER_DEFAULT_AADHAAR11 = "52341234123"  # + Verhoeff digit: the DigiLocker user when none is given


def register(app: FastAPI, sbx: Sandbox) -> None:
    """Add this family's endpoints to the sandbox ``app``."""

    # --- Digitap KYC ---------------------------------------------------------------------------
    @app.post("/digitap/pan/verify")
    async def pan_verify(request: Request) -> dict:
        body = await request.json()
        pan = str(body.get("pan", "")).upper()
        if len(pan) != 10:
            raise HTTPException(400, "pan must be 10 characters")
        return scenarios.pan_check(pan)

    @app.post("/digitap/aadhaar/otp/initiate")
    async def aadhaar_otp_initiate(request: Request) -> dict:
        """Send an OTP to the Aadhaar-linked mobile (the sandbox's OTP is always AADHAAR_OTP, 123456).
        A new reference per call. Malformed or checksum-failing numbers: 422 AADHAAR_INVALID."""
        body = await sbx.json_body(request)
        aadhaar = str(body.get("aadhaar", "")).replace(" ", "")
        if not scenarios.aadhaar_valid(aadhaar):
            sbx.refuse(422, "AADHAAR_INVALID", "not a valid Aadhaar number (12 digits, Verhoeff checksum)")
        reference_id = sbx.new_id("aotp")
        sbx.state["aadhaar"][reference_id] = {
            "aadhaar": aadhaar,
            "status": "OTP_SENT",
            "attempts_left": scenarios.AADHAAR_OTP_ATTEMPTS,
        }
        masked = scenarios.mask_aadhaar(aadhaar)
        return {"reference_id": reference_id, "masked_aadhaar": masked, "status": "OTP_SENT"}

    @app.post("/digitap/aadhaar/otp/submit")
    async def aadhaar_otp_submit(request: Request) -> dict:
        """OTP 123456 verifies (and re-submitting it returns the same e-KYC); any other OTP is a mismatch,
        three of them before success lock the reference (ATTEMPTS_EXCEEDED). Unknown reference: 404."""
        body = await sbx.json_body(request)
        session = sbx.state["aadhaar"].get(str(body.get("reference_id", "")))
        if session is None:
            sbx.refuse(404, "REFERENCE_NOT_FOUND", "no OTP was sent under this reference")
        reference_id = str(body["reference_id"])
        if session["status"] == "ATTEMPTS_EXCEEDED":
            return {"reference_id": reference_id, "status": "ATTEMPTS_EXCEEDED", "attempts_left": 0}
        if str(body.get("otp", "")) != scenarios.AADHAAR_OTP:
            if session["status"] == "OTP_SENT":
                session["attempts_left"] -= 1
                if session["attempts_left"] <= 0:
                    session["status"] = "ATTEMPTS_EXCEEDED"
                    return {"reference_id": reference_id, "status": "ATTEMPTS_EXCEEDED", "attempts_left": 0}
            return {"reference_id": reference_id, "status": "OTP_MISMATCH", "attempts_left": session["attempts_left"]}
        session["status"] = "VERIFIED"
        return {
            "reference_id": reference_id,
            "status": "VERIFIED",
            "attempts_left": session["attempts_left"],
            "aadhaar": scenarios.aadhaar_person(session["aadhaar"]),
        }

    @app.post("/digitap/mobile/pan")
    async def mobile_to_pan(request: Request) -> dict:
        body = await sbx.json_body(request)
        found = scenarios.mobile_pan(str(body.get("mobile", "")))
        if found is None:
            return {"result_code": 102, "message": "No PAN found for this mobile number"}
        return {"result_code": 101, "result": found}

    @app.post("/digitap/mobile/address")
    async def mobile_to_address(request: Request) -> dict:
        body = await sbx.json_body(request)
        found = scenarios.mobile_address(str(body.get("mobile", "")))
        if found is None:
            return {"result_code": 102, "message": "No address found for this mobile number"}
        return {"result_code": 101, "result": {"address": found}}

    @app.post("/digitap/ckyc/search")
    async def ckyc_search(request: Request) -> dict:
        body = await sbx.json_body(request)
        pan = str(body.get("pan", "")).upper()
        record = scenarios.ckyc_record(pan)
        if record is None:
            return {"found": False, "message": "No CKYC record for this PAN"}
        sbx.state["ckyc"][record["ckyc_number"]] = pan
        return {
            "found": True,
            "ckyc_number": record["ckyc_number"],
            "name": record["name"],
            "kyc_date": record["kyc_date"],
        }

    @app.post("/digitap/ckyc/download")
    async def ckyc_download(request: Request) -> dict:
        """The record of a CKYC number found by search; the DOB must match (422 CKYC_AUTH_MISMATCH)."""
        body = await sbx.json_body(request)
        pan = sbx.state["ckyc"].get(str(body.get("ckyc_number", "")))
        record = scenarios.ckyc_record(pan) if pan else None
        if record is None:
            sbx.refuse(404, "CKYC_NOT_FOUND", "unknown CKYC number")
        if str(body.get("dob", "")) != record["dob"]:
            sbx.refuse(422, "CKYC_AUTH_MISMATCH", "the date of birth does not match the record")
        return {"record": record}

    # --- EPFO via Digitap -----------------------------------------------------------------------
    @app.post("/digitap/epfo/mobile-to-uan")
    async def mobile_to_uan(request: Request) -> Any:
        body = await sbx.json_body(request)
        phone = str(body.get("mobile", ""))
        if fault := scenarios.epfo_fault(phone):
            return await sbx.misbehave(request, fault)
        uans = scenarios.phone_uans(phone)
        if not uans:
            return {"result_code": 102, "message": "No UAN linked to this mobile number"}
        return {"result_code": 101, "result": {"uan": uans, "name": scenarios.uan_name(uans[-1])}}

    @app.post("/digitap/epfo/uan-employment")
    async def uan_employment(request: Request) -> Any:
        body = await sbx.json_body(request)
        uan = str(body.get("uan", ""))
        if not (uan.isdigit() and len(uan) == 12):
            sbx.refuse(422, "UAN_INVALID", "a UAN is 12 digits")
        if fault := scenarios.epfo_fault(uan):
            return await sbx.misbehave(request, fault)
        history = scenarios.employment_history(uan, sbx.today())
        if history is None:
            return {"result_code": 102, "message": "UAN not found in EPFO records"}
        return {
            "result_code": 101,
            "result": {
                **history,
                "employment_history": [
                    {**e, "last_wage": e["last_wage"] // 100} for e in history["employment_history"]
                ],
            },
        }

    # --- DigiLocker -----------------------------------------------------------------------------
    @app.post("/digilocker/v2/sessions")
    async def digilocker_session(request: Request) -> dict:
        body = await sbx.json_body(request)
        if not body.get("redirect_url"):
            sbx.refuse(400, "INVALID_REQUEST", "redirect_url is required")
        request_id = sbx.new_id("dlr")
        sbx.state["digilocker"][request_id] = {
            "redirect_url": body["redirect_url"],
            "state": body.get("state", ""),
            "code": None,
            "aadhaar": None,
        }
        return {"request_id": request_id, "authorization_url": f"{sbx.base(request)}/digilocker/authorize/{request_id}"}

    @app.get("/digilocker/authorize/{request_id}", response_class=HTMLResponse)
    def digilocker_page(request_id: str) -> str:
        sbx.state["digilocker"].get(request_id) or missing("DigiLocker request")
        return (
            "<html><body><h1>DigiLocker</h1><form method='post'>Aadhaar <input name='aadhaar'>"
            "<button name='outcome' value='ALLOW'>Allow</button><button name='outcome' value='DENY'>Deny</button>"
            "</form></body></html>"
        )

    @app.post("/digilocker/authorize/{request_id}")
    async def digilocker_authorize(request: Request, request_id: str) -> dict:
        """The customer signs in (``aadhaar``, default ``DIGILOCKER_DEFAULT_AADHAAR``) and allows or denies
        (``outcome``, query or form). Answers where DigiLocker would redirect the browser."""
        session = sbx.state["digilocker"].get(request_id) or missing("DigiLocker request")
        params = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update({k: str(v) for k, v in (await request.form()).items()})
        aadhaar = params.get("aadhaar") or scenarios.make_aadhaar(DIGILOCKER_DEFAULT_AADHAAR11)
        if not scenarios.aadhaar_valid(aadhaar):
            sbx.refuse(422, "AADHAAR_INVALID", "not a valid Aadhaar number")
        separator = "&" if "?" in session["redirect_url"] else "?"
        if params.get("outcome", "ALLOW").upper() == "DENY":
            query = urlencode({"error": "access_denied", "state": session["state"]})
            return {"redirect_url": f"{session['redirect_url']}{separator}{query}", "code": None}
        if session["code"] is None:
            session["code"] = secrets.token_hex(12)
            session["aadhaar"] = aadhaar
            session["pan"] = (params.get("pan") or "").upper() or None  # the holder's PAN, when given
            sbx.state["digilocker"][f"code:{session['code']}"] = request_id
        query = urlencode({"code": session["code"], "state": session["state"]})
        return {"redirect_url": f"{session['redirect_url']}{separator}{query}", "code": session["code"]}

    @app.post("/digilocker/v2/documents")
    async def digilocker_documents(request: Request) -> dict:
        """The issued documents for a consent code (the same ones every time for that code)."""
        body = await sbx.json_body(request)
        request_id = sbx.state["digilocker"].get(f"code:{body.get('code', '')}")
        if request_id is None:
            sbx.refuse(400, "INVALID_CODE", "the code is unknown or expired")
        session = sbx.state["digilocker"][request_id]
        return {
            "request_id": request_id,
            "documents": scenarios.digilocker_documents(session["aadhaar"], session.get("pan")),
        }
