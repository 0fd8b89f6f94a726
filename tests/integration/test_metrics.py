"""Observability (docs/observability.md): the API's /metrics, the business counters moved by real loans, the
worker's Temporal SDK metrics endpoint, JSON log lines with the ids, and traces API → workflow → activity."""

from __future__ import annotations

import json
import logging
import re
import types
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI, Request, Response
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from temporalio import activity, workflow
from temporalio.worker import Worker

from api.app import create_app
from los import observability
from los.demo import Driver, demo_identity, random_account
from los.demo_scenarios import _begin
from los.settings import Settings
from los.temporal import connect
from tests.conftest import ThreadedServer, eventually, free_port, running_app


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels`` (0 when there is none)."""
    return sum(v for n, lab, v in samples(text) if n == name and labels.items() <= lab.items())


async def scrape(url: str) -> str:
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.get(f"{url}/metrics")
    assert resp.status_code == 200, resp.text
    return resp.text


async def test_metrics_count_requests_by_route_and_a_loan_by_brand(app, brand, sandbox) -> None:  # noqa: ANN001
    brand_id = brand["brand_id"]
    before = await scrape(app.api.url)
    assert value(before, "los_applications_total", brand=brand_id) == 0

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(0, "auto"), amount=60_000, tenure=3)
    finally:
        await driver.close()
    assert journey.status == "COMPLETED"

    text = await scrape(app.api.url)
    # requests by route template: the loan's own id never becomes a label
    route = "/api/v1/web/loans/{loan_id}"
    assert value(text, "los_http_requests_total", method="GET", route=route, status="200") > value(
        before, "los_http_requests_total", method="GET", route=route, status="200"
    )
    assert value(text, "los_http_request_duration_seconds_count", method="GET", route=route) > 0
    assert not any(journey.loan_id in json.dumps(labels) for _, labels, _ in samples(text))
    # the business counters, by brand
    assert value(text, "los_applications_total", brand=brand_id) == 1
    assert value(text, "los_decisions_total", brand=brand_id, outcome="sanctioned") == 1
    assert value(text, "los_decisions_total", brand=brand_id, outcome="rejected") == 0
    assert value(text, "los_disbursals_total", brand=brand_id) == 1
    assert value(text, "los_disbursed_principal_paise_total", brand=brand_id) == 60_000 * 100
    assert value(text, "los_payments_credited_total", brand=brand_id) == 3
    assert value(text, "los_collected_paise_total", brand=brand_id) == journey.total_collected > 60_000 * 100
    assert value(text, "los_loan_status_moves_total", brand=brand_id, to_status="COMPLETED") == 1
    # loans by status, from the database
    assert value(text, "los_loans", brand=brand_id, status="COMPLETED") == 1
    assert value(text, "los_overdue_loans", brand=brand_id) == 0


async def test_metrics_answer_loopback_or_the_token_only(database_url) -> None:  # noqa: ANN001
    remote = ("203.0.113.9", 40000)

    async def get(settings: Settings, client: tuple[str, int], **headers: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/metrics", headers=headers)

    open_settings = Settings(database_url=database_url)
    assert (await get(open_settings, ("127.0.0.1", 40000))).status_code == 200
    assert (await get(open_settings, remote)).status_code == 403
    with_token = Settings(database_url=database_url, metrics_token=SecretStr("s3cret-token"))
    assert (await get(with_token, remote)).status_code == 403
    assert (await get(with_token, remote, authorization="Bearer wrong")).status_code == 403
    assert (await get(with_token, ("127.0.0.1", 40000))).status_code == 403  # the token, when set, from anywhere
    ok = await get(with_token, remote, authorization="Bearer s3cret-token")
    assert ok.status_code == 200 and "los_http_requests_total" in ok.text


# ---------------------------------------------------------------- the worker's endpoints and activity logs


@dataclass
class Ping:
    loan_id: str
    brand_id: str


@activity.defn(name="metrics_test_ping")
async def ping(p: Ping) -> str:
    logging.getLogger("los.test.activity").info("pinged")
    return p.loan_id


@workflow.defn(name="MetricsTestWorkflow", sandboxed=False)
class PingWorkflow:
    @workflow.run
    async def run(self, p: Ping) -> str:
        return await workflow.execute_activity(ping, p, start_to_close_timeout=timedelta(seconds=10))


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(observability.JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_worker_serves_sdk_metrics_and_logs_carry_the_ids(dev_env) -> None:  # noqa: ANN001
    port = free_port()
    while port + 1 > 65535:  # the business counters take the next port
        port = free_port()
    settings = Settings(
        temporal_address=dev_env.client.service_client.config.target_host, worker_metrics_port=port, log_format="json"
    )
    client = await connect(settings, runtime=observability.worker_runtime(settings))
    business_port = observability.instrument_worker(settings)
    assert business_port == port + 1
    captured = Captured()
    logger = logging.getLogger("los.test.activity")
    logger.addHandler(captured)
    logger.setLevel(logging.INFO)
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    loan_id, brand_id = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[PingWorkflow],
            activities=[ping],
            interceptors=[observability.LogContextInterceptor()],
        ):
            result = await client.execute_workflow(
                PingWorkflow.run, Ping(loan_id, brand_id), id=f"loan-{loan_id}", task_queue=queue
            )
            assert result == loan_id

            async def sdk_metrics() -> str | None:
                async with httpx.AsyncClient(timeout=5) as http:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                return text if "temporal_activity_schedule_to_start_latency" in text else None

            text = await eventually(sdk_metrics)
            assert "temporal_workflow_task_execution_latency" in text
            assert "temporal_activity_execution_latency" in text
            async with httpx.AsyncClient(timeout=5) as http:
                business = (await http.get(f"http://127.0.0.1:{business_port}/metrics")).text
            assert "# TYPE los_payments_credited_total counter" in business
    finally:
        logger.removeHandler(captured)
    [line] = captured.lines
    record = json.loads(line)
    assert record["message"] == "pinged" and record["level"] == "INFO" and record["logger"] == "los.test.activity"
    assert record["workflow_id"] == f"loan-{loan_id}"
    assert record["loan_id"] == loan_id and record["brand_id"] == brand_id


async def test_api_log_lines_carry_the_path_ids() -> None:
    """The request middleware names the request's loan and brand to the log lines written while it is handled."""
    app = FastAPI()
    app.add_middleware(observability.HttpMetrics)
    log = logging.getLogger("los.test.api")

    @app.get("/brand/{brandId}/loans/{loanId}")
    async def read(brandId: str, loanId: str) -> dict:  # noqa: N803
        log.warning("reading")
        return {}

    captured = Captured()
    log.addHandler(captured)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            assert (await http.get("/brand/b-1/loans/l-2")).status_code == 200
    finally:
        log.removeHandler(captured)
    [line] = captured.lines
    assert json.loads(line) | {"ts": None} == {
        "ts": None,
        "level": "WARNING",
        "logger": "los.test.api",
        "message": "reading",
        "loan_id": "l-2",
        "workflow_id": "loan-l-2",
        "brand_id": "b-1",
    }
    # outside a request or activity: no ids
    plain = json.loads(observability.JsonFormatter().format(logging.makeLogRecord({"msg": "x", "levelname": "INFO"})))
    assert set(plain) == {"ts", "level", "logger", "message"}


