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
=====================  =========  =========================================================================

Events: ``funded`` (disbursal: Dr CL_PRINCIPAL, Cr CL_FUNDING for the originator; the partner's share Cr
CL_FUNDING_DUE until its UTR, then ``partner_funded``: Dr CL_FUNDING_DUE, Cr CL_FUNDING) and ``collected`` (a
payment's parts: Dr CL_COLLECTIONS, Cr CL_PRINCIPAL / CL_INTEREST_INCOME / CL_FEE_INCOME / CL_PENAL_INCOME).
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
