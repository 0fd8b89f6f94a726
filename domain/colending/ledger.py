"""Each lender's ledger sub-accounts of a co-lent loan: one balanced transaction per lender per event, so the
originator's and the partner's books each balance on their own, and the two together are the loan's figures.

Accounts (``<ACCOUNT>`` per lender; debit > 0, credit < 0, integer paise):

=====================  =========  =========================================================================
account                type       holds
=====================  =========  =========================================================================
CL_PRINCIPAL           asset      the lender's share of the principal outstanding
CL_FUNDING             liability  what the lender put into the loan (its funding, received)
CL_FUNDING_DUE         liability  the partner's share advanced by the originator, pending its funding (UTR)
CL_COLLECTIONS         asset      repayments collected for the lender (owed to it until settled)
CL_INTEREST_INCOME     income     interest on the lender's share at its own rate
CL_FEE_INCOME          income     fees the agreement gives the lender
CL_PENAL_INCOME        income     penal charges the agreement gives the lender
CL_LOSS                expense    the lender's part of what was waived, settled below dues or written off
CL_INTEREST_FORGONE    memo       interest waived or written off (the sub-ledger books income when collected)
CL_FEE_FORGONE         memo       fees waived or written off
CL_PENAL_FORGONE       memo       penal charges waived or written off
CL_<C>_RECOVERED       income     what was recovered after the write-off, by component (principal, interest,
                                  fees, penal: CL_PRINCIPAL_RECOVERED, CL_INTEREST_RECOVERED, CL_FEE_RECOVERED,
                                  CL_PENAL_RECOVERED)
CL_EXCESS_RECOVERED    income     the originator's: a recovery beyond everything written off
CL_DLG_PAID            expense    originator: what its default-loss guarantee paid the partner on the loan, less
                                  what the partner's recoveries paid back
CL_DLG_COVER           asset      originator: the cover set aside, drawn by the invocation (credit)
CL_DLG_RECEIVED        asset      partner: the DLG's payment to it (received from the originator's cover)
CL_LOSS_COVERED        contra     partner: its loss reduced by the DLG (credit), less what it paid back
=====================  =========  =========================================================================

Events: ``funded`` (disbursal: Dr CL_PRINCIPAL, Cr CL_FUNDING for the originator; the partner's share Cr
CL_FUNDING_DUE until its UTR, then ``partner_funded``: Dr CL_FUNDING_DUE, Cr CL_FUNDING) and ``collected`` (a
payment's parts: Dr CL_COLLECTIONS, Cr CL_PRINCIPAL / CL_INTEREST_INCOME / CL_FEE_INCOME / CL_PENAL_INCOME) and
``lost`` (a waiver, a settlement's waiver or a write-off, split as payments are: Dr CL_LOSS, Cr CL_PRINCIPAL for the
principal lost and CL_<COMPONENT>_FORGONE for income given up). Since the sub-ledger books income only when it is
collected, interest, fees and penal charges given up never were an asset of the lender: their legs are a balanced memo
(Dr CL_LOSS, Cr CL_*_FORGONE) that says how much each lender gave up; the principal lost leaves CL_PRINCIPAL, so a
written-off or settled loan's principal is zero on both sub-ledgers.

After a write-off, ``recovered`` (a lender's part of money recovered: Dr CL_COLLECTIONS, Cr CL_<C>_RECOVERED), the
DLG's ``dlg_invoked`` (originator Dr CL_DLG_PAID / Cr CL_DLG_COVER; partner Dr CL_DLG_RECEIVED / Cr CL_LOSS_COVERED)
and ``dlg_repaid`` (the partner's recovered part paying the DLG back: partner Dr CL_LOSS_COVERED / Cr
CL_COLLECTIONS, originator Dr CL_COLLECTIONS / Cr CL_DLG_PAID), each balanced per lender
(``domain.colending.recovery``, ``domain.colending.dlg``).
"""

from __future__ import annotations

from domain.colending.split import Parts
from domain.ledger.transactions import Leg, Transaction

