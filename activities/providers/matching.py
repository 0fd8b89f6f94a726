"""Name matching for KYC: a penny-drop beneficiary, a CKYC record or an Aadhaar name against the PAN name.

Banks and registries write names differently (upper case, initials, salutations, middle names, order),
so the score is fuzzy: 0–100, where 100 is the same name. The threshold that passes is the brand's
business; this module only scores.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

SALUTATIONS = {"MR", "MRS", "MS", "MISS", "DR", "SHRI", "SMT", "KUM", "M/S"}


def normalise(name: str) -> list[str]:
    """Upper-case words without punctuation or salutations."""
    words = re.sub(r"[^A-Z ]", " ", name.upper().replace(".", " ")).split()
    return [w for w in words if w not in SALUTATIONS]


def name_match_score(a: str | None, b: str | None) -> float:
    """0–100: how likely two written names are the same person's.

    Token order is ignored ("SHARMA AARAV" = "Aarav Sharma"); an initial matches a word it begins
    ("A SHARMA" ~ "AARAV SHARMA" scores 90); anything else falls back to fuzzy token-set similarity."""
    wa, wb = normalise(a or ""), normalise(b or "")
    if not wa or not wb:
        return 0.0
    if sorted(wa) == sorted(wb):
        return 100.0
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    remaining = list(long_)
    initials_only = True
    for word in short:
        match = next((w for w in remaining if w == word), None)
        if match is None and len(word) == 1:
            match = next((w for w in remaining if w.startswith(word)), None)
        if match is None:
            initials_only = False
            break
        remaining.remove(match)
    if initials_only:
        return 90.0 if len(short) == len(long_) else 80.0
    return round(float(fuzz.token_set_ratio(" ".join(wa), " ".join(wb))), 2)
