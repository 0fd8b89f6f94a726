"""The FastAPI application: customer, staff and webhook routes, /health, one error format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text

from activities.storage import build_storage
from api import docs_pages, errors, hardening, openapi
from api.admin.routes import router as admin_router
from api.admin.users import router as admin_users_router
from api.audit_middleware import AuditSafetyNet
from api.codec import router as codec_router
from api.deps import TemporalHolder, watch_event_loop
from api.files import router as files_router
from api.guards import GUARDS
from api.loan_changes import LoanChanges, listen_url
from api.partner import agreement as partner_agreement
from api.partner import allocation as partner_allocation
from api.partner import bureau_files as partner_bureau_files
from api.partner import cam as partner_cam
from api.partner import closed_loans as partner_closed_loans
from api.partner import closure as partner_closure
from api.partner import colending as partner_colending
from api.partner import collection_work as partner_collection_work
from api.partner import collections as partner_collections
from api.partner import comments as partner_comments
from api.partner import customers as partner_customers
from api.partner import dashboard as partner_dashboard
from api.partner import dialer as partner_dialer
from api.partner import field_visits as partner_field_visits
from api.partner import leads as partner_leads
from api.partner import loan_admin as partner_loan_admin
from api.partner import loans as partner_loans
from api.partner import mandates as partner_mandates
from api.partner import messages as partner_messages
from api.partner import money_out as partner_money_out
from api.partner import notifications as partner_notifications
from api.partner import partner_lenders as partner_partner_lenders
from api.partner import payments as partner_payments
from api.partner import policy as partner_policy
from api.partner import queues as partner_queues
from api.partner import refunds as partner_refunds
from api.partner import reminders as partner_reminders
from api.partner import reports as partner_reports
from api.partner import review as partner_review
from api.partner import search as partner_search
from api.partner import servicing_actions as partner_servicing_actions
from api.partner import sme as partner_sme
from api.partner import status_reasons as partner_status_reasons
from api.partner.api_keys import router as partner_api_keys_router
from api.partner.audit_logs import router as partner_audit_logs_router
from api.partner.auth import router as partner_auth_router
from api.partner.documents import router as partner_documents_router
from api.partner.settings import blocklist as settings_blocklist
from api.partner.settings import brand as settings_brand
from api.partner.settings import evaluation_items as settings_evaluation_items
from api.partner.settings import holidays as settings_holidays
from api.partner.settings import loan_rules as settings_loan_rules
from api.partner.settings import providers as settings_providers
from api.partner.settings import status_reasons as settings_status_reasons
from api.partner.settings import templates as settings_templates
from api.partner.settings import unavailability as settings_unavailability
from api.partner.staff_users import router as partner_staff_users_router
from api.responses import ApiModel
from api.route_warmup import warm_routes
from api.sme.routes import router as sme_router
from api.web.auth import router as web_auth_router
from api.web.closure import router as web_closure_router
from api.web.documents import router as web_documents_router
from api.web.kfs import router as web_kfs_router
from api.web.kyc import router as web_kyc_router
from api.web.mandates import router as web_mandates_router
from api.web.partner_offers import router as web_partner_offers_router
from api.web.payments import router as web_payments_router
from api.web.repayment import router as web_repayment_router
from api.web.routes import router as web_router
from api.webhooks import partner_disbursals as partner_disbursal_webhooks
from api.webhooks.dialer import router as dialer_webhook_router
from api.webhooks.lendbox import router as lendbox_webhook_router
from api.webhooks.routes import router as webhook_router
from db.session import SERVER_POOL, server_database
from los.observability import NO_NATIVE_TELEMETRY, instrument_app
from los.outbound import outbound_client
from los.settings import Settings, get_settings
from ui import routes as ui_routes


class Health(ApiModel):
    """Whether the API reaches its database and the workflow engine (the 503 answer has the same keys)."""

    status: str = Field(description="ok, or degraded when a check is down")
    database: str = Field(description='"up", or "down: <error type>"')
    temporal: str = Field(description='"up", or "down: <error type>"')


API_THREADS = SERVER_POOL
"""The API process's thread pool (sync routes and dependencies): as many threads as its database connections."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Routes that use the database run in this pool (api/deps.py), some waiting on a workflow's update for up
        # to workflow_call_timeout_seconds; as many threads as the database pool has connections (db.session), so
        # a thread that runs has a connection to use.
        anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
        app.state.settings = settings
        app.state.db = server_database(settings.sqlalchemy_url)
        watch_event_loop(app.state.db.engine, strict=settings.strict_event_loop)
        app.state.temporal = TemporalHolder(settings)
        app.state.http = outbound_client(settings, timeout=15.0)
        app.state.storage = build_storage(settings)
        app.state.loan_changes = LoanChanges(
            listen_url(settings.sqlalchemy_url) if settings.loan_change_notifications else None
        )
        app.state.loan_changes.start()  # long-poll loan reads are woken by the database (api/loan_changes.py)
        warm_routes(app)  # before the first request, not during it (api/route_warmup.py)
        try:
            yield
        finally:
            await app.state.loan_changes.stop()
            await app.state.http.aclose()
            app.state.db.dispose()

    app = FastAPI(
        title="LOS — loan origination and management",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=GUARDS,  # NUL characters refused on every route, present and future (api/guards.py)
        description="Customer (/api/v1/web), staff (/api/v1/partner) and provider webhook APIs. "
        "Each loan is a Temporal workflow `loan-<loanId>`.",
        **NO_NATIVE_TELEMETRY,
        docs_url=None,  # api.docs_pages serves /docs with its assets from here, not a CDN
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(AuditSafetyNet)
    # Provider webhooks first: a request is matched against the routes in order, one regular expression each, and
    # vendors' callbacks are the traffic of a due-date storm (a payment, then its messages' delivery reports); last,
    # they were matched against every other route first (a fifth of the API's CPU per webhook). Their paths
    # (/api/v1/webhooks/...) overlap no other router's.
    app.include_router(dialer_webhook_router)  # before /{brandId}/{vendor}: its two vendors' paths are its own
    app.include_router(lendbox_webhook_router)  # before /{brandId}/{vendor}: its path has one more segment
    app.include_router(partner_disbursal_webhooks.router)  # before the generic /{brand_id}/{vendor}
    app.include_router(webhook_router)
    app.include_router(web_auth_router)
    app.include_router(web_kyc_router)
    app.include_router(web_router)
    app.include_router(web_kfs_router)
    app.include_router(web_partner_offers_router)
    app.include_router(web_payments_router)
    app.include_router(web_mandates_router)
    app.include_router(web_repayment_router)
    app.include_router(partner_auth_router)
    app.include_router(partner_loan_admin.router)  # before loans/{loanId}: it has loans/disbursed-amount
    for staff_router in (partner_loans, partner_queues, partner_review, partner_allocation, partner_status_reasons):
        app.include_router(staff_router.router)
    app.include_router(partner_agreement.router)
    app.include_router(partner_money_out.router)
    app.include_router(partner_payments.router)
    app.include_router(partner_refunds.router)
    app.include_router(partner_mandates.router)
    app.include_router(partner_closure.router)
    for servicing_router in (partner_collections, partner_dialer, partner_servicing_actions, partner_closed_loans):
        app.include_router(servicing_router.router)
    app.include_router(partner_collection_work.router)
    app.include_router(partner_field_visits.router)
    app.include_router(web_closure_router)
    for operations_router in (partner_customers, partner_search, partner_reports, partner_dashboard):
        app.include_router(operations_router.router)
    for operations_router in (partner_reminders, partner_leads, partner_policy, partner_bureau_files):
        app.include_router(operations_router.router)
    for lending_router in (partner_partner_lenders, partner_sme, partner_colending):
        app.include_router(lending_router.router)
    app.include_router(sme_router)
    for workbench_router in (partner_cam, partner_comments, partner_notifications):
        app.include_router(workbench_router.router)
    app.include_router(settings_brand.router)
    app.include_router(settings_loan_rules.router)
    app.include_router(settings_evaluation_items.router)
    app.include_router(settings_status_reasons.router)
    app.include_router(settings_blocklist.router)
    app.include_router(settings_providers.router)
    app.include_router(settings_unavailability.router)
    app.include_router(settings_holidays.router)
    app.include_router(settings_templates.router)
    app.include_router(partner_messages.router)
    app.include_router(partner_staff_users_router)
    app.include_router(partner_audit_logs_router)
    app.include_router(partner_api_keys_router)
    app.include_router(admin_router)
    app.include_router(admin_users_router)
    app.include_router(web_documents_router)
    app.include_router(partner_documents_router)
    app.include_router(files_router)
    app.include_router(codec_router)
    ui_routes.install(app)  # the staff console at /console, the borrower's app at /app (docs/console.md)
    openapi.install(app)
    docs_pages.install(app)
    hardening.install(app, settings)  # security headers, CORS allow-list, request limits (docs/security.md)
    instrument_app(app, settings)  # request metrics, GET /metrics, traces when on (docs/observability.md)
    app.add_middleware(errors.CatchAll)  # added last: the outermost layer, so nothing escapes the envelope

    @app.get(
        "/health",
        tags=["health"],
        response_model=Health,
        responses={
            503: {
                "description": "Degraded: the database or the workflow engine is down.",
                "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}},
            }
        },
    )
    async def health(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}

        def ping_db() -> None:
            with request.app.state.db.engine.connect() as conn:
                conn.execute(text("select 1"))

        try:
            await asyncio.wait_for(asyncio.to_thread(ping_db), timeout=3)
            checks["database"] = "up"
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"down: {type(exc).__name__}"
        try:
            client = await request.app.state.temporal.get()
            await asyncio.wait_for(client.service_client.check_health(), timeout=3)
            checks["temporal"] = "up"
        except Exception as exc:  # noqa: BLE001
            checks["temporal"] = f"down: {type(exc).__name__}"
        ok = all(v == "up" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", **checks}, status_code=200 if ok else 503)

    return app
