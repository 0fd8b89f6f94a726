"""The brand's name and general configuration: /settings/brand.

The answer's ``config`` (what the brand set) and ``effective`` (what the code uses) are typed from the models
that own the keys, so a key added there shows here: the wire names and types of ``api.brand_config``'s input
models (``BrandConfigIn`` and its ``bre`` and ``paymentAllocation`` blocks), and which keys can be null from
the read model ``domain.brand_config.BrandConfig``.
"""

from __future__ import annotations

import json
import operator
import types
from functools import reduce
from typing import Any, Union, get_args, get_origin, get_type_hints

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, create_model

from api.access import audit
from api.brand_config import BrandConfigIn, BrandSettingsIn, BreSettings, PaymentAllocation, brand_view, update_brand
from api.partner.settings.common import Db, Manager, Viewer, settings_router
from api.responses import ApiModel
from db.models import Brand
from domain.brand_config import BrandConfig

router = settings_router()

# What each key means, in words and units (docs/settings.md has the ranges and the defaults).
MEANING = {
    "min_credit_score": "bureau score an application needs (the evaluation's default items; the BRE's if no bre)",
    "auto_sanction_score": "bureau score from which the default evaluation items sanction without review",
    "esign_expiry_seconds": "seconds the agreement's eSign stays open",
    "kyc_steps": "the KYC steps a loan goes through, PAN first",
    "kyc_timeout_seconds": "seconds the KYC phase waits for the customer",
    "name_match_threshold": "penny drop name match needed, 0–100",
    "ckyc_match_threshold": "CKYC name match needed, 0–100",
    "mobile_pan_must_match": "the mobile number must belong to the PAN",
    "aa_enabled": "bank statements through the account aggregator",
    "bre": "the BRE's hard rules; once set, the BRE reads only these",
    "evaluation_version": "the evaluation engine's version",
    "auto_sanction_threshold": "evaluation score from which a loan is sanctioned without review, 0–100",
    "manual_review_threshold": "evaluation score from which a loan goes to manual review (below: rejected), 0–100",
    "allocation_role": "the staff role loans under manual review are auto-allocated to",
    "allocation_cap": "loans one staff member holds at most through auto-allocation",
    "customer_allocation_role": "the staff role new customers are allocated to",
    "customer_allocation_cap": "customers one staff member holds at most; null: no cap",
    "cam_required": "forwarding a loan needs its CAM saved",
    "prepayment_mode": "what an advance to principal reduces",
    "npa_days": "days past due from which a loan is a non-performing asset",
    "cooling_off_days": "the cooling-off (look-up) period after disbursal, in days; never below RBI's floor of 3 "
    "(1 for tenors under 7 days)",
    "reminder_days": "days before each due date the payment reminder goes",
    "autopay_retries": "further autopay debits after a failed one",
    "autopay_retry_days": "days between autopay debits after a failure",
    "min_prepayment": "the least a borrower may pay ahead through a link, in paise",
    "allocation": "how a repayment is split over dues (the repayment waterfall)",
    "collections": "collection buckets, pre-collection days, escalation DPD, the role per bucket, write-off DPD, "
    "waiver and settlement limits per role, settlement deadline days (docs/collections.md)",
    "reloan": "reloan offers at closure in good standing: max DPD, step-up percent, cap, offer days, KYC validity days",
    # the bre block
    "min_bureau_score": "lowest bureau score accepted",
    "max_dpd": "worst days past due accepted on any bureau account in the lookback window",
    "dpd_lookback_months": "months of bureau history maxDpd looks at",
    "max_active_loans": "active loans on the bureau report accepted at most",
    "max_enquiries_30d": "bureau enquiries in the 30 days before the application accepted at most",
    "min_age": "youngest applicant accepted, in years",
    "max_age": "oldest applicant accepted, in years",
    "rejection_duration_days": "days a rejected applicant waits before applying again in this brand",
    "enable_central_dedup": "refuse a PAN with an active loan in another brand",
    # the paymentAllocation block
    "overdue_order": "the order components of overdue installments are paid in",
    "current_order": "the order components of the current installment are paid in",
    "processing": "overdue installments: VERTICAL one component across all, HORIZONTAL one installment at a time",
    "current_rule": "which installment is current: the next one due, or only one due on the payment date",
    "advance_to_principal": "money left after the dues pays future principal (else it stays a credit)",
}
_NONE = type(None)


