"""Signzy Digital Contracting: one contract (Aadhaar eSign) per docket, its callbacks, its cancellation and
the signed PDF.

Sources (Signzy's API docs, published as a GitBook from the repository vaishalisignzy/apidocs):
``digital-contracting-1/contracting-workflow.md`` (the flow; the access token in the ``Authorization``
header, no scheme word), ``digital-contracting-1/create-contract.md`` (create, the customer and the signer
callbacks and their Basic authentication), ``digital-contracting-1/pull-contract.md``,
``digital-contracting-1/delete-contract.md`` and ``error-codes.md`` (``{"error": {"name", "status",
"message"}}``; 422 for missing inputs). Its newer Contract360 pages (https://docs.signzy.com/contract360/
initiate-contract-api, .../pull-contract-api, .../complete-contract-api) describe the same contract / pull /
complete-or-cancel steps.

As documented, and as used here (paths under ``/signzy``, the sandbox's prefix, on the configured base URL):

- ``POST /api/customers/{customerId}/contractdetails`` with ``pdfbase64`` + ``fileFormat: "base64"``,
  ``contractName``, one ``signerdetail`` (``signerName``, ``signerEmail`` — compulsory —, ``signerMobile``,
  ``signOrder`` 1, ``signatureOptions: ["aadhaaresign"]``), ``maximumValidityTime`` (hours, at least 24) and
  ``callbackUrl`` / ``signerCallbackUrl`` each with ``...AuthPresent: "true"``, ``...AuthType:
  "basic-auth"`` and ``...AuthCredentials: {username, password}``; the answer's ``id`` is the contract id.
  The signing URL is the signer's ``esignUrl`` (in the answer when given, else from a pull).
- ``POST /api/contractdetails/pullData`` ``{contractId, customerId}`` → ``contractResponse`` with
  ``isCompleted`` and ``finalSignedContract`` (base64, as the contract was created with base64).
- ``POST /api/contractdetails/deleteContract`` → ``{"deleteResponse": "SUCCESS"}``. Signzy deletes executed
  contracts too, so a cancel pulls first and refuses (``ALREADY_SIGNED``) a completed contract.
- Callbacks, authenticated only by the Basic credentials given at creation: the *signer* callback
  (``contractId``, ``signerId``, ``status`` "200" success / "500" failure, ``aadhaarErrorCode``...) and, once
  every signer has signed, the *customer* callback (``contractId``, ``finalSignedContract``,
  ``contractCompletionTime``, and the extra parameter asked for, ``contractName``).

Our choices where Signzy leaves them open: the credentials are per contract — username our loan id,
password hex HMAC-SHA256 of that username keyed with the brand's ``webhook_secret`` — so a callback names its
loan and verifies without any stored state (Basic authentication covers who sent it, not the body's
integrity). The customer callback is the signature (SIGNED); a signer callback with status 500 (the signer's
Aadhaar eSign failed or was refused) is DECLINED; a signer success is stored only (the completion follows).
Signzy documents no expiry callback (the workflow's own timer ends an unsigned agreement) and no event id:
the id is ``<contractId>.completed`` / ``<contractId>.<signerId>.<status>``, the same on every retry. Signzy
documents no idempotency key either: ``contractName`` carries our idempotency key (the sandbox is idempotent
on it; the real service may open a second contract on a retried create).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

from activities.providers import signing
from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider, ProviderError, UnsupportedOperation
from activities.providers.esign.base import Docket
from domain.outcomes import AgreementStatus
from workflows.contracts import EsignEvent

MIN_VALIDITY_HOURS = 24  # Signzy's minimum maximumValidityTime
SIGNER_OK, SIGNER_FAILED = "200", "500"


def callback_password(secret: str, username: str) -> str:
    """The Basic-auth password we give Signzy for a contract whose username is ``username``."""
    return signing.sign(username.encode(), secret)


def basic_credentials(headers: Mapping[str, str] | None) -> tuple[str, str] | None:
    """(username, password) of an ``Authorization: Basic ...`` header, or None."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if not value or not value.startswith("Basic "):
        return None
    try:
        user, sep, password = base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep and user else None


