"""The sandbox's scenario table: which inputs take which branch. Documented in docs/sandbox.md."""

from __future__ import annotations

NAMES = ["Aarav Sharma", "Diya Patel", "Vihaan Iyer", "Ananya Reddy", "Kabir Singh", "Isha Nair"]


def pan_check(pan: str) -> dict:
    """PAN ending in 'X' does not verify (no such PAN in the ITD database)."""
    if pan.endswith("X"):
        return {"status": "INVALID", "reason": "PAN not found in ITD records"}
    name = NAMES[sum(map(ord, pan)) % len(NAMES)]
    return {"status": "VALID", "pan": pan, "name": name, "dob": "1990-01-15", "type": "INDIVIDUAL"}


def bureau_score(pan: str) -> int:
    """The first digit of the PAN's numeric part picks the score band:
    0 → 580 (below a typical minimum: BRE rejects), 1 → 700 (manual review), 2-9 → 780 (auto-sanction)."""
    first = pan[5] if len(pan) == 10 else "9"
    return {"0": 580, "1": 700}.get(first, 780)
