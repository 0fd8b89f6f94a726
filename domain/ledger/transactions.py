"""A ledger transaction: legs whose signed amounts (integer paise, debit > 0, credit < 0) sum to zero, built
from (account, amount) pairs with zero amounts dropped and same-account legs merged; and account balances over
transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import ValidationError
from domain.ledger.accounts import MAX_ACCOUNT_LENGTH


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int  # debit > 0, credit < 0


@dataclass(frozen=True)
class Transaction:
    kind: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if sum(leg.amount for leg in self.legs) != 0:
            raise ValueError(f"unbalanced ledger transaction {self.kind}: {self.legs}")
        if any(leg.amount == 0 for leg in self.legs):
            raise ValueError("zero-amount leg")

    @property
    def debits(self) -> int:
        """Total of the debit legs (= total of the credit legs, negated)."""
        return sum(leg.amount for leg in self.legs if leg.amount > 0)

    def net(self, account: str) -> int:
        """Signed total of this transaction's legs on ``account`` (debit > 0)."""
        return sum(leg.amount for leg in self.legs if leg.account == account)


def _paise(value: object, field: str, *, positive: bool = False) -> int:
    if isinstance(value, float):
        raise TypeError(f"{field}: float is not allowed in money code, use int paise")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number of paise", field=field)
    if value < 0 or (positive and value == 0):
        raise ValidationError("must be positive" if positive else "cannot be negative", field=field)
    return value


def _build(kind: str, entries: Iterable[tuple[str, int]]) -> Transaction:
    """A transaction from (account, signed amount) pairs: zero amounts dropped, same-account legs merged
    in first-seen order."""
    merged: dict[str, int] = {}
    for account, amount in entries:
        merged[account] = merged.get(account, 0) + amount
    return Transaction(kind, tuple(Leg(a, v) for a, v in merged.items() if v != 0))


def balances(transactions: Iterable[Transaction]) -> dict[str, int]:
    """Net signed balance per account over ``transactions`` (debit > 0); zero balances omitted."""
    out: dict[str, int] = {}
    for txn in transactions:
        for leg in txn.legs:
            out[leg.account] = out.get(leg.account, 0) + leg.amount
    return {k: v for k, v in out.items() if v != 0}


def _account(name: object, field: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ACCOUNT_LENGTH:
        raise ValidationError(f"account must be a name of 1-{MAX_ACCOUNT_LENGTH} characters", field=field)
    return name
