"""SignDesk eSign: one docket (one PDF, one Aadhaar OTP signer) per agreement, its callback, its
cancellation and the signed PDF.

SignDesk's API reference is given to customers, not published. What is public is its integrators' code
(public GitHub repositories calling it), which agrees on:

- the API authentication: headers ``x-parse-application-id`` (the account's application id) and
  ``x-parse-rest-api-key`` (the API key); paths ``/api/sandbox/...`` (UAT) and ``/api/live/...``;
- ``POST /api/{env}/signRequest`` with ``reference_id``, ``docket_title``, ``docket_description``,
  ``expiry_date`` (``DD-MM-YYYY``), ``documents: [{reference_doc_id, content_type: "pdf", content (base64),
  signature_sequence}]`` and ``signers_info: [{document_to_be_signed, signer_position: {appearance},
  signer_ref_id, signer_email, signer_name, signer_mobile, sequence, page_number, esign_type: "otp",
  signature_type: "aadhaar", authentication_mode: "mobile", access_type: "otp", trigger_esign_request}]``;
  the answer ``{status: "success", docket_id, signer_info: [{signer_id, signer_ref_id, document_id,
  reference_doc_id, invitation_link}], api_response_id, response_time_stamp}``, or ``{status: "failed",
  error_code, error}``;
- ``POST /api/{env}/getSignatureStatus`` ``{document_id}`` → ``signer_info: [{signer_id, status (signed /
  pending / declined ...), signed_at}]``; ``POST /api/{env}/getDocketInfo`` → ``docket_Info: [{content}]``,
  the signed PDF in base64.

Not public, so following the closest documented pattern (and the sandbox twin, ``sandbox/esign.py``):
``callback_url`` on the request (where the docket's events go); ``POST /api/{env}/cancelDocket``
``{docket_id}``; ``getDocketInfo`` asked with the ``docket_id`` alone (one document per docket); the callback
body modelled on ``getSignatureStatus`` — ``{docket_id, document_id, reference_id, signer_info:
[{signer_id, signer_ref_id, status, signed_at}]}``, status ``signed`` / ``declined`` / ``expired`` (others
are stored only) — signed with hex HMAC-SHA256 of the raw body in ``X-SignDesk-Signature`` (the scheme most
Indian vendors use). Our reference for the docket (the idempotency key) is ``reference_id``; the loan id is
the signer's ``signer_ref_id``, and comes back in the callback. The event id is
``<docket_id>.<signer_id>.<status>``, the same on every retry.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider, ProviderError
from activities.providers.esign.base import Docket
from activities.providers.signing import SIGNATURE_HEADERS
from domain.outcomes import AgreementStatus
from workflows.contracts import EsignEvent

IST = timedelta(hours=5, minutes=30)
#: callback signer statuses → our outcome (any other status is stored, no signal)
OUTCOMES = {"signed": AgreementStatus.SIGNED, "declined": AgreementStatus.DECLINED, "expired": AgreementStatus.EXPIRED}
#: SignDesk's refusal codes (sandbox twin) that mean "the docket was signed meanwhile"
SIGNED_CODES = frozenset({"docket_already_signed"})


def expiry_date(expires_in_seconds: int, now: datetime | None = None) -> str:
    """SignDesk's ``expiry_date``: the Indian calendar day the docket expires on (its end), ``DD-MM-YYYY``."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=expires_in_seconds) + IST
    return moment.strftime("%d-%m-%Y")


