"""What the borrower's app reads of the KYC phase: the ``kyc_status`` query, and ``kyc_progress_changed``, the
long poll an app waits on for the next thing it must do (see ``workflows.kyc``).

The KYC progress lives in the workflow (the step running, the step waiting for the customer, the results so far),
not in the database, so the database's change notifications that wake a loan read waiting with ``Prefer: wait``
(``api.loan_changes``) cannot tell an app that the workflow now waits for its Aadhaar OTP or its bank statement. An app
used to read the progress again and again (a query each time); with ``kyc_progress_changed`` the API holds the read
until the workflow's own progress changes, and the app acts the moment it is asked to.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.status import LoanStatus
    from workflows.contracts import KycProgressSeen

from workflows.base import _refuse
from workflows.hold import HoldPhase


class KycProgressPhase(HoldPhase):
    """The KYC phase as the app sees it: a query, and an update that answers when it changes."""

    @workflow.query(
        description="The KYC phase: the brand's steps, the current one, what it waits for, results, links, notes."
    )
    def kyc_status(self) -> dict:
        """Where the KYC phase is: the current step, what it waits for from the customer, results so far."""
        return {
            "steps": list(self.inp.policy.kyc_steps),
            "current": self.kyc_step,
            "waitingFor": self.kyc_waiting,
            "results": dict(self.kyc_results),
            "aadhaarOtpSent": self.aadhaar_reference is not None,
            "links": dict(self.kyc_links),
            "notes": dict(self.kyc_notes),
            # what the customer gave the steps so far: a step that waits again after an input (the same note) is a
            # new progress, so a long poll on it never shares the finished update of the wait before
            "inputsReceived": self.kyc_input_count,
        }

    @workflow.update(
        description="A long poll of the KYC phase: answers the progress (as kyc_status) once it differs from `seen`, "
        "the progress the caller holds, or the loan has left APPLIED; refused (Conflict) when that is already so. "
        "Reads only: it changes nothing."
    )
    async def kyc_progress_changed(self, seen: KycProgressSeen) -> dict:
        """``seen.progress``: a ``kyc_status`` answer as the caller holds it (JSON-decoded). Waits in the workflow (no
        timer: the caller bounds its own wait) until the progress differs or the loan is no longer APPLIED (the
        phase is over), then answers ``kyc_status``. Callers give each ``seen`` one update id
        (``api.kyc_waits``), so every reader of the same progress shares one waiting update."""
        await workflow.wait_condition(lambda: self._kyc_progress_moved(seen))
        return self.kyc_status()

    @kyc_progress_changed.validator
    def _validate_kyc_progress_changed(self, seen: KycProgressSeen) -> None:
        # refused, not accepted: a refused update leaves no event in the history
        if self.status != LoanStatus.APPLIED:
            raise _refuse("Conflict", f"loan is {self.status}: its KYC phase is over")
        if self._kyc_progress_moved(seen):
            raise _refuse("Conflict", "the KYC progress has changed since `seen`: read it again")

    def _kyc_progress_moved(self, seen: KycProgressSeen) -> bool:
        """Whether the loan left APPLIED or a part of the progress the caller sent differs now. Only the keys sent
        are compared: a key a later release adds to ``kyc_status`` must not count as a move when a history recorded
        before it is replayed (the update would complete in another workflow task than it did)."""
        if self.status != LoanStatus.APPLIED:
            return True
        now = self.kyc_status()
        return any(now.get(key) != value for key, value in seen.progress.items())
