"""The Key Facts Statement (KFS) of one loan, as RBI prescribes it, ready to render into the agreement.

Source: RBI circular "Key Facts Statement (KFS) for Loans & Advances" (RBI/2024-25/18,
DOR.STR.REC.13/13.03.00/2024-25, 15 April 2024), which harmonises the earlier KFS of the Digital Lending
guidelines (2 September 2022) and the microfinance directions:

* Annex A part 1 (interest rate and fees/charges): 1 loan proposal/account no. and type of loan;
  2 sanctioned loan amount; 3 disbursal schedule (100% upfront or in stages, with the agreement clause);
  4 loan term; 5 instalment details (type, number of EPIs, EPI amount, commencement of repayment post
  sanction); 6 interest rate and type (fixed/floating/hybrid); 7 for floating rates: reference benchmark,
  benchmark rate (B), spread (S), final rate R = B + S, reset periodicity and the impact of a 25 bps change
  on the EPI and the number of EPIs; 8 fee/charges, (A) payable to the RE and (B) payable to a third party
  through the RE, one-time or recurring: (i) processing fees, (ii) insurance charges, (iii) valuation fees,
  (iv) any other; 9 APR (computed as in Annex B); 10 contingent charges: (i) penal charges for delayed
  payment, (ii) other penal charges, (iii) foreclosure charges, (iv) charges for switching floating ↔
  fixed, (v) any other (bounce/dishonour charges here).
* Annex A part 2 (qualitative): recovery-agent clause, grievance redressal clause, nodal grievance officer
  contact, whether the loan may be transferred/securitised, co-lending details, and for digital loans the
  cooling-off/look-up period and the LSP acting as recovery agent.
* Annex B rows: total interest over the tenor, fee/charges payable (A + B), net disbursed amount (sanctioned −
  charges), total amount to be paid by the borrower (sanctioned + total interest), APR.
* Annex C: the repayment schedule: instalment no., outstanding principal, principal, interest, instalment.

Amounts are integer paise; ``as_dict`` gives each amount as ``<name>_paise`` (int) and ``<name>_inr``
(``₹20,000.00``), rates as strings with two decimals, dates as ISO strings.

The package, by seam: ``domain.kfs.statement`` holds the statement and its parts (``KeyFactStatement``,
``FeeItem``, ``FloatingRateInfo``, ``ContingentCharges``, ``Disclosures``, ``RepaymentRow`` and their enums) with
``as_dict``; ``domain.kfs.builder`` builds one from a schedule and its upfront charges (``build_kfs``).
``domain.kfs.validity`` names a version (``kfs_hash``) and its validity (``kfs_valid_until``);
``domain.kfs.disclosures`` fills Annex A part 2 from the brand's settings (``disclosures_from_brand``).
``domain.kfs`` re-exports every public name: import from it, as before the split.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.kfs.builder import build_kfs
from domain.kfs.disclosures import disclosures_from_brand
from domain.kfs.statement import (
    NIL,
    TWO_PLACES,
    ContingentCharges,
    Disclosures,
    FeeItem,
    FloatingRateInfo,
    InterestRateType,
    KeyFactStatement,
    PayableTo,
    Recurrence,
    RepaymentRow,
)
from domain.kfs.validity import (
    canonical_json,
    kfs_hash,
    kfs_valid_until,
    validity_working_days,
    working_day_calendar,
)

__all__ = [
    "ContingentCharges",
    "Disclosures",
    "FeeItem",
    "FloatingRateInfo",
    "InterestRateType",
    "KeyFactStatement",
    "PayableTo",
    "Recurrence",
    "RepaymentRow",
    "build_kfs",
    "canonical_json",
    "disclosures_from_brand",
    "kfs_hash",
    "kfs_valid_until",
    "validity_working_days",
    "working_day_calendar",
]
