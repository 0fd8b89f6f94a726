"""Conditional and long-poll reads of a loan: ``ETag``, ``If-None-Match`` and ``Prefer: wait=N``.

An app waiting for its loan's next step (the decision, the eSign link, the disbursal, the next payment link) used to
read the whole loan again and again. A read answers with an ``ETag`` (a hash of the exact JSON sent). A read that
sends it back in ``If-None-Match`` is answered ``304 Not Modified`` without a body while the loan is unchanged
(RFC 9110 §13.1.2), and with ``Prefer: wait=N`` (RFC 7240 §4.3) the API holds the request up to N seconds
(at most :data:`MAX_WAIT_SECONDS`) and answers as soon as the loan changes: 200 with the new detail, or 304 when
nothing changed in that time. ``Preference-Applied: wait=N`` says the wait was honoured.

How the API learns of a change: every table a loan's detail is read from has a trigger (migration 0032) that
sends ``NOTIFY los_loan_changed, '<loan id>'``, delivered when its transaction commits, whichever process wrote it
(the worker's activities, the API). Each API process keeps one connection listening (:class:`LoanChanges`) and wakes
the requests waiting on that loan, which read it again. A notification only wakes a reader; what is answered is
always read from the database, so a change the triggers do not cover is still answered at the end of the wait.
While the listening connection is down (or with ``Settings.loan_change_notifications`` off, as behind a
transaction-pooling PgBouncer, where LISTEN does not work), a waiting request reads the loan again every
:data:`FALLBACK_SECONDS` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("los.api.loan_changes")

CHANNEL = "los_loan_changed"
"""The notification channel of migration 0032's triggers; the payload is the loan id."""
MAX_WAIT_SECONDS = 20
"""The longest ``Prefer: wait`` honoured: below the idle timeouts of common proxies and load balancers (60 s), and
below the API pods' termination grace (30 s, deploy/k8s/api.yaml), since a stopping API first answers what it holds."""
FALLBACK_SECONDS = 1.0
"""How often a waiting request reads its loan again while no notification can come."""
SETTLE_SECONDS = 0.15
"""How long a woken long poll lets its loan settle before reading it: a loan's changes come in bursts (a payment's
credit, its receipt and the next link are separate commits a few tens of milliseconds apart), and one read after the
burst answers the app once instead of once per commit. About half of a lifecycle's notifications follow the one
before within this time (counted by listening on :data:`CHANNEL` through ``bench/lifecycle.py``'s lifecycles;
docs/scaling.md, "A lifecycle's reads and prints")."""
RECONNECT_MAX_SECONDS = 10.0
REMEMBERED_TAGS = 10_000
"""Loans whose last answered ETags an API process remembers (the least recently read are forgotten first)."""

_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?(\d{1,6})\"?\s*(?:$|[,;\s])", re.IGNORECASE)

NOT_MODIFIED_RESPONSE: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Not Modified: the loan is as the `If-None-Match` ETag says (after the `Prefer: wait` time, "
        "when one was asked)",
    }
}
"""The 304 answer, for a conditional route's ``responses`` in /docs."""


