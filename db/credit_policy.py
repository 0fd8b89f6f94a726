"""A brand's credit policy and blocklist as a decision uses them, and the facts past decisions ran on: the SQL shared
by the credit decision activity (``activities/kyc/decision.py``) and the policy routes (``api/partner/policy.py``).
Runs in the caller's transaction; the facts themselves are built by ``domain.credit_facts.build_facts``.

* :func:`current_config`: the brand's policy now, as a JSON snapshot (the form ``policy_versions.config`` keeps).
* :func:`policy_version_in_force`: the version whose snapshot is exactly that configuration, published here when
  the settings changed since the latest one, so a decision's recorded version is always the policy it ran.
* :func:`blocklist_in_force`, :func:`blocklists_at`: the blocklist at its latest version, or at given versions
  (``blocklist_versions``, one row per change).
* :func:`gather_application`: what the decision reads about an application (the I/O of the facts).
* :func:`record_inputs`, :func:`stored_inputs`, :func:`config_at`: the facts and versions a decision ran on,
  stored, and read back for a decision run again under its key. A whole sample of past decisions is read back by
  ``db.past_decisions.past_applications``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from db.evaluation_items import active_evaluation_items
from db.models import Brand, Customer, Employment, Loan, PolicyVersion
from db.models.operations import BlocklistVersion, CreditDecisionInput
from domain import bre
from domain.brand_config import BrandConfig
from domain.credit_facts import ApplicationRecord, CreditFacts
from domain.evaluation_policy import default_items

LIVE_LOAN = ("DISBURSED", "OVERDUE", "DISBURSAL_PENDING", "AGREEMENT_SIGNED")  # as the central dedup counts them
AUTO_NOTES = "the settings in force at a credit decision (changed since the previous version)"


def jsonable(value: Any) -> Any:
    """``value`` as JSON stores it: dicts and lists walked, booleans, integers, text and null kept, the rest (a
    Decimal, a date) as its text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------- policy versions
def current_config(session: Session, brand: Brand) -> dict[str, Any]:
    """The brand's credit policy as it is now: ``bre`` (``BreConfig.to_dict``: every rule, None unset) and
    ``evaluation`` (version, thresholds, the active items sorted by engine version and name, or the two default
    score bands). Raises
    ``domain.errors.ValidationError`` when the brand's ``bre`` settings do not read."""
    config = BrandConfig.of(brand.config or {})
    rules = bre.BreConfig.from_dict(config.bre_settings(), strict=False).to_dict()
    # in a fixed order (engine version, then name), so the same settings always make the same snapshot
    items = sorted(active_evaluation_items(session, brand.id), key=lambda i: (str(i["version"]), i["name"].lower()))
    return jsonable(
        {
            "bre": rules,
            "evaluation": {
                "version": config.evaluation_version,
                "auto_sanction_threshold": config.auto_sanction_threshold,
                "manual_review_threshold": config.manual_review_threshold,
                "items": [dict(i) for i in items] or default_items(config),
            },
        }
    )


def latest_version(session: Session, brand_id: str) -> int:
    """The brand's latest policy version; 0 before the first."""
    return session.scalar(select(func.max(PolicyVersion.version)).where(PolicyVersion.brand_id == brand_id)) or 0


def _latest(session: Session, brand_id: str) -> tuple[int, dict[str, Any] | None]:
    row = session.execute(
        select(PolicyVersion.version, PolicyVersion.config)
        .where(PolicyVersion.brand_id == brand_id)
        .order_by(PolicyVersion.version.desc())
        .limit(1)
    ).first()
    return (0, None) if row is None else (row.version, row.config)


def _same(snapshot: dict[str, Any] | None, config: dict[str, Any]) -> bool:
    """Whether a stored snapshot is ``config``, whatever order its items were stored in (versions published before
    the items were sorted)."""
    if snapshot is None:
        return False

    def canonical(c: dict[str, Any]) -> dict[str, Any]:
        evaluation = dict(c.get("evaluation") or {})
        items = evaluation.get("items") or []
        evaluation["items"] = sorted(items, key=lambda i: (str(i.get("version")), str(i.get("name")).lower()))
        return {**c, "evaluation": evaluation}

    return snapshot == config or canonical(snapshot) == canonical(config)


def policy_version_in_force(session: Session, brand_id: str, config: dict[str, Any]) -> int:
    """The version of the brand's policy whose snapshot is ``config`` (``current_config``): the latest version when
    it is the same, else a new version published now (``published_by`` null, notes :data:`AUTO_NOTES`), under a lock
    on the brand row that the publish route takes too. Returns the version number (1, 2, …)."""
    version, snapshot = _latest(session, brand_id)
    if _same(snapshot, config):
        return version
    session.execute(select(Brand.id).where(Brand.id == brand_id).with_for_update(key_share=True))
    version, snapshot = _latest(session, brand_id)  # another decision or a publisher may have been first
    if _same(snapshot, config):
        return version
    session.add(PolicyVersion(brand_id=brand_id, version=version + 1, config=config, notes=AUTO_NOTES))
    session.flush()
    return version + 1


# ---------------------------------------------------------------------------------------------- blocklist versions
def blocklist_in_force(session: Session, brand_id: str) -> tuple[int, list[tuple[str, str]]]:
    """The brand's blocklist at its latest version, in one statement (so the number and the entries agree):
    ``(version, [(kind, value), ...])``; ``(0, [])`` for a brand whose blocklist never changed."""
    rows = session.execute(
        select(
            BlocklistVersion.kind,
            BlocklistVersion.value,
            BlocklistVersion.action,
            func.max(BlocklistVersion.version).over().label("latest"),
        )
        .where(BlocklistVersion.brand_id == brand_id)
        .ext(distinct_on(BlocklistVersion.kind, BlocklistVersion.value))
        .order_by(BlocklistVersion.kind, BlocklistVersion.value, BlocklistVersion.version.desc())
    ).all()
    latest = max((r.latest for r in rows), default=0)
    return latest, [(r.kind, r.value) for r in rows if r.action == "ADD"]


