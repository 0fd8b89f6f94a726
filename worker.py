"""The Temporal worker: builds the activities' clients, registers workflows and activities, runs.

`python worker.py` or `los worker`. Scale by running more of them against the same task queue.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkerDeploymentConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.aadhaar_vault import AadhaarVaultActivities
from activities.bureau_files import BureauFileActivities
from activities.colending import CoLendingActivities
from activities.documents import PdfRenderer
from activities.kyc import KycActivities
from activities.loan import LoanActivities
from activities.messaging import MessagingActivities
from activities.ops_jobs import OpsJobActivities
from activities.partners import PartnerActivities
from activities.portfolio import PortfolioActivities
from activities.refunds import RefundActivities
from activities.reminders import ReminderActivities
from activities.report_email import ReportEmailActivities
from activities.sme import SmeActivities
from activities.storage import build_storage
from db.session import Database, server_database
from los.bureau_files_job import BUREAU_FILES_JOB
from los.chaos import interceptors as chaos_interceptors
from los.followup_worker import LoanWorkGauge, LoanWorkGaugeInterceptor, followup_worker
from los.observability import LogContextInterceptor, configure_logging, instrument_worker, worker_runtime
from los.outbound import outbound_client
from los.schedules import ScheduledJob, ensure_schedules
from los.settings import Settings, get_settings
from los.temporal import connect, register_search_attributes
from workflows.aadhaar_vault_sweep import SCHEDULE_ID as AADHAAR_VAULT_SWEEP_SCHEDULE
from workflows.aadhaar_vault_sweep import AadhaarVaultSweepWorkflow
from workflows.bureau_files import BureauFilesWorkflow
from workflows.bureau_refresh import RUN_AT_UTC as BUREAU_REFRESH_AT_UTC
from workflows.bureau_refresh import SCHEDULE_ID as BUREAU_REFRESH_SCHEDULE
from workflows.bureau_refresh import BureauRefreshWorkflow
from workflows.colending_retry import CoLendingRetryWorkflow
from workflows.inactivity_alerts import RUN_AT_UTC as INACTIVITY_ALERTS_AT_UTC
from workflows.inactivity_alerts import SCHEDULE_ID as INACTIVITY_ALERTS_SCHEDULE
from workflows.inactivity_alerts import InactivityAlertsWorkflow
from workflows.invoice_financing import InvoiceFinancingWorkflow
from workflows.kyc_expiry import RUN_AT_UTC as KYC_EXPIRY_AT_UTC
from workflows.kyc_expiry import SCHEDULE_ID as KYC_EXPIRY_SCHEDULE
from workflows.kyc_expiry import KycExpiryWorkflow
from workflows.loan import LoanWorkflow
from workflows.partner_disbursal_watch import SCHEDULE_ID as PARTNER_DISBURSAL_SCHEDULE
from workflows.partner_disbursal_watch import PartnerDisbursalWatchWorkflow
from workflows.payment_redelivery import SCHEDULE_ID as PAYMENT_REDELIVERY_SCHEDULE
from workflows.payment_redelivery import PaymentRedeliveryWorkflow
from workflows.pinned import PINNED_VARIANTS
from workflows.portfolio_snapshot import RUN_AT_UTC as PORTFOLIO_AT_UTC
from workflows.portfolio_snapshot import SCHEDULE_ID as PORTFOLIO_SCHEDULE
from workflows.portfolio_snapshot import PortfolioSnapshotWorkflow
from workflows.receipt_sweep import SCHEDULE_ID as RECEIPT_SWEEP_SCHEDULE
from workflows.receipt_sweep import ReceiptSweepWorkflow
from workflows.reconciler import SCHEDULE_ID as RECONCILER_SCHEDULE
from workflows.reconciler import ReconcileTransfersWorkflow
from workflows.refund import RefundWorkflow
from workflows.reminder_dispatch import EVERY as REMINDER_EVERY
from workflows.reminder_dispatch import SCHEDULE_ID as REMINDER_SCHEDULE
from workflows.reminder_dispatch import ReminderDispatchWorkflow
from workflows.report_email import ReportEmailWorkflow

WORKFLOWS = [
    LoanWorkflow,
    ReconcileTransfersWorkflow,
    RefundWorkflow,
    PortfolioSnapshotWorkflow,
    ReminderDispatchWorkflow,
    InactivityAlertsWorkflow,
    KycExpiryWorkflow,
    BureauRefreshWorkflow,
    BureauFilesWorkflow,
    InvoiceFinancingWorkflow,
    PartnerDisbursalWatchWorkflow,
    CoLendingRetryWorkflow,
    AadhaarVaultSweepWorkflow,
    ReceiptSweepWorkflow,
    PaymentRedeliveryWorkflow,
    ReportEmailWorkflow,
]

# The loan workflow's phase modules, imported once per process instead of once per workflow instance. The
# sandbox re-imports every module a workflow imports that is not passed through, for each new run and after
# each cache eviction: with no bytecode cache (PYTHONDONTWRITEBYTECODE) that meant compiling ~2,000 lines
# each time, 13 % of the worker's CPU under the lifecycle benchmark. They hold classes and constants only (no
# module state). The tests run the workflow under the default sandbox (tests/workflows, tests/integration,
# the replay suite), so its determinism checks still read every line of these modules.
PHASE_MODULES = (
    "workflows.base",
    "workflows.options",
    "workflows.kyc",
    "workflows.kyc_aadhaar",
    "workflows.kyc_progress",
    "workflows.review",
    "workflows.hold",
    "workflows.agreement",
    "workflows.disbursal",
    "workflows.servicing",
    "workflows.receipts",
    "workflows.collections_base",
    "workflows.settlement",
    "workflows.restructure",
    "workflows.collections",
    "workflows.colending",
)


def workflow_runner(sandboxed: bool = True) -> WorkflowRunner:
    """The worker's workflow runner. Sandboxed (development, tests): the SDK's default restrictions, with
    :data:`PHASE_MODULES` passed through. Not (``Settings.sandboxed_workflows()``, production by default): the SDK's
    :class:`~temporalio.worker.UnsandboxedWorkflowRunner` ("workflow runner that does not do any sandboxing",
    https://python.temporal.io/temporalio.worker.UnsandboxedWorkflowRunner.html; how and when to skip the sandbox:
    https://docs.temporal.io/develop/python/python-sdk-sandbox). In the sandbox each activation, and each payload's
    serialization context, runs through ``exec`` with the restricted importer applied: about a seventh of the
    worker's CPU on a due-date storm (docs/architecture.md, "Speed"). The workflows keep no module state, and every
    suite runs them sandboxed, so a call that breaks determinism still fails a test before it ships."""
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PHASE_MODULES))


def build_activities(
    settings: Settings, db: Database, http: httpx.AsyncClient, renderer: PdfRenderer
) -> LoanActivities:
    return LoanActivities(db, http, build_storage(settings), renderer, settings.api_url, settings.field_key())


SCHEDULED_JOBS = [
    ScheduledJob(
        RECONCILER_SCHEDULE,
        ReconcileTransfersWorkflow.run,
        every=lambda s: timedelta(seconds=s.reconcile_every_seconds),
        description="transfers left pending are asked of the bank (LOS_RECONCILE_EVERY_SECONDS, 0 = off)",
    ),
    ScheduledJob(
        PORTFOLIO_SCHEDULE,
        PortfolioSnapshotWorkflow.run,
        at_utc=PORTFOLIO_AT_UTC,
        description="the daily portfolio snapshot behind the dashboards, 00:30 IST",
    ),
    ScheduledJob(
        REMINDER_SCHEDULE,
        ReminderDispatchWorkflow.run,
        every=REMINDER_EVERY,
        description="staff reminders whose time has come are sent",
    ),
    ScheduledJob(
        INACTIVITY_ALERTS_SCHEDULE,
        InactivityAlertsWorkflow.run,
        at_utc=INACTIVITY_ALERTS_AT_UTC,
        description="staff not seen for the brand's inactivityDays flagged to its admins, 09:00 IST",
    ),
    ScheduledJob(
        KYC_EXPIRY_SCHEDULE,
        KycExpiryWorkflow.run,
        at_utc=KYC_EXPIRY_AT_UTC,
        description="customers due for periodic KYC updation marked, told and their staff notified, 10:30 IST",
    ),
    ScheduledJob(
        BUREAU_REFRESH_SCHEDULE,
        BureauRefreshWorkflow.run,
        at_utc=BUREAU_REFRESH_AT_UTC,
        description="active loans' bureau reports pulled again after the brand's bureauRefreshDays, 02:00 IST",
    ),
    BUREAU_FILES_JOB,
    ScheduledJob(
        PARTNER_DISBURSAL_SCHEDULE,
        PartnerDisbursalWatchWorkflow.run,
        every=lambda s: timedelta(seconds=s.partner_watch_every_seconds),
        description="partner-booked loans whose partner has not confirmed its disbursal (UTR) within its SLA"
        " (LOS_PARTNER_WATCH_EVERY_SECONDS, 0 = off)",
    ),
    ScheduledJob(
        AADHAAR_VAULT_SWEEP_SCHEDULE,
        AadhaarVaultSweepWorkflow.run,
        every=lambda s: timedelta(seconds=s.aadhaar_vault_sweep_every_seconds),
        description="Aadhaar numbers past their lifetime erased from the vault"
        " (LOS_AADHAAR_VAULT_SWEEP_EVERY_SECONDS, 0 = off)",
    ),
    ScheduledJob(
        RECEIPT_SWEEP_SCHEDULE,
        ReceiptSweepWorkflow.run,
        every=lambda s: timedelta(seconds=s.receipt_sweep_every_seconds),
        description="receipts issued for credited payments no loan workflow issued one for, such as money kept as"
        " a credit balance or a recovery (LOS_RECEIPT_SWEEP_EVERY_SECONDS, 0 = off)",
    ),
    ScheduledJob(
        PAYMENT_REDELIVERY_SCHEDULE,
        PaymentRedeliveryWorkflow.run,
        every=lambda s: timedelta(seconds=s.payment_redelivery_every_seconds),
        description="payment webhooks stored but never delivered to their loan (the gateway's retries exhausted)"
        " delivered again, or kept as credit balance (LOS_PAYMENT_REDELIVERY_EVERY_SECONDS, 0 = off)",
    ),
]
"""Every periodic job the worker registers (see :mod:`los.schedules`)."""


def scheduled_job(schedule_id: str) -> ScheduledJob:
    """The job of :data:`SCHEDULED_JOBS` with this schedule id (``KeyError`` if none)."""
    for job in SCHEDULED_JOBS:
        if job.schedule_id == schedule_id:
            return job
    raise KeyError(schedule_id)


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """The worker's Worker Versioning options: its Worker Deployment version (``LOS_WORKER_DEPLOYMENT_NAME``,
    ``LOS_WORKER_BUILD_ID``) and the versioning behavior of every workflow type that declares none
    (``LOS_WORKER_VERSIONING_BEHAVIOR``, AUTO_UPGRADE by default), or None (unversioned, the default).

    AUTO_UPGRADE because a loan lives for months or years: pinned, every old version would have to keep running until
    its last loan closed. A loan moves to the new version at its next workflow task and replays there, which
    ``workflow.patched`` and the replay suite keep safe (docs/runbook.md, "Deploying a new worker version")."""
    if not settings.worker_deployment_name or not settings.worker_build_id:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.worker_deployment_name, settings.worker_build_id),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior[settings.worker_versioning_behavior],
    )


def workflows_for(settings: Settings) -> list[type]:
    """The workflow classes a worker with these settings registers: :data:`WORKFLOWS` as they are on an unversioned
    worker; under Worker Versioning (:func:`deployment_config` not None) the short workflows (the scheduled jobs and
    the master report's e-mail, each done in one run) as their PINNED variants (``workflows.pinned``: the same
    workflow types), the long ones (the loan, invoice financing, refunds, co-lending retries) as they are, on the
    worker's default behavior.

    On a worker of no deployment a workflow type that declares a behavior never gets past its first workflow task,
    hence the variants only with a deployment (docs/runbook.md, "Deploying a new worker version")."""
    if deployment_config(settings) is None:
        return list(WORKFLOWS)
    return [PINNED_VARIANTS.get(wf, wf) for wf in WORKFLOWS]


async def set_current_version(client: Client, version: WorkerDeploymentVersion, timeout: float = 60.0) -> None:
    """Make ``version`` its Worker Deployment's current version (new workflows start there, AUTO_UPGRADE ones move
    there), as ``temporal worker deployment set-current-version`` does. The server knows a version only once one of
    its workers has polled, so this waits for it, asking every half second, up to ``timeout`` seconds.

    Raises ``TimeoutError`` when the version has not appeared by then, ``RPCError`` when the server refuses."""
    from temporalio.api.workflowservice.v1 import (
        DescribeWorkerDeploymentRequest,
        SetWorkerDeploymentCurrentVersionRequest,
    )

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            described = await client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=version.deployment_name)
            )
            builds = {v.deployment_version.build_id for v in described.worker_deployment_info.version_summaries}
            if version.build_id in builds:
                break
        except RPCError:  # no worker of the deployment has polled yet: it does not exist
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"worker deployment version {version.to_canonical_string()} not seen in {timeout}s")
        await asyncio.sleep(0.5)
    await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace,
            deployment_name=version.deployment_name,
            build_id=version.build_id,
            identity=client.identity,
        )
    )


async def _make_current(client: Client, version: WorkerDeploymentVersion, attempts: int = 5) -> None:
    """Make ``version`` current, trying ``attempts`` times 2 s apart: the server refuses while the version has not
    yet polled every task queue the current one has (the follow-up queue's worker may register a moment after the
    main one)."""
    log = logging.getLogger("los.worker")
    for attempt in range(1, attempts + 1):
        try:
            await set_current_version(client, version)
            log.info("worker deployment version %s is current", version.to_canonical_string())
            return
        except Exception as exc:  # noqa: BLE001 - the worker keeps running; ops can set it by hand
            if attempt == attempts:
                log.warning("could not make %s current: %s", version.to_canonical_string(), exc)
                return
            await asyncio.sleep(2)


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """The worker's capacity options (keyword arguments of ``temporalio.worker.Worker``)."""
    return {
        "max_concurrent_activities": 50,
        # a loan evicted from the sticky cache is replayed from its whole history at its next task (Settings)
        "max_cached_workflows": settings.worker_max_cached_workflows,
        # SIGTERM (a deploy, a scale-down): activities in flight get this long to finish (inside `los up`'s 15 s
        # before SIGKILL) before they are cancelled and retried on another worker
        "graceful_shutdown_timeout": timedelta(seconds=10),
        # no payload is stored externally (the data converter has none): the SDK's external-storage passes over each
        # activation and completion then visit its payloads in order instead of starting an asyncio task per payload
        # (its default, 3, does; bench/payload_passes.py)
        "max_workflow_task_external_storage_concurrency": 1,
    }


