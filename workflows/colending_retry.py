"""Ops running a co-lent loan's partner lifecycle again (``POST .../co-lending/loans/{loanId}/partner-steps/retry``,
docs/co-lending.md, "Ops: running a partner's step again"): one short workflow per retry, on the id
``colending-retry-<loanId>``.

It runs the partner's steps (``activities.colending.STEPS``) in order through the same activity the loan's
workflow runs (``colending_partner_step``): a step already DONE answers DONE from the database and is never sent
again, so the first step actually sent is the first one not DONE. It stops at the first step that does not end
DONE (FAILED with the partner's reason, SKIPPED) or whose partner did not answer past the retries (UNAVAILABLE,
nothing written for it), and answers the per-step results.

Why a workflow and not a call from the API: the API never runs activities (docs/architecture.md, "Layers"); the
workflow id makes a second retry of the same loan while one runs a refusal the API can answer with 409 (its start
uses the id-conflict policy FAIL), and the run is visible in the Temporal UI beside the loan's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.contracts.colending  # noqa: F401  (registered in the sandbox by name: the step's types)
    from activities.colending import STEPS, CoLendingActivities
    from workflows.contracts.colending import CoLendStepRequest, CoLendStepResult
    from workflows.options import PROVIDER_TIMEOUT

ID_PREFIX = "colending-retry-"
DONE, UNAVAILABLE = "DONE", "UNAVAILABLE"
# Ops are waiting for the answer: a partner that does not answer is reported UNAVAILABLE after a few seconds (ops
# try again later) rather than after the loan workflow's PROVIDER_RETRY backoff of about two minutes.
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=["BusinessRefusal"],
)


def retry_workflow_id(loan_id: str) -> str:
    """The retry workflow's id for loan ``loan_id`` (one retry of a loan at a time)."""
    return f"{ID_PREFIX}{loan_id}"


@dataclass
class CoLendRetryInput:
    """Which co-lent loan's partner steps to run again, and its brand."""

    loan_id: str
    brand_id: str


@dataclass
class CoLendRetryState:
    """Where the retry stands: one result per step run so far, in order (``step``, ``status`` DONE / FAILED /
    SKIPPED / UNAVAILABLE, the partner's ``reference`` or ``reason``), and whether the run has finished.
    ``complete``: every step of the partner's lifecycle is DONE."""

    steps: list[CoLendStepResult] = field(default_factory=list)
    finished: bool = False

    @property
    def complete(self) -> bool:
        return len(self.steps) == len(STEPS) and all(s.status == DONE for s in self.steps)


@workflow.defn
class CoLendingRetryWorkflow:
    """Run the partner's steps of one co-lent loan from its first not DONE; answers the per-step results
    (:class:`CoLendRetryState`). Never fails for a partner's refusal or outage: they are results."""

    def __init__(self) -> None:
        self.state = CoLendRetryState()

    @workflow.run
    async def run(self, inp: CoLendRetryInput) -> CoLendRetryState:
        for step in STEPS:
            try:
                result: CoLendStepResult = await workflow.execute_activity_method(
                    CoLendingActivities.colending_partner_step,
                    CoLendStepRequest(inp.loan_id, inp.brand_id, step, f"retry:{step}"),
                    start_to_close_timeout=PROVIDER_TIMEOUT,
                    retry_policy=STEP_RETRY,
                    summary=f"Partner step {step.lower()} (ops retry)",
                )
            except ActivityError as err:  # the partner did not answer: nothing written for the step
                cause = err.cause or err
                reason = (getattr(cause, "message", None) or str(cause))[:300]
                self.state.steps.append(CoLendStepResult(step, UNAVAILABLE, None, reason))
                break
            self.state.steps.append(result)
            if result.status != DONE:
                break
        self.state.finished = True
        return self.state

    @workflow.query
    def progress(self) -> CoLendRetryState:
        """The steps run so far (a retry still running shows where it is)."""
        return self.state
