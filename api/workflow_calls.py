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


async def customer_update(client: Client, workflow_id: str, update: str, arg: object) -> dict:
    """A customer's input to their loan's workflow (Aadhaar OTP...), refusals as HTTP errors."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, arg, result_type=dict)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            details = cause.details[0] if cause.details else {}
            raise REFUSALS[cause.type](
                cause.message, field=details.get("field") if isinstance(details, dict) else None
            ) from exc
        if isinstance(cause, ApplicationError) and cause.type == "BusinessRefusal":
            raise ValidationError(cause.message) from exc
        raise Conflict(f"refused: {exc.cause}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the loan's workflow has finished") from exc
        raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc


async def signal_active_loan(client: Client, workflow_id: str, arg: object) -> None:
    try:
        await client.get_workflow_handle(workflow_id).signal("kyc_input", arg)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise ServiceUnavailable(f"workflow engine error: {exc.message}") from exc
