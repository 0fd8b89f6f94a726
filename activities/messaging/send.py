"""The sender: one notice rendered for each kind the brand sends, sent with failover across the kind's vendors,
and logged once per (key, kind) in ``customer_messages`` with every vendor tried.

Rules:

- the kinds: those the brand configured a vendor for (``providers.sms`` / ``whatsapp`` / ``email``), email only
  when the customer has an address, and not when the brand switched that template off (``active`` false);
- the template: the brand's own for (event, kind), else the shipped default (``activities.messaging.defaults``);
- a retried send finds its row: one already SENT (or further) sends nothing again; one still QUEUED (the earlier
  try ended before it could record the vendor's answer) is sent again — the window between a vendor's answer and
  the row's update is the only place a message can go out twice;
- one notice's kinds are claimed in one transaction, sent at the same time and their answers recorded in one more
  (three transactions for a notice on three kinds, and the vendors' round trips overlapped);
- a vendor's fault moves to the next vendor (``call_with_failover``); when none takes it, or one refuses it, the row
  is FAILED with the attempts and the reason — never an exception (a message never fails the loan step). A database
  fault does raise, so the activity is retried.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.messaging import defaults, events, facts, templates
from activities.messaging.log import claim_all, finish_all, mask_recipient
from activities.pii import redact
from activities.providers import ProviderConfig, call_with_failover
from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.messaging.base import FAILED, QUEUED, SENT
from db.models import Brand, Customer, Loan, MessageTemplate
from db.session import Database

log = logging.getLogger("los.messaging")
T = TypeVar("T")


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: the brand (config), the customer's phone, email and name, and the loan."""

    brand_id: str
    brand_name: str
    brand_config: Mapping[str, Any]
    phone: str
    email: str | None
    name: str
    customer_id: str | None = None
    loan_id: str | None = None


def template_for(session: Session, brand_id: str, event: str, kind: str) -> defaults.Template | None:
    """The brand's template for (event, kind), else the default; None when neither exists."""
    return templates_for(session, brand_id, event, [kind])[kind]


def templates_for(
    session: Session, brand_id: str, event: str, kinds: Iterable[str]
) -> dict[str, defaults.Template | None]:
    """For each of ``kinds``, in one query: kind → the brand's template for (event, kind), else the default, else
    None."""
    kinds = list(kinds)
    own = {
        row.kind: defaults.Template(row.body, row.subject, row.dlt_template_id, row.active)
        for row in session.scalars(
            select(MessageTemplate).where(
                MessageTemplate.brand_id == brand_id, MessageTemplate.event == event, MessageTemplate.kind.in_(kinds)
            )
        )
    }
    return {kind: own[kind] if kind in own else defaults.DEFAULTS.get((event, kind)) for kind in kinds}


def activity_origin(name: str) -> tuple[str | None, str | None]:
    """Inside an activity: (a key for message ``name`` — workflow, activity id, name — so a retried activity finds
    its row; the loan id when the workflow is a loan's, ``loan-<id>``). Outside one: (None, None)."""
    from temporalio import activity

    try:
        info = activity.info()
    except RuntimeError:
        return None, None
    workflow_id = info.workflow_id or ""
    loan_id = workflow_id.removeprefix("loan-") if workflow_id.startswith("loan-") else None
    try:
        loan_id = str(uuid.UUID(loan_id)) if loan_id else None
    except ValueError:
        loan_id = None
    return f"{info.workflow_id}:{info.activity_id}:{name}", loan_id


@dataclass(frozen=True)
class _Outgoing:
    """One message of a notice: its kind, text, DLT template id (SMS) or campaign (WhatsApp), the values it was
    rendered with, and the render's error when it could not be rendered (then it is logged FAILED, not sent)."""

    kind: str
    rendered: templates.Rendered
    template_id: str | None
    values: Mapping[str, Any] | None = None
    render_error: str | None = None


def _to(who: Recipient, kind: str) -> str:
    """The recipient's address for ``kind``: the email for email, else the phone."""
    return (who.email or "") if kind == "email" else who.phone


def _row_key(key: str, kind: str) -> str:
    """The delivery log's key of one message: the notice's key and the kind (within the column's 200)."""
    return f"{key[:190]}:{kind}"


