"""Business rules and the automatic credit decision (walking-skeleton depth: bureau score only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import ValidationError

PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
PHONE_RE = re.compile(r"^[6-9][0-9]{9}$")


class Decision(StrEnum):
    REJECT = "REJECT"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    AUTO_SANCTION = "AUTO_SANCTION"


@dataclass(frozen=True)
class CreditPolicy:
    min_credit_score: int
    auto_sanction_score: int


@dataclass(frozen=True)
class DecisionResult:
    decision: Decision
    reason: str


def decide(score: int, policy: CreditPolicy) -> DecisionResult:
    """BRE hard rule (minimum score) then the auto-sanction threshold."""
    if score < policy.min_credit_score:
        return DecisionResult(
            Decision.REJECT, f"BRE_MIN_CREDIT_SCORE: score {score} below minimum {policy.min_credit_score}"
        )
    if score >= policy.auto_sanction_score:
        return DecisionResult(
            Decision.AUTO_SANCTION, f"score {score} at or above auto-sanction {policy.auto_sanction_score}"
        )
    return DecisionResult(Decision.MANUAL_REVIEW, f"score {score} below auto-sanction {policy.auto_sanction_score}")


def normalise_pan(pan: str) -> str:
    value = pan.strip().upper()
    if not PAN_RE.match(value):
        raise ValidationError("PAN must be 5 letters, 4 digits, 1 letter (e.g. ABCDE1234F)", field="pan")
    return value


def normalise_phone(phone: str) -> str:
    value = phone.strip().removeprefix("+91").removeprefix("91") if len(phone.strip()) > 10 else phone.strip()
    if not PHONE_RE.match(value):
        raise ValidationError("phone must be a 10-digit Indian mobile number", field="phoneNumber")
    return value


@dataclass(frozen=True)
class ProductBounds:
    min_amount: int  # paise
    max_amount: int  # paise
    min_tenure: int  # installments
    max_tenure: int


def check_application(amount: int, tenure: int, bounds: ProductBounds) -> None:
    """Amount and tenure against the product, naming the field that is out of bounds."""
    if not bounds.min_amount <= amount <= bounds.max_amount:
        raise ValidationError(
            f"amount must be between {bounds.min_amount // 100} and {bounds.max_amount // 100} rupees",
            field="amount",
        )
    if not bounds.min_tenure <= tenure <= bounds.max_tenure:
        raise ValidationError(
            f"tenure must be between {bounds.min_tenure} and {bounds.max_tenure} installments", field="tenure"
        )
