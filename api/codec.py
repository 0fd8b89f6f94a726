"""Codec endpoint for the Temporal UI and CLI: /api/v1/codec/encode and /api/v1/codec/decode.

Temporal's "remote codec" protocol: ``POST {endpoint}/decode`` (or ``/encode``) with
``{"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}, ...]}`` (the protobuf
JSON form of ``temporal.api.common.v1.Payloads``) answers the same shape with each payload decoded
(encoded). The UI sends ``X-Namespace`` and, when "Pass the user access token" is on, an
``Authorization: Bearer`` header; the CLI sends ``--codec-auth``'s value as ``Authorization``.

Who may call it: super admins only (``api.access.AllowPlatformAdmin``). The Temporal UI lists every brand's
loans in one namespace, so decoding a history is a cross-brand read of personal data: no brand-scoped
role covers it. Others get 401 (no or bad token) or 403. Every decode is written to the audit log
(platform row ``codec.decode``: how many payloads, which namespace).

CORS: the Temporal UI runs on another origin (``Settings.temporal_ui``: ``LOS_TEMPORAL_UI_URL`` or the
embedded dev server's, plus any of ``LOS_CODEC_CORS_ORIGINS``);
those origins get the CORS headers, preflights included, with credentials allowed. Other origins get no
CORS headers, so a browser on another site cannot read the answer. See docs/security.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from temporalio.api.common.v1 import Payload

from api.access import AllowPlatformAdmin, audit
from api.deps import db_session
from api.security import Principal
from domain.errors import ValidationError
from los.codec import EncryptionCodec, PayloadDecryptionError
from los.temporal import payload_codec

router = APIRouter(prefix="/api/v1/codec", tags=["codec (Temporal UI)"])
Db = Annotated[Session, Depends(db_session, scope="function")]
SuperAdmin = Annotated[Principal, AllowPlatformAdmin()]
MAX_PAYLOADS = 1000  # one UI page of history holds far fewer


class PayloadIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metadata: dict[str, str] = Field(default_factory=dict, description="values base64")
    data: str = Field(default="", description="base64")


class PayloadsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payloads: list[PayloadIn] = Field(default_factory=list, max_length=MAX_PAYLOADS)


def _allowed_origins(request: Request) -> set[str]:
    """The UI's origin and the configured ones; a loopback UI is the same whether opened as localhost or
    127.0.0.1, so both spellings are allowed."""
    settings = request.app.state.settings
    origins = {o.rstrip("/") for o in [settings.temporal_ui, *settings.codec_cors_origins] if o}
    for host, twin in (("//localhost:", "//127.0.0.1:"), ("//127.0.0.1:", "//localhost:")):
        origins |= {o.replace(host, twin) for o in origins if host in o}
    return origins


def _cors(request: Request, response: Response) -> Response:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in _allowed_origins(request):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "authorization, content-type, x-namespace"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
    return response


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


def _answer(request: Request, payloads: list[Payload]) -> Response:
    body = {"payloads": [json_format.MessageToDict(p) for p in payloads]}
    return _cors(request, JSONResponse(body))


@router.options("/encode", include_in_schema=False)
@router.options("/decode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """The browser's CORS preflight (it carries no credentials): headers for the allowed origins only."""
    return _cors(request, Response(status_code=204))


@router.post("/encode")
async def encode(request: Request, body: PayloadsIn, admin: SuperAdmin) -> Response:
    """Payloads encrypted under the current key (``{"payloads": [...]}`` in, the same shape out)."""
    return _answer(request, await _codec(request).encode(_payloads(body)))


@router.post("/decode")
async def decode(request: Request, body: PayloadsIn, admin: SuperAdmin, session: Db) -> Response:
    """Payloads decrypted (plain ones returned as they are); 422 naming the payload when one cannot be
    decrypted (unknown key id, altered bytes). Audited."""
    payloads = _payloads(body)
    codec = _codec(request)
    decoded = []
    for i, p in enumerate(payloads):
        try:
            decoded.extend(await codec.decode([p]))
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
    return _answer(request, decoded)
