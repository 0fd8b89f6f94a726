"""The messaging activity: ``send_notice`` — one customer notice, every kind the brand sends, logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.messaging import events
from activities.messaging.send import Sender
from db.session import Database
from workflows.contracts import NoticeRequest


class MessagingActivities(DbActivities):
    """Customer messages. Clients: the database and the HTTP client the vendors are called with."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_url: str | None = None):
        self.db = db
        self.http = http
        if api_url is None:  # the worker's settings: receipt links point at this deployment's API
            from los.settings import get_settings

            api_url = get_settings().api_url
        self.sender = Sender(db, http, api_url)

    @activity.defn
    async def send_notice(self, req: NoticeRequest) -> dict[str, str]:
        """Render and send the notice ``req.event`` for ``req.loan_id`` on each kind the brand sends → kind: logged
        status (SENT / FAILED, or what an earlier try logged). Best effort: a vendor's fault or refusal is logged
        FAILED, never raised; a database fault raises (retried). An event the catalogue does not know sends nothing
        (logged, ``{}``); an unknown loan is not retried."""
        if req.event not in events.EVENT_VARIABLES:
            activity.logger.warning("notice %s for loan %s: no such event, nothing sent", req.event, req.loan_id)
            return {}
        try:
            return await self.sender.notice(req.loan_id, req.event, req.key, req.values)
        except LookupError as exc:
            raise ApplicationError(str(exc), type="NotFound", non_retryable=True) from exc

    def all(self) -> list[Callable[..., Any]]:
        """The activities to register with the worker."""
        return [self.send_notice]
