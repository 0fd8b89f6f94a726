"""The fuzz runs' shared time budget (``LOS_FUZZ_BUDGET_SECONDS``, default 420): started by the first case of any
run, checked before each case and each stateful step, so the runs together never go on past it."""

from __future__ import annotations

import os
import time

import pytest

BUDGET_SECONDS = float(os.environ.get("LOS_FUZZ_BUDGET_SECONDS", "420"))
_started: list[float] = []


def spent() -> float:
    """Seconds since the first case of the session (0 before it), starting the clock."""
    if not _started:
        _started.append(time.monotonic())
    return time.monotonic() - _started[0]


def left() -> float:
    """Seconds of the budget still to spend."""
    return BUDGET_SECONDS - spent()


def check() -> None:
    """Fail the current case when the budget is spent, naming it, rather than letting CI run on."""
    used = spent()
    if used > BUDGET_SECONDS:
        pytest.fail(
            f"the fuzz budget of {BUDGET_SECONDS:.0f}s (LOS_FUZZ_BUDGET_SECONDS) is spent after {used:.0f}s; "
            f"lower LOS_FUZZ_EXAMPLES or find what got slow"
        )
