"""The audit safety net: a change made through the staff or admin API leaves an audit row even if its handler
recorded none.

Handlers record what they changed with ``api.access.audit`` (before/after), which marks the request audited.
When a request that may change something (not GET, HEAD or OPTIONS) under /api/v1/partner/brand/ or
/api/v1/admin/ succeeds (2xx) without that mark, this writes a plain row before the response goes out: who
(the principal the access guard resolved), the method and path, action ``http.<METHOD>``, entity type
``request``. A failed write is logged and never breaks the response. Pure ASGI: every other request passes
straight through.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import is_uuid
from api.security import Principal
from db.models import AuditLog

log = logging.getLogger(__name__)

BRAND_PREFIX = "/api/v1/partner/brand/"
AUDITED_PREFIXES = (BRAND_PREFIX, "/api/v1/admin/")
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditSafetyNet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS or not scope["path"].startswith(AUDITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # what handlers see as request.state

        async def send_after_audit(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                if not state.get("audited"):
                    await self._record(scope, state.get("principal"), message["status"])
            await send(message)

        await self.app(scope, receive, send_after_audit)

    @staticmethod
    async def _record(scope: Scope, principal: Principal | None, status: int) -> None:
        method, path = scope["method"], scope["path"]
        in_brand = principal is not None and path.startswith(BRAND_PREFIX) and is_uuid(principal.brand_id)
        row = AuditLog(
            brand_id=principal.brand_id if principal and in_brand else None,
            actor_id=principal.id if principal else None,
            actor_email=principal.email if principal else None,
            actor_role=principal.role if principal else None,
            action=f"http.{method}",
            entity_type="request",
            method=method,
            path=path[:300],
            after={"status": status},
        )

        def write() -> None:
            with scope["app"].state.db.unit_of_work() as session:
                session.add(row)

        try:
            await anyio.to_thread.run_sync(write)
        except Exception:  # noqa: BLE001 - the change is done; losing its trace must not fail the response
            log.exception("could not write the audit row of %s %s", method, path)