def _answer_type(annotation: Any, nested: dict[Any, type[BaseModel]], *, nullable: bool = True) -> Any:
    """An input annotation as an answer's: nested input models replaced by their answer models, ``None``
    dropped when the value cannot be null."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = tuple(_answer_type(a, nested) for a in get_args(annotation) if nullable or a is not _NONE)
        return reduce(operator.or_, args)
    return nested.get(annotation, annotation)


def _answer_model(
    name: str,
    doc: str,
    source: type[BaseModel],
    nested: dict[Any, type[BaseModel]] | None = None,
    *,
    required: bool = False,
    nullable: frozenset[str] | None = None,
) -> type[ApiModel]:
    """``source``'s fields as an answer: the same wire names and types, without the input checks. ``required``:
    every key is always there (else only the keys set are, see ``response_model_exclude_unset``); ``nullable``:
    the keys that may then be null."""
    fields: dict[str, Any] = {}
    for field_name, field in source.model_fields.items():
        may_be_null = not required or nullable is None or field_name in nullable
        annotation = _answer_type(field.annotation, nested or {}, nullable=may_be_null)
        description = MEANING.get(field_name) or field.description
        alias = field.alias or field_name  # the wire name, exactly as api.brand_config writes it
        default = ... if required else None
        fields[field_name] = (annotation, Field(default, alias=alias, description=description))
    return create_model(name, __base__=ApiModel, __doc__=doc, __module__=__name__, **fields)


BreRules = _answer_model("BreRules", "The BRE's hard rules (domain.bre.BreConfig); only the rules set.", BreSettings)
Waterfall = _answer_model(
    "Waterfall", "How a repayment is split over dues (domain.allocation.AllocationConfig).", PaymentAllocation
)
_NESTED: dict[Any, type[BaseModel]] = {BreSettings: BreRules, PaymentAllocation: Waterfall}
ConfigSet = _answer_model("ConfigSet", "The configuration keys the brand set (only those).", BrandConfigIn, _NESTED)
ConfigEffective = _answer_model(
    "ConfigEffective",
    "Every configuration key with the value the code uses: the brand's, else the default.",
    BrandConfigIn,
    _NESTED,
    required=True,
    nullable=frozenset(name for name, hint in get_type_hints(BrandConfig).items() if _NONE in get_args(hint)),
)


class BrandSettings(ApiModel):
    """The brand's name and general configuration."""

    id: str
    code: str
    name: str
    is_active: bool
    config: ConfigSet  # type: ignore[valid-type]  # (built above from the input models)
    effective: ConfigEffective  # type: ignore[valid-type]


def _answer(brand: Brand) -> dict[str, Any] | JSONResponse:
    """The brand's view. A stored value the models do not describe (never saved through these routes: text for
    a score, an unknown ``bre`` key...) is shown as stored, to be fixed (``api.brand_config.effective_view``), so
    such an answer skips the model, which would refuse or convert it; the view's own keys are still checked."""
    view = brand_view(brand)
    try:
        BrandSettings.model_validate_json(json.dumps(jsonable_encoder(view)), strict=True)
    except ValidationError as exc:
        if all(error["loc"][:1] in (("config",), ("effective",)) for error in exc.errors()):
            return JSONResponse(jsonable_encoder(view))
    return view


@router.get("/brand", response_model=BrandSettings, response_model_exclude_unset=True)
def get_brand(brand_id: str, staff: Viewer, session: Db) -> dict[str, Any] | JSONResponse:
    """The brand's name and configuration: ``config`` what it set, ``effective`` what the code uses."""
    return _answer(session.get_one(Brand, brand_id))


@router.put("/brand", response_model=BrandSettings, response_model_exclude_unset=True)
def put_brand(
    request: Request, brand_id: str, body: BrandSettingsIn, staff: Manager, session: Db
) -> dict[str, Any] | JSONResponse:
    """Partial update of the name and configuration: only the keys sent change, ``null`` resets a key."""
    brand = session.get_one(Brand, brand_id, with_for_update=True)
    before, after = update_brand(session, brand, body)
    audit(session, request, staff, "settings.brand.update", "brand", brand.id, before=before, after=after)
    session.commit()
    return _answer(brand)
