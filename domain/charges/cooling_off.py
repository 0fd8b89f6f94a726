"""The cooling-off (look-up) exit of a digital loan (RBI "Guidelines on Digital Lending", 2 September 2022,
para 6; carried into the RBI (Digital Lending) Directions, 2025): the principal and the proportionate APR, without
any penalty.
"""

from __future__ import annotations

from decimal import Decimal

from domain.charges.common import HUNDRED, _no_float, _paise, _percent
from domain.errors import ValidationError
from domain.money import round_paise


def cooling_off_exit_amount(
    principal: int,
    apr_percent: Decimal,
    days_held: int,
    days_in_year: int = 365,
    *,
    cooling_off_days: int | None = None,
) -> int:
    """What a borrower pays to exit a digital loan during the cooling-off (look-up) period, in paise.

    RBI Guidelines on Digital Lending (2 September 2022, para 6; retained in the RBI (Digital Lending)
    Directions, 2025): the borrower may exit "by paying the principal and the proportionate APR without any
    penalty". Convention: principal + principal × apr_percent / 100 × days_held / days_in_year, simple
    interest on actual days held (disbursal date to exit date, ``(exit - disbursed).days``), the APR part
    rounded half-up to the paisa; no foreclosure or other penalty is added. ``principal`` is the amount to
    be returned: the circular says "principal"; pass the net disbursed amount instead if the product
    refunds the upfront charges on exit. If ``cooling_off_days`` is given, an exit after it is refused.
    """
    principal = _paise(principal, "principal", positive=True)
    apr = _percent(apr_percent, "apr_percent", maximum=Decimal(10_000))
    _no_float(days_held, "days_held")
    if isinstance(days_held, bool) or not isinstance(days_held, int) or days_held < 0:
        raise ValidationError("days held must be a whole number, not negative", field="days_held")
    if isinstance(days_in_year, bool) or days_in_year not in (360, 364, 365, 366):
        raise ValidationError("days in year must be 360, 364, 365 or 366", field="days_in_year")
    if cooling_off_days is not None and days_held > cooling_off_days:
        raise ValidationError("the cooling-off period is over", field="days_held")
    return principal + round_paise(Decimal(principal) * apr * days_held / (HUNDRED * days_in_year))
