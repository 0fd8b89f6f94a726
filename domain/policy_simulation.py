"""Credit-policy simulation: a draft policy (BRE hard rules + evaluation policy) re-run over past applications.

Each past application carries the facts the credit decision saw (``domain.bre.BreInput`` for the hard rules and
the evaluation facts mapping) and the outcome it recorded. The draft is applied with the domain's own engines,
``domain.bre.run_bre`` then ``domain.evaluation.evaluate`` (evaluation only when every hard rule passes, as the
decision does); nothing here re-implements a rule.

The answer: counts by ``(before → after)`` outcome, the applications whose outcome changed with the rules and
items that flipped for each, the approval rate before and after, and the expected loss before and after.

Expected loss (a deliberately simple model; every assumption is a parameter of :class:`LossModel`)::

    EL = Σ over approved applications of  PD(bureau score band) × exposure × LGD

* "approved" is ``AUTO_SANCTION`` and, when ``count_manual_as_approved`` (default), ``MANUAL_REVIEW`` too (a
  manual review is assumed to be sanctioned);
* PD comes from the first band of ``pd_bands`` (``(minimum score, PD)``, highest minimum first) whose minimum
  the bureau score reaches; no score, or below every band → ``pd_no_score``;
* exposure is the application's amount (integer paise); LGD is one fraction for every loan.

Money is integer paise; rates and PDs are ``Decimal``; the loss is rounded to whole paise (ROUND_HALF_UP).

Limits (:func:`check_limits`, enforced by :func:`simulate` and by the API before any query): at most
:data:`MAX_SAMPLE` past applications (the last N decided, N from 1) and a draft of at most :data:`MAX_ITEMS`
evaluation items, each text threshold at most :data:`MAX_TEXT_THRESHOLD` characters; the BRE's hard rules are a
fixed set (``domain.bre.BreConfig``), so a draft cannot grow them. Beyond a limit: ``ValidationError`` (422) naming
the field (``sampleSize``, ``draft.evaluationItems``, ``draft.evaluationItems[<i>].threshold``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain import bre, evaluation
from domain.errors import ValidationError
from domain.rules import Decision

APPROVE, MANUAL, REJECT = Decision.AUTO_SANCTION, Decision.MANUAL_REVIEW, Decision.REJECT
MAX_SAMPLE = 5000  # past applications one simulation re-decides (read in a few set-based queries; two engine runs each)
MAX_ITEMS = 50  # evaluation items in a draft: as many as the brand's settings take
MAX_TEXT_THRESHOLD = 200  # characters of an item's text threshold


def check_limits(sample_size: int, items: Sequence[Any] = (), *, prefix: str = "draft.evaluationItems") -> None:
    """Refuse a simulation beyond the limits: ``sample_size`` (the last N decided applications) outside
    1..:data:`MAX_SAMPLE` → ValidationError naming ``sampleSize``; more than :data:`MAX_ITEMS` evaluation ``items``
    → naming ``prefix``; an item whose ``threshold`` is a text longer than :data:`MAX_TEXT_THRESHOLD` characters →
    naming ``<prefix>[<i>].threshold``. ``items`` are anything with a ``threshold`` attribute or key."""
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or not 1 <= sample_size <= MAX_SAMPLE:
        raise ValidationError(
            f"must be a whole number from 1 to {MAX_SAMPLE} (decided applications)", field="sampleSize"
        )
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"at most {MAX_ITEMS} evaluation items in a draft, not {len(items)}", field=prefix)
    for n, item in enumerate(items):
        threshold = item.get("threshold") if isinstance(item, Mapping) else getattr(item, "threshold", None)
        if isinstance(threshold, str) and len(threshold) > MAX_TEXT_THRESHOLD:
            raise ValidationError(
                f"a text threshold is at most {MAX_TEXT_THRESHOLD} characters", field=f"{prefix}[{n}].threshold"
            )


@dataclass(frozen=True)
class LossModel:
    """The expected-loss assumptions (see the module docstring). Defaults: unsecured short-tenure personal
    loans, PD from 2% (score ≥ 750) to 25% (below 600 / no score), LGD 65%."""

    pd_bands: tuple[tuple[int, Decimal], ...] = (
        (750, Decimal("0.02")),
        (700, Decimal("0.05")),
        (650, Decimal("0.10")),
        (600, Decimal("0.17")),
    )
    pd_no_score: Decimal = Decimal("0.25")
    lgd: Decimal = Decimal("0.65")
    count_manual_as_approved: bool = True

    def pd(self, score: int | None) -> Decimal:
        if score is None or score <= 0:
            return self.pd_no_score
        for minimum, pd in sorted(self.pd_bands, key=lambda b: -b[0]):
            if score >= minimum:
                return pd
        return self.pd_no_score

    def approved(self, decision: Decision) -> bool:
        return decision is APPROVE or (self.count_manual_as_approved and decision is MANUAL)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pdBands": [{"minScore": m, "pd": str(p)} for m, p in self.pd_bands],
            "pdNoScore": str(self.pd_no_score),
            "lgd": str(self.lgd),
            "countManualAsApproved": self.count_manual_as_approved,
        }


@dataclass(frozen=True)
class Policy:
    """A credit policy: the BRE hard rules and the evaluation policy."""

    bre: bre.BreConfig
    evaluation: evaluation.EvaluationPolicy


@dataclass(frozen=True)
class PastApplication:
    """One decided application: its id, the BRE's facts, the evaluation facts, the outcome it recorded
    (``recorded``), its exposure (amount, paise) and the blocklist it was decided with (``blocklist``: the version
    the decision recorded; None keeps the policy's own)."""

    application_id: str
    bre_input: bre.BreInput
    facts: Mapping[str, Any]
    recorded: Decision
    exposure: int = 0
    blocklist: bre.Blocklist | None = None

    def __post_init__(self) -> None:
        if isinstance(self.exposure, float) or not isinstance(self.exposure, int):
            raise TypeError("exposure: integer paise")


@dataclass(frozen=True)
class Explained:
    """A policy applied to one application: the decision, the stage that decided (BRE or EVALUATION), the
    BRE's result and (when the BRE passed) the evaluation's."""

    decision: Decision
    stage: str
    bre: bre.BreResult
    evaluation: evaluation.EvaluationResult | None

    def outcomes(self) -> dict[str, str]:
        """Every rule's and item's outcome by name: ``rule:<RULE>`` → PASS/FAIL/SKIPPED, ``item:<name>`` →
        PASS/FAIL (items absent when the BRE rejected)."""
        out = {f"rule:{r.rule.value}": r.outcome for r in self.bre.results}
        if self.evaluation is not None:
            out.update({f"item:{i.name}": "PASS" if i.passed else "FAIL" for i in self.evaluation.breakdown})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "stage": self.stage,
            "bre": self.bre.to_details(),
            "evaluation": None if self.evaluation is None else self.evaluation.to_details(),
            "score": None if self.evaluation is None else str(self.evaluation.score),
        }


