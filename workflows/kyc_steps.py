"""The KYC phase's steps (see ``workflows.kyc``, which runs them and then the credit decision): the brand's steps in
groups, an activity each, a step that needs the customer waiting for their input, and what is started ahead of its
turn (the next group's activity-task steps with the verified Aadhaar OTP's handoff, a statement read on its upload)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.kyc import KycActivities
    from domain.outcomes import KycStepStatus
    from workflows.contracts import KycInput, KycStepRequest, KycStepResult
    from workflows.heartbeats import KYC_HEARTBEAT
    from workflows.options import (
        AADHAAR_ANSWER_FIRST_PATCH,
        AADHAAR_ANSWER_GAP,
        AADHAAR_HANDOFF_PATCH,
        AADHAAR_HANDOFF_TIMEOUT,
        KYC_TIMEOUT,
        PROVIDER_RETRY,
    )

from workflows.hold import _cancelled
from workflows.kyc_aadhaar import AadhaarPhase
from workflows.patches import patched

SEQUENTIAL_KYC = frozenset({"PAN", "AADHAAR"})
# The steps whose first attempt reads what the customer gave for them and nothing an earlier step found: started as soon
# as that input comes while the Aadhaar OTP is awaited (KYC_READ_ON_UPLOAD_PATCH). A statement's analysis needs only
# the upload; the lookups match the customer's address, which the verified OTP fills, so they wait for it.
READ_ON_UPLOAD = frozenset({"BANK_STATEMENT"})
# The steps that are lookups a vendor answers in seconds: local activities under KYC_LOCAL_PATCH (with the bureau pull).
# The steps that move documents (a bank statement read, DigiLocker's) stay activity tasks with their heartbeat timeout.
LOCAL_KYC_STEPS = frozenset({"PAN", "MOBILE", "CKYC", "BANK_ACCOUNT", "EMPLOYMENT"})

# The brand's KYC step (brand config ``kyc_steps``) → its activity and the summary the Temporal UI shows.
# Aadhaar runs through the aadhaar_initiate / aadhaar_submit updates; a step not here (SELFIE) is not automated.
KYC_STEP_ACTIVITIES: dict[str, tuple[Callable[..., Any], str]] = {
    "PAN": (KycActivities.kyc_pan, "KYC: PAN"),
    "MOBILE": (KycActivities.kyc_mobile, "KYC: mobile"),
    "CKYC": (KycActivities.kyc_ckyc, "KYC: CKYC"),
    "BANK_ACCOUNT": (KycActivities.kyc_penny_drop, "KYC: penny drop"),
    "EMPLOYMENT": (KycActivities.kyc_employment, "KYC: employment (EPFO)"),
    "BANK_STATEMENT": (KycActivities.kyc_bank_statement, "KYC: bank statement"),
    "DIGILOCKER": (KycActivities.kyc_digilocker, "KYC: DigiLocker"),
}


def kyc_group(steps: list[str], i: int) -> list[str]:
    """The steps from ``steps[i]`` that start together: PAN (its name feeds later checks) and Aadhaar (customer OTP)
    run alone; a run of the other, automated steps is started together, and any that needs the customer's input
    waits after. ``[]`` past the end."""
    if i >= len(steps):
        return []
    group = [steps[i]]
    if steps[i] not in SEQUENTIAL_KYC:
        while i + len(group) < len(steps) and steps[i + len(group)] not in SEQUENTIAL_KYC:
            group.append(steps[i + len(group)])
    return group


class KycStepsPhase(AadhaarPhase):
    """The KYC steps: run in their groups, each an activity (a lookup local), waiting for the customer where a step
    needs them, up to the brand's KYC timeout."""

    # Set once per run in _kyc_and_decide: one activity per step and the decision in three
    # (KYC_PER_STEP_PATCH), or, replaying a loan started before it, kyc_step and decide_credit.
    kyc_per_step: bool = False
    # Set with it: the KYC lookups (LOCAL_KYC_STEPS) and the bureau pull as local activities (KYC_LOCAL_PATCH).
    kyc_local: bool = False
    # Set there too: a READ_ON_UPLOAD step read on the customer's input while the OTP is awaited, and every step's
    # attempts numbered by the run (``kyc_attempts``, set in LoanWorkflow.__init__) (KYC_READ_ON_UPLOAD_PATCH).
    kyc_read_on_upload: bool = False
    kyc_attempts: dict[str, int]

    async def _kyc_steps(self, key: str, steps: list[str]) -> list[KycStepResult] | None:
        """Run ``steps`` group by group (``kyc_group``); the results, all passed, or None when one failed or timed out
        (reason in self.rejection). Under KYC_INPUTS_AHEAD_PATCH the next group's activity-task steps start with the
        verified Aadhaar OTP's handoff; under KYC_READ_ON_UPLOAD_PATCH (``kyc_read_on_upload``) a READ_ON_UPLOAD step
        among them is read as soon as the customer gives its input while the OTP is awaited (or at once, when it came
        before), again on each newer input meanwhile, without holding the loan (a read that failed runs again in its
        turn, where a hold is awaited); under it, a read started ahead that the KYC phase does not reach (a step before
        it failed or timed out, or the run ends) is cancelled, not left running under a rejected loan."""
        passed: list[KycStepResult] = []
        # first attempts started ahead of their group (KYC_INPUTS_AHEAD_PATCH), by step
        ahead: dict[str, asyncio.Task[Any]] = {}  # a read on input: KycStepResult | None (_read_ahead)
        watchers: list[asyncio.Task[None]] = []  # waiting for a READ_ON_UPLOAD step's input, while the OTP is awaited

        def stop_watching() -> None:
            for watcher in watchers:
                watcher.cancel()  # one resumed but not yet run is cancelled too: it starts nothing
            watchers.clear()

        try:
            i = 0
            while i < len(steps):
                group = kyc_group(steps, i)
                following = kyc_group(steps, i + len(group))

                def start_ahead(following: list[str] = following) -> None:
                    # the next steps that run as activity tasks start now, in the handoff's workflow task (those not
                    # started on their input already): a statement the customer gave ahead is read while the lookups
                    # (local activities, started after it) run
                    stop_watching()
                    for step in following:
                        if self._kyc_runs_as_task(step) and step not in ahead:
                            ahead[step] = asyncio.create_task(self._kyc_activity(key, step, 1))

                firsts: list[KycStepResult | None] = [None] * len(group)
                if len(group) > 1 or group[0] in ahead:
                    self.kyc_step = ",".join(group)
                    attempts = (
                        self._started_ahead(key, step, ahead.pop(step))
                        if step in ahead
                        else self._kyc_activity(key, step, 1)
                        for step in group
                    )
                    firsts = await self._gather_attempts(list(attempts))
                for step, first in zip(group, firsts, strict=True):
                    self.kyc_step = step
                    handoff = start_ahead if self.kyc_inputs_ahead and step == "AADHAAR" else None
                    if handoff is not None and self.kyc_read_on_upload:
                        watchers.extend(
                            asyncio.create_task(self._read_on_input(key, later, ahead))
                            for later in following
                            if later in READ_ON_UPLOAD and self._kyc_runs_as_task(later)
                        )
                    try:
                        result = await self._kyc_step(key, step, first, before_handoff=handoff)
                    finally:
                        stop_watching()
                    self.facts.update({f"kyc.{k}": v for k, v in result.facts.items()})
                    if result.status == KycStepStatus.FAILED:
                        self.rejection = f"KYC_{step}: {result.reason}"
                        return None
                    if result.status == KycStepStatus.TIMED_OUT:
                        self.rejection = f"KYC_{step}: customer did not complete it in time"
                        return None
                    passed.append(result)
                i += len(group)
            self.kyc_step = None
            return passed
        finally:
            # left only where a step failed or timed out, or the run ends: every other one was awaited
            if self.kyc_read_on_upload:
                for task in ahead.values():
                    task.cancel()

    async def _gather_attempts(self, attempts: list[Awaitable[KycStepResult]]) -> list[KycStepResult | None]:
        """The group's first attempts, awaited together. Under KYC_READ_ON_UPLOAD_PATCH, when one fails (ops rejected
        a hold: ``LoanStopped``; the run cancelled) the others are cancelled too, a statement read started on its
        upload among them, rather than left running under a loan that ends."""
        if not self.kyc_read_on_upload:
            return list(await asyncio.gather(*attempts))
        running = [asyncio.ensure_future(attempt) for attempt in attempts]
        try:
            return list(await asyncio.gather(*running))
        except BaseException:
            for task in running:
                task.cancel()
            raise

    async def _read_on_input(self, key: str, step: str, ahead: dict[str, asyncio.Task[KycStepResult | None]]) -> None:
        """Read ``step`` (a statement) into ``ahead`` once the customer has given an input for it, and again on each
        newer one (a statement uploaded again replaces the one read: a read still running is cancelled). Each read is
        an attempt of its own (its key numbered on from the last, ``kyc_attempts``). Cancelled when the Aadhaar step
        it runs beside is over (``start_ahead`` then starts a read only where none was)."""
        read_with = [0]  # the inputs the last read started with
        while True:
            await workflow.wait_condition(lambda: self._inputs_for(step) > read_with[0])
            read_with[0] = self._inputs_for(step)
            previous = ahead.get(step)
            if previous is not None and not previous.done():
                previous.cancel()
            ahead[step] = asyncio.create_task(self._read_ahead(key, step))

    async def _read_ahead(self, key: str, step: str) -> KycStepResult | None:
        """One attempt of ``step`` started ahead of its turn, without the hold: a failure (a vendor's refusal, its
        retries spent) is None here, and the attempt runs again in its turn, where the loan may be held and ops'
        decision is awaited (a hold taken here, while the Aadhaar OTP is awaited, would park the loan with no one
        waiting for the decision)."""
        try:
            return await self._kyc_activity(key, step, 0, hold=False)
        except FailureError as err:
            if _cancelled(err):  # the read was cancelled (the workflow's cancellation, a newer read): not a failure
                raise
            return None

    def _started_ahead(self, key: str, step: str, task: asyncio.Task[Any]) -> Awaitable[KycStepResult]:
        """What the group awaits of ``step``'s attempt started ahead: the task itself (a first attempt started with
        the OTP's handoff, KYC_INPUTS_AHEAD_PATCH), or under KYC_READ_ON_UPLOAD_PATCH :meth:`_read_ahead_result`."""
        return self._read_ahead_result(key, step, task) if self.kyc_read_on_upload else task

    async def _read_ahead_result(self, key: str, step: str, task: asyncio.Task[KycStepResult | None]) -> KycStepResult:
        """The result of ``step``'s read started ahead; its attempt again, in its turn, where that read failed or a
        newer input came after it started (the customer uploaded again)."""
        result = await task
        if result is None or self._inputs_for(step) > self.kyc_attempted_at.get(step, 0):
            return await self._kyc_activity(key, step, 0)
        return result

    async def _kyc_activity(self, key: str, step: str, attempt: int, hold: bool = True) -> KycStepResult:
        """One attempt of ``step`` (its key ``...:kyc:<step>:<attempt>``; under KYC_READ_ON_UPLOAD_PATCH numbered by
        the run, ``kyc_attempts``, whoever starts it), through the hold unless ``hold`` is False."""
        if self.kyc_read_on_upload:
            attempt = self.kyc_attempts[step] = self.kyc_attempts.get(step, 0) + 1
        # the inputs this attempt can see: one arriving after this point wakes the step if the attempt answers WAITING
        self.kyc_attempted_at[step] = self._inputs_for(step)
        req = KycStepRequest(
            self.inp.loan_id,
            self.inp.brand_id,
            step,
            f"{key}:kyc:{step.lower()}:{attempt}",
            ref_id=self.kyc_inputs.get(step),
        )
        if not self.kyc_per_step:  # a loan started before KYC_PER_STEP_PATCH
            return await workflow.execute_activity_method(
                KycActivities.kyc_step,
                req,
                start_to_close_timeout=KYC_TIMEOUT,
                heartbeat_timeout=KYC_HEARTBEAT,
                retry_policy=PROVIDER_RETRY,
                summary=f"KYC: {step.replace('_', ' ').lower()}",
            )
        if step not in KYC_STEP_ACTIVITIES:
            return KycStepResult(step, KycStepStatus.SKIPPED, f"step {step} is not automated")
        method, summary = KYC_STEP_ACTIVITIES[step]

        def call() -> Awaitable[Any]:
            shown = summary if attempt == 1 else f"{summary} (attempt {attempt})"
            return self._provider_call(method, req, shown, step in LOCAL_KYC_STEPS)

        return await (self._or_hold(f"KYC {step}", call) if hold else call())

    def _provider_call(self, method: Callable[..., Any], req: Any, summary: str, local: bool) -> Awaitable[Any]:
        """``method(req)``, a KYC step or the bureau pull, with KYC_TIMEOUT and PROVIDER_RETRY: a local activity when
        ``local`` (a lookup: ``LOCAL_KYC_STEPS``, the bureau pull) under KYC_LOCAL_PATCH (``kyc_local``), else an
        activity task with the KYC heartbeat timeout, as runs before it recorded. Returns what the activity returns;
        once its retries are spent raises its failure: an ``ActivityError``, or for a local activity the bare
        ``ApplicationError`` (a vendor's refusal: type ``BusinessRefusal``), which ``_or_hold`` reads alike."""
        return self._vendor_call(method, req, summary, local and self.kyc_local, KYC_TIMEOUT, PROVIDER_RETRY)

    def _kyc_runs_as_task(self, step: str) -> bool:
        """Whether ``step``'s attempts are activity tasks of their own (a statement read, DigiLocker), not local."""
        return self.kyc_per_step and step in KYC_STEP_ACTIVITIES and not (self.kyc_local and step in LOCAL_KYC_STEPS)

    async def _kyc_step(
        self,
        key: str,
        step: str,
        first: KycStepResult | None = None,
        before_handoff: Callable[[], None] | None = None,
    ) -> KycStepResult:
        """Run one step (``first``: its first attempt, already run); a step that needs the customer
        (Aadhaar OTP, a bank account, a statement...) waits for their input, up to the brand's KYC timeout.
        ``before_handoff``: called where a verified Aadhaar OTP's handoff activity is about to be scheduled."""
        inp = self.inp
        attempt = 0
        while True:
            attempt += 1
            if step == "AADHAAR":
                result = KycStepResult(step, KycStepStatus.WAITING, "waiting for the Aadhaar OTP")
            elif attempt == 1 and first is not None:
                result = first
            else:
                result = await self._kyc_activity(key, step, attempt)
            if result.status != KycStepStatus.WAITING:
                self.kyc_results[step] = result.status
                self.kyc_notes.pop(step, None)
                return result
            self.kyc_notes[step] = result.reason or ""
            if result.reference:
                self.kyc_links[step] = result.reference
            self.kyc_waiting = step
            # the inputs already seen: those before the attempt that answered WAITING started (an input that came while
            # it ran, e.g. a statement uploaded after it looked, wakes the step at once); before
            # KYC_INPUTS_AHEAD_PATCH, those before its answer was read. The Aadhaar step waits for its updates.
            since_attempt = self.kyc_inputs_ahead and step in self.kyc_attempted_at
            self.kyc_seen = self.kyc_attempted_at[step] if since_attempt else self._inputs_for(step)
            # whether the wait below waits: an OTP verified before the step came to wait for it (while an earlier
            # step was still running) completes it at once, in the task of that step's result
            blocked = self.kyc_results.get(step) != KycStepStatus.PASSED
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._inputs_for(step) > self.kyc_seen or self.kyc_results.get(step) == KycStepStatus.PASSED
                    ),
                    timeout=timedelta(seconds=inp.policy.kyc_timeout_seconds),
                    timeout_summary=f"KYC {step.lower()} timeout",
                )
            except asyncio.TimeoutError:
                return KycStepResult(step, KycStepStatus.TIMED_OUT, "customer input not received")
            finally:
                self.kyc_waiting = None
            if self.kyc_results.get(step) == KycStepStatus.PASSED:  # completed by an update (Aadhaar OTP)
                # the update's answer leaves before the next steps run; asked only where the wait waited, so in the
                # task of the OTP's own result, and only where that result was an activity task's (never after a local
                # activity's): under AADHAAR_LOCAL_PATCH the handoff is on without being asked
                if blocked and (self.aadhaar_local or patched(AADHAAR_HANDOFF_PATCH)):
                    if before_handoff is not None:
                        before_handoff()
                    await workflow.execute_activity_method(
                        KycActivities.aadhaar_answered,
                        self.inp.loan_id,
                        start_to_close_timeout=AADHAAR_HANDOFF_TIMEOUT,
                        summary="Aadhaar OTP answered; the next KYC steps follow",
                    )
                elif blocked and patched(AADHAAR_ANSWER_FIRST_PATCH):  # runs recorded before v2: a timer
                    await workflow.sleep(AADHAAR_ANSWER_GAP, summary="Aadhaar OTP answered; the next KYC steps follow")
                return KycStepResult(step, KycStepStatus.PASSED, facts=self.aadhaar_facts)

    @workflow.signal(
        description="The customer gave what a waiting KYC step needs (a bank account, employment, statement, "
        "DigiLocker code) or the AA webhook came: the step runs again (KycInput: step and record id)."
    )
    def kyc_input(self, event: KycInput) -> None:
        self.kyc_inputs[event.step] = event.ref_id
        self.kyc_step_inputs[event.step] = self.kyc_step_inputs.get(event.step, 0) + 1

    def _inputs_for(self, step: str) -> int:
        """The customer's inputs a wait of ``step`` counts: its own (KYC_INPUTS_AHEAD_PATCH: a statement uploaded ahead
        does not wake the Aadhaar step's wait, nor run a waiting penny drop again); before it, every step's."""
        return self.kyc_step_inputs.get(step, 0) if self.kyc_inputs_ahead else self.kyc_input_count