class SignDeskEsign(HttpProvider):
    """Config: ``api_key`` (``x-parse-rest-api-key``), ``webhook_secret``, options ``application_id``
    (``x-parse-application-id``) and ``environment`` (``live``, the default, or ``sandbox``)."""

    signature_header = SIGNATURE_HEADERS["signdesk"]

    async def _call(self, operation: str, body: dict, timeout: float | None = None) -> dict[str, Any]:
        app_id = self.config.options.get("application_id")
        if not app_id:
            raise BusinessRefusal("signdesk: option 'application_id' is not configured", code="NO_PROVIDER")
        env = str(self.config.options.get("environment") or "live")
        headers = {"x-parse-application-id": str(app_id), "x-parse-rest-api-key": self.config.api_key}
        try:
            answer = await self.call(
                "POST", f"/signdesk/api/{env}/{operation}", json=body, headers=headers, timeout=timeout
            )
        except BusinessRefusal as exc:
            details = exc.details if isinstance(exc.details, Mapping) else {}
            raise BusinessRefusal(
                f"signdesk: {details.get('error') or exc}",
                code=details.get("error_code") or exc.code,
                vendor=self.vendor,
                status=exc.status,
                details=exc.details,
            ) from exc
        if answer.get("status") != "success":  # SignDesk also answers a refusal with 200 and status "failed"
            raise BusinessRefusal(
                f"signdesk: {answer.get('error') or answer}",
                code=answer.get("error_code"),
                vendor=self.vendor,
                details=answer,
            )
        return answer

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
        doc_ref = f"{idempotency_key}-agreement"
        body = await self._call(
            "signRequest",
            {
                "reference_id": idempotency_key,
                "docket_title": "Loan agreement",
                "docket_description": f"Loan agreement {reference_id}",
                "expiry_date": expiry_date(expires_in_seconds),
                "callback_url": callback_url,
                "documents": [
                    {
                        "reference_doc_id": doc_ref,
                        "content_type": "pdf",
                        "content": base64.b64encode(pdf).decode(),
                        "signature_sequence": "sequential",
                    }
                ],
                "signers_info": [
                    {
                        "document_to_be_signed": doc_ref,
                        "signer_position": {"appearance": "bottom-right"},
                        "signer_ref_id": reference_id,
                        "signer_email": signer_email or "",
                        "signer_name": signer_name,
                        "signer_mobile": signer_phone[-10:],
                        "sequence": "1",
                        "page_number": "all",
                        "esign_type": "otp",
                        "signature_type": "aadhaar",
                        "authentication_mode": "mobile",
                        "access_type": "otp",
                        "trigger_esign_request": True,
                    }
                ],
            },
            timeout=30.0,
        )
        with self.reading("sign request"):
            return Docket(str(body["docket_id"]), str(body["signer_info"][0]["invitation_link"]))

    async def cancel_docket(self, docket_id: str) -> None:
        try:
            await self._call("cancelDocket", {"docket_id": docket_id})
        except BusinessRefusal as exc:
            if exc.code in SIGNED_CODES:
                raise BusinessRefusal(str(exc), code="ALREADY_SIGNED", vendor=self.vendor, details=exc.details) from exc
            raise

    async def signed_document(self, docket_id: str) -> bytes:
        body = await self._call("getDocketInfo", {"docket_id": docket_id})
        try:
            return base64.b64decode(body["docket_Info"][0]["content"], validate=True)
        except (KeyError, IndexError, TypeError, binascii.Error) as exc:
            raise ProviderError(f"signdesk: malformed docket_Info: {exc!r}", vendor=self.vendor) from exc

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified docket callback → :class:`InboundEvent`; signed / declined / expired carry an
        ``EsignEvent`` for ``esign_completed``. ``ValidationError`` names the field."""
        docket_id = w.text(w.at(body, "docket_id"), "docket_id") or ""
        signers = w.at(body, "signer_info")
        if not isinstance(signers, list) or not signers or not isinstance(signers[0], Mapping):
            raise w.invalid("signer_info", "must be a non-empty array of objects")
        signer = signers[0]
        signer_id = w.text(signer.get("signer_id"), "signer_info[0].signer_id") or ""
        loan_ref = w.text(signer.get("signer_ref_id"), "signer_info[0].signer_ref_id")
        status = w.text(signer.get("status"), "signer_info[0].status", w.EVENT_TYPE_MAX - 7) or ""
        event_id = w.text(f"{docket_id}.{signer_id}.{status}", "signer_info[0].signer_id", w.EVENT_ID_MAX) or ""
        outcome = OUTCOMES.get(status)
        if outcome is None:
            return w.InboundEvent(event_id, f"signer.{status}", loan_ref, None, None)
        return w.InboundEvent(
            event_id,
            f"signer.{status}",
            loan_ref,
            w.LoanSignal.ESIGN_COMPLETED,
            EsignEvent(docket_id, outcome, event_id),
        )