class SignzyEsign(HttpProvider):
    """Config: ``api_key`` the access token, ``webhook_secret``, option ``customer_id`` (the login's userId)."""

    @property
    def customer_id(self) -> str:
        value = self.config.options.get("customer_id")
        if not value:
            raise BusinessRefusal("signzy: option 'customer_id' is not configured", code="NO_PROVIDER")
        return str(value)

    async def _call(self, path: str, body: dict, timeout: float | None = None) -> dict[str, Any]:
        return await self.call(
            "POST", f"/signzy/api{path}", json=body, headers={"Authorization": self.config.api_key}, timeout=timeout
        )

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
        if not signer_email:  # Signzy documents it as compulsory: another eSign vendor may take this signer
            raise UnsupportedOperation("signzy: the signer's email is compulsory")
        auth = {"username": reference_id, "password": callback_password(self.config.webhook_secret, reference_id)}
        hours = max(MIN_VALIDITY_HOURS, math.ceil(expires_in_seconds / 3600))
        body = await self._call(
            f"/customers/{self.customer_id}/contractdetails",
            {
                "pdfbase64": base64.b64encode(pdf).decode(),
                "fileFormat": "base64",
                "contractName": idempotency_key,
                "signerdetail": [
                    {
                        "signerName": signer_name,
                        "signerEmail": signer_email,
                        "signerMobile": signer_phone,
                        "signOrder": 1,
                        "signatureOptions": ["aadhaaresign"],
                    }
                ],
                "maximumValidityTime": hours,
                "callbackUrl": callback_url,
                "callbackUrlAuthPresent": "true",
                "callbackUrlAuthType": "basic-auth",
                "callbackUrlAuthCredentials": auth,
                "customerCallbackExtraParameters": ["contractName"],
                "signerCallbackUrl": callback_url,
                "signerCallbackUrlAuthPresent": "true",
                "signerCallbackUrlAuthType": "basic-auth",
                "signerCallbackUrlAuthCredentials": auth,
            },
            timeout=30.0,
        )
        with self.reading("contract"):
            contract_id = str(body["id"])
            url = (body.get("signerdetail") or [{}])[0].get("esignUrl")
        if not url:
            with self.reading("pulled contract"):
                url = (await self._pull(contract_id))["signerdetail"][0]["esignUrl"]
        return Docket(contract_id, str(url))

    async def _pull(self, contract_id: str) -> dict[str, Any]:
        body = await self._call(
            "/contractdetails/pullData", {"contractId": contract_id, "customerId": self.customer_id}
        )
        with self.reading("pulled contract"):
            contract = body["contractResponse"]
            if not isinstance(contract, dict):
                raise TypeError("contractResponse is not an object")
            return contract

    async def cancel_docket(self, docket_id: str) -> None:
        try:
            contract = await self._pull(docket_id)
        except BusinessRefusal as exc:
            if exc.status == 404:  # already deleted
                return
            raise
        if _completed(contract):
            raise BusinessRefusal(f"signzy: contract {docket_id} is signed", code="ALREADY_SIGNED", vendor=self.vendor)
        await self._call("/contractdetails/deleteContract", {"contractId": docket_id, "customerId": self.customer_id})

    async def signed_document(self, docket_id: str) -> bytes:
        contract = await self._pull(docket_id)
        if not _completed(contract):
            raise BusinessRefusal(f"signzy: contract {docket_id} is not signed", code="NOT_SIGNED", vendor=self.vendor)
        try:
            return base64.b64decode(contract["finalSignedContract"], validate=True)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ProviderError(f"signzy: malformed finalSignedContract: {exc!r}", vendor=self.vendor) from exc

    # Signzy's callbacks carry the signed contract itself (base64): up to 16 MiB is taken, and the stored event keeps
    # only its size (the signed PDF is fetched and stored apart, with its SHA-256).
    max_body_bytes = 16 * 1024 * 1024

    @staticmethod
    def stored_payload(body: Mapping[str, Any]) -> dict[str, Any]:
        """The callback as kept in ``webhook_events``: the documents replaced by their length."""
        documents = ("finalSignedContract", "signerSignedContract")
        return {k: (f"<{len(str(v))} base64 characters>" if k in documents and v else v) for k, v in body.items()}

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """The callback's Basic credentials are the ones this contract was given (see the module docstring)."""
        creds = basic_credentials(headers)
        if creds is None or not self.config.webhook_secret:
            return False
        return signing.verify(creds[0].encode(), self.config.webhook_secret, creds[1])

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified customer or signer callback → :class:`InboundEvent`; the completion (SIGNED) and a signer's
        failure (DECLINED) carry an ``EsignEvent`` for ``esign_completed``. ``ValidationError`` names the field."""
        creds = basic_credentials(headers)
        loan_ref = w.text(creds[0] if creds else None, "header:Authorization")
        contract_id = w.text(w.at(body, "contractId"), "contractId") or ""
        if "finalSignedContract" in body:
            event_id = f"{contract_id}.completed"
            return w.InboundEvent(
                event_id,
                "contract.completed",
                loan_ref,
                w.LoanSignal.ESIGN_COMPLETED,
                EsignEvent(contract_id, AgreementStatus.SIGNED, event_id),
            )
        signer_id = w.text(w.at(body, "signerId"), "signerId") or ""
        status = w.one_of(str(w.at(body, "status")), "status", (SIGNER_OK, SIGNER_FAILED))
        event_id = w.text(f"{contract_id}.{signer_id}.{status}", "signerId", w.EVENT_ID_MAX) or ""
        if status == SIGNER_OK:
            return w.InboundEvent(event_id, "signer.signed", loan_ref, None, None)
        return w.InboundEvent(
            event_id,
            "signer.failed",
            loan_ref,
            w.LoanSignal.ESIGN_COMPLETED,
            EsignEvent(contract_id, AgreementStatus.DECLINED, event_id),
        )


def _completed(contract: Mapping[str, Any]) -> bool:
    return str(contract.get("isCompleted")).lower() == "true"
