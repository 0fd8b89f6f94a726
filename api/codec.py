"""Codec endpoint for the Temporal UI and CLI: /api/v1/codec/encode and /api/v1/codec/decode, and the
codec sign-in (/api/v1/codec/login, /logout) that lets a browser carry a super admin's credentials as a cookie.

Temporal's "remote codec" protocol: ``POST {endpoint}/decode`` (or ``/encode``) with
``{"payloads": [{"metadata": {"encoding": "<base64>", ...}, "data": "<base64>"}, ...]}`` (the protobuf
JSON form of ``temporal.api.common.v1.Payloads``) answers the same shape with each payload decoded
(encoded). The UI sends ``X-Namespace`` and, when "Pass the user access token" is on, an
``Authorization: Bearer`` header; the CLI sends ``--codec-auth``'s value as ``Authorization``.

Who may call it: super admins only (``api.access.AllowPlatformAdmin``). The Temporal UI lists every brand's
loans in one namespace, so decoding a history is a cross-brand read of personal data: no brand-scoped
role covers it. Others get 401 (no or bad token) or 403. Every decode is written to the audit log
(platform row ``codec.decode``: how many payloads, which namespace).

A Temporal UI without a sign-in of its own (the dev server's, which ``los up`` starts) sends no token.
For it a super admin signs in at ``GET /api/v1/codec/login`` with their staff email and password (the staff
sign-in itself, ``api.partner.auth.staff_login``: same lockout, throttle and login log); the answer sets an
HttpOnly, SameSite=Lax cookie for ``/api/v1/codec`` holding a short-lived signed token of its own type
(``typ`` "codec", so it is no bearer token anywhere else) tied to that sign-in's activity session. The UI,
with "Include cross-origin credentials" on, sends the cookie with each decode. The cookie stops working at
``POST /api/v1/codec/logout``, when the sign-ins of the account are ended (password reset, deactivation),
when the account is deactivated or no longer a super admin, and when it expires. Because a browser attaches
cookies to requests other sites make, a request authenticated by the cookie must come from an allowed
origin (its ``Origin`` header): another site cannot make a signed-in browser encode or decode.

CORS: the Temporal UI runs on another origin (``Settings.temporal_ui``: ``LOS_TEMPORAL_UI_URL`` or the
embedded dev server's, plus any of ``LOS_CODEC_CORS_ORIGINS``);
those origins get the CORS headers, preflights and error answers included, with credentials allowed
(always the origin itself, never ``*``). Other origins get no CORS headers, so a browser on another site
cannot read the answer. See docs/security.md.
"""

from __future__ import annotations

import base64
import binascii
import html
import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.api.common.v1 import Payload

from api import tokens
from api.access import _PlatformGuard, audit
from api.deps import db_session, is_uuid
from api.guards import check_text
from api.partner.auth import LoginIn, staff_login
from api.security import Principal, _bearer, _decode
from db.models import RevokedAccessToken, StaffActivitySession, StaffUser
from domain.access import Permission, Role, permissions_of
from domain.errors import AuthenticationError, LosError, PermissionDenied, ValidationError
from los.codec import EncryptionCodec, PayloadDecryptionError
from los.settings import Settings
from los.temporal import payload_codec

PREFIX = "/api/v1/codec"
COOKIE = "los_codec"
TOKEN_TYPE = "codec"
MAX_PAYLOADS = 1000  # one UI page of history holds far fewer
ALLOWED_HEADERS = "authorization, authorization-extras, content-type, x-namespace"