class LoanChanges:
    """The API process's listener on :data:`CHANNEL`: requests wait on a loan id (:meth:`watch`) and are woken when
    a notification names it.

    ``conninfo``: a libpq connection string or URL; None: no listener (every wait reads again every
    :data:`FALLBACK_SECONDS`). The listening connection is reopened after a failure (backing off up to
    :data:`RECONNECT_MAX_SECONDS`, with TCP keepalives so a silently dropped one is noticed); each time it opens or
    drops, every waiting request is woken to read its loan again, as notifications may have been missed meanwhile.

    It also remembers the ETag each reader was last answered for a loan (:meth:`remember`, :meth:`known`), forgotten
    as soon as a notification names the loan, and entirely while not listening: a long poll that sends the tag it
    holds for a loan that has not changed since then waits without reading the loan first.
    """

    def __init__(self, conninfo: str | None, remembered: int = REMEMBERED_TAGS) -> None:
        self._conninfo = conninfo
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._tags: dict[str, dict[str, str]] = {}  # loan id -> reader -> the ETag last answered; oldest first
        self._reads: dict[str, set[object]] = {}  # loan id -> reads under way that no notification has outdated
        self._remembered = remembered
        self.listening = False
        """Whether notifications can arrive now (the connection is open and LISTENs)."""
        self.backend_pid: int | None = None
        """The PostgreSQL backend of the listening connection (pg_stat_activity.pid), while it is open."""

    def start(self) -> None:
        """Start listening in the background, on the running event loop (the API's lifespan)."""
        if self._conninfo and self._task is None:
            self._task = asyncio.create_task(self._run(), name="los-loan-changes")

    async def stop(self) -> None:
        """Stop listening (the API's shutdown); waiting requests go on reading every :data:`FALLBACK_SECONDS`."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.listening = False

    @contextmanager
    def watch(self, loan_id: str) -> Iterator[asyncio.Event]:
        """An event set when loan ``loan_id`` may have changed since it was last cleared. Take it before the first
        read, so a change committed during that read is not missed."""
        event = asyncio.Event()
        self._waiters.setdefault(loan_id, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(loan_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[loan_id]

    @property
    def waiting(self) -> int:
        """Requests waiting now (all loans)."""
        return sum(len(events) for events in list(self._waiters.values()))  # a copy: read from other threads too

    def changed(self, loan_id: str) -> None:
        """A notification named ``loan_id``: its remembered tags are forgotten, the reads under way are outdated, and
        the requests waiting on it are woken."""
        self._tags.pop(loan_id, None)
        if loan_id in self._reads:
            self._reads[loan_id] = set()
        for event in self._waiters.get(loan_id, ()):
            event.set()

    def begin_read(self, loan_id: str) -> object:
        """Mark the start of a read of ``loan_id`` (before its transaction begins); end it with :meth:`end_read`."""
        mark = object()
        self._reads.setdefault(loan_id, set()).add(mark)
        return mark

    def end_read(self, loan_id: str, mark: object) -> bool:
        """The read marked ``mark`` is over (answered or failed): whether no notification named the loan since it
        began, and notifications could come all along."""
        reads = self._reads.get(loan_id)
        if reads is None:
            return False
        fresh = mark in reads
        reads.discard(mark)
        if not reads:
            del self._reads[loan_id]
        return fresh and self.listening

    def remember(self, loan_id: str, reader: str, etag: str) -> None:
        """Remember ``etag`` as what ``reader`` (who may see the loan: e.g. ``customer:<id>``) was answered by a read
        that :meth:`end_read` found fresh."""
        tags = self._tags.pop(loan_id, {})  # re-inserted: the most recently read loan is the last one
        tags[reader] = etag
        self._tags[loan_id] = tags
        while len(self._tags) > self._remembered:
            del self._tags[next(iter(self._tags))]

    def known(self, loan_id: str, reader: str) -> str | None:
        """The ETag ``reader`` was last answered for ``loan_id``, if the loan has not changed since (as far as the
        notifications tell: None while not listening)."""
        return self._tags.get(loan_id, {}).get(reader) if self.listening else None

    def _wake_all(self) -> None:
        self._tags.clear()
        for loan_id in self._reads:
            self._reads[loan_id] = set()
        for events in self._waiters.values():
            for event in events:
                event.set()

    async def _run(self) -> None:
        import psycopg

        pause = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo or "",
                    autocommit=True,
                    keepalives=1,
                    keepalives_idle=30,
                    keepalives_interval=10,
                    keepalives_count=3,
                    application_name="los-api-loan-changes",
                )
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self.listening = True
                    pause = 0.5
                    self._wake_all()  # changes while not listening were not notified
                    async for note in conn.notifies():
                        self.changed(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged; reopened below
                log.warning("loan change notifications: %s; reading waiting loans every %ss", exc, FALLBACK_SECONDS)
            finally:
                self.backend_pid = None
                if self.listening:
                    self.listening = False
                    self._wake_all()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX_SECONDS)


def listen_url(sqlalchemy_url: str) -> str:
    """The libpq URL of the database the API uses (its SQLAlchemy URL without the driver name), password kept."""
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def etag_of(body: bytes) -> str:
    """A strong ETag of an answer's exact bytes (BLAKE2b, 128 bits), quoted as HTTP writes it."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def if_none_match(header: str | None) -> set[str]:
    """The entity tags of an ``If-None-Match`` header, compared weakly (a ``W/`` prefix dropped, RFC 9110 §13.1.2);
    ``{"*"}`` for any; empty when absent."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def wait_preference(header: str | None) -> int:
    """The seconds of a ``Prefer: wait=N`` header (RFC 7240 §4.3), capped at :data:`MAX_WAIT_SECONDS`; 0 when
    absent or not a whole number."""
    if not header:
        return 0
    match = _WAIT.search(header)
    return min(int(match.group(1)), MAX_WAIT_SECONDS) if match else 0


async def _gone(request: Request) -> bool:
    """True once the client has closed its connection (the ASGI ``http.disconnect`` message); False when this server
    cannot tell (it hands a request's body over again once it was whole, or its ``receive`` fails). For a read, whose
    request has no body, the server has nothing else to hand over meanwhile."""
    try:
        whole = False
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return True
            if whole:
                return False
            whole = not message.get("more_body", False)
    except Exception:  # noqa: BLE001 - a server that cannot tell: the wait goes on without knowing
        return False


async def _left_while_settling(gone: asyncio.Future[bool] | None, seconds: float) -> bool:
    """Wait ``seconds`` for a burst of changes to end (:data:`SETTLE_SECONDS`); True when the client left meanwhile
    (``gone``, :func:`_gone`, answered so). Notifications that come meanwhile are folded into the one read after."""
    if seconds <= 0:
        return False
    if gone is None:
        await asyncio.sleep(seconds)
        return False
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    await asyncio.wait({gone}, timeout=seconds)
    if gone.done() and not gone.cancelled() and gone.result():
        return True
    await asyncio.sleep(max(0.0, until - loop.time()))  # a server that cannot tell: the burst still settles
    return False


async def conditional_read(
    request: Request,
    loan_id: str,
    read: Callable[[], bytes],
    *,
    reader: str,
    if_none_match_header: str | None,
    prefer_header: str | None,
    can_wait: bool = True,
    workflow_moved: Callable[[], Awaitable[Any] | None] | None = None,
) -> Response:
    """Answer a loan's read with an ETag: 200 and the JSON ``read()`` returns, or 304 while it is what the client
    holds. ``read`` is synchronous (it runs in the thread pool, each time in a transaction of its own that it ends, so
    no database connection is held while waiting) and raises as the route would (404...). ``reader``: who reads, as
    far as what they may see goes (``customer:<id>``): a long poll whose tag that reader was answered, for a loan
    unchanged since, waits without a first read. ``can_wait`` False: the answer depends on more than the database
    (no notification would come), so ``Prefer: wait`` is not honoured, unless ``workflow_moved`` is given: called
    after each read, it returns an awaitable that ends when what that read took from outside the database (the
    workflow's KYC progress, ``api.kyc_waits``) may have changed, or None when the read took nothing from there. A
    long poll then waits for either, and reads again at once (without :data:`SETTLE_SECONDS`) when the workflow
    moved."""
    changes: LoanChanges = getattr(request.app.state, "loan_changes", None) or LoanChanges(None)
    tags = if_none_match(if_none_match_header)
    waits = can_wait or workflow_moved is not None
    wait = wait_preference(prefer_header) if waits and tags and "*" not in tags else 0
    loop = asyncio.get_running_loop()

    async def read_now() -> tuple[bytes, str]:
        mark = changes.begin_read(loan_id)
        try:
            body = await run_in_threadpool(read)
        finally:
            fresh = changes.end_read(loan_id, mark)
        tag = etag_of(body)
        if fresh and can_wait:
            changes.remember(loan_id, reader, tag)
        return body, tag

    with changes.watch(loan_id) as changed:
        known = changes.known(loan_id, reader) if wait and can_wait else None
        if known is not None and known in tags:
            body, tag = b"", known  # unchanged since this reader was answered it: wait at once
        else:
            body, tag = await read_now()
        deadline = loop.time() + wait
        # a client that leaves (an app's screen closed, its long poll aborted) ends the wait: no reads for nobody
        gone: asyncio.Future[bool] | None = asyncio.ensure_future(_gone(request)) if tag in tags and wait else None
        woken: asyncio.Future[Any] | None = None
        moved: asyncio.Future[Any] | None = None
        try:
            while tag in tags and (left := deadline - loop.time()) > 0:
                woken = asyncio.ensure_future(changed.wait())
                if moved is None and workflow_moved is not None:
                    awaited = workflow_moved()
                    moved = asyncio.ensure_future(awaited) if awaited is not None else None
                pending = {woken} | {task for task in (gone, moved) if task is not None}
                timeout = left if changes.listening else min(left, FALLBACK_SECONDS)
                done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if gone is not None and gone in done:
                    if not gone.cancelled() and gone.result():
                        break  # the client left: what is answered goes nowhere
                    gone = None  # this server cannot tell: wait on without knowing
                    if woken not in done and moved not in done:
                        continue
                if moved is not None and moved in done:
                    moved = None  # the workflow moved: read now, and wait on what that read saw
                elif woken in done and await _left_while_settling(gone, min(SETTLE_SECONDS, deadline - loop.time())):
                    break  # the client left while its loan settled
                elif woken in done and moved is not None:
                    moved.cancel()  # the database changed: what the next read sees is waited on afresh
                    moved = None
                changed.clear()
                body, tag = await read_now()
        finally:
            for task in (woken, gone, moved):
                if task is not None:
                    task.cancel()
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}  # a cache may keep it, asking each time
    if wait:
        headers["Preference-Applied"] = f"wait={wait}"
    if tag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
