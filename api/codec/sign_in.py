"""The codec sign-in: a cookie that carries a super admin's credentials for a Temporal UI without a sign-in of
its own; see ``api.codec``."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import tokens
from api.access import _PlatformGuard, audit
from api.codec.cors import COOKIE, PREFIX, TOKEN_TYPE, Db, _allowed_origin, router
from api.deps import db_session, is_uuid
from api.guards import check_text
from api.partner.auth import LoginIn, staff_login
from api.responses import ApiModel
from api.security import Principal, _bearer, _decode
from db.models import RevokedAccessToken, StaffActivitySession, StaffUser
from domain.access import Permission, Role, permissions_of
from domain.errors import AuthenticationError, LosError, PermissionDenied
from los.settings import Settings

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


class CodecSignedIn(ApiModel):
    """A super admin is signed in for decoding; the cookie carries the sign-in."""

    email: str = Field(description="the super admin's staff email")
    expires_at: str = Field(description="ISO 8601 instant with offset when the codec sign-in (and its cookie) ends")


class CodecSignedOut(ApiModel):
    """The codec sign-in of this browser has ended (or there was none)."""

    message: str = Field(description='"signed out"')


def _html(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"text/html": {}}}}


@router.post(
    "/login",
    response_model=CodecSignedIn,
    responses=_html("JSON, or for a browser (Accept: text/html) a page saying how to point the Temporal UI here"),
)
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


@router.post(
    "/logout",
    response_model=CodecSignedOut,
    responses=_html("JSON, or for a browser (Accept: text/html) a page linking the sign-in form"),
)
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
