"""Business data vendors for SME invoice financing (kind ``sme``): GSTIN, GST returns, MCA company data and
GSTR-1 invoice confirmation (Karza), the bank statement summary (Perfios), the commercial bureau (CRIF).
``SME_VENDORS`` names the adapter of each vendor; a brand lists them under ``providers.sme`` (every operation goes
to the first active vendor that has it)."""

from __future__ import annotations

from activities.providers.sme.crif import CrifCommercial
from activities.providers.sme.karza import KarzaBusiness
from activities.providers.sme.perfios import PerfiosStatement

SME_VENDORS: dict[str, type] = {"karza": KarzaBusiness, "perfios": PerfiosStatement, "crif": CrifCommercial}

__all__ = ["SME_VENDORS", "CrifCommercial", "KarzaBusiness", "PerfiosStatement"]