ORIGINATOR = "ORIGINATOR"
PARTNER = "PARTNER"
LENDERS = (ORIGINATOR, PARTNER)
CL_PRINCIPAL = "CL_PRINCIPAL"
CL_FUNDING = "CL_FUNDING"
CL_FUNDING_DUE = "CL_FUNDING_DUE"
CL_COLLECTIONS = "CL_COLLECTIONS"
CL_INTEREST_INCOME = "CL_INTEREST_INCOME"
CL_FEE_INCOME = "CL_FEE_INCOME"
CL_PENAL_INCOME = "CL_PENAL_INCOME"
INCOME = {"principal": CL_PRINCIPAL, "interest": CL_INTEREST_INCOME, "fees": CL_FEE_INCOME,
          "penal": CL_PENAL_INCOME}  # fmt: skip
CL_LOSS = "CL_LOSS"
CL_INTEREST_FORGONE = "CL_INTEREST_FORGONE"
CL_FEE_FORGONE = "CL_FEE_FORGONE"
CL_PENAL_FORGONE = "CL_PENAL_FORGONE"
FORGONE = {"principal": CL_PRINCIPAL, "interest": CL_INTEREST_FORGONE, "fees": CL_FEE_FORGONE,
           "penal": CL_PENAL_FORGONE}  # fmt: skip
#: The loss events: a penal waiver, the waiver of a settlement paid below dues, a write-off.
CL_WAIVER, CL_SETTLEMENT, CL_WRITE_OFF = "CL_WAIVER", "CL_SETTLEMENT", "CL_WRITE_OFF"
LOSS_KINDS = (CL_WAIVER, CL_SETTLEMENT, CL_WRITE_OFF)


RECOVERED = {"principal": "CL_PRINCIPAL_RECOVERED", "interest": "CL_INTEREST_RECOVERED",
             "fees": "CL_FEE_RECOVERED", "penal": "CL_PENAL_RECOVERED"}  # fmt: skip
CL_EXCESS_RECOVERED = "CL_EXCESS_RECOVERED"
CL_DLG_PAID, CL_DLG_COVER = "CL_DLG_PAID", "CL_DLG_COVER"
CL_DLG_RECEIVED, CL_LOSS_COVERED = "CL_DLG_RECEIVED", "CL_LOSS_COVERED"
#: Events after a write-off: a recovery, the DLG invoked, the DLG paid back from the partner's recovery.
CL_RECOVERY, CL_DLG_INVOKED, CL_DLG_REPAID = "CL_RECOVERY", "CL_DLG_INVOKED", "CL_DLG_REPAID"


def _txn(kind: str, legs: list[tuple[str, int]]) -> Transaction | None:
    kept = tuple(Leg(a, v) for a, v in legs if v != 0)
    return Transaction(kind, kept) if kept else None


def funded(lender: str, principal: int) -> Transaction | None:
    """The lender's share of the principal at disbursal: Dr CL_PRINCIPAL; Cr CL_FUNDING for the originator (its own
    money), Cr CL_FUNDING_DUE for the partner (advanced until its funding arrives). None for a zero share.
    ValueError for a negative principal."""
    if principal < 0:
        raise ValueError("principal cannot be negative")
    if lender == ORIGINATOR:
        return _txn("CL_DISBURSAL", [(CL_PRINCIPAL, principal), (CL_FUNDING, -principal)])
    return _txn("CL_DISBURSAL", [(CL_PRINCIPAL, principal), (CL_FUNDING_DUE, -principal)])


def partner_funded(amount: int) -> Transaction | None:
    """The partner's funding of its share received (its UTR): CL_FUNDING_DUE cleared into CL_FUNDING."""
    if amount < 0:
        raise ValueError("amount cannot be negative")
    return _txn("CL_PARTNER_FUNDED", [(CL_FUNDING_DUE, amount), (CL_FUNDING, -amount)])


def collected(parts: Parts) -> Transaction | None:
    """A lender's part of one payment: Dr CL_COLLECTIONS its total, Cr each component's account. None when the
    lender's part is zero. ValueError for a negative component."""
    if min(parts.principal, parts.interest, parts.fees, parts.penal) < 0:
        raise ValueError("parts cannot be negative")
    legs = [(CL_COLLECTIONS, parts.total)] + [(INCOME[c], -parts.get(c)) for c in INCOME]
    return _txn("CL_REPAYMENT", legs)


