"""Partner lenders (NBFCs lending through the brand): eligibility decision tables (``rules``), the offer engine
(``offers``) and the routing rules (``routing``). Pure: standard library and ``domain`` only. How it fits
together: docs/partner-lenders.md."""

from domain.partners.offers import Offer, PartnerPricing, compute_offer, offer_charges, stored_lines
from domain.partners.routing import (
    AttemptOutcome,
    SlaStep,
    falls_back,
    parse_sla,
    route_order,
    sla_summary,
)
from domain.partners.rules import DecisionTable, Eligibility, Limits, Rule, application_facts, parse_rules

__all__ = [
    "AttemptOutcome",
    "DecisionTable",
    "Eligibility",
    "Limits",
    "Offer",
    "PartnerPricing",
    "Rule",
    "SlaStep",
    "application_facts",
    "compute_offer",
    "falls_back",
    "offer_charges",
    "parse_rules",
    "parse_sla",
    "route_order",
    "sla_summary",
    "stored_lines",
]
