"""Sending staff decisions and customer inputs to a loan's workflow as updates, and turning refusals into HTTP
errors.

Updates, signals and queries are named by method reference on ``workflows.loan.LoanWorkflow``
(``staff_update(client, wid, LoanWorkflow.forward, action)``), never by a string: a renamed or retyped handler
fails at import and in ``tests/unit/test_workflow_calls_contract.py``, not in production.

Every update the API awaits is bounded (``Settings.workflow_call_timeout_seconds``, default 10 s). The update
carries ``expires_at`` = now + the bound, and the workflow's validators refuse (type ``Expired``) one that reaches
them later, so when no worker picks the update up in time the caller gets 503 — *not applied, send it again* —
and the update is never applied silently afterwards. An update the workflow accepted in time is applied; if it
is still running when the bound passes a second time the caller gets 202 (accepted, in progress).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import (
    Conflict,
    LosError,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    StillProcessing,
    ValidationError,
)
from workflows.contracts import KycInput, StaffAction
from workflows.loan import LoanWorkflow

#: A staff decision's update on ``LoanWorkflow`` (``LoanWorkflow.forward``...): takes a ``StaffAction``, answers
#: the loan's new status.
StaffUpdate = Callable[[LoanWorkflow, StaffAction], Awaitable[str]]
#: A customer input's update on ``LoanWorkflow`` (``LoanWorkflow.aadhaar_submit``...): answers a dict.
CustomerUpdate = Callable[[LoanWorkflow, Any], Awaitable[dict]]

REFUSALS: dict[str, type[LosError]] = {
    "PermissionDenied": PermissionDenied,
    "Conflict": Conflict,
    "NotFound": NotFound,
    "ValidationError": ValidationError,
    "Unavailable": ServiceUnavailable,  # a provider the action needs gave no answer: nothing was changed
}
# Acceptance is awaited this long past expires_at, so a validator that ran just before it is still heard even
# when the workflow engine's clock runs ahead of the API's: the clocks of the API hosts and the Temporal service
# must agree within it (NTP), or an update could be applied after its caller was told 503.
CLOCK_MARGIN_SECONDS = 3.0
NOT_APPLIED = (
    "the loan did not take this action within {bound:g} s (its workflow is not being processed right now); "
    "it was NOT applied and will not be applied later: send it again"
)


class CallBound(float):
    """The bound in seconds of one update call, and whether the update carries ``expires_at`` (``expire``:
    ``Settings.workflow_update_expiry``; off only where the workflow clock is not the wall clock)."""

    expire: bool

    def __new__(cls, seconds: float, expire: bool = True) -> CallBound:
        bound = super().__new__(cls, seconds)
        bound.expire = expire
        return bound


def call_bound(settings: Any | None = None) -> float:
    """The bound in seconds of one update call: ``settings.workflow_call_timeout_seconds``, or the process
    settings' when ``settings`` is None."""
    if settings is None:
        from los.settings import get_settings

        settings = get_settings()
    return float(settings.workflow_call_timeout_seconds)


def with_expiry(arg: Any, bound: float) -> Any:
    """``arg`` with ``expires_at`` set to now + ``bound`` seconds, if it is a dataclass with that field (the
    workflow contracts ``StaffAction``, ``AadhaarInitiate``, ``AadhaarOtp``); other arguments unchanged."""
    if dataclasses.is_dataclass(arg) and not isinstance(arg, type):
        if any(f.name == "expires_at" for f in dataclasses.fields(arg)):
            return dataclasses.replace(arg, expires_at=datetime.now(UTC) + timedelta(seconds=bound))  # type: ignore[type-var]
    return arg


