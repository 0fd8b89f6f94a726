"""KFS Annex A part 2 from a brand's settings (RBI KFS circular RBI/2024-25/18, 15 April 2024; RBI (Digital
Lending) Directions, 2025): the lender's legal name, the recovery-agents clause with the link to the lender's
policy on them, the grievance redressal clause with the grievance officer and the nodal officer, and the
partner (co-lending partner or lending service provider) named to the borrower.

The clauses state what RBI requires of every regulated entity, not the brand's own promises: recovery agents
may call only between 8:00 a.m. and 7:00 p.m. (RBI, "Outsourcing of financial services – responsibilities of
regulated entities employing recovery agents", 12 August 2022), and a complaint not answered by the lender within
30 days, or rejected, may go to the RBI Integrated Ombudsman (Reserve Bank – Integrated Ombudsman Scheme, 2021).
"""

from __future__ import annotations

from domain.brand_config import BrandConfig
from domain.kfs.statement import Disclosures

OMBUDSMAN_URL = "https://cms.rbi.org.in"


def _text(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def disclosures_from_brand(config: BrandConfig, brand_name: str | None = None) -> Disclosures:
    """Annex A part 2 filled from the brand's settings (``BrandConfig.of(brand.config)``); what the brand has
    not set stays None (the KFS shows it as not provided). ``brand_name`` names the lender when no legal name
    is set."""
    lender = _text(config.lender_legal_name) or _text(brand_name) or "The lender"
    policy = _text(config.recovery_policy_url)
    recovery = (
        f"{lender} may engage recovery agents for amounts overdue. They act under {lender}'s policy on recovery "
        "agents" + (f" ({policy})" if policy else "") + " and RBI's Fair Practices Code, identify themselves, and "
        "do not contact the borrower before 8:00 a.m. or after 7:00 p.m."
    )
    officer = _text(config.grievance_officer)
    nodal = _text(config.nodal_officer)
    grievance = (
        f"A complaint may be made to {lender}'s grievance redressal officer"
        + (f" ({officer})" if officer else "")
        + (f"; if it is not resolved, to the nodal officer ({nodal})" if nodal else "")
        + ". If the complaint is not answered within 30 days, or is rejected, the borrower may complain to the RBI "
        f"Integrated Ombudsman ({OMBUDSMAN_URL})."
    )
    partner = _text(config.partner_name)
    return Disclosures(
        recovery_agents_clause=recovery,
        grievance_redressal_clause=grievance,
        grievance_officer=officer,
        lsp_details=partner,
        lender_legal_name=_text(config.lender_legal_name),
        nodal_officer=nodal,
        recovery_policy_url=policy,
        partner_name=partner,
    )