# ---------------------------------------------------------------- traces


async def test_a_request_is_traced_through_the_workflow_to_its_activities(
    dev_env,
    database_url,
    db,
    storage_dir,
    renderer,
    brand,
    sandbox,  # noqa: ANN001
) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    target = dev_env.client.service_client.config.target_host
    try:
        with observability.use_tracer_provider(provider):
            traced = await connect(Settings(temporal_address=target))  # the worker's client: the SDK interceptor
            env = types.SimpleNamespace(client=traced)
            async with running_app(env, database_url, db, storage_dir, renderer) as app:
                driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
                try:
                    journey = await driver.journey(*demo_identity(1, "reject"))
                finally:
                    await driver.close()
                assert journey.status == "REJECTED"
    finally:
        HTTPXClientInstrumentor().uninstrument()
        provider.shutdown()

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}

    def ancestors(span):  # noqa: ANN001, ANN202
        names = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    [request] = [s for s in spans if s.name == "POST /api/v1/web/loans" and s.kind.name == "SERVER"]
    [start] = [s for s in spans if s.name == "StartWorkflow:LoanWorkflow"]
    assert start.parent.span_id == request.context.span_id and start.context.trace_id == request.context.trace_id
    run = [s for s in spans if s.name == "RunWorkflow:LoanWorkflow"]
    assert run and all(s.context.trace_id == request.context.trace_id for s in run)
    activities = [s for s in spans if s.name == "RunActivity:record_status"]
    assert activities, sorted({s.name for s in spans})
    for span in activities:
        chain = ancestors(span)
        # activity ← its scheduling in the workflow ← the workflow's start ← the API request that applied
        assert chain[:3] == ["StartActivity:record_status", "StartWorkflow:LoanWorkflow", "POST /api/v1/web/loans"]
        assert span.context.trace_id == request.context.trace_id
    # a request that asks the running workflow (the loan's KYC state, a query): the handler's span in the workflow
    # is a child of the request's call
    handled = [s for s in spans if s.name == "HandleQuery:kyc_status"]
    assert handled
    for span in handled:
        chain = ancestors(span)
        assert chain[:2] == ["QueryWorkflow:kyc_status", "GET /api/v1/web/loans/{loan_id}"], chain
    # the provider calls of the activities: httpx client spans under their activity
    provider_calls = [s for s in spans if s.kind.name == "CLIENT" and re.match(r"^(GET|POST|PUT)\b", s.name)]
    assert any(any(n.startswith("RunActivity:") for n in ancestors(s)) for s in provider_calls)


