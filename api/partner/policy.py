"""Credit policy versions and simulation: publish the brand's BRE and evaluation as a numbered version, and run a
draft against recent decisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Allow, audit
from api.brand_config import BreSettings, check_evaluation
from api.deps import is_uuid
from api.partner.common import Db, find_loan, staff_router
from api.partner.settings.common import Strict, api_alias
from api.partner.settings.evaluation_items import ItemIn, _item_columns
from api.responses import ApiModel
from api.security import Principal
from db.credit_policy import current_config, latest_version
from db.models import Brand, PolicySimulation, PolicyVersion
from db.past_decisions import past_applications
from domain import bre, evaluation
from domain.access import Permission as P
from domain.errors import Conflict, NotFound, ValidationError
from domain.evaluation import EngineVersion
from domain.policy_simulation import MAX_ITEMS, MAX_SAMPLE, apply, check_limits, policy_from_config, simulate

router = staff_router()
Manager = Annotated[Principal, Allow(P.SETTINGS_MANAGE, api_key=False)]
Viewer = Annotated[Principal, Allow(P.SETTINGS_VIEW)]
Explainer = Annotated[Principal, Allow(P.LOANS_VIEW)]
BASE = "/brand/{brand_id}/policy"


# ---------------------------------------------------------------------------------------------- versions
class PublishIn(Strict):
    notes: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=500)] = None


class PolicyVersionView(ApiModel):
    """A published version of the brand's credit policy."""

    id: str
    version: int
    config: dict[str, Any] = Field(
        description="bre (every rule, null unset) and evaluation (version, thresholds, items)"
    )
    notes: str | None
    published_by: str | None
    published_at: str


def _version_view(v: PolicyVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "version": v.version,
        "config": v.config,
        "notes": v.notes,
        "publishedBy": v.published_by,
        "publishedAt": v.published_at.isoformat(),
    }