def _exception_handler(request: Request, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for ``exc`` (the one that writes the error envelope), looked up as Starlette does."""
    handlers = request.app.exception_handlers
    return next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)


class _CorsRoute(APIRoute):
    """A codec route whose every answer, errors included (401, 403, 422 from guards, validation and the
    route), carries the CORS headers for an allowed origin: a browser shows a refused decode as that
    refusal, not as a network error."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                mapped = _exception_handler(request, exc)
                if mapped is None:
                    raise
                response = mapped(request, exc)
                if inspect.isawaitable(response):
                    response = await response
            return _cors(request, response)

        return with_cors


router = APIRouter(prefix=PREFIX, tags=["codec (Temporal UI)"], route_class=_CorsRoute)
Db = Annotated[Session, Depends(db_session, scope="function")]


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


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    return origin if origin and origin.rstrip("/") in _allowed_origins(request) else None


def _cors(request: Request, response: Response) -> Response:
    response.headers["Vary"] = "Origin"  # the answer differs by origin: no cache may serve it to another
    origin = _allowed_origin(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


# --- the codec sign-in: a cookie for browsers whose Temporal UI has no sign-in ----------------------------


@dataclass(frozen=True)
class CodecSignIn:
    """A codec sign-in token: the cookie's value and when it expires."""

    token: str
    expires_at: datetime


def issue_codec_token(settings: Settings, staff: Principal) -> CodecSignIn:
    """A signed token (HS256 under ``LOS_JWT_SECRET``, like every access token) of type ``codec`` for the
    super admin ``staff``, tied to their sign-in session (``sid``) and as short-lived as an access token
    (``LOS_ACCESS_TOKEN_MINUTES``). ``api.security.issue_token`` writes ``sid`` for staff tokens only, and a
    codec token must not be one (it would open every staff route), hence its own claims here."""
    now = datetime.now(UTC)
    expires_at = now + timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": staff.id,
        "typ": TOKEN_TYPE,
        "sid": staff.session_id,
        "email": staff.email,
        "iat": now,
        "exp": expires_at,
        "jti": secrets.token_hex(8),
    }
    return CodecSignIn(jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256"), expires_at)


def codec_principal(settings: Settings, session: Session, token: str) -> Principal:
    """The super admin a codec token (the cookie's value) signs in, checked against the database now: the
    signature and expiry, type ``codec``, not logged out (its ``jti`` on the deny list), its sign-in session
    still open, the account active. 401 for any of those, 403 when the account is no longer a super admin."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "typ", "sid", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid codec sign-in ({exc}); sign in again at {PREFIX}/login") from exc
    sub, sid, jti, email = claims["sub"], claims["sid"], claims["jti"], claims.get("email")
    if claims["typ"] != TOKEN_TYPE or not all(isinstance(v, str) and is_uuid(v) for v in (sub, sid)):
        raise AuthenticationError(f"invalid codec sign-in; sign in again at {PREFIX}/login")
    if not isinstance(jti, str) or (email is not None and not isinstance(email, str)):
        raise AuthenticationError(f"invalid codec sign-in; sign in again at {PREFIX}/login")
    revoked = select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti).exists()
    open_session = (
        select(StaffActivitySession.id)
        .where(
            StaffActivitySession.id == sid,
            StaffActivitySession.staff_id == sub,
            StaffActivitySession.logout_at.is_(None),
        )
        .exists()
    )
    row = session.execute(
        select(StaffUser.is_active, StaffUser.role, StaffUser.brand_id, revoked, open_session).where(
            StaffUser.id == sub
        )
    ).first()
    if row is None or not row[0]:
        raise AuthenticationError("this staff account is deactivated")
    if row[3]:
        raise AuthenticationError(f"codec sign-in ended (signed out); sign in again at {PREFIX}/login")
    if not row[4]:
        raise AuthenticationError(f"this sign-in session has ended; sign in again at {PREFIX}/login")
    if row[1] != Role.SUPER_ADMIN:
        raise PermissionDenied("super admin only")
    return Principal(
        "staff",
        sub,
        row[2],
        Role.SUPER_ADMIN.value,
        email,
        jti,
        datetime.fromtimestamp(claims["exp"], UTC),
        super_admin=True,
        session_id=sid,
        permissions=frozenset(permissions_of(Role.SUPER_ADMIN)),
    )


class _CodecGuard(_PlatformGuard):
    """Super admins only, by staff bearer token (as ``AllowPlatformAdmin``) or by the codec sign-in cookie;
    the cookie only on a request whose ``Origin`` is an allowed one (a browser attaches cookies to requests
    that other sites make, the ``Origin`` it cannot be made to forge)."""

    def __call__(
        self,
        request: Request,
        creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
        session: Session = Depends(db_session, scope="function"),
    ) -> Principal:
        cookie = request.cookies.get(COOKIE)
        if creds is not None or not cookie:
            return super().__call__(request, creds, session)
        if _allowed_origin(request) is None:
            raise PermissionDenied(
                "the codec sign-in cookie is accepted only from the Temporal UI's origin; "
                "other callers send a super admin's bearer token"
            )
        principal = codec_principal(request.app.state.settings, session, cookie)
        request.state.principal = principal
        return principal


SuperAdmin = Annotated[Principal, Depends(_CodecGuard((Permission.PLATFORM_ADMIN,), brand_scoped=False, api_key=False))]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _set_cookie(request: Request, response: Response, signed_in: CodecSignIn | None) -> None:
    settings = request.app.state.settings
    secure = request.url.scheme == "https" or settings.env != "development"
    if signed_in is None:
        response.delete_cookie(COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="lax")
        return
    response.set_cookie(
        COOKIE,
        signed_in.token,
        max_age=max(1, int((signed_in.expires_at - datetime.now(UTC)).total_seconds())),
        path=PREFIX,
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0}}input{{display:block;width:100%;padding:.4rem;font:inherit}}
button{{padding:.4rem 1.2rem;font:inherit}}.error{{color:#a00}}code{{background:#eee;padding:0 .2rem}}</style>
</head><body><h1>{html.escape(title)}</h1>
{body}
</body></html>"""
    headers = {
        # the form only posts to this API; no script, no framing (no clickjacking of the sign-in)
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(page, status_code=status_code, headers=headers)


def _ui_steps(request: Request) -> str:
    settings = request.app.state.settings
    endpoint = f"{str(request.base_url).rstrip('/')}{PREFIX}"
    ui = settings.temporal_ui
    where = f'<a href="{html.escape(ui)}">the Temporal UI</a>' if ui else "the Temporal UI"
    return (
        f"<p>In {where}, open <b>Codec Server</b> (in the navigation), choose <i>Use my browser setting and "
        f"ignore Cluster-level setting</i>, enter the endpoint <code>{html.escape(endpoint)}</code>, tick "
        f"<b>Include cross-origin credentials</b> and apply. Histories then show decoded payloads until this "
        f"sign-in ends. Open the UI under the same host name as this page (<code>localhost</code> or "
        f"<code>127.0.0.1</code>), or the browser will not send the cookie.</p>"
    )


def _form(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<p>Sign in with a super admin's staff email and password to see decoded payloads (workflow
inputs, results, signals) in the Temporal UI. Each decode is audited.</p>
{message}
<form method="post" action="{PREFIX}/login">
<label>Email <input name="email" type="email" autocomplete="username" required maxlength="200"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required
maxlength="200"></label>
<button type="submit">Sign in</button>
</form>"""
    return _page("Sign in to decode Temporal payloads", body, status_code)


def _signed_in_page(request: Request, email: str | None, expires_at: datetime) -> HTMLResponse:
    body = f"""<p>Signed in as <b>{html.escape(email or "")}</b> for decoding until
{html.escape(expires_at.isoformat(timespec="minutes"))}.</p>
{_ui_steps(request)}
<form method="post" action="{PREFIX}/logout"><button type="submit">Sign out</button></form>"""
    return _page("Signed in for decoding", body)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, session: Db) -> HTMLResponse:
    """The sign-in form (HTML), or who is signed in already and how to point the Temporal UI here."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            me = codec_principal(request.app.state.settings, session, cookie)
        except LosError:
            pass
        else:
            assert me.expires_at is not None  # codec_principal reads it from the token
            return _signed_in_page(request, me.email, me.expires_at)
    return _form(request)


def _end_sign_in(session: Session, staff: Principal) -> None:
    activity = session.get(StaffActivitySession, staff.session_id) if staff.session_id else None
    if activity is not None and activity.staff_id == staff.id:
        activity.logout_at = activity.logout_at or datetime.now(UTC)


@router.post("/login")
def login(request: Request, body: Annotated[LoginIn, Form()], session: Db) -> Response:
    """Sign a super admin in for decoding in the browser (form fields ``email``, ``password``): the staff
    sign-in itself (same lockout, throttle and login log), then a cookie (HttpOnly, SameSite=Lax, path
    /api/v1/codec) with a short-lived codec token instead of bearer tokens. Other staff are refused (403) and
    their sign-in is closed at once. A browser (``Accept: text/html``) gets a page, other clients JSON."""
    settings = request.app.state.settings
    try:
        check_text(body.email, "email")
        check_text(body.password, "password")
        answer = staff_login(request, body, session)  # 401/429 (and the attempt logged) when refused
        staff = _decode(settings, answer["accessToken"])
        # The codec sign-in keeps neither the bearer token nor the refresh token the staff sign-in issued.
        tokens.logout(session, staff, staff.jti, staff.expires_at, answer["refreshToken"])
        if not answer["user"]["superAdmin"]:
            _end_sign_in(session, staff)
            session.commit()
            raise PermissionDenied("super admin only: decoding shows every brand's customers")
        audit(session, request, staff, "codec.sign_in", "staff_session", staff.session_id, platform=True)
        session.commit()
    except LosError as exc:
        if not _wants_html(request):
            raise
        return _form(request, exc.message, exc.status_code)
    signed_in = issue_codec_token(settings, staff)
    if _wants_html(request):
        response: Response = _signed_in_page(request, staff.email, signed_in.expires_at)
    else:
        response = JSONResponse({"email": staff.email, "expiresAt": signed_in.expires_at.isoformat()})
    _set_cookie(request, response, signed_in)
    return response


@router.post("/logout")
def logout(request: Request, session: Db) -> Response:
    """End the codec sign-in of this browser: its token is revoked, its sign-in session closed and the cookie
    cleared. Answers 200 with or without a (valid) cookie."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            me = codec_principal(request.app.state.settings, session, cookie)
        except LosError:
            pass  # already unusable: nothing to revoke
        else:
            tokens.logout(session, me, me.jti, me.expires_at, None)
            _end_sign_in(session, me)
            session.commit()
    response: Response = (
        _page("Signed out", f'<p>Signed out. <a href="{PREFIX}/login">Sign in again</a>.</p>')
        if _wants_html(request)
        else JSONResponse({"message": "signed out"})
    )
    _set_cookie(request, response, None)
    return response


# --- the codec protocol ---------------------------------------------------------------------------------


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


@router.post("/encode")
async def encode(request: Request, body: PayloadsIn, admin: SuperAdmin) -> Response:
    """Payloads encrypted under the current key (``{"payloads": [...]}`` in, the same shape out)."""
    return _answer(await _codec(request).encode(_payloads(body)))


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
    return _answer(decoded)
