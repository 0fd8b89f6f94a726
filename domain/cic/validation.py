"""Validation of a TUDF file before it is offered for download (docs/bureau-reporting.md): every field of the header
and of each account record against the layout's rules in :mod:`domain.cic.tudf` (mandatory, length, DDMMYYYY dates,
PAN, PIN code, codes), as one :class:`FieldError` per broken rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.cic.tudf import (
    ACCOUNT_TYPES,
    CKYC_NUMBER,
    EC,
    EMAIL,
    ID,
    MEMBER_CODE,
    PA,
    PAN,
    PHONE,
    PINCODE,
    PN,
    PT,
    TL,
    AccountRecord,
    Header,
    Segment,
    Spec,
    segments,
)


@dataclass(frozen=True)
class FieldError:
    """One broken rule: the segment and field tag (``TL``/``13``), the field's name and what is wrong."""

    segment: str
    tag: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"segment": self.segment, "tag": self.tag, "field": self.field, "message": self.message}


def _valid_ddmmyyyy(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def _check_field(seg: Segment, spec: Spec, value: str) -> list[FieldError]:
    def err(message: str) -> FieldError:
        return FieldError(seg.tag, spec.tag, spec.name, message)

    if not value:
        return [err("is mandatory")] if spec.mandatory else []
    errors = []
    if len(value) > spec.length:
        errors.append(err(f"is {len(value)} characters, at most {spec.length}"))
    elif spec.exact and len(value) != spec.length:
        errors.append(err(f"must be exactly {spec.length} characters"))
    if spec.kind == "N" and not value.isdigit():
        errors.append(err("must be digits only (no sign, no decimals)"))
    if spec.kind == "D" and _valid_ddmmyyyy(value) is None:
        errors.append(err("must be a valid date, DDMMYYYY"))
    if spec.kind == "A" and not value.isascii():
        errors.append(err("must be plain ASCII characters"))
    return errors


def validate_header(header: Header) -> list[FieldError]:
    """The header's rules: a member code of 10 letters or digits, a member short name."""
    errors = []
    if not MEMBER_CODE.match(header.member_code.strip().upper()):
        errors.append(FieldError("TUDF", "", "Member User ID", "must be the 10-character member code the CIC issued"))
    if not header.member_short_name.strip():
        errors.append(FieldError("TUDF", "", "Member Short Name", "is mandatory"))
    elif len(header.member_short_name.strip()) > 16:
        errors.append(FieldError("TUDF", "", "Member Short Name", "at most 16 characters"))
    return errors


def validate_record(rec: AccountRecord) -> list[FieldError]:
    """Every rule the record breaks (empty: it can be sent): per field, mandatory, length, digits, DDMMYYYY date
    validity; then the format's consistency rules — a PAN of the form AAAAA9999A, a PIN code of 6 digits not
    starting with 0, a known state code, at least one identifier (PAN) or telephone, a date of birth before the
    reporting date, dates opened ≤ last payment / closed ≤ reported, amounts not negative (9 digits at most), a
    sanctioned amount above zero, an amount overdue when days past due, a closed account with no balance unless
    written off or settled, and the written-off amounts with a written-off status."""
    errors: list[FieldError] = []
    segs = segments(rec)
    present = {seg.tag for seg, _ in segs}
    for seg, values in segs:
        for spec in seg.fields:
            errors += _check_field(seg, spec, values.get(spec.tag, ""))
    pn = dict(segs)[PN]
    tl = dict(segs)[TL]
    pa = dict(segs)[PA]

    def err(seg: Segment, tag: str, message: str) -> None:
        name = next(s.name for s in seg.fields if s.tag == tag)
        errors.append(FieldError(seg.tag, tag, name, message))

    if rec.pan and not PAN.match(rec.pan.strip().upper()):
        err(ID, "02", "a PAN must be 5 letters, 4 digits and a letter (AAAAA9999A)")
    if rec.ckyc and rec.ckyc.strip() and not CKYC_NUMBER.match(rec.ckyc.strip()):
        err(ID, "02", "a CKYC number must be 14 digits")
    if "ID" not in present and "PT" not in present:
        errors.append(FieldError("ID", "", "Identification", "the record needs a PAN or a telephone number"))
    if rec.phone and not PHONE.match(rec.phone.strip().removeprefix("+91")):
        err(PT, "01", "must be 10 to 20 digits")
    if rec.email and not EMAIL.match(rec.email.strip()):
        err(EC, "01", "is not an e-mail address")
    if pa.get("07") and not PINCODE.match(pa["07"]):
        err(PA, "07", "must be 6 digits, not starting with 0")
    if rec.state and not pa.get("06"):
        err(PA, "06", f"unknown state {rec.state!r}")
    if rec.dob is not None and rec.dob >= rec.reported_on:
        err(PN, "07", "must be before the date reported")
    if pn.get("08") and pn["08"] not in ("1", "2", "3"):
        err(PN, "08", "must be 1 (female), 2 (male) or 3 (transgender)")
    if rec.account_type not in ACCOUNT_TYPES:
        err(TL, "04", f"unknown account type {rec.account_type!r}")
    opened = rec.opened_on
    if opened is not None:
        if opened > rec.reported_on:
            err(TL, "08", "must not be after the date reported")
        if rec.last_payment_on is not None and rec.last_payment_on < opened:
            err(TL, "09", "must not be before the date opened")
        if rec.closed_on is not None and rec.closed_on < opened:
            err(TL, "10", "must not be before the date opened")
    if rec.last_payment_on is not None and rec.last_payment_on > rec.reported_on:
        err(TL, "09", "must not be after the date reported")
    amounts = {"12": rec.sanctioned, "13": rec.balance, "14": rec.overdue, "40": rec.emi,
               "41": rec.written_off_total, "42": rec.written_off_principal, "43": rec.settlement_amount,
               "45": rec.last_payment}  # fmt: skip
    for tag, value in amounts.items():
        if value is not None and value < 0:
            err(TL, tag, "must not be negative")
    if rec.sanctioned <= 0:
        err(TL, "12", "must be above zero")
    if rec.dpd < 0:
        err(TL, "15", "must not be negative")
    elif rec.dpd > 0 and rec.overdue <= 0:
        err(TL, "14", "must be above zero when the account has days past due")
    closed = tl.get("10")
    if closed and rec.balance > 0 and rec.bureau_flag not in ("WRITTEN_OFF", "SETTLED"):
        err(TL, "13", "a closed account has no balance (unless written off or settled)")
    if rec.bureau_flag == "WRITTEN_OFF" and not rec.written_off_total:
        err(TL, "41", "a written-off account reports the amount written off")
    if rec.written_off_principal and rec.written_off_total and rec.written_off_principal > rec.written_off_total:
        err(TL, "42", "must not exceed the written-off amount (total)")
    for message in rec.extra_errors:
        errors.append(FieldError("TL", "", "Account", message))
    return errors
