"""The Aadhaar Data Vault's sweep: a Temporal Schedule (``aadhaar-vault-sweep``, created when the worker starts, in
the UI's Schedules page, pausable there) runs this workflow every ``LOS_AADHAAR_VAULT_SWEEP_EVERY_SECONDS`` (an hour
by default; 0 switches it off), overlapping runs skipped.

One activity erases every Aadhaar number past its lifetime (``activities.aadhaar_vault``), so a number whose OTP
request never reached the vendor leaves the vault within a run's interval of expiring even when no one deposits
another (a deposit sweeps the vault too). UIDAI's Aadhaar Data Vault rules and the lifetime: docs/security.md,
"Aadhaar as UIDAI permits"; the schedule: docs/operations.md, "Scheduled jobs".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.aadhaar_vault import AadhaarVaultActivities
    from workflows.options import DB_TIMEOUT

SCHEDULE_ID = "aadhaar-vault-sweep"
# a few tries, then the run ends: the next run sweeps again (a run retrying forever would hold back the schedule,
# whose overlapping runs are skipped)
SWEEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3
)


@workflow.defn
class AadhaarVaultSweepWorkflow:
    """One sweep; answers how many numbers it erased (``{"erased": n}``)."""

    @workflow.run
    async def run(self) -> dict:
        erased: int = await workflow.execute_activity_method(
            AadhaarVaultActivities.sweep_aadhaar_vault,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=SWEEP_RETRY,
            summary="Aadhaar numbers past their lifetime erased",
        )
        return {"erased": erased}
