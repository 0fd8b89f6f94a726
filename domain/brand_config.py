"""A brand's configuration (``Brand.config``) as the code reads it: one typed value, every default here.

``BrandConfig.of(brand.config)`` is what the loan's activities and the API read; nothing else reads the stored
dict with its own ``.get(key, default)``. Writing is validated elsewhere (``api/brand_config.py``,
``BrandConfigIn``), so a stored config always reads back; this side only reads:

- a key that is not stored, or stored as ``null``, takes its default below;
- an empty ``kyc_steps``, ``bre`` or ``allocation`` counts as not set (the readers' ``or`` before);
- keys this class does not know are ignored (``providers`` has its own model,
  ``activities.providers.base.ProviderConfig``);
- a stored value is converted as the readers converted it (``int``, ``str``, truthiness); one that cannot be
  (``"abc"`` for a score, a list for a number) is a ``ValidationError`` naming the key.

Pure (stdlib only) and in ``domain`` so that both ``activities/`` and ``api/`` can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from domain.collection_policy import CollectionPolicy, ReloanPolicy
from domain.errors import ValidationError
from domain.ops_jobs import OpsJobsPolicy

DAY = 24 * 3600

# Top-level keys the BRE's fallback never needs (secrets stay out of the read model).
_NOT_BRE = frozenset({"providers", "bre"})


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{key} must be a whole number, not {value!r}", field=key)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{key} must be a whole number, not {value!r}", field=key)


def _bool(value: Any, key: str) -> bool:
    return bool(value)


def _str(value: Any, key: str) -> str:
    if isinstance(value, Mapping | list | tuple):
        raise ValidationError(f"{key} must be a text value, not {value!r}", field=key)
    return str(value)


def _steps(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError("must be a list of KYC steps", field=key)
    return tuple(str(getattr(step, "value", step)) for step in value)


def _mapping(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{key} must be an object", field=key)
    return dict(value)


# How each stored value is read, and which keys count as not set when empty.
_CONVERT: dict[str, Callable[[Any, str], Any]] = {}
_EMPTY_IS_UNSET = frozenset(
    {"kyc_steps", "bre", "allocation", "collections", "reloan", "ops_jobs", "bureau_reporting", "sme"}
)


@dataclass(frozen=True)
class BrandConfig:
    """Every key of ``Brand.config`` the code reads, with the value used when the brand has not set it."""

    # credit policy: the evaluation's default score bands; the BRE's minimum when ``bre`` is not set
    min_credit_score: int = 650
    auto_sanction_score: int = 750
    # agreement eSign validity
    esign_expiry_seconds: int = 3 * DAY
    # KYC phase: the steps (validated by ``domain.kyc.validate_kyc_steps`` where a loan starts) and the wait
    kyc_steps: tuple[str, ...] = ("PAN",)
    kyc_timeout_seconds: int = 7 * DAY
    # penny drop and CKYC match thresholds (0–100)
    name_match_threshold: int = 80
    ckyc_match_threshold: int = 0
    mobile_pan_must_match: bool = False
    aa_enabled: bool = False
    # the bank statement step reads an upload no older than this many days (none that recent: it asks for one)
    statement_max_age_days: int = 30
    # the BRE's hard rules (``domain.bre.BreConfig.from_dict``), as stored; see :meth:`bre_settings`
    bre: Mapping[str, Any] | None = None
    # evaluation engine
    evaluation_version: str = "V1"
    auto_sanction_threshold: int = 100
    manual_review_threshold: int = 50
    # auto-allocation of manual-review loans and of new customers
    allocation_role: str = "CREDIT_EXECUTIVE"
    allocation_cap: int = 50
    customer_allocation_role: str = "LOAN_EXECUTIVE"
    customer_allocation_cap: int | None = None
    # forwarding a loan needs its CAM saved
    cam_required: bool = False
    # disbursal (money out): IMPS up to this amount in paise (NPCI's per-transaction cap is ₹5 lakh), NEFT above it
    # and RTGS from ₹2 lakh; a penny drop younger than this many hours is trusted, else the account is verified
    # again right before the transfer (0: always); a transfer with no bank callback after this many seconds is
    # asked about by the reconciler (the bank's status API)
    imps_limit: int = 500_000_00
    pennydrop_max_age_hours: int = 72
    transfer_sla_seconds: int = 15 * 60
    # Key Fact Statement (RBI KFS circular, April 2024): Annex A part 2 and the parties named in it
    lender_legal_name: str | None = None
    grievance_officer: str | None = None  # name, designation, address, phone, email
    nodal_officer: str | None = None
    recovery_policy_url: str | None = None
    partner_name: str | None = None  # a co-lending partner or LSP named in the KFS
    logo_url: str | None = None
    # the console's and the app's main colour (#rrggbb); unset: the product's blue
    brand_colour: str | None = None
    # servicing
    prepayment_mode: str = "REDUCE_TENURE"
    npa_days: int = 90
    # money in (docs/money-in.md): the cooling-off (look-up) period in days (never below RBI's floor: 3 days for
    # tenors of 7 days or more, 1 below), the due-date reminder's lead in days, autopay retries after a failed
    # debit and the days between them, and the least a borrower may pay through `pay` (paise)
    cooling_off_days: int = 3
    reminder_days: int = 3
    autopay_retries: int = 2
    autopay_retry_days: int = 2
    min_prepayment: int = 1_000_00
    # repayment waterfall (``domain.allocation.AllocationConfig``), as stored; unset: its defaults
    allocation: Mapping[str, Any] | None = None
    # collections, settlement, write-off and reloan rules (``domain.collection_policy``), as stored; unset: defaults
    collections: Mapping[str, Any] | None = None
    reloan: Mapping[str, Any] | None = None
    # the scheduled jobs' rules (``domain.ops_jobs``: inactivity, re-KYC, bureau refresh), as stored; unset: defaults
    ops_jobs: Mapping[str, Any] | None = None
    # reporting to the credit bureaus (docs/bureau-reporting.md): enabled, memberCode, memberShortName, accountType
    bureau_reporting: Mapping[str, Any] | None = None
    # SME invoice financing's lender terms and limits (``domain.sme.settings``), as stored; unset: defaults
    sme: Mapping[str, Any] | None = None
    # the stored top-level keys (``providers`` left out): the BRE reads its names there when ``bre`` is not set
    legacy_bre: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> BrandConfig:
        """The configuration read from the stored dict (``brand.config``; ``None`` reads as empty)."""
        stored = stored or {}
        values: dict[str, Any] = {}
        for name, convert in _CONVERT.items():
            value = stored.get(name)
            if value is None or (name in _EMPTY_IS_UNSET and not value):
                continue
            values[name] = convert(value, name)
        legacy = {k: v for k, v in stored.items() if k not in _NOT_BRE}
        return cls(**values, legacy_bre=legacy)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every key with its default, as JSON values (``kyc_steps`` a list)."""
        return cls().as_dict()

    def as_dict(self) -> dict[str, Any]:
        """Every key with the value the code uses, as JSON values (``legacy_bre`` left out)."""
        out: dict[str, Any] = {}
        for name in _CONVERT:
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out

    def collection_policy(self) -> CollectionPolicy:
        """The brand's collections rules (``domain.collection_policy``; defaults where unset)."""
        return CollectionPolicy.of(self.collections)

    def ops_jobs_policy(self) -> OpsJobsPolicy:
        """The scheduled jobs' rules (``domain.ops_jobs``; defaults where unset)."""
        return OpsJobsPolicy.of(self.ops_jobs)

    def reloan_policy(self) -> ReloanPolicy:
        """The brand's reloan rules (``domain.collection_policy``; defaults where unset)."""
        return ReloanPolicy.of(self.reloan)

    def bre_settings(self) -> Mapping[str, Any]:
        """What ``domain.bre.BreConfig.from_dict`` reads: the ``bre`` block, or for older brands without one
        the same names at the top of the config (there ``min_credit_score`` is the BRE's minimum score, and
        only when stored: an unset key sets no rule)."""
        return self.bre or self.legacy_bre


_TYPES: dict[str, Callable[[Any, str], Any]] = {
    "int": _int,
    "int | None": _int,
    "bool": _bool,
    "str": _str,
    "str | None": _str,
    "tuple[str, ...]": _steps,
    "Mapping[str, Any] | None": _mapping,
}
_CONVERT.update({f.name: _TYPES[str(f.type)] for f in fields(BrandConfig) if f.name != "legacy_bre"})