async def bounded_update(
    client: Client, workflow_id: str, update: Callable[..., Awaitable[Any]], arg: Any, result_type: type, bound: float
) -> Any:
    """Send ``update(arg)`` (a ``LoanWorkflow`` update method) to ``workflow_id`` with ``expires_at`` set, wait
    at most ``bound`` seconds for the workflow to accept it and as long again for its result. Raises
    ``ServiceUnavailable`` (503, not applied) when it was not accepted in time or was refused as ``Expired``,
    ``StillProcessing`` (202) when accepted but not finished, ``WorkflowUpdateFailedError`` for other refusals,
    ``RPCError`` from the server."""
    handle = client.get_workflow_handle(workflow_id)
    sent = with_expiry(arg, bound) if getattr(bound, "expire", True) else arg
    try:
        update_handle = await asyncio.wait_for(
            handle.start_update(update, sent, wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=result_type),
            timeout=bound + CLOCK_MARGIN_SECONDS,
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:  # the SDK reports the cancel as its own
        raise ServiceUnavailable(NOT_APPLIED.format(bound=bound)) from exc
    try:
        return await asyncio.wait_for(update_handle.result(), timeout=bound)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise StillProcessing(
            "the loan accepted this action and is still applying it: do not send it again; reload the loan to see it"
        ) from exc


def _application_cause(exc: WorkflowUpdateFailedError) -> ApplicationError | None:
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause if hasattr(cause, "cause") else None
    return cause


def _refused(cause: ApplicationError | None, exc: Exception) -> None:
    """Raise the HTTP error of a workflow's refusal (``workflows.base._refuse``: its type, its message, and the field
    its details name, if any); nothing for any other failure."""
    if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
        details = cause.details[0] if cause.details else {}
        field = details.get("field") if isinstance(details, dict) else None
        raise REFUSALS[cause.type](cause.message, field=field if isinstance(field, str) else None) from exc


def _expired(cause: ApplicationError | None, bound: float, exc: Exception) -> None:
    if cause is not None and cause.type == "Expired":
        raise ServiceUnavailable(NOT_APPLIED.format(bound=bound)) from exc


async def staff_update(
    client: Client, workflow_id: str, update: StaffUpdate, action: StaffAction, *, timeout: float | None = None
) -> str:
    """A staff decision (``LoanWorkflow.forward``, ``approve``, ``sanction``, ``approve_disbursal``...) as an
    update; returns the loan's new status. ``timeout``: the bound in seconds (default ``call_bound()``). Refusals
    become 403/404/409/422, a bound passed 503 (not applied) or 202 (accepted, in progress)."""
    bound = timeout if timeout is not None else call_bound()
    try:
        return await bounded_update(client, workflow_id, update, action, str, bound)
    except WorkflowUpdateFailedError as exc:
        cause = _application_cause(exc)
        _expired(cause, bound, exc)
        _refused(cause, exc)
        raise Conflict(f"update refused: {exc.cause}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the loan's workflow has finished; no decision can be taken now") from exc
        raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc


async def customer_update(
    client: Client, workflow_id: str, update: CustomerUpdate, arg: object, *, timeout: float | None = None
) -> dict:
    """A customer's input to their loan's workflow (``LoanWorkflow.aadhaar_submit``...) as an update, bounded
    and with ``expires_at`` set when ``arg`` has that field; refusals as HTTP errors (see ``staff_update``)."""
    bound = timeout if timeout is not None else call_bound()
    try:
        return await bounded_update(client, workflow_id, update, arg, dict, bound)
    except WorkflowUpdateFailedError as exc:
        cause = _application_cause(exc)
        _expired(cause, bound, exc)
        _refused(cause, exc)
        if isinstance(cause, ApplicationError) and cause.type == "BusinessRefusal":
            raise ValidationError(cause.message) from exc
        raise Conflict(f"refused: {exc.cause}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the loan's workflow has finished") from exc
        raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc


async def signal_active_loan(client: Client, workflow_id: str, arg: KycInput) -> None:
    """New customer data for the loan's KYC phase (``LoanWorkflow.kyc_input``); a signal may be handled late."""
    try:
        await client.get_workflow_handle(workflow_id).signal(LoanWorkflow.kyc_input, arg)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc


#: A query on ``LoanWorkflow`` taking one IST date as ISO text (``LoanWorkflow.quote_foreclosure``...).
DateQuery = Callable[[LoanWorkflow, str], Any]


async def loan_query(client: Client, workflow_id: str, query: DateQuery, *args: Any) -> Any:
    """Ask a loan's workflow a query (``LoanWorkflow.quote_foreclosure``...) by method reference. 409 when its
    workflow no longer runs (the loan has closed), 503 when the workflow engine cannot answer now."""
    try:
        return await client.get_workflow_handle(workflow_id).query(query, *args)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the loan's workflow has ended", field="loan") from exc
        raise ServiceUnavailable(f"the loan could not be asked now: {exc.message}") from exc
