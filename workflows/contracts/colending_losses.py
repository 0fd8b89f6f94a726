"""Inputs and outputs of co-lending's losses and default-loss guarantee (``workflows.colending``,
``activities.colending_losses``). Dataclasses, so fields can be added later without breaking recorded histories;
money is integer paise, dates IST."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class CoLendLoss:
    """A loss on a co-lent loan to split between the lenders once (``reference``): ``kind`` CL_WAIVER (penal
    waived), CL_SETTLEMENT (the rest waived when a settlement is paid) or CL_WRITE_OFF, by component (paise), on
    ``value_date`` (IST). A write-off also invokes the agreement's default-loss guarantee."""

    loan_id: str
    brand_id: str
    kind: str
    reference: str
    principal: int
    interest: int
    fees: int
    penal: int
    value_date: date
    dpd: int = 0


@dataclass
class CoLendOverdue:
    """A co-lent loan's DPD on ``as_of`` (IST), for the default-loss guarantee's invocation day."""

    loan_id: str
    brand_id: str
    dpd: int
    as_of: date
