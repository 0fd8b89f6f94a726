"""ICICI Bank disbursal through its Corporate Internet Banking (CIB) "Composite Pay" API: NEFT, RTGS and IMPS
transfers, the composite status API, and the bank's callback.

What ICICI publishes (its Composite Pay API document v1.18, https://scribd.com/document/648408586/COMPOSITE-PAY-API-1-18-1
— "CIB API under hybrid encryption" (v1.13), "Status ... APIs integrated into composite status API" (v1.15); the
encryption steps at https://wp.jjknowledgebase.com/?p=69621; the packet as integrators send it, e.g. the
open-source india_banking_connector ICICI connector):

- ``POST /api/v1/composite-payment`` (sandbox: ``/icici/api/v1/composite-payment``) with headers ``apikey`` and
  ``x-priority`` — ``0100`` IMPS, ``0010`` NEFT, ``0001`` RTGS, ``1000`` ICICI-to-ICICI — and the CIB packet
  ``{AGGRID, AGGRNAME, CORPID, USERID, URN, UNIQUEID, DEBITACC, CREDITACC, IFSC, AMOUNT (rupees, "1000.00"),
  CURRENCY "INR", TXNTYPE (RGS NEFT, RTG RTGS, IFS IMPS, TPA within ICICI), PAYEENAME, REMARKS, WORKFLOW_REQD}``;
  the answer ``{REQID, STATUS: SUCCESS | PENDING | FAILURE | DUPLICATE, UNIQUEID, URN, UTRNUMBER, RESPONSE,
  MESSAGE, ERRORCODE}``. ``UNIQUEID`` is our reference: a second packet with it is answered DUPLICATE, never
  paid twice (the adapter then reads the transfer from the status API).
- ``POST /api/v1/composite-status`` with ``{AGGRID, CORPID, USERID, URN, UNIQUEID}`` → ``STATUS`` SUCCESS /
  PENDING / FAILURE (``MESSAGE`` says why) with ``UTRNUMBER``; ``UNKNOWN`` when the bank has no such UNIQUEID.
- Hybrid encryption, both ways: a random 16-byte session key encrypted with the other side's RSA key
  (RSA/ECB/PKCS1Padding, ``oaepHashingAlgorithm`` "NONE"), the JSON packet AES-128-CBC/PKCS5 under the session
  key with the IV prepended, in ``{requestId, service, encryptedKey, oaepHashingAlgorithm, iv, encryptedData,
  clientInfo, optionalParam}``. The bank's key is its public certificate (or key); ours is the private key whose
  public half we gave the bank.

Not published, so chosen here: the callback's packet (the status API's fields plus ``REMARKS``, which carries
the loan id we sent, and ``AMOUNT``), and its authentication — ICICI relies on IP allow-listing and on the
packet being encrypted to our key, which proves nothing about the sender, so the callback must also carry
``X-ICICI-Signature``: base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body by the bank's key, verified with the
bank's public key. The callback address is set at onboarding; the sandbox reads it from ``X-Callback-Url``.

Config (``ProviderConfig.options``): ``aggr_id``, ``aggr_name``, ``corp_id``, ``user_id``, ``urn``,
``debit_account``, ``bank_public_key`` (PEM certificate or public key), ``client_private_key`` (PEM);
``api_key`` is sent as ``apikey``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from activities.providers import webhooks as w
from activities.providers.base import BusinessRefusal, HttpProvider, ProviderError, rupees_to_paise
from activities.providers.disbursal.base import (
    BankTransferState,
    Beneficiary,
    Transfer,
    TransferMode,
    TransferStatusAnswer,
)
from domain.outcomes import TransferStatus
from workflows.contracts import DisbursalEvent

PAY_PATH = "/icici/api/v1/composite-payment"
STATUS_PATH = "/icici/api/v1/composite-status"
SIGNATURE_HEADER = "X-ICICI-Signature"
CALLBACK_URL_HEADER = "X-Callback-Url"
PRIORITY = {TransferMode.IMPS: "0100", TransferMode.NEFT: "0010", TransferMode.RTGS: "0001"}
INTRA_BANK_PRIORITY = "1000"
TXNTYPE = {TransferMode.IMPS: "IFS", TransferMode.NEFT: "RGS", TransferMode.RTGS: "RTG"}
STATES = {"SUCCESS": BankTransferState.SUCCESS, "PENDING": BankTransferState.PENDING,
          "FAILURE": BankTransferState.FAILED, "UNKNOWN": BankTransferState.NOT_FOUND}  # fmt: skip
CALLBACK_STATUSES = {"SUCCESS": TransferStatus.SUCCESS, "FAILURE": TransferStatus.FAILED}
REASON_MAX = 255


# --- hybrid encryption and the callback signature --------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def public_key(pem: str) -> Any:
    """An RSA public key from a PEM public key or X.509 certificate (ICICI hands out a certificate)."""
    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


@functools.lru_cache(maxsize=16)
def private_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def seal(packet: Mapping[str, Any], key: Any, request_id: str | None = None) -> dict[str, str]:
    """``packet`` encrypted to ``key`` (an RSA public key) in ICICI's hybrid envelope."""
    session = "".join(secrets.choice("0123456789") for _ in range(16)).encode()  # 16 digits, as ICICI's samples
    iv = secrets.token_bytes(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(packet, separators=(",", ":")).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(session), modes.CBC(iv)).encryptor()
    data = iv + encryptor.update(plain) + encryptor.finalize()
    return {
        "requestId": request_id or secrets.token_hex(8).upper(),
        "service": "",
        "encryptedKey": base64.b64encode(key.encrypt(session, rsa_padding.PKCS1v15())).decode(),
        "oaepHashingAlgorithm": "NONE",
        "iv": base64.b64encode(iv).decode(),
        "encryptedData": base64.b64encode(data).decode(),
        "clientInfo": "",
        "optionalParam": "",
    }