def policy_from_config(config: Mapping[str, Any], blocklist: bre.Blocklist | None = None) -> Policy:
    """A stored configuration (``policy_versions.config``, or a draft merged into the current one: ``bre`` and
    ``evaluation``) as the domain's policy, with ``blocklist`` (None: the blocklist rule is skipped unless an
    application brings its own). Raises ``ValidationError`` naming the key of a configuration that does not read."""
    return Policy(
        bre.BreConfig.from_dict(config["bre"], strict=False, blocklist=blocklist),
        evaluation.EvaluationPolicy.from_dict(config["evaluation"]),
    )


def apply(
    policy: Policy, facts: bre.BreInput, eval_facts: Mapping[str, Any], blocklist: bre.Blocklist | None = None
) -> Explained:
    """The decision ``policy`` gives these facts: the BRE, then (when it passes) the evaluation engine.
    ``blocklist``, when given, replaces the policy's (the one the application was decided with)."""
    rules = policy.bre if blocklist is None else replace(policy.bre, blocklist=blocklist)
    bre_result = bre.run_bre(rules, facts)
    if not bre_result.passed:
        return Explained(REJECT, "BRE", bre_result, None)
    result = evaluation.evaluate(policy.evaluation, {k: v for k, v in eval_facts.items() if v is not None})
    return Explained(result.decision, "EVALUATION", bre_result, result)


