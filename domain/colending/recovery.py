"""Money recovered on a written-off co-lent loan, split between the lenders as the write-off was, and the
default-loss guarantee (DLG) paid back from the partner's part.

Rules (docs/co-lending.md, "Recoveries after a write-off"):

- **Split as the write-off.** Each lender lost, by component, its part of what was written off (the ``CL_WRITE_OFF``
  legs: principal, interest, fees, penal). Everything recovered on the loan so far is taken by component in the
  default repayment waterfall's order (:data:`ORDER`: penal charges, fees, interest, principal; each up to what was
  written off of it), and each component's cumulative amount is divided between the lenders in proportion to what
  each lost of it, by the largest-remainder rule (``split.largest_remainder``, ties to the originator): a
  recovery's part for a lender is its share of everything recovered so far less its share of what was recovered
  before, exactly as payments are split (two shares, so no part is ever negative). Each recovery's parts sum to it,
  and once everything written off is recovered each lender has recovered exactly what it lost, component by
  component, whatever the number and size of the recoveries. Money beyond everything written off is the
  originator's (``excess``): the loan is the originator's account with the borrower.
- **The DLG paid back first.** When the originator's DLG was invoked on the loan (it paid the partner ``invoked``
  paise of the partner's loss), the partner's recovered part first pays that back to the originator, up to what is
  still unpaid of it (``dlg_repaid``); the rest is the partner's. RBI, *Guidelines on Default Loss Guarantee in
  Digital Lending*, DOR.CRE.REC.21/21.07.001/2023-24 (8 June 2023), with its FAQs: the cover invoked is never
  reinstated, including through a recovery, so what is paid back here settles the two lenders' accounts on the loan
  and does not restore the cover (``domain.colending.dlg``); the guidelines leave the sharing of recoveries to the
  contract between the parties, and this build's contract term is that the partner's recovery first repays the
  guarantor.

Money is integer paise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.colending.split import COMPONENTS, Parts, largest_remainder

ORIGINATOR, PARTNER = "ORIGINATOR", "PARTNER"
LENDERS = (ORIGINATOR, PARTNER)


@dataclass(frozen=True)
class RecoverySplit:
    """One recovery divided: each lender's part by component (``originator``, ``partner``: what each recovered of
    what it lost), the originator's ``excess`` beyond everything written off, and ``dlg_repaid``: how much of the
    partner's part pays back the DLG to the originator (0 ≤ ``dlg_repaid`` ≤ ``partner.total``). The parts and the
    excess sum to the recovery."""

    originator: Parts
    partner: Parts
    excess: int = 0
    dlg_repaid: int = 0

    @property
    def total(self) -> int:
        return self.originator.total + self.partner.total + self.excess

    def net(self, lender: str) -> int:
        """What ``lender`` keeps of the recovery after the DLG's payback (paise)."""
        if lender == PARTNER:
            return self.partner.total - self.dlg_repaid
        return self.originator.total + self.excess + self.dlg_repaid


#: The order a recovery takes the components written off (``domain.allocation``'s default waterfall).
ORDER = ("penal", "fees", "interest", "principal")


def _taken(lost: Mapping[str, Parts], cumulative: int) -> dict[str, tuple[int, int]]:
    """(originator, partner) parts of ``cumulative`` paise recovered, per component."""
    out: dict[str, tuple[int, int]] = {}
    left = cumulative
    for c in ORDER:
        weights = [max(0, lost.get(lender, Parts()).get(c)) for lender in LENDERS]
        take = min(left, sum(weights))
        left -= take
        mine, theirs = largest_remainder(take, weights) if take else (0, 0)
        out[c] = (mine, theirs)
    return out


def split_recovery(lost: Mapping[str, Parts], recovered_before: int, amount: int, dlg_unpaid: int = 0) -> RecoverySplit:
    """A recovery of ``amount`` paise divided between the lenders.

    ``lost``: each lender's part of the write-off by component (``{"ORIGINATOR": Parts, "PARTNER": Parts}``);
    ``recovered_before``: paise recovered on the loan before this one (both lenders' parts and any excess);
    ``dlg_unpaid``: what the partner still owes back of the DLG invoked on the loan (0 when it was not invoked).

    ValueError for a negative ``amount``, ``recovered_before`` or ``dlg_unpaid``."""
    if amount < 0 or recovered_before < 0 or dlg_unpaid < 0:
        raise ValueError("amount, recovered_before and dlg_unpaid cannot be negative")
    before, after = _taken(lost, recovered_before), _taken(lost, recovered_before + amount)
    mine = Parts(**{c: after[c][0] - before[c][0] for c in COMPONENTS})
    theirs = Parts(**{c: after[c][1] - before[c][1] for c in COMPONENTS})
    excess = amount - mine.total - theirs.total
    return RecoverySplit(mine, theirs, excess, min(theirs.total, dlg_unpaid))
