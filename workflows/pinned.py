"""PINNED variants of the short workflows, registered only by a worker that runs under Worker Versioning.

A short workflow (the scheduled jobs: the reconciler, the reminders' dispatch, the snapshots, the sweeps, the
watches) finishes within one run of seconds to minutes. Pinned, a run finishes on the worker version it started on:
a release's change to it needs no ``workflow.patched`` as long as every deployment runs versioned (no run ever
meets code it did not start on; unversioned, they are patched like the loan), and the old version drains within
minutes. The loan's workflow stays AUTO_UPGRADE (it lives for years; docs/runbook.md,
"Deploying a new worker version").

The behavior cannot simply be declared on the workflows themselves: on a worker that belongs to no Worker
Deployment, a workflow type that declares a behavior never gets past its first workflow task. Temporal's Python SDK
takes the behavior per workflow type from ``@workflow.defn(versioning_behavior=...)`` (a
``@workflow.dynamic_config`` can choose it only for the dynamic workflow), and the worker's
``WorkerDeploymentConfig.default_versioning_behavior`` applies to every type that declares none. So each variant
here is the same workflow type (same name, same ``run``, same commands) declared PINNED, and ``worker.workflows_for``
registers the variants in place of the plain classes only when ``worker.deployment_config`` gives a deployment;
an unversioned worker registers the plain classes and runs exactly as before.

Each variant is a module-level class (the workflow sandbox imports a workflow class by its module and name).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import VersioningBehavior

from workflows.aadhaar_vault_sweep import AadhaarVaultSweepWorkflow
from workflows.bureau_files import BureauFilesWorkflow
from workflows.bureau_refresh import BureauRefreshWorkflow
from workflows.inactivity_alerts import InactivityAlertsWorkflow
from workflows.kyc_expiry import KycExpiryWorkflow
from workflows.partner_disbursal_watch import PartnerDisbursalWatchWorkflow
from workflows.payment_redelivery import PaymentRedeliveryWorkflow
from workflows.portfolio_snapshot import PortfolioSnapshotWorkflow
from workflows.receipt_sweep import ReceiptSweepWorkflow
from workflows.reconciler import ReconcileTransfersWorkflow
from workflows.reminder_dispatch import ReminderDispatchWorkflow
from workflows.report_email import ReportEmailInput, ReportEmailWorkflow

PINNED = VersioningBehavior.PINNED


@workflow.defn(name="ReconcileTransfersWorkflow", versioning_behavior=PINNED)
class PinnedReconcileTransfersWorkflow(ReconcileTransfersWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="PortfolioSnapshotWorkflow", versioning_behavior=PINNED)
class PinnedPortfolioSnapshotWorkflow(PortfolioSnapshotWorkflow):
    @workflow.run
    async def run(self, as_of: str | None = None) -> dict:
        return await super().run(as_of)


@workflow.defn(name="ReminderDispatchWorkflow", versioning_behavior=PINNED)
class PinnedReminderDispatchWorkflow(ReminderDispatchWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="InactivityAlertsWorkflow", versioning_behavior=PINNED)
class PinnedInactivityAlertsWorkflow(InactivityAlertsWorkflow):
    @workflow.run
    async def run(self, brand_id: str | None = None) -> dict:
        return await super().run(brand_id)


@workflow.defn(name="KycExpiryWorkflow", versioning_behavior=PINNED)
class PinnedKycExpiryWorkflow(KycExpiryWorkflow):
    @workflow.run
    async def run(self, brand_id: str | None = None) -> dict:
        return await super().run(brand_id)


@workflow.defn(name="BureauRefreshWorkflow", versioning_behavior=PINNED)
class PinnedBureauRefreshWorkflow(BureauRefreshWorkflow):
    @workflow.run
    async def run(self, brand_id: str | None = None) -> dict:
        return await super().run(brand_id)


@workflow.defn(name="BureauFilesWorkflow", versioning_behavior=PINNED)
class PinnedBureauFilesWorkflow(BureauFilesWorkflow):
    @workflow.run
    async def run(self, as_of: str | None = None) -> dict:
        return await super().run(as_of)


@workflow.defn(name="PartnerDisbursalWatchWorkflow", versioning_behavior=PINNED)
class PinnedPartnerDisbursalWatchWorkflow(PartnerDisbursalWatchWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="AadhaarVaultSweepWorkflow", versioning_behavior=PINNED)
class PinnedAadhaarVaultSweepWorkflow(AadhaarVaultSweepWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="ReceiptSweepWorkflow", versioning_behavior=PINNED)
class PinnedReceiptSweepWorkflow(ReceiptSweepWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="PaymentRedeliveryWorkflow", versioning_behavior=PINNED)
class PinnedPaymentRedeliveryWorkflow(PaymentRedeliveryWorkflow):
    @workflow.run
    async def run(self) -> dict:
        return await super().run()


@workflow.defn(name="ReportEmailWorkflow", versioning_behavior=PINNED)
class PinnedReportEmailWorkflow(ReportEmailWorkflow):
    """Started by staff, not a schedule, but as short: the master report built, presigned and e-mailed in one run."""

    @workflow.run
    async def run(self, job: ReportEmailInput) -> dict:
        return await super().run(job)


PINNED_VARIANTS: dict[type, type] = {
    ReconcileTransfersWorkflow: PinnedReconcileTransfersWorkflow,
    PortfolioSnapshotWorkflow: PinnedPortfolioSnapshotWorkflow,
    ReminderDispatchWorkflow: PinnedReminderDispatchWorkflow,
    InactivityAlertsWorkflow: PinnedInactivityAlertsWorkflow,
    KycExpiryWorkflow: PinnedKycExpiryWorkflow,
    BureauRefreshWorkflow: PinnedBureauRefreshWorkflow,
    BureauFilesWorkflow: PinnedBureauFilesWorkflow,
    PartnerDisbursalWatchWorkflow: PinnedPartnerDisbursalWatchWorkflow,
    AadhaarVaultSweepWorkflow: PinnedAadhaarVaultSweepWorkflow,
    ReceiptSweepWorkflow: PinnedReceiptSweepWorkflow,
    PaymentRedeliveryWorkflow: PinnedPaymentRedeliveryWorkflow,
    ReportEmailWorkflow: PinnedReportEmailWorkflow,
}
"""Each short workflow → its PINNED variant (the same workflow type)."""
