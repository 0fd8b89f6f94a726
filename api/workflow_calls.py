"""Sending staff decisions to a loan's workflow as updates, and turning refusals into HTTP errors."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import Conflict, LosError, NotFound, PermissionDenied, ServiceUnavailable, ValidationError
from workflows.contracts import StaffAction

REFUSALS: dict[str, type[LosError]] = {
    "PermissionDenied": PermissionDenied,
    "Conflict": Conflict,
    "NotFound": NotFound,
    "ValidationError": ValidationError,
}


async def staff_update(client: Client, workflow_id: str, update: str, action: StaffAction) -> str:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, action, result_type=str)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            raise REFUSALS[cause.type](cause.message) from exc
        raise Conflict(f"update refused: {cause}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the loan's workflow has finished; no decision can be taken now") from exc
        raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc
