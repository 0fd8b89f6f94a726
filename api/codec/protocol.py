"""Temporal's remote codec protocol: ``POST /api/v1/codec/encode`` and ``/decode``; see ``api.codec``."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.access import audit
from api.codec.cors import Db, router
from api.codec.sign_in import SuperAdmin
from api.deps import call_async
from api.responses import ApiModel
from domain.errors import ValidationError
from los.codec import EncryptionCodec, PayloadDecryptionError
from los.temporal import payload_codec

# --- the codec protocol ---------------------------------------------------------------------------------

MAX_PAYLOADS = 1000  # one UI page of history holds far fewer


class PayloadIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metadata: dict[str, str] = Field(default_factory=dict, description="values base64")
    data: str = Field(default="", description="base64")


class PayloadsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payloads: list[PayloadIn] = Field(default_factory=list, max_length=MAX_PAYLOADS)


class PayloadOut(ApiModel):
    """One payload in the protobuf JSON form of temporal.api.common.v1.Payload; an empty field is left out."""

    metadata: dict[str, str] = Field(
        default_factory=dict, description="base64 values by key (encoding, encryption-key-id)"
    )
    data: str = Field(default="", description="base64")


class PayloadsOut(ApiModel):
    """The payloads, in the order sent, each encoded (/encode) or decoded (/decode)."""

    payloads: list[PayloadOut]


def _codec(request: Request) -> EncryptionCodec:
    codec = getattr(request.app.state, "payload_codec", None)
    if codec is None:
        codec = request.app.state.payload_codec = payload_codec(request.app.state.settings)
    return codec


def _payloads(body: PayloadsIn) -> list[Payload]:
    out = []
    for i, p in enumerate(body.payloads):
        try:
            metadata = {k: base64.b64decode(v, validate=True) for k, v in p.metadata.items()}
            data = base64.b64decode(p.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("metadata values and data must be base64", field=f"payloads.{i}") from exc
        out.append(Payload(metadata=metadata, data=data))
    return out


def _answer(payloads: list[Payload]) -> Response:
    return JSONResponse({"payloads": [json_format.MessageToDict(p) for p in payloads]})


@router.options("/encode", include_in_schema=False)
@router.options("/decode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """The browser's CORS preflight (it carries no credentials): headers for the allowed origins only."""
    return Response(status_code=204)


@router.post("/encode", response_model=PayloadsOut)
async def encode(request: Request, body: PayloadsIn, admin: SuperAdmin) -> Response:
    """Payloads encrypted under the current key (``{"payloads": [...]}`` in, the same shape out)."""
    return _answer(await _codec(request).encode(_payloads(body)))


@router.post("/decode", response_model=PayloadsOut)
def decode(request: Request, body: PayloadsIn, admin: SuperAdmin, session: Db) -> Response:
    """Payloads decrypted (plain ones returned as they are); 422 naming the payload when one cannot be
    decrypted (unknown key id, altered bytes). Audited."""
    payloads = _payloads(body)
    codec = _codec(request)
    decoded = []
    for i, p in enumerate(payloads):
        try:
            decoded.extend(call_async(codec.decode, [p]))
        except PayloadDecryptionError as exc:
            raise ValidationError(str(exc), field=f"payloads.{i}") from exc
    audit(
        session,
        request,
        admin,
        "codec.decode",
        "payloads",
        None,
        after={"payloads": len(payloads), "namespace": request.headers.get("x-namespace")},
        platform=True,
    )
    return _answer(decoded)
