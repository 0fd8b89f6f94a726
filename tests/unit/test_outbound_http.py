"""The vendor-calling client (``los.outbound``) over real sockets: connections kept and reused under a burst,
every failure short of an answer an ``httpx.HTTPError`` (what the adapters catch to retry or fail over), the
timeout applied, and the same requests and answers as before (headers, body, status)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from los.outbound import outbound_client
from los.settings import Settings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A bare HTTP/1.1 server on a free port that counts the TCP connections it accepted."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.accepted = 0
        self.requests: list[bytes] = []
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def keep_alive_ok(server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        body = await reader.readexactly(length) if length else b""
        server.requests.append(head + body)
        await asyncio.sleep(0.01)
        answer = b'{"status": "ok"}'
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Vendor-Id: v-1\r\n"
            + b"Content-Length: %d\r\n\r\n" % len(answer)
            + answer
        )
        await writer.drain()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Callable[[Server], Handler]], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(make: Callable[[Server], Handler]) -> Server:
        server = Server(lambda r, w: asyncio.sleep(0))
        server.handler = make(server)
        listening = await asyncio.start_server(server._handle, "127.0.0.1", 0)
        servers.append(listening)
        server.url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
        return server

    yield start
    for listening in servers:
        listening.close()


async def test_a_burst_reuses_its_connections_and_sends_what_it_was_given(serve) -> None:  # noqa: ANN001
    server = await serve(lambda s: lambda r, w: keep_alive_ok(s, r, w))
    async with outbound_client(Settings(), timeout=5) as http:
        for _ in range(3):
            answers = await asyncio.gather(
                *(
                    http.post(f"{server.url}/v1/sms?n={i}", json={"to": "98XXXXXX01", "n": i}, headers={"X-Key": "k"})
                    for i in range(40)
                )
            )
            assert [a.status_code for a in answers] == [201] * 40
            assert all(a.json() == {"status": "ok"} and a.headers["x-vendor-id"] == "v-1" for a in answers)
    # 120 requests, 40 at a time: 40 connections opened once and kept (a few more if one closed in between)
    assert server.accepted <= 44, server.accepted
    assert len(server.requests) == 120
    first = server.requests[0].lower()
    assert first.startswith(b"post /v1/sms?n=") and b"x-key: k" in first and b"content-type: application/json" in first
    assert b'"to":"98xxxxxx01"' in first.replace(b" ", b"")


async def cookie_setting(server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request with a session cookie for its host, as a vendor's session or a load balancer would."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        server.requests.append(head)
        answer = b'{"status": "ok"}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Set-Cookie: session=brand-a-session; Path=/\r\nSet-Cookie: AWSALB=node-1; Path=/; Max-Age=600\r\n"
            + b"Content-Length: %d\r\n\r\n" % len(answer)
            + answer
        )
        await writer.drain()


async def test_no_cookie_a_vendor_set_goes_out_with_a_later_call(serve) -> None:  # noqa: ANN001
    """The client is shared by every brand: a cookie set in the answer to one brand's call is not sent with the next
    call (another brand's, on the same or a new connection), neither by httpx nor by aiohttp's session."""
    server = await serve(lambda s: lambda r, w: cookie_setting(s, r, w))
    url = server.url.replace("127.0.0.1", "localhost")  # a host name: aiohttp's own jar ignores cookies of an IP
    async with outbound_client(Settings(), timeout=5) as http:
        first = await http.post(f"{url}/v1/kyc/pan", json={"brand": "a"}, headers={"Authorization": "Bearer a"})
        assert first.status_code == 200 and "session=brand-a-session" in first.headers["set-cookie"]
        await asyncio.gather(
            *(
                http.post(f"{url}/v1/kyc/pan", json={"brand": "b"}, headers={"Authorization": "Bearer b"})
                for _ in range(3)
            )
        )
        assert not http.cookies
    assert len(server.requests) == 4
    assert not [r for r in server.requests if b"cookie:" in r.lower()], server.requests


async def test_an_answer_that_is_not_http_is_an_httpx_error(serve) -> None:  # noqa: ANN001
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"this is not HTTP at all\r\n\r\n")
        await writer.drain()

    server = await serve(lambda s: garbage)
    async with outbound_client(Settings(), timeout=5) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(server.url)


async def test_a_connection_closed_without_an_answer_is_an_httpx_error(serve) -> None:  # noqa: ANN001
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    server = await serve(lambda s: hang_up)
    async with outbound_client(Settings(), timeout=5) as http:
        with pytest.raises(httpx.RemoteProtocolError):  # as httpcore named it: "Server disconnected"
            await http.post(server.url, json={"amount": 100})


async def test_a_vendor_that_does_not_answer_times_out_at_the_given_timeout(serve) -> None:  # noqa: ANN001
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(30)

    server = await serve(lambda s: silent)
    async with outbound_client(Settings(), timeout=30) as http:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            await http.get(server.url, timeout=0.5)  # a request's own timeout wins over the client's
        assert time.monotonic() - started < 5


async def test_nothing_listening_is_a_connect_error() -> None:
    async with outbound_client(Settings(), timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:9/")
