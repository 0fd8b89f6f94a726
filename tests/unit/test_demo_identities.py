"""The demos' and benchmarks' made-up borrowers never land on a sandbox scenario number (``los.demo_identities``)."""

from __future__ import annotations

import random

import pytest

from los import demo_identities
from los.demo_identities import demo_identity, plain_phone


@pytest.mark.parametrize(
    ("phone", "plain"),
    [
        ("9123456789", True),
        ("9123450000", False),  # EPFO hangs, SMS reported FAILED
        ("9123450001", False),  # no mobile / UAN record
        ("9123450007", False),  # two UANs
        ("9999912345", False),  # SMS and dialer vendors answer 503
        ("9123450010", True),
        ("8888812345", False),  # a dialer times out
        ("9123450099", False),  # the signer signs at once
        ("9123451099", True),
    ],
)
def test_a_plain_phone_takes_no_sandbox_scenario(phone: str, plain: bool) -> None:
    assert plain_phone(phone) is plain


def test_a_demo_identity_draws_again_past_a_scenario_number(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([123450000, 999123456, 123456789])  # ends 0000, then starts 9999, then plain

    class Scripted(random.Random):
        def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
            return next(draws) if (start, stop) == (10**8, 10**9) else super().randrange(start, stop, step)

    monkeypatch.setattr(demo_identities.random, "Random", Scripted)
    phone, pan = demo_identity(0, "auto")
    assert phone == "9123456789"
    assert pan[5] == "5" and len(pan) == 10  # the auto-sanction band
