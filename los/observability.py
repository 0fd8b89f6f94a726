"""Metrics, traces and logs for the API and the worker (docs/observability.md).

- HTTP metrics: :class:`HttpMetrics`, an ASGI middleware counting requests and timing them by route template.
- ``GET /metrics`` on the API (:func:`instrument_app`), for loopback callers or a bearer token (``LOS_METRICS_TOKEN``).
- The worker: the Temporal SDK's own Prometheus endpoint (:func:`worker_runtime`) and the business counters
  (:mod:`los.metrics`) on the next port (:func:`serve_worker_metrics`).
- Traces: OpenTelemetry, exported over OTLP only when an endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT``
  or ``LOS_OTLP_ENDPOINT``); the Temporal SDK's ``TracingInterceptor`` carries them API → workflow → activity,
  and the httpx instrumentation on to the provider calls. Off: no interceptor, no exporter.
- Logs: JSON lines (``LOS_LOG_FORMAT=json``) carrying loan_id, workflow_id and brand_id when known.
"""

from __future__ import annotations

import contextlib
import contextvars
import hmac
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from los.metrics import LoansByStatus
from los.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from temporalio.runtime import Runtime

# ------------------------------------------------------------------ HTTP metrics

HTTP_REQUESTS = Counter("los_http_requests", "API requests answered, by route template", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "los_http_request_duration_seconds",
    "API request latency, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNMATCHED = "unmatched"  # requests no route answered (404s of scanners): one series, not one per path

#: the ASGI scope of the request being handled (its path parameters, once routed, name the loan and brand)
_request_scope: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("los_request", default=None)
#: ids known to an activity (set by :class:`LogContextInterceptor`)
_log_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("los_log_ids", default=None)


def route_template(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED


class HttpMetrics:
    """Counts each HTTP request by method, route template and status, and times it. A request that raises
    counts as 500 (the outer error layer answers it so)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _request_scope.set(scope)
        status = [500]
        start = time.perf_counter()

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            method = scope.get("method", "GET")
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - start)
            HTTP_REQUESTS.labels(method, route, str(status[0])).inc()
            _request_scope.reset(token)


def metrics_allowed(settings: Settings, client_host: str | None, authorization: str | None) -> bool:
    """With ``LOS_METRICS_TOKEN`` set, the bearer token is required (from anywhere); without it, only
    loopback callers (a scraper on the same host) are answered."""
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        return hmac.compare_digest((authorization or "").encode(), expected.encode())
    return client_host in {"127.0.0.1", "::1", "localhost"}


def instrument_app(app: FastAPI, settings: Settings) -> None:
    """The API's HTTP metrics middleware, ``GET /metrics`` (not in the OpenAPI schema) and, when tracing is
    on, the FastAPI and httpx OpenTelemetry instrumentation."""
    app.add_middleware(HttpMetrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not metrics_allowed(settings, client, request.headers.get("authorization")):
            return PlainTextResponse("metrics: loopback or LOS_METRICS_TOKEN only\n", status_code=403)
        body = generate_latest(REGISTRY)
        db = getattr(request.app.state, "db", None)
        if db is not None:
            scrape = CollectorRegistry(auto_describe=False)
            scrape.register(LoansByStatus(db))
            try:
                import asyncio

                body += await asyncio.to_thread(generate_latest, scrape)
            except Exception as exc:  # noqa: BLE001 - the database down must not hide the other metrics
                logging.getLogger("los.metrics").warning("loans by status not read: %s", exc)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    provider = tracer_provider(settings)
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="/metrics,/health")
        instrument_httpx(provider)


def _no_native_telemetry() -> dict[str, Any]:
    import inspect

    from fastapi import FastAPI

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}


# ``FastAPI(**NO_NATIVE_TELEMETRY)``: FastAPI's own OpenTelemetry layer off (the versions that have one). The API's
# traces come from the instrumentation :func:`instrument_app` adds when an OTLP endpoint is configured (FastAPI then
# leaves tracing to it), its metrics from :class:`HttpMetrics`, its logs from our handlers. FastAPI's layer, even with
# nothing configured, asks OpenTelemetry for its three providers on every request: 3 % of the API's CPU under
# ``bench/lifecycle.py``. ``FASTAPI_OTEL_AUTO_CONFIGURE`` is therefore not honoured (docs/observability.md).
NO_NATIVE_TELEMETRY: dict[str, Any] = _no_native_telemetry()


# ------------------------------------------------------------------ worker metrics


def worker_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics (task latencies, schedule-to-start, slots) on
    ``LOS_WORKER_METRICS_HOST:LOS_WORKER_METRICS_PORT`` for Prometheus; None when no port is set."""
    if not settings.worker_metrics_port:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def instrument_worker(settings: Settings) -> int | None:
    """The worker's side of :func:`instrument_app`: its provider calls (httpx) traced when tracing is on, and
    the business counters of this process (prometheus_client's registry) served on the port after the SDK's
    (``LOS_WORKER_METRICS_PORT + 1``). Returns that port, or None when worker metrics are off."""
    provider = tracer_provider(settings)
    if provider is not None:
        instrument_httpx(provider)
    if not settings.worker_metrics_port:
        return None
    from prometheus_client import start_http_server

    port = settings.worker_metrics_port + 1
    start_http_server(port, addr=settings.worker_metrics_host)
    return port


# ------------------------------------------------------------------ traces

_provider: TracerProvider | None = None
_provider_made = False


def tracing_endpoint(settings: Settings) -> str | None:
    return (
        settings.otlp_endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def tracer_provider(settings: Settings) -> TracerProvider | None:
    """This process's tracer provider: made once (:func:`otlp_tracer_provider`, and made the global one) when
    an endpoint is configured, or the one given by :func:`use_tracer_provider`; None means tracing is off."""
    global _provider, _provider_made
    if _provider_made:
        return _provider
    if tracing_endpoint(settings):
        from opentelemetry import trace

        _provider = otlp_tracer_provider(settings)
        trace.set_tracer_provider(_provider)
    _provider_made = True
    return _provider


def otlp_tracer_provider(settings: Settings) -> TracerProvider:
    """A tracer provider exporting over OTLP/HTTP (protobuf) in batches: to ``LOS_OTLP_ENDPOINT`` (``/v1/traces``
    added), else where the standard ``OTEL_EXPORTER_OTLP_*`` variables say."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME") or f"los-{_process_role()}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = (
        OTLPSpanExporter(endpoint=_traces_url(settings.otlp_endpoint)) if settings.otlp_endpoint else OTLPSpanExporter()
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _traces_url(endpoint: str | None) -> str | None:
    if endpoint is None:
        return None
    return endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"


def _process_role() -> str:
    argv = " ".join(sys.argv)
    return "worker" if "worker" in argv else "api"


@contextlib.contextmanager
def use_tracer_provider(provider: TracerProvider | None) -> Iterator[None]:
    """Clients, workers and apps built inside trace to ``provider`` (e.g. one with an in-memory exporter)."""
    global _provider, _provider_made
    before = (_provider, _provider_made)
    _provider, _provider_made = provider, True
    try:
        yield
    finally:
        _provider, _provider_made = before


def temporal_interceptors(settings: Settings) -> list[Any]:
    """The Temporal client's interceptors: the SDK's ``TracingInterceptor`` when tracing is on (workers built
    on that client use it too), else none."""
    provider = tracer_provider(settings)
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("los.temporal"))]


def instrument_httpx(provider: TracerProvider) -> None:
    """Every httpx client of the process (the provider adapters' calls) traced, once."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


# ------------------------------------------------------------------ logs


def log_ids() -> dict[str, str]:
    """loan_id, workflow_id and brand_id of what is being handled, those known."""
    ids: dict[str, str] = {}
    scope = _request_scope.get()
    if scope is not None:
        params = scope.get("path_params") or {}
        for key, name in (
            ("loanId", "loan_id"),
            ("loan_id", "loan_id"),
            ("brandId", "brand_id"),
            ("brand_id", "brand_id"),
        ):
            if params.get(key):
                ids[name] = str(params[key])
        if "loan_id" in ids:
            ids["workflow_id"] = f"loan-{ids['loan_id']}"
    known = _log_ids.get()
    if known:
        ids.update(known)
    elif activity.in_activity():
        ids.update(_workflow_ids(activity.info().workflow_id))
    return ids


def _workflow_ids(workflow_id: str | None) -> dict[str, str]:
    ids = {"workflow_id": workflow_id} if workflow_id else {}
    if workflow_id and workflow_id.startswith("loan-"):
        ids["loan_id"] = workflow_id.removeprefix("loan-")
    return ids


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, the ids of :func:`log_ids` (or given as ``extra``),
    and the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(log_ids())
        for name in ("loan_id", "workflow_id", "brand_id"):
            value = getattr(record, name, None)
            if value:
                out[name] = str(value)
        if record.exc_info:
            out["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(out, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """The root logger on stderr: JSON lines with ``LOS_LOG_FORMAT=json``, else the readable text format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_log_config(settings: Settings, level: int = logging.INFO) -> dict[str, Any]:
    """uvicorn's ``log_config`` (a ``logging.config.dictConfig`` dict) for the API: the root logger on stderr as
    :func:`configure_logging` sets it (JSON lines with ``LOS_LOG_FORMAT=json``, else the text format), and uvicorn's
    own loggers through it. uvicorn applies it in every process it runs, each ``--workers`` child included (a child
    sets its logging up again from the config), so the children log as the parent does."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if settings.log_format == "json" else {"format": TEXT_FORMAT}
    )
    through_root = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"los": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "los", "stream": "ext://sys.stderr"}},
        "root": {"level": logging.getLevelName(level), "handlers": ["stderr"]},
        "loggers": {name: dict(through_root) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


class _LogContextInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        ids = _workflow_ids(activity.info().workflow_id)
        first = input.args[0] if input.args else None
        for name in ("loan_id", "brand_id"):
            value = getattr(first, name, None)
            if isinstance(value, str) and value:
                ids[name] = value
        token = _log_ids.set(ids)
        try:
            return await super().execute_activity(input)
        finally:
            _log_ids.reset(token)


class LogContextInterceptor(Interceptor):
    """Worker interceptor: while an activity runs, its logs carry the workflow id, and the loan and brand
    ids its input names (``loan_id`` / ``brand_id`` attributes of its first argument)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _LogContextInbound(next)