def lost(kind: str, parts: Parts) -> Transaction | None:
    """A lender's part of a loss (``kind`` one of :data:`LOSS_KINDS`): Dr CL_LOSS its total, Cr CL_PRINCIPAL for the
    principal lost and the ``*_FORGONE`` memo accounts for interest, fees and penal charges given up. None when the
    lender's part is zero. ValueError for an unknown kind or a negative component."""
    if kind not in LOSS_KINDS:
        raise ValueError(f"unknown loss kind {kind!r}")
    if min(parts.principal, parts.interest, parts.fees, parts.penal) < 0:
        raise ValueError("parts cannot be negative")
    legs = [(CL_LOSS, parts.total)] + [(FORGONE[c], -parts.get(c)) for c in FORGONE]
    return _txn(kind, legs)


def resolved_component(kind: str, account: str) -> str | None:
    """The component (principal, interest, fees, penal) a leg resolves, for the split's running totals: a
    repayment's credit to CL_PRINCIPAL or an income account, or a loss's credit to CL_PRINCIPAL or a forgone
    account; None for any other leg."""
    if kind == "CL_REPAYMENT":
        return next((c for c, a in INCOME.items() if a == account), None)
    if kind in LOSS_KINDS:
        return next((c for c, a in FORGONE.items() if a == account), None)
    return None


def recovered(parts: Parts, excess: int = 0) -> Transaction | None:
    """A lender's part of money recovered after the write-off: Dr CL_COLLECTIONS its total, Cr CL_<C>_RECOVERED by
    component and CL_EXCESS_RECOVERED for the ``excess`` beyond what was written off (the originator's). None for a
    zero part. ValueError for a negative figure."""
    if min(parts.principal, parts.interest, parts.fees, parts.penal, excess) < 0:
        raise ValueError("parts cannot be negative")
    legs = [(CL_COLLECTIONS, parts.total + excess), (CL_EXCESS_RECOVERED, -excess)]
    return _txn(CL_RECOVERY, legs + [(RECOVERED[c], -parts.get(c)) for c in RECOVERED])


def dlg_invoked(lender: str, amount: int) -> Transaction | None:
    """The DLG invoked on the loan for ``amount`` paise: the originator pays it out of its cover (Dr CL_DLG_PAID,
    Cr CL_DLG_COVER), the partner receives it against its loss (Dr CL_DLG_RECEIVED, Cr CL_LOSS_COVERED). None for
    zero; ValueError for a negative amount or an unknown lender."""
    if amount < 0 or lender not in LENDERS:
        raise ValueError("amount cannot be negative; lender ORIGINATOR or PARTNER")
    if lender == ORIGINATOR:
        return _txn(CL_DLG_INVOKED, [(CL_DLG_PAID, amount), (CL_DLG_COVER, -amount)])
    return _txn(CL_DLG_INVOKED, [(CL_DLG_RECEIVED, amount), (CL_LOSS_COVERED, -amount)])


def dlg_repaid(lender: str, amount: int) -> Transaction | None:
    """``amount`` paise of the partner's recovered part paid back to the originator for the DLG invoked: the
    partner's collections pass to the originator (partner Dr CL_LOSS_COVERED, Cr CL_COLLECTIONS; originator Dr
    CL_COLLECTIONS, Cr CL_DLG_PAID). The cover is not reinstated (RBI DLG FAQs). None for zero; ValueError for a
    negative amount or an unknown lender."""
    if amount < 0 or lender not in LENDERS:
        raise ValueError("amount cannot be negative; lender ORIGINATOR or PARTNER")
    if lender == ORIGINATOR:
        return _txn(CL_DLG_REPAID, [(CL_COLLECTIONS, amount), (CL_DLG_PAID, -amount)])
    return _txn(CL_DLG_REPAID, [(CL_LOSS_COVERED, amount), (CL_COLLECTIONS, -amount)])


def recovered_component(kind: str, account: str) -> str | None:
    """The component a recovery leg credits (principal, interest, fees, penal, or ``excess``); None for any other
    leg."""
    if kind != CL_RECOVERY:
        return None
    if account == CL_EXCESS_RECOVERED:
        return "excess"
    return next((c for c, a in RECOVERED.items() if a == account), None)