def replay_blocklists(changes: Sequence[Any], versions: Iterable[int]) -> dict[int, bre.Blocklist]:
    """The blocklist at each of ``versions`` from the brand's changes in version order."""
    wanted = sorted(set(versions))
    out: dict[int, bre.Blocklist] = {}
    listed: set[tuple[str, str]] = set()
    i = 0
    for v in wanted:
        while i < len(changes) and changes[i].version <= v:
            c = changes[i]
            (listed.add if c.action == "ADD" else listed.discard)((c.kind, c.value))
            i += 1
        out[v] = bre.Blocklist.from_entries(listed)
    return out


def blocklist_entries_at(session: Session, brand_id: str, version: int) -> list[tuple[str, str]]:
    """The brand's blocklist at ``version`` as ``(kind, value)`` pairs, sorted, in one query."""
    rows = session.execute(
        select(BlocklistVersion.kind, BlocklistVersion.value, BlocklistVersion.action)
        .where(BlocklistVersion.brand_id == brand_id, BlocklistVersion.version <= version)
        .ext(distinct_on(BlocklistVersion.kind, BlocklistVersion.value))
        .order_by(BlocklistVersion.kind, BlocklistVersion.value, BlocklistVersion.version.desc())
    ).all()
    return [(r.kind, r.value) for r in rows if r.action == "ADD"]


def blocklist_changes(session: Session, brand_id: str) -> list[Any]:
    return list(
        session.execute(
            select(
                BlocklistVersion.version,
                BlocklistVersion.action,
                BlocklistVersion.kind,
                BlocklistVersion.value,
                BlocklistVersion.created_at,
            )
            .where(BlocklistVersion.brand_id == brand_id)
            .order_by(BlocklistVersion.version)
        ).all()
    )


def blocklists_at(session: Session, brand_id: str, versions: Iterable[int]) -> dict[int, bre.Blocklist]:
    """The brand's blocklist at each of ``versions`` (version → ``bre.Blocklist``), in one query."""
    return replay_blocklists(blocklist_changes(session, brand_id), versions)


# ---------------------------------------------------------------------------------------------- the decision's facts
def gather_application(
    session: Session,
    *,
    loan_id: str,
    brand_id: str,
    customer: Any,
    bureau_score: int | None,
    bureau_report: dict[str, Any],
    kyc_facts: dict[str, Any],
    on: date,
    central_dedup: bool,
) -> ApplicationRecord:
    """What the credit decision reads about an application (``domain.credit_facts.ApplicationRecord``):
    ``customer`` (a ``Customer`` row: id, pan, aadhaar_hash, phone, device_id, dob as they are now), the stored
    bureau report, the KYC facts; the declared salary (the last employment's), the last rejection in the brand and,
    when ``central_dedup``, the PAN's live loans at other brands are read here."""
    declared = session.scalar(
        select(Employment.monthly_salary)
        .where(Employment.customer_id == customer.id)
        .order_by(Employment.created_at.desc())
        .limit(1)
    )
    last_rejected = session.scalar(
        select(func.max(Loan.closed_at)).where(
            Loan.customer_id == customer.id, Loan.status == "REJECTED", Loan.id != loan_id
        )
    )
    elsewhere = 0
    if central_dedup and customer.pan:
        elsewhere = (
            session.scalar(
                select(func.count())
                .select_from(Loan)
                .join(Customer, Customer.id == Loan.customer_id)
                .where(Customer.pan == customer.pan, Loan.brand_id != brand_id, Loan.status.in_(LIVE_LOAN))
            )
            or 0
        )
    return ApplicationRecord(
        application_date=on,
        bureau_score=bureau_score,
        bureau_report=bureau_report,
        pan=customer.pan,
        aadhaar_hash=customer.aadhaar_hash,
        phone=customer.phone,
        device_id=customer.device_id,
        dob=customer.dob,
        kyc_facts=kyc_facts,
        declared_salary=declared,
        last_rejected_on=last_rejected.date() if last_rejected else None,
        other_brand_active_loans=elsewhere,
    )


def record_inputs(
    session: Session, loan_id: str, key: str, policy_version: int | None, blocklist_version: int, facts: CreditFacts
) -> None:
    """Store what the decision ran on under ``key`` (once: a retry keeps the first)."""
    session.execute(
        insert(CreditDecisionInput)
        .values(
            loan_id=loan_id,
            idempotency_key=key,
            policy_version=policy_version,
            blocklist_version=blocklist_version,
            facts=facts.to_json(),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )


def stored_inputs(session: Session, key: str) -> CreditDecisionInput | None:
    """What the decision stored under ``key`` ran on (``record_inputs``), or None before it ran."""
    return session.scalars(select(CreditDecisionInput).where(CreditDecisionInput.idempotency_key == key)).first()


def config_at(session: Session, brand_id: str, version: int) -> dict[str, Any] | None:
    """The brand's credit policy as published at ``version`` (``policy_versions.config``), or None."""
    return session.scalar(
        select(PolicyVersion.config).where(PolicyVersion.brand_id == brand_id, PolicyVersion.version == version)
    )
