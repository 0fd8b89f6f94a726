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

from api.codec import protocol, sign_in  # noqa: F401  (their routes join the router)
from api.codec.cors import router

__all__ = ["router"]