async def test_an_update_and_a_signal_are_traced_from_the_api_to_the_workflows_handlers(
    dev_env,
    database_url,
    db,
    storage_dir,
    renderer,
    brand,
    sandbox,  # noqa: ANN001
) -> None:
    """The customer accepting the KFS (an update, ``accept_kfs``) and the eSign vendor's webhook (a signal,
    ``esign_completed``): each API request has a client span for the call, its child; the workflow's handling of it
    (``ValidateUpdate``/``HandleUpdate``, ``HandleSignal``) is in the loan workflow's trace and links back to that
    call's span."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    target = dev_env.client.service_client.config.target_host
    try:
        with observability.use_tracer_provider(provider):
            traced = await connect(Settings(temporal_address=target))
            env = types.SimpleNamespace(client=traced)
            async with running_app(env, database_url, db, storage_dir, renderer) as app:
                driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=120)
                try:
                    headers, journey, _, deadline = await _begin(driver, 2, random_account())
                    loan = await driver.to_signature(headers, journey, deadline)  # the KFS accepted: an update
                    await driver.sign(headers, journey, loan, deadline)  # the vendor's webhook: a signal
                finally:
                    await driver.close()
    finally:
        HTTPXClientInstrumentor().uninstrument()
        provider.shutdown()

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}

    def parent(span):  # noqa: ANN001, ANN202
        return by_id.get(span.parent.span_id) if span.parent is not None else None

    [applied] = [s for s in spans if s.name == "POST /api/v1/web/loans" and s.kind.name == "SERVER"]
    workflow_trace = applied.context.trace_id  # the loan's workflow runs in the trace of the request that started it
    for call_name, request_name, handlers in (
        (
            "StartWorkflowUpdate:accept_kfs",
            "POST /api/v1/web/loans/{loan_id}/kfs/accept",
            ("ValidateUpdate:accept_kfs", "HandleUpdate:accept_kfs"),
        ),
        (
            "SignalWorkflow:esign_completed",
            "POST /api/v1/webhooks/{brand_id}/{vendor}",
            ("HandleSignal:esign_completed",),
        ),
    ):
        [call] = [s for s in spans if s.name == call_name]
        request = parent(call)
        assert call.kind.name == "CLIENT" and request is not None, call_name
        assert (request.name, request.kind.name) == (request_name, "SERVER"), request.name
        assert call.context.trace_id == request.context.trace_id
        for name in handlers:
            handled = [s for s in spans if s.name == name]
            assert handled, (name, sorted({s.name for s in spans}))
            for span in handled:
                assert span.context.trace_id == workflow_trace, name
                assert [link.context.span_id for link in span.links] == [call.context.span_id], name
    [handled] = [s for s in spans if s.name == "HandleUpdate:accept_kfs"]
    assert parent(handled) is not None and parent(handled).name == "StartWorkflow:LoanWorkflow"


def test_the_dashboard_shows_only_metrics_the_processes_export() -> None:
    """deploy/grafana/los-dashboard.json: valid JSON, and every los_* series it queries is one we export."""
    from pathlib import Path

    from prometheus_client import REGISTRY

    import los.metrics  # noqa: F401 - registers the business counters

    dashboard = json.loads((Path(__file__).parents[2] / "deploy/grafana/los-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\blos_[a-z_]+", e)}
    exported = {s.name for family in REGISTRY.collect() for s in family.samples} | {
        f"{f.name}{suffix}" for f in REGISTRY.collect() for suffix in ("_total", "_bucket", "_count", "_sum")
    }
    exported |= {"los_loans", "los_overdue_loans"}  # read from the database at scrape time (los.metrics.LoansByStatus)
    assert used and used <= exported, used - exported
    assert any("temporal_workflow_task_schedule_to_start_latency_bucket" in e for e in exprs)


def test_status_moves_are_told_apart() -> None:
    """Decisions, disbursals and overdue loans are read from the status moves the worker records."""
    from prometheus_client import REGISTRY

    from los import metrics

    brand_id = f"b-{uuid.uuid4().hex[:8]}"

    def got(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"brand": brand_id, **labels}) or 0.0

    for frm, to in [
        ("APPLIED", "UNDER_REVIEW"),  # to staff
        ("UNDER_REVIEW", "UNDER_REVIEW"),  # the next review stage: no new decision
        ("UNDER_REVIEW", "SANCTIONED"),
        ("SANCTIONED", "SANCTIONED"),  # the KFS accepted
        ("APPLIED", "REJECTED"),
        ("DISBURSAL_PENDING", "DISBURSED"),
        ("DISBURSED", "OVERDUE"),
        ("OVERDUE", "DISBURSED"),  # caught up: not a second disbursal
        ("NEEDS_ATTENTION", "DISBURSED"),  # a held transfer released
    ]:
        metrics.status_moved(brand_id, frm, to, 10_000)
    assert got("los_decisions_total", outcome="manual_review") == 1
    assert got("los_decisions_total", outcome="sanctioned") == 1
    assert got("los_decisions_total", outcome="rejected") == 1
    assert got("los_disbursals_total") == 2 and got("los_disbursed_principal_paise_total") == 20_000
    assert got("los_loans_went_overdue_total") == 1
    assert got("los_loan_status_moves_total", from_status="UNDER_REVIEW", to_status="UNDER_REVIEW") == 1
    metrics.payment_credited(brand_id, "razorpay", 2_500)
    metrics.payment_credited(brand_id, None, 100)
    assert got("los_payments_credited_total", gateway="razorpay") == 1
    assert got("los_collected_paise_total", gateway="razorpay") == 2_500
    assert got("los_collected_paise_total", gateway="unknown") == 100


def test_traces_are_exported_over_otlp_when_an_endpoint_is_set(monkeypatch) -> None:  # noqa: ANN001
    """Off by default; with LOS_OTLP_ENDPOINT, spans reach a collector as OTLP/HTTP protobuf at /v1/traces."""
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert observability.tracing_endpoint(Settings()) is None
    received: list[tuple[str, str, bytes]] = []
    collector = FastAPI()

    @collector.post("/v1/traces")
    async def traces(request: Request) -> Response:
        received.append((request.url.path, request.headers["content-type"], await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    with ThreadedServer(collector) as server:
        settings = Settings(otlp_endpoint=server.url)
        assert observability.tracing_endpoint(settings) == server.url
        provider = observability.otlp_tracer_provider(settings)
        with provider.get_tracer("test").start_as_current_span("disburse-loan-123"):
            pass
        assert provider.force_flush(10_000)
        provider.shutdown()
    [(path, content_type, body)] = received
    assert path == "/v1/traces" and content_type == "application/x-protobuf" and b"disburse-loan-123" in body
