"""The sandbox writes its state file at most ~5 % of its time: a big state is written less often."""

from __future__ import annotations

import pytest

from sandbox.app import flush_wait


@pytest.mark.parametrize(
    ("last_write", "wait"),
    [
        (0.0, 0.5),  # a small state (the tests, a demo): half a second after a burst, as before
        (0.02, 0.5),
        (0.1, 2.0),
        (0.6, 12.0),  # 20 MB of messages after a 5,000-loan first pass: every 12 s, not every 0.5 s
    ],
)
def test_the_wait_grows_with_the_last_write(last_write: float, wait: float) -> None:
    assert flush_wait(last_write) == pytest.approx(wait)
