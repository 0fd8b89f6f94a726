"""The loan workflow's patches, asked through one epoch marker.

Every ``workflow.patched(id)`` a run asks for the first time records a marker event, and the SDK's core adds an
upsert of the ``TemporalChangeVersion`` search attribute (a visibility write on the server) beside it. A loan
started on today's code asked for every patch of its past: a run of origination recorded seven markers and seven
upserts (four before its credit decision), a servicing run six, all saying only "this run is new".

``PATCH_EPOCH`` bundles them. A run that started on the first epoch's code asked for the epoch once (one marker,
one upsert), and every patch in ``EPOCH_PATCHES`` is then on for the run without a marker of its own. A run recorded
before the epoch has no epoch marker: replaying, ``workflow.patched(PATCH_EPOCH)`` answers False (the SDK answers a
patch from the history's markers when replaying), so each of its patches is asked as before and answered from its
own marker. Either way the same commands come out in the same order, which is what the replay suite checks.

``PATCH_EPOCH_2`` bundles those and the three patches released after the first epoch (``KYC_LOCAL_PATCH``,
``KYC_RESULTS_BESIDE_BUREAU_PATCH``, ``PROVIDER_FAULT_HOLD_PATCH``), so a run started on this code records one marker
and asks no patch on its own. Beside the markers and upserts it saves, it closes a replay hazard of patches first
asked mid-run. When a query is answered in a workflow task whose local activity finishes meanwhile, the SDK's core
completes that task and asks the server for a new one to hand the workflow the local activity's result. Live, a
patch asked right after that result is recorded in the new task; replaying, the result comes with the earlier task,
the patch is asked before the new task's markers are known, answers False, and the replay fails (TMPRL1100). A run
that asks a patch for the first time mid-run is exposed to it (a loan taken over by code with a new patch; a run of
the first epoch asking the patches released after it); a run that decides every patch at its start is not. A later
patch should therefore be asked where no local activity's result comes first in the same workflow task, until a
later epoch bundles it.

Two rules keep it sound:

- ``EPOCH_PATCHES`` and ``EPOCH_2_PATCHES`` never change once released: a run that recorded an epoch replays with
  exactly that set on. A later patch is asked on its own (:func:`patched` falls through to ``workflow.patched``),
  until a later epoch with a new id bundles it too.
- The epoch is decided before any bundled patch is asked (:func:`decide_epoch` first in ``LoanWorkflow.run``, and
  in :func:`patched` itself for a handler that the SDK runs before the run method in a run's first activation), so
  a run never records a bundled patch's marker and then the epoch's. Either way the order is the same on replay.

Under either epoch, search attributes are also upserted only when a value changes (:func:`upsert_changed`): the
repayment loop's passes set ``NextDueAt`` and ``DPD`` at each wake-up, most often to the values they already had,
and a status move re-set ``LoanStatus`` to itself. Runs before the epoch upsert as they recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from workflows.options import (
        AUTOPAY_CAPTURE_AWAITS_PAYMENT_PATCH,
        AUTOPAY_DEBIT_CHECK_PATCH,
        CO_LENDING_PATCH,
        COLLECTIONS_PATCH,
        DAY_END_PATCH,
        HOLD_PATCH,
        KYC_LOCAL_PATCH,
        KYC_PER_STEP_PATCH,
        KYC_PHASE_PATCH,
        KYC_RESULTS_BESIDE_BUREAU_PATCH,
        KYC_REUSE_PATCH,
        LINK_FAILURE_LOGGED_PATCH,
        LOCAL_DB_PATCH,
        LOSSES_PATCH,
        MONEY_IN_PATCH,
        MONEY_OUT_PATCH,
        ORIGINATION_LOCAL_PATCH,
        PARTNER_APR_PATCH,
        PARTNER_ROUTING_PATCH,
        PROVIDER_FAULT_HOLD_PATCH,
        RECEIPT_NOTICE_AT_START_PATCH,
        RECEIPT_NOTICE_PATCH,
        RECEIPTS_PATCH,
        RESTRUCTURE_PATCH,
        REVIEW_PATCH,
        SERVICING_LOCAL_PATCH,
        STATUS_WITH_PAYMENT_PATCH,
        VALUE_DATED_PENAL_PATCH,
    )

PATCH_EPOCH = "patch-epoch-2026-12-v1"
# Frozen: every LoanWorkflow patch released before the epoch. Never add to or remove from it.
EPOCH_PATCHES: frozenset[str] = frozenset(
    {
        KYC_PHASE_PATCH,
        REVIEW_PATCH,
        DAY_END_PATCH,
        RECEIPTS_PATCH,
        KYC_PER_STEP_PATCH,
        MONEY_OUT_PATCH,
        HOLD_PATCH,
        MONEY_IN_PATCH,
        COLLECTIONS_PATCH,
        LINK_FAILURE_LOGGED_PATCH,
        AUTOPAY_CAPTURE_AWAITS_PAYMENT_PATCH,
        AUTOPAY_DEBIT_CHECK_PATCH,
        KYC_REUSE_PATCH,
        LOCAL_DB_PATCH,
        RECEIPT_NOTICE_PATCH,
        SERVICING_LOCAL_PATCH,
        ORIGINATION_LOCAL_PATCH,
        STATUS_WITH_PAYMENT_PATCH,
        RECEIPT_NOTICE_AT_START_PATCH,
        VALUE_DATED_PENAL_PATCH,
        PARTNER_ROUTING_PATCH,
        PARTNER_APR_PATCH,
        CO_LENDING_PATCH,
        LOSSES_PATCH,
        RESTRUCTURE_PATCH,
    }
)


PATCH_EPOCH_2 = "patch-epoch-2026-12-v2"
# Frozen: the first epoch's patches and the three released after it. Never add to or remove from it.
EPOCH_2_PATCHES: frozenset[str] = EPOCH_PATCHES | {
    KYC_LOCAL_PATCH,
    KYC_RESULTS_BESIDE_BUREAU_PATCH,
    PROVIDER_FAULT_HOLD_PATCH,
}


def decide_epoch() -> int:
    """The epoch this run is under, asked once per run and kept on the workflow instance (``patch_epoch``): 2 for a
    run started on this code (``PATCH_EPOCH_2``), 1 replaying a run recorded under ``PATCH_EPOCH``, 0 replaying one
    recorded before both. A run under the second epoch records its marker only: the first epoch is not asked."""
    wf = workflow.instance()
    on = getattr(wf, "patch_epoch", None)
    if on is None:
        on = 2 if workflow.patched(PATCH_EPOCH_2) else 1 if workflow.patched(PATCH_EPOCH) else 0
        wf.patch_epoch = on
    return int(on)


def patched(patch_id: str) -> bool:
    """``workflow.patched(patch_id)`` for the loan workflow: True without a marker when the run's epoch bundles the
    patch (``EPOCH_2_PATCHES`` under the second, ``EPOCH_PATCHES`` under the first); else the SDK's answer (a marker
    the first time, as before)."""
    if patch_id in EPOCH_2_PATCHES:
        epoch = decide_epoch()
        if epoch == 2 or (epoch == 1 and patch_id in EPOCH_PATCHES):
            return True
    return workflow.patched(patch_id)


def upsert_changed(updates: Sequence[SearchAttributeUpdate[Any]]) -> None:
    """``workflow.upsert_search_attributes(updates)``; under the epoch only the updates whose value differs from the
    run's current one (``workflow.info().typed_search_attributes``, which the SDK keeps as the run upserts), and
    nothing at all when none does. Deterministic: the current values are the start event's plus the run's own
    upserts, the same on every replay."""
    if decide_epoch():
        current = workflow.info().typed_search_attributes
        updates = [u for u in updates if current.get(u.key) != u.value]
        if not updates:
            return
    workflow.upsert_search_attributes(updates)