async def run_until(workers: list[Worker], stop: asyncio.Event | None) -> None:
    """Run ``workers`` until ``stop`` is set (None: until one of them ends), then shut the others down. A worker
    that fails (e.g. a fatal poll error) stops the rest and its error is raised."""
    runs = [asyncio.create_task(w.run()) for w in workers]
    stopped = asyncio.create_task(stop.wait()) if stop is not None else None
    try:
        await asyncio.wait([*runs, *([stopped] if stopped else [])], return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when the caller is cancelled: the workers shut down gracefully, never left running unowned
        if stopped is not None:
            stopped.cancel()
        still = [w.shutdown() for w, run in zip(workers, runs, strict=True) if not run.done()]
        ended = await asyncio.shield(asyncio.gather(*still, *runs, return_exceptions=True))
    errors = [e for e in ended if isinstance(e, BaseException)]
    if errors:
        raise errors[0]


async def run_worker(settings: Settings, client: Client | None = None, stop: asyncio.Event | None = None) -> None:
    # Activities run their (synchronous) database work on the loop's default executor; its default size
    # (CPUs + 4) would queue them behind each other under load.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="db"))
    client = client or await connect(settings, runtime=worker_runtime(settings))
    metrics_port = instrument_worker(settings)
    try:
        await register_search_attributes(client, settings.temporal_namespace)
    except Exception as exc:  # noqa: BLE001 - e.g. Temporal Cloud, where ops register them
        logging.getLogger("los.worker").warning("search attributes not registered: %s", exc)
    await ensure_schedules(client, settings, SCHEDULED_JOBS)
    db = server_database(settings.sqlalchemy_url)
    renderer = PdfRenderer(settings.chromium_path)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(outbound_client(settings, timeout=20.0))
        stack.push_async_callback(renderer.close)
        activities = build_activities(settings, db, http, renderer)
        kyc = KycActivities(
            db,
            http,
            build_storage(settings),
            settings.api_url,
            settings.field_key(),
        )
        refunds = RefundActivities(db, http, build_storage(settings), renderer, settings.api_url, settings.field_key())
        gauge = LoanWorkGauge(credits=settings.followup_storm_credits)
        every_activity = (
            activities.all()
            + kyc.all()
            + MessagingActivities(db, http).all()
            + refunds.all()
            + ReportEmailActivities(db, http, build_storage(settings)).all()
            + PortfolioActivities(db).all()
            + ReminderActivities(db, http, settings.api_url).all()
            + OpsJobActivities(db, http, settings.api_url).all()
            + BureauFileActivities(db).all()
            + AadhaarVaultActivities(db).all()
            + PartnerActivities(db, http).all()
            + CoLendingActivities(db, http, build_storage(settings), settings.api_url).all()
            + SmeActivities(db, http, settings.api_url, settings.field_key()).all()
        )
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=workflows_for(settings),
            workflow_runner=workflow_runner(settings.sandboxed_workflows()),
            activities=every_activity,
            **worker_tuning(settings),
            interceptors=[
                LogContextInterceptor(),
                *chaos_interceptors(),  # chaos: only with LOS_CHAOS_KILL_AT
                *([LoanWorkGaugeInterceptor(gauge)] if settings.followup_task_queue else []),
            ],
            deployment_config=(versioned := deployment_config(settings)),  # Worker Versioning: only when configured
        )
        workers = [worker]
        if settings.followup_task_queue:  # its slots beyond the first yield to the loans' worker (los.followup_worker)
            workers.append(followup_worker(client, settings, every_activity, versioned, gauge))
        making_current = None
        if versioned is not None:
            logging.getLogger("los.worker").info(
                "worker deployment version %s (default behavior %s; scheduled jobs PINNED)",
                versioned.version.to_canonical_string(),
                settings.worker_versioning_behavior,
            )
            if settings.worker_make_current:
                making_current = asyncio.create_task(_make_current(client, versioned.version))
        logging.getLogger("los.worker").info("worker polling task queue %r", settings.task_queue)
        if metrics_port:
            logging.getLogger("los.worker").info(
                "metrics: Temporal SDK on :%s, business counters on :%s", settings.worker_metrics_port, metrics_port
            )
        if settings.followup_task_queue:
            logging.getLogger("los.worker").info(
                "and the follow-up task queue %r, at most %s activities at once",
                settings.followup_task_queue,
                settings.followup_max_concurrent,
            )
        await run_until(workers, stop)
        if making_current is not None:
            making_current.cancel()
    db.dispose()


def main() -> None:
    configure_logging(get_settings())
    stop = asyncio.Event()

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(get_settings(), stop=stop)

    if get_settings().worker_event_loop == "uvloop" and importlib.util.find_spec("uvloop") is not None:
        import uvloop  # not on Windows: the standard loop there

        uvloop.run(runner())
    else:
        asyncio.run(runner())


if __name__ == "__main__":
    main()
