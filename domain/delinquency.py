"""Days past due, RBI's SMA / NPA asset classification, and a brand's collection buckets.

Source: RBI circular RBI/2021-2022/125 DOR.STR.REC.68/21.04.048/2021-22 of 12 November 2021,
"Prudential norms on Income Recognition, Asset Classification and Provisioning pertaining to
Advances – Clarifications" (the IRACP clarifications), read with the Master Circular on IRACP and the
Prudential Framework for Resolution of Stressed Assets (7 June 2019) whose SMA table it restates.

DPD convention (the circular's "day-end process"):

* An amount is *overdue* if it is not paid on its due date. An account is flagged overdue by the day-end
  process **of the due date itself**, and the date of SMA/NPA is the calendar date whose day-end process
  produced it.
* So with ``as_of`` = the calendar date whose day-end has run, ``DPD = (as_of − due date) + 1`` for the
  oldest installment still (wholly or partly) unpaid, and 0 when nothing is overdue. The due date's own
  day-end is day 1.
* Equivalently, counting from the day after the due date: the status *at the start of* day D (before any
  payment that day) is ``D − due date``; ``days_past_due(due, D, at_day_end=True) ==
  days_past_due(due, D + 1 day, at_day_end=False)``: the same instant with two calendar labels.
* The circular's worked example, which this convention reproduces: due 31 March 2021, unpaid →
  overdue (SMA-0) at the day-end of 31 March; SMA-1 at the day-end of 30 April ("upon completion of 30
  days of being continuously overdue", DPD 31); SMA-2 at the day-end of 30 May (DPD 61); NPA at the
  day-end of 29 June 2021 (DPD 91).

Classification (loans other than revolving facilities): STANDARD (DPD 0), SMA-0 (up to 30 days, 1–30),
SMA-1 (more than 30 and up to 60, 31–60), SMA-2 (more than 60 and up to 90, 61–90), NPA (more than 90).
The circular notes that for NBFCs "90 days" is read per the norms applicable to them (Scale Based
Regulation's glide path for base-layer NBFCs), hence the ``npa_days`` parameter (default 90).

Upgrade: an account classified NPA is upgraded to standard **only when the entire arrears of interest
and principal are paid**; DPD merely falling below 91 after a part payment does not upgrade it. So the
classification needs the previous classification and the arrears, not only the DPD.

Which amounts drive DPD: by default the oldest installment with unpaid **principal or interest** (the
NPA definition: "interest and/or instalment of principal remain overdue"). The SMA table also says "or
any other amount"; ``include_charges=True`` also counts unpaid fees and penal charges.

Scope: one loan account. RBI's borrower-level rule (all facilities of a borrower are NPA together and
upgraded together) is the caller's aggregation across loans.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.allocation import InstallmentDue
from domain.errors import ValidationError

SMA_0_MAX_DPD = 30
SMA_1_MAX_DPD = 60
NPA_AFTER_DPD = 90  # NPA when DPD > 90


class AssetClass(StrEnum):
    STANDARD = "STANDARD"
    SMA_0 = "SMA-0"
    SMA_1 = "SMA-1"
    SMA_2 = "SMA-2"
    NPA = "NPA"

    @property
    def severity(self) -> int:
        """0 (STANDARD) … 4 (NPA): a total order for "worse than" comparisons."""
        return _SEVERITY[self]


_SEVERITY = {
    AssetClass.STANDARD: 0,
    AssetClass.SMA_0: 1,
    AssetClass.SMA_1: 2,
    AssetClass.SMA_2: 3,
    AssetClass.NPA: 4,
}


def _whole(value: object, field_name: str, *, minimum: int = 0) -> int:
    if isinstance(value, float):
        raise TypeError(f"{field_name}: float is not allowed, use a whole number")
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("must be a whole number", field=field_name)
    if value < minimum:
        raise ValidationError(f"must be at least {minimum}", field=field_name)
    return value


def _plain_date(value: object, field_name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("must be a calendar date (not a datetime)", field=field_name)
    return value


def _npa_days(value: object) -> int:
    return _whole(value, "npa_days", minimum=SMA_1_MAX_DPD + 1)


def parse_asset_class(value: object, field_name: str = "previous") -> AssetClass:
    """An AssetClass from its value or name ("SMA-1", "SMA_1", "npa"); unknown → ValidationError."""
    if isinstance(value, AssetClass):
        return value
    text = str(value).strip().upper().replace("_", "-")
    for member in AssetClass:
        if text == member.value:
            return member
    allowed = ", ".join(m.value for m in AssetClass)
    raise ValidationError(f"unknown asset class {value!r}; allowed: {allowed}", field=field_name)


def days_past_due(oldest_unpaid_due: date | None, as_of: date, *, at_day_end: bool = True) -> int:
    """Days past due of the oldest (wholly or partly) unpaid installment, RBI day-end convention.

    ``at_day_end=True`` (default): ``as_of`` is the date whose day-end process has run;
    DPD = (as_of − due) + 1 when as_of ≥ due, else 0 (the due date's own day-end is DPD 1).
    ``at_day_end=False``: status at the start of ``as_of``, counted from the day after the due date;
    DPD = max(as_of − due, 0). Source: RBI IRACP clarifications, 12 Nov 2021 (RBI/2021-2022/125), its
    example: due 31 Mar → SMA-1 at the day-end of 30 Apr, NPA at the day-end of 29 Jun.
    ``None`` (nothing unpaid) → 0.
    """
    _plain_date(as_of, "as_of")
    if oldest_unpaid_due is None:
        return 0
    _plain_date(oldest_unpaid_due, "due_date")
    days = (as_of - oldest_unpaid_due).days + (1 if at_day_end else 0)
    return max(days, 0)


def classify_dpd(dpd: int, *, npa_days: int = NPA_AFTER_DPD) -> AssetClass:
    """RBI bands by DPD alone: 0 STANDARD, 1–30 SMA-0, 31–60 SMA-1, 61–``npa_days`` SMA-2, more → NPA.

    Source: RBI IRACP clarifications, 12 Nov 2021 (SMA table: "up to 30 days", "more than 30 days and
    up to 60 days", "more than 60 days and up to 90 days"; NPA: overdue for more than 90 days).
    Non-decreasing in ``dpd``. Ignores history: use :func:`classify` for the NPA-upgrade rule.
    """
    dpd = _whole(dpd, "dpd")
    npa_days = _npa_days(npa_days)
    if dpd == 0:
        return AssetClass.STANDARD
    if dpd <= SMA_0_MAX_DPD:
        return AssetClass.SMA_0
    if dpd <= SMA_1_MAX_DPD:
        return AssetClass.SMA_1
    if dpd <= npa_days:
        return AssetClass.SMA_2
    return AssetClass.NPA


def slippage_dates(due_date: date, *, npa_days: int = NPA_AFTER_DPD) -> dict[AssetClass, date]:
    """The day-end dates on which an installment left wholly unpaid becomes SMA-0, SMA-1, SMA-2 and NPA.

    SMA-0 on the due date, SMA-1 on due + 30 days, SMA-2 on due + 60, NPA on due + ``npa_days``
    (each the first day-end at which DPD exceeds the band's lower limit). Source: the worked example of
    RBI's IRACP clarifications, 12 Nov 2021: due 31 Mar 2021 → 31 Mar, 30 Apr, 30 May, 29 Jun 2021.
    """
    _plain_date(due_date, "due_date")
    npa_days = _npa_days(npa_days)
    return {
        AssetClass.SMA_0: due_date,
        AssetClass.SMA_1: due_date + timedelta(days=SMA_0_MAX_DPD),
        AssetClass.SMA_2: due_date + timedelta(days=SMA_1_MAX_DPD),
        AssetClass.NPA: due_date + timedelta(days=npa_days),
    }


@dataclass(frozen=True)
class Arrears:
    """A loan's overdue position at one day-end: DPD and the overdue amounts (paise)."""

    dpd: int
    principal_overdue: int = 0
    interest_overdue: int = 0
    charges_overdue: int = 0  # fees + penal charges

    def __post_init__(self) -> None:
        _whole(self.dpd, "dpd")
        for name in ("principal_overdue", "interest_overdue", "charges_overdue"):
            _whole(getattr(self, name), name)
        if self.principal_overdue + self.interest_overdue > 0 and self.dpd == 0:
            raise ValidationError("principal or interest is overdue, so DPD cannot be 0", field="dpd")
        if self.principal_overdue + self.interest_overdue + self.charges_overdue == 0 and self.dpd != 0:
            raise ValidationError("nothing is overdue, so DPD must be 0", field="dpd")

    @property
    def principal_interest_cleared(self) -> bool:
        """True when no principal and no interest is overdue (RBI's test for upgrading an NPA)."""
        return self.principal_overdue == 0 and self.interest_overdue == 0


def classify(
    arrears: Arrears, previous: AssetClass | str | None = None, *, npa_days: int = NPA_AFTER_DPD
) -> AssetClass:
    """Asset class at a day-end, given the previous day-end's class.

    * Not previously NPA: the DPD band (:func:`classify_dpd`); SMA sub-categories move up and down with
      DPD.
    * Previously NPA: stays NPA while *any* principal or interest is overdue, whatever the DPD; once the
      entire arrears of interest and principal are paid it is upgraded and takes its DPD band (STANDARD,
      or an SMA band if only charges are overdue and they count for DPD).

    Source: RBI IRACP clarifications, 12 Nov 2021 (RBI/2021-2022/125), "Upgradation of accounts
    classified as NPAs": upgrade to 'standard' only if the entire arrears of interest and principal are
    paid. Monotone: for a previously-NPA account with arrears outstanding the result is NPA.
    """
    if not isinstance(arrears, Arrears):
        raise ValidationError("arrears must be an Arrears", field="arrears")
    by_dpd = classify_dpd(arrears.dpd, npa_days=npa_days)
    if previous is None:
        return by_dpd
    prev = parse_asset_class(previous)
    if prev == AssetClass.NPA and not arrears.principal_interest_cleared:
        return AssetClass.NPA
    return by_dpd


@dataclass(frozen=True)
class Delinquency:
    as_of: date
    dpd: int
    asset_class: AssetClass
    oldest_overdue_due_date: date | None
    principal_overdue: int
    interest_overdue: int
    charges_overdue: int
    bucket: str | None = None  # collection bucket name, when buckets were given

    @property
    def total_overdue(self) -> int:
        return self.principal_overdue + self.interest_overdue + self.charges_overdue


def arrears_of(
    dues: Sequence[InstallmentDue], as_of: date, *, at_day_end: bool = True, include_charges: bool = False
) -> tuple[Arrears, date | None]:
    """Arrears at ``as_of`` from unpaid installment amounts, and the due date DPD is counted from.

    An installment is overdue at the day-end of its due date (``at_day_end``) or from the next day
    (``at_day_end=False``); see :func:`days_past_due`. DPD follows the oldest overdue installment with
    unpaid principal or interest (or any amount, with ``include_charges``). Source: RBI IRACP
    clarifications, 12 Nov 2021.
    """
    _plain_date(as_of, "as_of")
    for due in dues:
        if not isinstance(due, InstallmentDue):
            raise ValidationError("each due must be an InstallmentDue", field="dues")
    overdue = [d for d in dues if d.due_date < as_of or (at_day_end and d.due_date == as_of)]
    principal = sum(d.principal_due for d in overdue)
    interest = sum(d.interest_due for d in overdue)
    charges = sum(d.fees_due + d.penal_due for d in overdue)
    counted = [d for d in overdue if d.principal_due + d.interest_due > 0 or (include_charges and d.total > 0)]
    oldest = min((d.due_date for d in counted), default=None)
    dpd = days_past_due(oldest, as_of, at_day_end=at_day_end)
    return Arrears(dpd, principal, interest, charges), oldest


def assess(
    dues: Sequence[InstallmentDue],
    as_of: date,
    previous: AssetClass | str | None = None,
    *,
    at_day_end: bool = True,
    include_charges: bool = False,
    npa_days: int = NPA_AFTER_DPD,
    buckets: CollectionBuckets | None = None,
) -> Delinquency:
    """DPD, RBI asset class (with the NPA-upgrade rule) and collection bucket of one loan at ``as_of``.

    Combines :func:`arrears_of`, :func:`classify` and :meth:`CollectionBuckets.bucket_for`; conventions and
    source (RBI IRACP clarifications, 12 Nov 2021) as documented there.
    """
    arrears, oldest = arrears_of(dues, as_of, at_day_end=at_day_end, include_charges=include_charges)
    asset_class = classify(arrears, previous, npa_days=npa_days)
    bucket = buckets.bucket_for(arrears.dpd).name if buckets is not None else None
    return Delinquency(
        as_of,
        arrears.dpd,
        asset_class,
        oldest,
        arrears.principal_overdue,
        arrears.interest_overdue,
        arrears.charges_overdue,
        bucket,
    )


# --------------------------------------------------------------------------- collection buckets

_RANGE = re.compile(r"^\s*(\d+)\s*[-–]\s*(\d+)\s*$")
_SINGLE = re.compile(r"^\s*(\d+)\s*$")
_MORE_THAN = re.compile(r"^\s*(?:(\d+)\s*\+|>\s*(\d+))\s*$")


def parse_dpd_range(label: str, field_name: str = "buckets") -> tuple[int, int | None]:
    """A DPD range from its label: ``"0"`` → (0, 0); ``"1-30"`` → (1, 30) inclusive; ``"90+"`` or
    ``">90"`` → (91, None), i.e. *more than* 90, as the industry writes "90+ DPD" for the NPA bucket."""
    if not isinstance(label, str):
        raise ValidationError(f"bucket range must be text like '1-30' or '90+', got {label!r}", field=field_name)
    if m := _SINGLE.match(label):
        return int(m.group(1)), int(m.group(1))
    if m := _RANGE.match(label):
        low, high = int(m.group(1)), int(m.group(2))
        if low > high:
            raise ValidationError(f"bucket {label!r}: start after end", field=field_name)
        return low, high
    if m := _MORE_THAN.match(label):
        return int(m.group(1) or m.group(2)) + 1, None
    raise ValidationError(f"bucket range {label!r} is not like '0', '1-30' or '90+'", field=field_name)


@dataclass(frozen=True)
class DpdBucket:
    name: str
    min_dpd: int
    max_dpd: int | None  # inclusive; None = no upper end

    def contains(self, dpd: int) -> bool:
        return dpd >= self.min_dpd and (self.max_dpd is None or dpd <= self.max_dpd)


@dataclass(frozen=True)
class CollectionBuckets:
    """A brand's named DPD ranges. Validated to start at DPD 0, be contiguous and non-overlapping, and
    end open-ended, so every DPD falls in exactly one bucket."""

    buckets: tuple[DpdBucket, ...]

    def __post_init__(self) -> None:
        buckets = tuple(self.buckets)
        object.__setattr__(self, "buckets", buckets)
        if not buckets:
            raise ValidationError("at least one bucket is required", field="buckets")
        names = [b.name for b in buckets]
        if any(not isinstance(n, str) or not n.strip() for n in names):
            raise ValidationError("every bucket needs a name", field="buckets")
        if len(set(names)) != len(names):
            raise ValidationError("bucket names must be unique", field="buckets")
        for b in buckets:
            _whole(b.min_dpd, "buckets")
            if b.max_dpd is not None and _whole(b.max_dpd, "buckets") < b.min_dpd:
                raise ValidationError(f"bucket {b.name!r}: start after end", field="buckets")
        if buckets[0].min_dpd != 0:
            raise ValidationError(f"buckets must start at DPD 0, not {buckets[0].min_dpd}", field="buckets")
        for prev, nxt in zip(buckets, buckets[1:], strict=False):
            if prev.max_dpd is None:
                raise ValidationError(f"bucket {prev.name!r} is open-ended but is not the last", field="buckets")
            if nxt.min_dpd <= prev.max_dpd:
                raise ValidationError(f"buckets {prev.name!r} and {nxt.name!r} overlap", field="buckets")
            if nxt.min_dpd > prev.max_dpd + 1:
                raise ValidationError(
                    f"gap between {prev.name!r} and {nxt.name!r}: DPD {prev.max_dpd + 1} is in no bucket "
                    "(note 'N+' means more than N)",
                    field="buckets",
                )
        if buckets[-1].max_dpd is not None:
            raise ValidationError(
                f"the last bucket must be open-ended (like '90+'); DPD {buckets[-1].max_dpd + 1} is in no bucket",
                field="buckets",
            )

    @classmethod
    def parse(cls, spec: Sequence[str | Mapping[str, object]]) -> CollectionBuckets:
        """From brand config: labels (``["0", "1-30", "31-60", "61-90", "90+"]``, see
        :func:`parse_dpd_range`) or mappings ``{"name": "Bucket 1", "range": "1-30"}`` /
        ``{"name": "X", "min": 1, "max": 30}`` (``max`` absent or null = open-ended)."""
        if isinstance(spec, str | bytes) or not isinstance(spec, Sequence):
            raise ValidationError("buckets must be a list", field="buckets")
        out: list[DpdBucket] = []
        for item in spec:
            if isinstance(item, str):
                low, high = parse_dpd_range(item)
                out.append(DpdBucket(item.strip(), low, high))
            elif isinstance(item, Mapping):
                name = item.get("name")
                if "range" in item:
                    low, high = parse_dpd_range(item["range"])  # type: ignore[arg-type]
                else:
                    low = _whole(item.get("min"), "buckets")
                    raw_max = item.get("max")
                    high = None if raw_max is None else _whole(raw_max, "buckets")
                if not isinstance(name, str):
                    name = f"{low}+" if high is None else f"{low}-{high}"
                out.append(DpdBucket(name.strip(), low, high))
            else:
                raise ValidationError(f"bad bucket {item!r}", field="buckets")
        return cls(tuple(out))

    def bucket_for(self, dpd: int) -> DpdBucket:
        """The one bucket containing ``dpd``."""
        dpd = _whole(dpd, "dpd")
        for b in self.buckets:
            if b.contains(dpd):
                return b
        raise AssertionError("validated buckets cover every DPD")  # pragma: no cover


DEFAULT_BUCKETS = CollectionBuckets.parse(["0", "1-30", "31-60", "61-90", "90+"])