def unseal(envelope: Mapping[str, Any], key: Any) -> dict[str, Any]:
    """The packet inside an envelope, with ``key`` (an RSA private key); ``ValueError`` when it does not open."""
    try:
        session = key.decrypt(base64.b64decode(envelope["encryptedKey"]), rsa_padding.PKCS1v15())
        data = base64.b64decode(envelope["encryptedData"])
        decryptor = Cipher(algorithms.AES(session), modes.CBC(data[:16])).decryptor()
        padded = decryptor.update(data[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        packet = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"envelope does not open: {exc}") from exc
    if not isinstance(packet, dict):
        raise ValueError("envelope does not hold a JSON object")
    return packet


def sign(raw: bytes, key: Any) -> str:
    """The callback signature: base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body by the bank's private ``key``."""
    return base64.b64encode(key.sign(raw, rsa_padding.PKCS1v15(), hashes.SHA256())).decode()


def signature_valid(raw: bytes, key: Any, signature: str | None) -> bool:
    try:
        key.verify(base64.b64decode(signature or "", validate=True), raw, rsa_padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return bool(signature)


def unique_id(idempotency_key: str) -> str:
    """Our reference at ICICI (UNIQUEID, alphanumeric): the key itself when it is one, else a digest of it."""
    if re.fullmatch(r"[A-Za-z0-9]{1,32}", idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32].upper()


def rupees(paise: int) -> str:
    return f"{paise // 100}.{paise % 100:02d}"


class IciciDisbursal(HttpProvider):
    signature_header = SIGNATURE_HEADER

    def _option(self, name: str) -> str:
        value = self.config.options.get(name)
        if not value:
            raise BusinessRefusal(f"icici: option {name!r} is not configured", code="NOT_CONFIGURED", vendor="icici")
        return str(value)

    def _ids(self) -> dict[str, str]:
        names = {"AGGRID": "aggr_id", "CORPID": "corp_id", "USERID": "user_id", "URN": "urn"}
        return {field: self._option(option) for field, option in names.items()}

    async def _post(self, path: str, packet: dict, priority: str, headers: dict[str, str] | None = None) -> dict:
        """Send ``packet`` sealed to the bank's key; the answer opened with ours (a plain JSON answer — the
        gateway's own errors — as it came). A 4xx is a ``BusinessRefusal`` with the bank's ERRORCODE."""
        envelope = seal(packet, public_key(self._option("bank_public_key")))
        hdrs = {"apikey": self.config.api_key, "x-priority": priority, **(headers or {})}
        try:
            answer = await self.call("POST", path, json=envelope, headers=hdrs)
        except BusinessRefusal as exc:
            details = exc.details if isinstance(exc.details, Mapping) else {}
            code = details.get("ERRORCODE") or details.get("errorCode") or exc.code
            why = details.get("MESSAGE") or details.get("description") or str(exc)
            raise BusinessRefusal(
                f"icici: {why}", code=code, vendor="icici", status=exc.status, details=details
            ) from exc
        if "encryptedData" not in answer:
            return answer
        with self.reading("encrypted answer"):
            return unseal(answer, private_key(self._option("client_private_key")))

    async def transfer(
        self,
        *,
        amount: int,
        reference_id: str,
        beneficiary: Beneficiary,
        mode: TransferMode,
        callback_url: str,
        idempotency_key: str,
    ) -> Transfer:
        within_icici = beneficiary.ifsc.upper().startswith("ICIC")
        packet = {
            **self._ids(),
            "AGGRNAME": self._option("aggr_name"),
            "UNIQUEID": unique_id(idempotency_key),
            "DEBITACC": self._option("debit_account"),
            "CREDITACC": beneficiary.account_number,
            "IFSC": beneficiary.ifsc,
            "AMOUNT": rupees(amount),
            "CURRENCY": "INR",
            "TXNTYPE": "TPA" if within_icici else TXNTYPE[mode],
            "PAYEENAME": re.sub(r"[^A-Za-z0-9 .]", "", beneficiary.name).strip()[:35],
            "REMARKS": reference_id,
            "WORKFLOW_REQD": "N",
        }
        priority = INTRA_BANK_PRIORITY if within_icici else PRIORITY[mode]
        answer = await self._post(PAY_PATH, packet, priority, {CALLBACK_URL_HEADER: callback_url})
        status = answer.get("STATUS")
        if status == "DUPLICATE":  # the bank has this UNIQUEID already: the transfer is the one it holds
            held = await self.transfer_status(idempotency_key=idempotency_key)
            if held.state is BankTransferState.NOT_FOUND or not held.transfer_id:
                raise ProviderError("icici: DUPLICATE, yet the status API does not know the transfer", vendor="icici")
            return Transfer(held.transfer_id, held.state.value)
        if answer.get("RESPONSE") == "FAILURE" or status == "FAILURE":
            raise BusinessRefusal(
                f"icici: {answer.get('MESSAGE') or 'transfer refused'}",
                code=answer.get("ERRORCODE"),
                vendor="icici",
                details=answer,
            )
        with self.reading("composite-payment answer"):
            return Transfer(str(answer["REQID"]), STATES[str(status)].value)

    async def transfer_status(self, *, idempotency_key: str) -> TransferStatusAnswer:
        packet = {**self._ids(), "UNIQUEID": unique_id(idempotency_key)}
        answer = await self._post(STATUS_PATH, packet, PRIORITY[TransferMode.NEFT])
        with self.reading("composite-status answer"):
            state = STATES[answer["STATUS"]]
            if state is BankTransferState.NOT_FOUND:
                return TransferStatusAnswer(state)
            return TransferStatusAnswer(
                state,
                transfer_id=str(answer["REQID"]),
                utr=answer.get("UTRNUMBER") or None,
                reason=(answer.get("MESSAGE") or None) if state is BankTransferState.FAILED else None,
            )

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """Whether ``raw`` carries the bank's RSA-SHA256 signature in ``X-ICICI-Signature``."""
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None)
        pem = self.config.options.get("bank_public_key")
        if not given or not pem:
            return False
        try:
            key = public_key(str(pem))
        except ValueError:
            return False
        return signature_valid(raw, key, given)

    def parse_webhook(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> w.InboundEvent:
        """A verified callback (an envelope sealed to our key) → :class:`InboundEvent` with a ``DisbursalEvent``
        for SUCCESS / FAILURE (a PENDING one is stored only). ``ValidationError`` naming the field."""
        event_id = w.text(w.at(body, "requestId"), "requestId", w.EVENT_ID_MAX) or ""
        try:
            packet = unseal(body, private_key(self._option("client_private_key")))
        except ValueError as exc:
            raise w.invalid("encryptedData", "does not decrypt with our key") from exc
        status = w.one_of(packet.get("STATUS"), "encryptedData.STATUS", ("SUCCESS", "FAILURE", "PENDING"))
        loan_ref = w.text(packet.get("REMARKS"), "encryptedData.REMARKS", required=False)
        if status not in CALLBACK_STATUSES:
            return w.InboundEvent(event_id, f"transfer.{status.lower()}", loan_ref, None, None)
        transfer_id = w.text(packet.get("REQID"), "encryptedData.REQID") or ""
        try:
            amount = rupees_to_paise(packet.get("AMOUNT"))
        except ValueError as exc:
            raise w.invalid("encryptedData.AMOUNT", "must be a rupee amount") from exc
        w.paise(amount, "encryptedData.AMOUNT")
        settled = status == "SUCCESS"
        utr = w.text(packet.get("UTRNUMBER") or None, "encryptedData.UTRNUMBER", w.UTR_MAX, required=settled)
        reason = None if settled else str(packet.get("MESSAGE") or "failed at the bank")[:REASON_MAX]
        return w.InboundEvent(
            event_id,
            f"transfer.{status.lower()}",
            loan_ref,
            w.LoanSignal.DISBURSAL_SETTLED,
            DisbursalEvent(transfer_id, CALLBACK_STATUSES[status], utr, event_id, reason=reason),
        )
