"""The escrow account of a co-lending arrangement: every collection on a co-lent loan goes into it and is
apportioned to the lenders by their shares (the split, ``domain.colending.split``); what the escrow owes a lender is
what was apportioned to it less what was remitted to it.

Source: RBI Co-Lending Model circular FIDD.CO.Plan.BC.No.8/04.09.01/2020-21 of 5 November 2020 (annex, para 8:
disbursements and collections through an escrow account, the sharing of money per the agreement) and the RBI
(Co-Lending Arrangements) Directions, 2025 (collections credited to an escrow account and apportioned in the
agreed ratio). The escrow's remittances are decided maker-checker: the person who records one cannot approve it.

Money is integer paise, dates IST.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Conflict, PermissionDenied, ValidationError


@dataclass(frozen=True)
class Position:
    """What the escrow holds for one lender: ``apportioned`` (its parts of collections) and ``remitted`` to it,
    paise. ``payable`` is the difference (never negative)."""

    apportioned: int
    remitted: int

    @property
    def payable(self) -> int:
        return max(0, self.apportioned - self.remitted)


def check_remittance(amount: int, payable: int, pending: int = 0) -> None:
    """ValidationError naming ``amount`` unless it is a positive whole number of paise no more than what the escrow
    owes the lender (``payable``) less remittances already awaiting approval (``pending``)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("must be a positive whole number of paise", field="amount")
    room = payable - pending
    if amount > room:
        raise ValidationError(f"more than the {max(0, room)} paise the escrow owes the lender", field="amount")


def check_decision(status: str, maker: str, checker: str) -> None:
    """Maker-checker on a remittance: Conflict (409) unless it is PENDING, PermissionDenied (403) when the checker
    recorded it."""
    if status != "PENDING":
        raise Conflict(f"the remittance is already {status.lower()}", field="status")
    if maker == checker:
        raise PermissionDenied("maker-checker: you recorded this remittance, so another staff member decides it",
                               field="recordedBy")  # fmt: skip
