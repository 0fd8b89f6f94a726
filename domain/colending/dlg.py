"""The default-loss guarantee (DLG) of a co-lending agreement: the originator guarantees the partner's losses on the
co-lent loans up to a cover set upfront.

Source: RBI, *Guidelines on Default Loss Guarantee (DLG) in Digital Lending*, circular
DOR.CRE.REC.21/21.07.001/2023-24 of 8 June 2023, and its FAQs (the RBI (Co-Lending Arrangements) Directions, 2025
allow DLG in co-lending under the same guidelines):

- **Cap** (para 6): the DLG cover on a portfolio shall not exceed **5 %** of the amount of that portfolio; the FAQs
  read the cap on the total amount *disbursed* out of the DLG set. Here the portfolio is the partner's share of the
  principal disbursed on the agreement's co-lent loans (what the guarantee protects), so the cover is
  ``min(amount set aside, cover bps × partner's disbursed ÷ 10,000)``.
- **Form** (para 5): cash deposited with the regulated entity, a fixed deposit with a lien in its favour, or a bank
  guarantee in its favour (:class:`Form`).
- **Invocation** (para 7): within a maximum overdue period of **120 days**, unless the borrower made it good before
  (a loan regularised is not invoked); a write-off before that day invokes it at once. Here the agreement's
  ``invoke_dpd`` (1-120) is the overdue day it is invoked on.
- **No reinstatement** (FAQs): an amount invoked is used for good, even if the loan later recovers.

Money is integer paise, the cover basis points of 10,000; DPD in days (IST calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import ValidationError

BPS = 10_000
MAX_COVER_BPS = 500  # RBI DLG guidelines para 6: at most 5 % of the portfolio
MAX_INVOKE_DPD = 120  # RBI DLG guidelines para 7: invoked within 120 days overdue
WRITE_OFF = "WRITE_OFF"
OVERDUE = "OVERDUE"


class Form(StrEnum):
    """The form the DLG cover is kept in (RBI DLG guidelines para 5)."""

    CASH = "CASH"
    FIXED_DEPOSIT = "FIXED_DEPOSIT"
    BANK_GUARANTEE = "BANK_GUARANTEE"


@dataclass(frozen=True)
class Dlg:
    """A DLG arrangement: ``cover_bps`` of the partner's disbursed portfolio (≤ 500), the ``set_aside`` paise kept in
    ``form``, invoked on the ``invoke_dpd``-th day overdue (1-120) or at a write-off."""

    cover_bps: int
    set_aside: int
    form: Form = Form.CASH
    invoke_dpd: int = 90

    def check(self) -> None:
        """ValidationError naming the field (API names) unless: 1 ≤ cover ≤ 500 bps, set aside ≥ 0 paise,
        1 ≤ invoke DPD ≤ 120."""
        if isinstance(self.cover_bps, bool) or not 1 <= self.cover_bps <= MAX_COVER_BPS:
            raise ValidationError("must be 1-500 bps (RBI DLG guidelines: at most 5 % of the portfolio)",
                                  field="coverBps")  # fmt: skip
        if isinstance(self.set_aside, bool) or self.set_aside < 0:
            raise ValidationError("must be a non-negative whole number of paise", field="setAside")
        if isinstance(self.invoke_dpd, bool) or not 1 <= self.invoke_dpd <= MAX_INVOKE_DPD:
            raise ValidationError("must be 1-120 days (RBI DLG guidelines: invoked within 120 days overdue)",
                                  field="invokeDpd")  # fmt: skip

    def cap(self, disbursed: int) -> int:
        """The most the cover may be on a portfolio of ``disbursed`` paise: ``cover_bps`` of it, rounded down."""
        if disbursed < 0:
            raise ValueError("disbursed cannot be negative")
        return disbursed * self.cover_bps // BPS

    def cover(self, disbursed: int) -> int:
        """The cover in force: what is set aside, no more than the cap on ``disbursed`` paise."""
        return min(self.set_aside, self.cap(disbursed))

    def left(self, disbursed: int, used: int) -> int:
        """What the cover still pays after ``used`` paise were invoked (never negative; never reinstated)."""
        return max(0, self.cover(disbursed) - used)

    def due(self, dpd: int, written_off: bool = False) -> str | None:
        """Why a loan's DLG is invoked now (``WRITE_OFF`` or ``OVERDUE``), or None: written off, or ``dpd`` at or
        past ``invoke_dpd``. A loan regularised before that day (DPD back to 0) is not invoked."""
        if written_off:
            return WRITE_OFF
        return OVERDUE if dpd >= self.invoke_dpd else None

    def invocation(self, loss: int, disbursed: int, used: int) -> int:
        """The paise one invocation pays the partner: its ``loss`` on the loan, no more than the cover left.
        ValueError for a negative loss."""
        if loss < 0:
            raise ValueError("loss cannot be negative")
        return min(loss, self.left(disbursed, used))
