"""The HTTP client the worker and the API call vendors with (KYC, bureaus, banks, gateways, messaging, partners).

One ``httpx.AsyncClient`` per process, shared by every adapter, on aiohttp's connection pool
(``httpx_aiohttp.AiohttpTransport``, kept by httpx's maintainers) instead of httpcore's. The adapters keep
httpx's API and errors (``httpx.HTTPError`` and its subclasses; the transport maps aiohttp's onto them), and
the client's timeouts reach aiohttp per request (connect, read, pool).

Why: httpcore's pool walks every pooled connection, with a ``select`` on each idle one, whenever a request
starts or ends, and a request that waits for a connection walks them again; on a due-date storm (50 activities
at once, a notice's three messages each) that was about a tenth of the worker's CPU. Measured on one machine, a
request cost the client 1.1–2.0 ms of CPU through httpcore's pool and 0.37–0.50 ms through aiohttp's, at 20 to
120 requests in flight (docs/architecture.md, "Speed").

Idle connections are closed after :data:`KEEPALIVE_SECONDS`, under the 5 s after which uvicorn (and so the
sandbox) closes them: a request sent on a connection the server is closing at that instant fails
(``httpx.RemoteProtocolError``) without its answer, and for a message or a transfer such a failure is ambiguous (did
the vendor act?), so it is better not provoked.

No cookie is kept: the client is shared by every brand of the deployment, so a cookie one brand's call was answered
with (a vendor's session, a load balancer's stickiness) would otherwise go out with the next brand's call to that
vendor. aiohttp's session gets a ``DummyCookieJar`` (aiohttp's documented way to ignore cookies) and httpx's own jar
a policy that accepts no domain (``http.cookiejar.DefaultCookiePolicy(allowed_domains=[])``). The adapters
authenticate with keys and signatures on each request, never with a cookie.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
import httpx_aiohttp.transport
from httpx_aiohttp import AiohttpTransport

from los import observability
from los.settings import Settings

# Above the worker's peak (50 activities at once, a notice's messages sent together): a request never waits
# for a connection of its own process.
MAX_CONNECTIONS = 200
KEEPALIVE_SECONDS = 4.0


def _complete_error_map() -> None:
    """Make the transport's aiohttp → httpx error map total and specific.

    The transport maps aiohttp's connection, timeout and payload errors onto httpx's and lets any other through;
    the adapters catch ``httpx.HTTPError`` (a transient failure: retry, or the next vendor), so every aiohttp
    client error must become one (an answer that is not HTTP → ``httpx.TransportError``; the server hanging up
    before answering → ``httpx.RemoteProtocolError``, as httpcore says it). The map is read in order, the first
    match kept unless a later one maps to a subclass of it: ordered most specific aiohttp error first, a refused
    connection is a ``ConnectError`` (which it is) and not a ``ConnectTimeout``."""
    errors = httpx_aiohttp.transport.AIOHTTP_EXC_MAP
    errors[aiohttp.ServerDisconnectedError] = httpx.RemoteProtocolError
    errors.setdefault(aiohttp.ClientError, httpx.TransportError)
    ordered = sorted(errors.items(), key=lambda pair: len(pair[0].__mro__), reverse=True)
    errors.clear()
    errors.update(ordered)


_complete_error_map()


def outbound_transport() -> AiohttpTransport:
    """httpx's transport on an aiohttp pool of :data:`MAX_CONNECTIONS` connections, idle ones closed after
    :data:`KEEPALIVE_SECONDS`; its session is made on the first request, in the loop that sends it."""

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return AiohttpTransport(client=session)


def outbound_client(settings: Settings, timeout: float) -> httpx.AsyncClient:
    """A vendor-calling client: ``timeout`` seconds (or a request's own ``timeout=``) for the TCP connect, for
    the wait between two reads of the answer and for getting a connection from the pool (aiohttp has no write
    timeout); traced (an OpenTelemetry client span per call) when tracing is on for ``settings``
    (``los.observability``). Every failure short of an answer is an ``httpx.HTTPError``.

    Close it with ``await client.aclose()`` (or ``async with``), inside the event loop that used it."""
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))  # shared by every brand: keeps none (above)
    client = httpx.AsyncClient(timeout=timeout, transport=outbound_transport(), cookies=no_cookies)
    provider = observability.tracer_provider(settings)
    if provider is not None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)
    return client