class Sender:
    """Sends and logs customer messages; ``db`` and ``http`` are the activity class's clients."""

    def __init__(self, db: Database, http: httpx.AsyncClient, api_url: str = ""):
        self.db = db
        self.http = http
        self.api_url = api_url.rstrip("/")  # the customer app's receipt links are under it

    async def _tx(self, fn: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.db.unit_of_work() as session:
                return fn(session)

        return await asyncio.to_thread(run)

    async def notice(self, loan_id: str, event: str, key: str, values: Mapping[str, Any]) -> dict[str, str]:
        """Send the notice ``event`` about ``loan_id`` (``values``: the event's variables, raw) → kind: status."""

        def load(session: Session) -> tuple[Recipient, dict[str, defaults.Template | None], dict[str, Any]]:
            loan = session.get(Loan, loan_id)
            if loan is None:
                raise LookupError(f"loan {loan_id} not found")
            customer, brand = session.get(Customer, loan.customer_id), session.get(Brand, loan.brand_id)
            assert customer is not None and brand is not None
            who = Recipient(
                brand.id,
                brand.name,
                dict(brand.config or {}),
                customer.phone,
                customer.email,
                customer.full_name or "Customer",
                customer.id,
                loan.id,
            )
            chosen = templates_for(session, brand.id, event, events.KINDS)
            return who, chosen, facts.complete(session, loan, event, values, self.api_url)

        who, chosen, values = await self._tx(load)
        common = {"customer_name": who.name, "brand_name": who.brand_name, "loan_ref": loan_id[:8]}
        outgoing: list[_Outgoing] = []
        for kind in events.KINDS:
            template = chosen[kind]
            if template is None or not template.active or not ProviderConfig.candidates(who.brand_config, kind):
                continue
            if kind == "email" and not who.email:
                continue
            filled = {**values, **common}
            try:
                rendered = templates.render(event, template.body, template.subject, filled)
            except templates.TemplateError as exc:
                outgoing.append(_Outgoing(kind, templates.Rendered(""), template.dlt_template_id, filled, f"{exc}"))
                continue
            outgoing.append(_Outgoing(kind, rendered, template.dlt_template_id, filled))
        return await self._deliver_all(who, event, key, outgoing)

    @staticmethod
    def _fields(who: Recipient, kind: str, event: str, to: str, template_id: str | None) -> dict[str, Any]:
        return {
            "brand_id": who.brand_id,
            "loan_id": who.loan_id,
            "customer_id": who.customer_id,
            "event": event[:40],
            "kind": kind,
            "template_id": (template_id or None) if kind != "email" else None,
            "recipient": mask_recipient(kind, to),
        }

    async def deliver(
        self,
        who: Recipient,
        kind: str,
        event: str,
        key: str,
        rendered: templates.Rendered,
        template_id: str | None,
        values: Mapping[str, Any] | None = None,
        attachments: list[tuple[str, str, bytes]] | None = None,
    ) -> str:
        """Send one rendered message of ``kind`` (logged under ``key:kind``) → its logged status. ``attachments``
        (email): (file name, MIME type, bytes)."""
        outgoing = [_Outgoing(kind, rendered, template_id, values)]
        return (await self._deliver_all(who, event, key, outgoing, attachments))[kind]

    async def _deliver_all(
        self,
        who: Recipient,
        event: str,
        key: str,
        outgoing: list[_Outgoing],
        attachments: list[tuple[str, str, bytes]] | None = None,
    ) -> dict[str, str]:
        """One notice's messages (one per kind) → kind: logged status. Their rows are claimed in one transaction,
        the vendors called at the same time, the answers recorded in one more: three transactions for a notice on
        three kinds instead of seven, and the kinds' vendor round trips overlapped. A render that failed is logged
        FAILED in the first. Should a send raise anything but a vendor's fault, the others' answers are still
        recorded before it propagates (its row stays QUEUED, so the retried activity sends that one again)."""

        def claim_rows(session: Session) -> dict[str, str]:
            rows = claim_all(
                session,
                {_row_key(key, o.kind): self._fields(who, o.kind, event, _to(who, o.kind), o.template_id)
                 for o in outgoing},
            )  # fmt: skip
            statuses = {}
            for o in outgoing:
                row = rows[_row_key(key, o.kind)]
                if row.status == QUEUED and o.render_error is not None:
                    row.status, row.error = FAILED, f"template: {o.render_error}"[:500]
                statuses[o.kind] = row.status
            return statuses

        statuses = await self._tx(claim_rows)
        sending = [o for o in outgoing if statuses[o.kind] == QUEUED]  # else sent (or settled) by an earlier try
        if not sending:
            return statuses
        answers = await asyncio.gather(
            *(self._send(who, event, key, o, attachments) for o in sending), return_exceptions=True
        )
        done = [(o, a) for o, a in zip(sending, answers, strict=True) if not isinstance(a, BaseException)]

        if done:
            await self._tx(lambda session: finish_all(session, {_row_key(key, o.kind): answer for o, answer in done}))
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        statuses.update({o.kind: answer["status"] for o, answer in done})
        return statuses

    async def _send(
        self,
        who: Recipient,
        event: str,
        key: str,
        o: _Outgoing,
        attachments: list[tuple[str, str, bytes]] | None,
    ) -> dict[str, Any]:
        """Call the kind's vendors with failover → the delivery log's outcome (``finish``'s fields)."""
        to, rendered, template_id, values = _to(who, o.kind), o.rendered, o.template_id, o.values
        if o.kind == "sms":
            text_values = {k: str(v) for k, v in templates.context(event, values or {}).items()} if values else None

            async def op(a: Any) -> str:
                return await a.send_sms(
                    to=to, text=rendered.body, template=event, dlt_template_id=template_id, values=text_values
                )
        elif o.kind == "whatsapp":

            async def op(a: Any) -> str:
                return await a.send_whatsapp(
                    to=to, name=who.name, campaign=template_id or "", params=rendered.params, reference=key
                )
        else:

            async def op(a: Any) -> str:
                return await a.send_email(
                    to=to,
                    to_name=who.name,
                    subject=rendered.subject or event,
                    text=rendered.body,
                    attachments=attachments or [],
                    reference=key,
                )

        try:
            result = await call_with_failover(o.kind, who.brand_config, self.http, op)
        except (ProviderError, BusinessRefusal) as exc:
            error = redact(str(exc))[:500]
            log.warning("%s %s for %s not sent: %s", o.kind, event, who.loan_id or who.brand_id, error)
            attempts = [dict(a) for a in getattr(exc, "attempts", ())]
            return {"status": FAILED, "vendor": exc.vendor, "vendor_message_id": None, "attempts": attempts,
                    "error": error}  # fmt: skip
        return {
            "status": SENT,
            "vendor": result.vendor,
            "vendor_message_id": str(result.value or ""),
            "attempts": result.attempts_as_dicts(),
            "error": None,
        }

    async def sms_text(
        self, brand: Brand, phone: str, name: str, text: str, key: str | None = None, loan_id: str | None = None
    ) -> str:
        """An SMS whose text is already written (the KYC and agreement steps' messages), logged like a notice:
        ``name`` is its event (an alias such as ``ESIGN_LINK`` resolved), its DLT id the brand's template's for
        that event. ``key`` defaults to a new one (no retry protection)."""
        event = events.event_of(name) or name
        template = await self._tx(lambda s: template_for(s, brand.id, event, "sms"))
        if template is not None and not template.active:
            return "SKIPPED"
        who = Recipient(brand.id, brand.name, dict(brand.config or {}), phone, None, "Customer", None, loan_id)
        rendered = templates.Rendered(text)
        dlt = template.dlt_template_id if template is not None else None
        return await self.deliver(who, "sms", event, key or f"sms:{uuid.uuid4()}", rendered, dlt)

    async def email_text(
        self,
        brand: Brand,
        to: str,
        subject: str,
        text: str,
        attachments: list[tuple[str, str, bytes]] | None = None,
        key: str | None = None,
        loan_id: str | None = None,
        name: str = "EMAIL",
    ) -> str:
        """An email whose subject and text are already written (the agreement and disbursal steps'), sent with
        failover and logged like a notice (event ``name``)."""
        who = Recipient(brand.id, brand.name, dict(brand.config or {}), "", to, "", None, loan_id)
        rendered = templates.Rendered(text, subject)
        return await self.deliver(who, "email", name, key or f"email:{uuid.uuid4()}", rendered, None, None, attachments)