@router.post(BASE + "/versions", response_model=PolicyVersionView, status_code=201)
def publish_version(request: Request, brand_id: str, body: PublishIn, staff: Manager, session: Db) -> dict:
    """Publish the brand's current BRE rules and evaluation items as its next version."""
    brand = session.get_one(Brand, brand_id, with_for_update=True)  # one publisher at a time per brand
    row = PolicyVersion(
        brand_id=brand_id,
        version=latest_version(session, brand_id) + 1,
        config=current_config(session, brand),
        notes=body.notes,
        published_by=staff.id if is_uuid(staff.id) else None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("another version was published at the same time", field="version") from exc
    audit(session, request, staff, "POLICY_VERSION_PUBLISHED", "policy_version", row.id, after={"version": row.version})
    return _version_view(row)


@router.get(BASE + "/versions", response_model=list[PolicyVersionView])
def list_versions(brand_id: str, staff: Viewer, session: Db) -> list[dict]:
    rows = session.scalars(
        select(PolicyVersion).where(PolicyVersion.brand_id == brand_id).order_by(PolicyVersion.version.desc())
    )
    return [_version_view(v) for v in rows]


def _version(session: Session, brand_id: str, version: int) -> PolicyVersion:
    row = session.scalars(
        select(PolicyVersion).where(PolicyVersion.brand_id == brand_id, PolicyVersion.version == version)
    ).first()
    if row is None:
        raise NotFound("policy version not found")
    return row


@router.get(BASE + "/versions/{version}", response_model=PolicyVersionView)
def get_version(brand_id: str, version: int, staff: Viewer, session: Db) -> dict:
    return _version_view(_version(session, brand_id, version))


# ---------------------------------------------------------------------------------------------- explain
class ExplainView(ApiModel):
    """A loan's decision re-run on its stored facts with the policy version it recorded."""

    loan_id: str
    policy_version: int | None = Field(description="null: decided before any version was published")
    config_source: str = Field(description="VERSION, or CURRENT when the decision recorded no version")
    blocklist_version: int = Field(description="the blocklist version the decision ran with (0: empty, never changed)")
    facts_source: str = Field(
        description="STORED: the facts the decision stored; REBUILT: a decision made before facts were stored, "
        "its facts rebuilt from its rows"
    )
    recorded: str
    rerun: str
    stage: str
    matches: bool
    score: str | None
    rules: list[dict[str, Any]] = Field(description="per BRE rule: recorded and re-run outcome")
    items: list[dict[str, Any]] = Field(description="per evaluation item: recorded and re-run outcome")


def _compare(recorded: list[Any], rerun: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    before = {d.get(key): d for d in recorded if isinstance(d, dict)}
    out = []
    for d in rerun:
        was = before.get(d[key], {})
        was_outcome = was.get("outcome") or (None if not was else ("PASS" if was.get("passed") else "FAIL"))
        now = d.get("outcome") or ("PASS" if d.get("passed") else "FAIL")
        out.append({"name": d[key], "recorded": was_outcome, "rerun": now, "reason": d.get("reason")})
    return out


@router.get("/brand/{brand_id}/loans/{loan_id}/decision/explain", response_model=ExplainView)
def explain_decision(brand_id: str, loan_id: str, staff: Explainer, session: Db) -> dict:
    """Re-run the loan's credit decision on the facts it ran on (``db.past_decisions.past_applications``) with the
    policy version and the blocklist version it recorded. 404 when the loan has no credit decision."""
    loan = find_loan(session, brand_id, loan_id)
    [past] = past_applications(session, brand_id, loan_ids=[loan.id]) or [None]
    if past is None:
        raise NotFound("this loan has no credit decision")
    version = past.policy_version
    if version is not None:
        config, source = _version(session, brand_id, version).config, "VERSION"
    else:
        config, source = current_config(session, session.get_one(Brand, brand_id)), "CURRENT"
    app = past.application
    result = apply(policy_from_config(config), app.bre_input, app.facts, app.blocklist)
    rules = _compare(past.bre_row.details or [], result.bre.to_details(), "rule")
    items = _compare(
        past.eval_row.details if past.eval_row else [],
        result.evaluation.to_details() if result.evaluation else [],
        "item",
    )
    same = all(r["recorded"] == r["rerun"] for r in rules + items)
    return {
        "loanId": loan.id,
        "policyVersion": version,
        "configSource": source,
        "blocklistVersion": past.blocklist_version,
        "factsSource": "STORED" if past.stored else "REBUILT",
        "recorded": app.recorded.value,
        "rerun": result.decision.value,
        "stage": result.stage,
        "matches": same and result.decision is app.recorded,
        "score": None if result.evaluation is None else str(result.evaluation.score),
        "rules": rules,
        "items": items,
    }


# ---------------------------------------------------------------------------------------------- simulation
class DraftIn(Strict):
    bre: BreSettings | None = Field(default=None, description="rules to change; the others stay as published now")
    evaluation_items: list[ItemIn] | None = Field(
        default=None,
        alias="evaluationItems",
        max_length=MAX_ITEMS,
        description=f"replace the items of the brand's version (at most {MAX_ITEMS})",
    )


class SimulateIn(Strict):
    draft: DraftIn
    sample_size: int = Field(
        default=500,
        ge=1,
        le=MAX_SAMPLE,
        alias="sampleSize",
        description=f"re-decide the last N decided applications, N from 1 to {MAX_SAMPLE}",
    )


class SimulationView(ApiModel):
    """A draft run against the brand's last decided applications."""

    id: str
    draft: dict[str, Any]
    sample_size: int
    result: dict[str, Any] = Field(
        description="transitions, changed (with flipped rules/items), approval rate and expected loss (paise)"
    )
    created_by: str
    created_at: str


def _sim_view(s: PolicySimulation) -> dict[str, Any]:
    return {
        "id": s.id,
        "draft": s.draft,
        "sampleSize": s.sample_size,
        "result": s.result,
        "createdBy": s.created_by,
        "createdAt": s.created_at.isoformat(),
    }


def draft_config(session: Session, brand: Brand, draft: DraftIn) -> dict[str, Any]:
    """The brand's current configuration with the draft applied, validated as the settings routes validate:
    an error names ``draft.bre.<key>`` or ``draft.evaluationItems[<i>].<key>``."""
    config = current_config(session, brand)
    if draft.bre is not None:
        merged = {**config["bre"], **draft.bre.model_dump(exclude_unset=True)}
        try:
            bre.BreConfig.from_dict({k: v for k, v in merged.items() if v is not None}, strict=True)
        except ValidationError as exc:
            raise ValidationError(exc.message, field=f"draft.bre.{api_alias(BreSettings, exc.field)}") from exc
        config["bre"] = merged
    if draft.evaluation_items is not None:
        version = EngineVersion(config["evaluation"]["version"])
        seen: set[str] = set()
        items = []
        for n, item in enumerate(draft.evaluation_items):
            prefix = f"draft.evaluationItems[{n}]."
            if item.name.lower() in seen:
                raise ValidationError(f"the draft names {item.name!r} twice", field=prefix + "name")
            seen.add(item.name.lower())
            columns = _item_columns(item, version, prefix)
            if columns.pop("is_active"):
                items.append(columns)
        config["evaluation"]["items"] = items
        try:
            evaluation.EvaluationPolicy.from_dict(config["evaluation"])
        except ValidationError as exc:
            raise ValidationError(exc.message, field="draft.evaluationItems") from exc
    return config


@router.post(BASE + "/simulate", response_model=SimulationView, status_code=201)
def simulate_draft(request: Request, brand_id: str, body: SimulateIn, staff: Manager, session: Db) -> dict:
    """Run a draft of the brand's BRE rules or evaluation items against its last ``sampleSize`` decided
    applications (their stored facts) and store the result. Limits (``domain.policy_simulation.check_limits``):
    ``sampleSize`` 1..5000, at most 50 draft items, a text threshold at most 200 characters; beyond one, 422 naming
    the field and nothing is read or stored."""
    check_limits(body.sample_size, body.draft.evaluation_items or [])
    brand = session.get_one(Brand, brand_id)
    check_evaluation(session, brand_id, brand.config or {}, field="evaluationItems")  # the baseline must be valid
    draft = policy_from_config(draft_config(session, brand, body.draft))
    baseline = policy_from_config(current_config(session, brand))
    # each application brings the facts and the blocklist version it was decided with
    apps = [p.application for p in past_applications(session, brand_id, limit=body.sample_size)]
    result = simulate(draft, apps, baseline=baseline).to_dict()
    row = PolicySimulation(
        brand_id=brand_id,
        draft=body.draft.model_dump(mode="json", by_alias=True, exclude_unset=True),
        sample_size=body.sample_size,
        result=result,
        created_by=staff.id,
    )
    session.add(row)
    session.flush()
    audit(session, request, staff, "POLICY_SIMULATED", "policy_simulation", row.id, after={"sampleSize": len(apps)})
    return _sim_view(row)


@router.get(BASE + "/simulations/{simulation_id}", response_model=SimulationView)
def get_simulation(brand_id: str, simulation_id: str, staff: Viewer, session: Db) -> dict:
    row = session.get(PolicySimulation, simulation_id) if is_uuid(simulation_id) else None
    if row is None or row.brand_id != brand_id:
        raise NotFound("simulation not found")
    return _sim_view(row)
