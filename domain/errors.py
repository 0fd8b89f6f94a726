"""The one exception tree. ``api/`` maps each class to an HTTP status in one place."""

from __future__ import annotations


class LosError(Exception):
    """Base of every business error the system raises on purpose."""

    status_code = 400
    error = "Bad Request"

    def __init__(self, message: str, *, field: str | None = None, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or ([{"field": field, "reason": message}] if field else [])


class ValidationError(LosError):
    """Input that breaks a business rule (amount outside the product, malformed PAN...)."""

    status_code = 422
    error = "Unprocessable Entity"


class AuthenticationError(LosError):
    status_code = 401
    error = "Unauthorized"


class PermissionDenied(LosError):
    status_code = 403
    error = "Forbidden"


class NotFound(LosError):
    status_code = 404
    error = "Not Found"


class Conflict(LosError):
    """The request is valid but the loan is not in a state that allows it."""

    status_code = 409
    error = "Conflict"


class ServiceUnavailable(LosError):
    """A dependency (workflow engine, a provider) is down; the caller may retry."""

    status_code = 503
    error = "Service Unavailable"


class TooManyRequests(LosError):
    """Throttled: the same action was asked for too often (OTP resend, login attempts)."""

    status_code = 429
    error = "Too Many Requests"


class StillProcessing(LosError):
    """The loan accepted the request but is still applying it when the caller's wait ended; sending it
    again is not needed (the outcome shows on the loan)."""

    status_code = 202
    error = "Accepted"


class IllegalTransition(Conflict):
    """A loan status move the lifecycle (``domain.lifecycle``) does not allow. Raised before anything is
    recorded, so the loan stays where it was. ``from_status`` and ``to_status`` name the two states; the
    message names them with their review stages when there are any."""

    def __init__(
        self,
        from_status: str,
        to_status: str,
        why: str,
        *,
        from_review_stage: str | None = None,
        review_stage: str | None = None,
    ):
        here = f"{from_status} ({from_review_stage})" if from_review_stage else str(from_status)
        there = f"{to_status} ({review_stage})" if review_stage else str(to_status)
        super().__init__(f"a loan cannot move from {here} to {there}: {why}")
        self.from_status = str(from_status)
        self.to_status = str(to_status)
        self.from_review_stage = from_review_stage
        self.review_stage = review_stage
