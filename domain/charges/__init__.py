"""Loan charges: upfront fees and GST, pass-through (third-party) charges, penal charges, cooling-off exit.

Money is integer paise at every boundary; percentages are ``Decimal`` percents (``Decimal("2")`` is 2%).
A float anywhere in money code raises ``TypeError``; a bad value raises ``ValidationError`` naming the field.

Sources and conventions
-----------------------
* Upfront charges and the net disbursed amount follow RBI's "Key Facts Statement (KFS) for Loans &
  Advances" (RBI/2024-25/18, DOR.STR.REC.13/13.03.00/2024-25, 15 April 2024): Annex A part 1 item 8 splits
  fees/charges into those *payable to the RE* (A) and those *payable to a third party through the RE* (B)
  (processing fees, insurance charges, valuation fees, any other); Annex B row 7 defines the net disbursed
  amount as the sanctioned amount minus all fees/charges (A and B). Para 7 of the circular: charges
  recovered on behalf of third parties (insurance, legal charges …) on actual basis are also part of the APR.
* GST: lender fees (processing, documentation …) are taxable financial services, 18% by default
  (configurable). GST is shown as its own line per taxable fee, computed on that fee and rounded half-up
  to the paisa (one line per fee, as a tax invoice does). Third-party charges are passed through at the
  amount the third party bills: the lender adds no GST to them. The KFS allows fees to be *disclosed* net
  of GST, but the GST is still deducted from the disbursal, so it is part of the deductions here.
* Penal charges follow RBI's "Fair Lending Practice – Penal Charges in Loan Accounts"
  (RBI/2023-24/53, DoR.MCS.REC.28/01.01.001/2023-24, 18 August 2023, in force for new loans from
  1 April 2024): a penalty for non-compliance is a *penal charge*, never *penal interest* added to the rate
  of interest; there is no capitalisation of penal charges and no further interest is computed on them;
  the quantum must be reasonable and disclosed in the KFS. Here a product configures either a flat amount
  per occurrence or a percent per annum of the overdue amount for the days overdue (simple, never
  compounded); the result is a separate receivable (see ``Outstanding``) that never joins the principal.
  No GST is added to penal charges (treated as a penalty, not consideration for a supply).
* Cooling-off (look-up) exit follows RBI's digital lending rules ("Guidelines on Digital Lending",
  2 September 2022, para 6; carried into the RBI (Digital Lending) Directions, 2025): during the cooling-off
  period the borrower may exit by paying the principal and the proportionate APR, without any penalty.

The package, by seam:

* ``domain.charges.common``: who a charge is for (``ChargeKind``), its KFS row (``KfsHead``), the penal bases
  (``PenalBasis``), the defaults and the checks every charge shares (paise, percents, no floats);
* ``domain.charges.config``: what a product charges (``FeeSpec``, ``ChargeConfig``), read from its stored JSON by
  ``charge_config_from_dict``;
* ``domain.charges.upfront``: the upfront charge lines, their GST and the net disbursed amount
  (``compute_upfront_charges``, ``UpfrontCharges``, ``ChargeLine``);
* ``domain.charges.penal``: penal charges (``PenalChargeSpec``, ``penal_charge``, ``levy_penal_charges``) and the
  separate buckets they are levied into (``Outstanding``);
* ``domain.charges.cooling_off``: the cooling-off exit amount (``cooling_off_exit_amount``).

``domain.charges`` re-exports every public name: import from it, as before the split.
"""

from __future__ import annotations

# ruff: noqa: F401
# (this module only re-exports the names of its package)
from domain.charges.common import (
    DEFAULT_COOLING_OFF_DAYS,
    DEFAULT_GST_PERCENT,
    HUNDRED,
    ChargeKind,
    KfsHead,
    PenalBasis,
)
from domain.charges.config import (
    ChargeConfig,
    FeeSpec,
    charge_config_from_dict,
)
from domain.charges.cooling_off import cooling_off_exit_amount
from domain.charges.penal import (
    Outstanding,
    PenalChargeSpec,
    levy_penal_charges,
    penal_charge,
)
from domain.charges.upfront import (
    ChargeLine,
    UpfrontCharges,
    compute_upfront_charges,
)

__all__ = [
    "ChargeConfig",
    "ChargeKind",
    "ChargeLine",
    "DEFAULT_COOLING_OFF_DAYS",
    "DEFAULT_GST_PERCENT",
    "FeeSpec",
    "KfsHead",
    "Outstanding",
    "PenalBasis",
    "PenalChargeSpec",
    "UpfrontCharges",
    "compute_upfront_charges",
    "cooling_off_exit_amount",
    "levy_penal_charges",
    "penal_charge",
]