def _rate(n: int, total: int) -> str:
    return str((Decimal(n) / Decimal(total)).quantize(Decimal("0.0001"), ROUND_HALF_UP)) if total else "0"


@dataclass
class SimulationResult:
    """See :func:`simulate`; ``to_dict`` is the JSON answer."""

    sample_size: int
    transitions: dict[str, int] = field(default_factory=dict)
    changed: list[dict[str, Any]] = field(default_factory=list)
    approval_rate_before: str = "0"
    approval_rate_after: str = "0"
    expected_loss_before: int = 0
    expected_loss_after: int = 0
    loss_model: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_count(self) -> int:
        return len(self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sampleSize": self.sample_size,
            "changedCount": self.changed_count,
            "transitions": self.transitions,
            "changed": self.changed,
            "approvalRateBefore": self.approval_rate_before,
            "approvalRateAfter": self.approval_rate_after,
            "expectedLossBefore": self.expected_loss_before,
            "expectedLossAfter": self.expected_loss_after,
            "lossModel": self.loss_model,
        }


def simulate(
    draft: Policy,
    applications: Sequence[PastApplication],
    *,
    baseline: Policy | None = None,
    loss_model: LossModel | None = None,
) -> SimulationResult:
    """Re-decide every application with ``draft`` and compare with its recorded outcome.

    ``transitions``: ``"BEFORE->AFTER"`` → count, for every pair seen (unchanged ones included). ``changed``:
    one entry per application whose outcome changed, with ``flipped``: the rules and items whose outcome
    differs between the baseline and the draft (``{"name", "before", "after"}``). The baseline is
    ``baseline`` re-run on the same facts when given (the published policy), else nothing flips but the
    draft's own results are listed as ``after``. Approval rate and expected loss: see :class:`LossModel`.

    Raises ValidationError beyond the limits (:func:`check_limits`): more than :data:`MAX_SAMPLE` applications
    (``sampleSize``), a draft of more than :data:`MAX_ITEMS` items (``draft.evaluationItems``).
    """
    check_limits(max(len(applications), 1), draft.evaluation.items)
    model = loss_model or LossModel()
    result = SimulationResult(sample_size=len(applications), loss_model=model.to_dict())
    approved_before = approved_after = 0
    loss_before = loss_after = Decimal(0)
    for app in applications:
        after = apply(draft, app.bre_input, app.facts, app.blocklist)
        before_decision = app.recorded
        key = f"{before_decision.value}->{after.decision.value}"
        result.transitions[key] = result.transitions.get(key, 0) + 1
        el = model.pd(app.bre_input.bureau_score) * Decimal(app.exposure) * model.lgd
        if model.approved(before_decision):
            approved_before += 1
            loss_before += el
        if model.approved(after.decision):
            approved_after += 1
            loss_after += el
        if after.decision is before_decision:
            continue
        after_outcomes = after.outcomes()
        if baseline is not None:
            before_outcomes = apply(baseline, app.bre_input, app.facts, app.blocklist).outcomes()
            names = list(dict.fromkeys([*before_outcomes, *after_outcomes]))
            flipped = [
                {"name": n, "before": before_outcomes.get(n), "after": after_outcomes.get(n)}
                for n in names
                if before_outcomes.get(n) != after_outcomes.get(n)
            ]
        else:
            flipped = [{"name": n, "before": None, "after": o} for n, o in after_outcomes.items() if o == "FAIL"]
        result.changed.append(
            {
                "applicationId": app.application_id,
                "before": before_decision.value,
                "after": after.decision.value,
                "stage": after.stage,
                "flipped": flipped,
            }
        )
    total = len(applications)
    result.approval_rate_before = _rate(approved_before, total)
    result.approval_rate_after = _rate(approved_after, total)
    result.expected_loss_before = int(loss_before.quantize(Decimal(1), ROUND_HALF_UP))
    result.expected_loss_after = int(loss_after.quantize(Decimal(1), ROUND_HALF_UP))
    return result
