"""api.loan_changes without a database: the conditional read's answers, and when a long poll may skip its first read
(the ETag its reader was answered is remembered until a notification names the loan, and never while notifications
cannot come). The listener itself and the triggers are tested against PostgreSQL in
tests/integration/test_loan_long_poll.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from api import loan_changes
from api.loan_changes import (
    MAX_WAIT_SECONDS,
    LoanChanges,
    conditional_read,
    etag_of,
    if_none_match,
    wait_preference,
)
from tests.conftest import eventually

LOAN = "0b7f3c1e-5d1a-4f6e-9a53-3c2d8e4f1a20"


class Loan:
    """The loan as the database holds it, and the reads of it."""

    def __init__(self, changes: LoanChanges) -> None:
        self.changes = changes
        self.body = b'{"status":"APPLIED"}'
        self.reads = 0
        self.during_read: Any = None  # called inside the next read (a change committed meanwhile)

    def read(self) -> bytes:
        self.reads += 1
        body = self.body
        if self.during_read is not None:
            self.during_read()
            self.during_read = None
        return body

    def change(self, body: bytes) -> None:
        """Committed, and notified (the listener calls ``changed`` on the event loop)."""
        self.body = body
        self.changes.changed(LOAN)


def request(changes: LoanChanges) -> Any:
    """A request as the route sees it: the app's hub, and a client that stays connected (``receive`` answers the
    disconnect only when the client leaves, as uvicorn does)."""

    async def connected() -> dict:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(loan_changes=changes)), receive=connected)


def leaving(changes: LoanChanges, left: asyncio.Event) -> Any:
    """A request whose client leaves when ``left`` is set: as uvicorn, ``receive`` hands over the (empty) body, then
    the disconnect once the client closes."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await left.wait()
        return {"type": "http.disconnect"}

    req = request(changes)
    req.receive = receive
    return req


async def get(changes: LoanChanges, loan: Loan, etag: str | None = None, prefer: str | None = None, reader="c:1"):
    return await conditional_read(
        request(changes), LOAN, loan.read, reader=reader, if_none_match_header=etag, prefer_header=prefer
    )


@pytest.fixture
def changes() -> LoanChanges:
    listening = LoanChanges(None)
    listening.listening = True  # as if its connection were open
    return listening


async def test_a_long_poll_for_an_unchanged_loan_waits_without_reading_it_first(changes: LoanChanges) -> None:
    loan = Loan(changes)
    first = await get(changes, loan)
    assert first.status_code == 200 and loan.reads == 1
    tag = first.headers["etag"]
    assert tag == etag_of(loan.body)

    poll = asyncio.create_task(get(changes, loan, tag, "wait=5"))
    await asyncio.sleep(1.5)
    # the tag was remembered: no read before waiting, and none while waiting (notifications can come)
    assert not poll.done() and loan.reads == 1
    loan.change(b'{"status":"SANCTIONED"}')
    answer = await asyncio.wait_for(poll, 2)
    assert answer.status_code == 200 and answer.body == b'{"status":"SANCTIONED"}' and loan.reads == 2
    assert answer.headers["preference-applied"] == "wait=5"

    # the new tag is remembered in turn; a wait that sees no change reads once, at its end, and answers 304
    quiet = await get(changes, loan, answer.headers["etag"], "wait=1")
    assert quiet.status_code == 304 and quiet.headers["etag"] == answer.headers["etag"] and loan.reads == 3

    # a change notified while nobody waited: the tag is forgotten, so the next long poll reads first and answers
    loan.change(b'{"status":"AGREEMENT_PENDING"}')
    assert changes.known(LOAN, "c:1") is None
    answer = await asyncio.wait_for(get(changes, loan, quiet.headers["etag"], "wait=5"), 1)
    assert answer.status_code == 200 and answer.body == b'{"status":"AGREEMENT_PENDING"}' and loan.reads == 4


async def test_a_tag_is_not_trusted_after_a_change_during_its_read_for_another_reader_or_without_listening(
    changes: LoanChanges,
) -> None:
    loan = Loan(changes)
    loan.during_read = lambda: loan.change(b'{"status":"REJECTED"}')  # committed while the read ran
    stale = (await get(changes, loan)).headers["etag"]
    assert changes.known(LOAN, "c:1") is None  # the read may predate the change: not remembered
    answer = await get(changes, loan, stale, "wait=5")
    assert answer.status_code == 200 and answer.body == b'{"status":"REJECTED"}' and loan.reads == 2
    tag = answer.headers["etag"]
    assert changes.known(LOAN, "c:1") == tag

    assert (await get(changes, loan, tag, reader="c:2")).status_code == 304  # another reader: read, then compared
    assert loan.reads == 3

    changes.listening = False  # the listener's connection dropped: nothing remembered counts
    assert changes.known(LOAN, "c:1") is None
    loan.body = b'{"status":"EXPIRED"}'  # changed, and no notification came
    answer = await asyncio.wait_for(get(changes, loan, tag, "wait=5"), 2)
    assert answer.status_code == 200 and answer.body == b'{"status":"EXPIRED"}'


async def test_without_notifications_a_wait_reads_again_every_second() -> None:
    changes = LoanChanges(None)  # never listening
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    poll = asyncio.create_task(get(changes, loan, tag, "wait=10"))
    await eventually(lambda: loan.reads == 2, timeout=5, interval=0.01)  # the poll's own first read
    loan.body = b'{"status":"SANCTIONED"}'  # no notification
    answer = await asyncio.wait_for(poll, 3)
    assert answer.status_code == 200 and loan.reads == 3  # the next read, a second later, saw it


