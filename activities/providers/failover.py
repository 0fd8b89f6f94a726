"""Failover across the vendors a brand configured for one kind of provider.

    result = await call_with_failover("bureau", brand.config, http, lambda b: b.pull(pan, name, key))
    result.value      # the BureauReport
    result.vendor     # "equifax" when CIBIL was down
    result.attempts   # (Attempt("cibil", "error", "cibil: HTTP 503", 12), Attempt("equifax", "ok", None, 40))

The operation is a callable taking the adapter (as above) or the name of the adapter's method followed by
its arguments: ``call_with_failover("kyc", cfg, http, "fetch_documents", code)`` — a vendor without that
method is skipped as *unsupported*.

Rules, per candidate (``ProviderConfig.candidates``: active vendors, primary first, then list order):

- success → return it, with every attempt so far;
- :class:`ProviderError` (timeout, 5xx, 429, malformed answer) or :class:`UnsupportedOperation` → record
  the attempt and try the next vendor;
- :class:`BusinessRefusal` → record it and re-raise at once: the answer is *no*, asking another vendor the
  same question is not a failover (the exception carries ``attempts``).

When every candidate failed, :class:`ProviderError` is raised listing the attempts (``exc.attempts``), so
a Temporal activity retries the whole round with backoff. If every candidate was unsupported, that is a
configuration problem and a :class:`BusinessRefusal` (code ``UNSUPPORTED``). No candidate at all is a
:class:`BusinessRefusal` (code ``NO_PROVIDER``).

Idempotency is the operation's business: pass the same idempotency key to each vendor; a vendor that
timed out may still have done the work, which is why money-moving kinds (disbursal, payments) are better
configured with a single vendor per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from activities.providers.base import BusinessRefusal, ProviderConfig, ProviderError, UnsupportedOperation
from activities.providers.heartbeat import beat

log = logging.getLogger("los.providers")
T = TypeVar("T")

OK, REFUSED, ERROR, UNSUPPORTED = "ok", "refused", "error", "unsupported"


@dataclass(frozen=True)
class Attempt:
    """One vendor tried: ``outcome`` is ok / refused / error / unsupported."""

    vendor: str
    outcome: str
    error: str | None
    elapsed_ms: int

    def as_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "outcome": self.outcome, "error": self.error, "elapsed_ms": self.elapsed_ms}


@dataclass(frozen=True)
class FailoverResult(Generic[T]):
    """The answer (``value``), the vendor that gave it, its settings, and every attempt in order."""

    value: T
    vendor: str
    config: ProviderConfig
    attempts: tuple[Attempt, ...]

    @property
    def failed_over(self) -> bool:
        """True when the answer did not come from the first vendor tried."""
        return len(self.attempts) > 1

    def attempts_as_dicts(self) -> list[dict[str, Any]]:
        """JSON-ready, e.g. for ``ProviderCall.attempts``."""
        return [a.as_dict() for a in self.attempts]


Operation = Callable[[Any], Awaitable[T]] | str


def adapter_for(config: ProviderConfig, http: httpx.AsyncClient) -> Any:
    """The adapter class registered for ``config.kind``/``config.vendor``, bound to ``http``."""
    from activities.providers import VENDORS  # the registry imports every adapter; avoid the cycle

    try:
        cls = VENDORS[config.kind][config.vendor]
    except KeyError as exc:
        raise BusinessRefusal(f"no adapter for {config.kind} vendor {config.vendor!r}", code="NO_ADAPTER") from exc
    return cls(http, config)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _summary(attempts: list[Attempt]) -> str:
    return "; ".join(
        f"{a.vendor}: {a.outcome}{f' ({a.error})' if a.error else ''} in {a.elapsed_ms} ms" for a in attempts
    )


async def call_with_failover(
    kind: str,
    brand_config: Mapping[str, Any],
    http: httpx.AsyncClient,
    op: Operation,
    *args: Any,
    **kwargs: Any,
) -> FailoverResult:
    """Run ``op`` against each of the brand's ``kind`` vendors in turn until one answers (see module doc)."""
    candidates = ProviderConfig.candidates(brand_config, kind)
    if not candidates:
        raise BusinessRefusal(f"brand has no active {kind} provider configured", code="NO_PROVIDER")
    attempts: list[Attempt] = []
    for config in candidates:
        beat(f"{kind}: {config.vendor}")  # each vendor tried is a step of the activity
        started = time.monotonic()
        try:
            adapter = adapter_for(config, http)
            if isinstance(op, str):
                method = getattr(adapter, op, None)
                if method is None:
                    raise UnsupportedOperation(f"{config.vendor} has no {op}")
                value = await method(*args, **kwargs)
            else:
                value = await op(adapter)
        except BusinessRefusal as exc:
            if exc.code == "NO_ADAPTER":  # a misspelt or retired vendor: skip it, like an unsupported one
                attempts.append(Attempt(config.vendor, UNSUPPORTED, str(exc), _ms(started)))
                continue
            attempts.append(Attempt(config.vendor, REFUSED, str(exc), _ms(started)))
            exc.attempts = tuple(a.as_dict() for a in attempts)
            exc.vendor = exc.vendor or config.vendor
            raise
        except UnsupportedOperation as exc:
            attempts.append(Attempt(config.vendor, UNSUPPORTED, str(exc) or "unsupported", _ms(started)))
            continue
        except ProviderError as exc:
            attempts.append(Attempt(config.vendor, ERROR, str(exc), _ms(started)))
            log.warning("%s via %s failed (%s); %s", kind, config.vendor, exc, "trying the next vendor")
            continue
        attempts.append(Attempt(config.vendor, OK, None, _ms(started)))
        if len(attempts) > 1:
            log.info("%s answered by %s after failover: %s", kind, config.vendor, _summary(attempts))
        return FailoverResult(value, config.vendor, config, tuple(attempts))

    record = tuple(a.as_dict() for a in attempts)
    if all(a.outcome == UNSUPPORTED for a in attempts):
        raise BusinessRefusal(
            f"{kind}: no configured vendor supports this operation: {_summary(attempts)}",
            code="UNSUPPORTED",
            attempts=record,
        )
    raise ProviderError(f"{kind}: every vendor failed: {_summary(attempts)}", attempts=record)