async def test_conditional_answers_without_a_wait(changes: LoanChanges) -> None:
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    for sent in (tag, f"W/{tag}", f'"x", {tag}', "*"):
        same = await get(changes, loan, sent)
        assert same.status_code == 304 and same.body == b"" and "preference-applied" not in same.headers, sent
    assert (await get(changes, loan, '"x"')).status_code == 200
    assert (await get(changes, loan, None, "wait=5")).status_code == 200  # a wait with nothing to compare: none
    assert (await get(changes, loan, "*", "wait=5")).headers.get("preference-applied") is None


async def test_a_failed_read_is_not_remembered_and_leaves_nothing_behind(changes: LoanChanges) -> None:
    def refused() -> bytes:
        raise LookupError("loan not found")

    with pytest.raises(LookupError):
        await conditional_read(
            request(changes), LOAN, refused, reader="c:1", if_none_match_header='"x"', prefer_header="wait=5"
        )
    assert changes.known(LOAN, "c:1") is None and changes.waiting == 0 and not changes._reads


def test_remembered_tags_are_bounded_least_recently_read_first() -> None:
    changes = LoanChanges(None, remembered=2)
    changes.listening = True

    def read(loan: str, tag: str) -> None:
        assert changes.end_read(loan, changes.begin_read(loan))
        changes.remember(loan, "r", tag)

    read("a", '"a"')
    read("b", '"b"')
    read("a", '"a2"')  # read again: now the most recently read
    read("c", '"c"')
    assert changes.known("b", "r") is None and changes.known("a", "r") == '"a2"' and changes.known("c", "r") == '"c"'


def test_headers_are_read_as_the_rfcs_write_them() -> None:
    assert if_none_match('"a", W/"b" ,"c"') == {'"a"', '"b"', '"c"'} and if_none_match(None) == set()
    headers = ("wait=5", "respond-async, wait=10", "wait=100", "wait=x", "waits=3", None)
    assert [wait_preference(h) for h in headers] == [5, 10, MAX_WAIT_SECONDS, 0, 0, 0]


async def test_a_long_poll_ends_when_its_client_leaves_and_waits_on_where_the_server_cannot_tell(
    changes: LoanChanges,
) -> None:
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    left = asyncio.Event()
    req = leaving(changes, left)
    poll = asyncio.create_task(
        conditional_read(req, LOAN, loan.read, reader="c:1", if_none_match_header=tag, prefer_header="wait=20")
    )
    await eventually(lambda: changes.waiting == 1, timeout=2)
    left.set()
    answer = await asyncio.wait_for(poll, 1)  # at once, not after 20 s
    assert answer.status_code == 304 and changes.waiting == 0 and loan.reads == 1  # and nothing read for nobody

    async def replays() -> dict:  # a server that hands the body over again and again cannot tell
        return {"type": "http.request", "body": b"", "more_body": False}

    req.receive = replays
    poll = asyncio.create_task(
        conditional_read(req, LOAN, loan.read, reader="c:1", if_none_match_header=tag, prefer_header="wait=20")
    )
    await asyncio.sleep(0.5)
    assert not poll.done() and loan.reads == 1  # it waits on, reading nothing meanwhile
    loan.change(b'{"status":"SANCTIONED"}')
    answer = await asyncio.wait_for(poll, 2)
    assert answer.status_code == 200 and loan.reads == 2


async def test_a_burst_of_changes_is_answered_once_with_its_last_state(
    changes: LoanChanges, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loan_changes, "SETTLE_SECONDS", 1.0)  # longer than production's: the test waits inside it
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    poll = asyncio.create_task(get(changes, loan, tag, "wait=10"))
    await eventually(lambda: changes.waiting == 1, timeout=2)
    # a payment's commits: the credit, its receipt, the next link, each notified a little after the last
    for body in (b'{"paid":1}', b'{"paid":1,"receipt":1}', b'{"paid":1,"receipt":1,"link":2}'):
        loan.change(body)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert not poll.done() and loan.reads == 1  # woken, and letting the loan settle: nothing read yet
    answer = await asyncio.wait_for(poll, 3)
    # one read, after the burst: the app is answered the loan as the burst left it, not its first commit
    assert answer.status_code == 200 and answer.body == b'{"paid":1,"receipt":1,"link":2}' and loan.reads == 2


async def test_a_client_that_leaves_while_its_loan_settles_is_not_read_for(
    changes: LoanChanges, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loan_changes, "SETTLE_SECONDS", 30.0)  # only the client's leaving can end this wait soon
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    left = asyncio.Event()
    req = leaving(changes, left)
    poll = asyncio.create_task(
        conditional_read(req, LOAN, loan.read, reader="c:1", if_none_match_header=tag, prefer_header="wait=20")
    )
    await eventually(lambda: changes.waiting == 1, timeout=2)
    loan.change(b'{"status":"SANCTIONED"}')
    await asyncio.sleep(0.1)
    left.set()  # while the loan settles
    answer = await asyncio.wait_for(poll, 2)
    assert answer.status_code == 304 and loan.reads == 1 and changes.waiting == 0


async def test_a_change_near_the_end_of_a_wait_is_read_at_its_end_not_after_it(
    changes: LoanChanges, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loan_changes, "SETTLE_SECONDS", 30.0)
    loan = Loan(changes)
    tag = (await get(changes, loan)).headers["etag"]
    started = asyncio.get_running_loop().time()
    poll = asyncio.create_task(get(changes, loan, tag, "wait=1"))
    await eventually(lambda: changes.waiting == 1, timeout=2)
    loan.change(b'{"status":"SANCTIONED"}')
    answer = await asyncio.wait_for(poll, 3)  # at the wait's end (1 s), not after the settling time (30 s)
    assert answer.status_code == 200 and answer.body == b'{"status":"SANCTIONED"}' and loan.reads == 2
    assert asyncio.get_running_loop().time() - started < 3
