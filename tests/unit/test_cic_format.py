"""The CIC file (domain.cic): the TUDF record checked field by field against the layout (tags, lengths, DDMMYYYY
dates, whole rupees, codes), the header and trailer; the validator catching each broken rule; RBI's reference and
due dates; the incremental file holding exactly the accounts that changed, the full file every open account and
those closed since the last one."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import date

import pytest

from domain import cic
from domain.cic import calendar as cal
from domain.cic import tudf
from domain.errors import ValidationError

LOAN = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
REF = date(2026, 11, 16)


def record(**changes: object) -> cic.AccountRecord:
    base = cic.AccountRecord(
        loan_id=LOAN,
        member_code="NB12345678",
        member_short_name="Demo Finance",
        reported_on=REF,
        name="Ravi Kumar",
        dob=date(1990, 1, 5),
        gender="M",
        pan="ABCPK1234Z",
        phone="9876543210",
        email="ravi@example.in",
        address="12 MG Road, Indiranagar, Bengaluru",
        state="Karnataka",
        pincode="560038",
        opened_on=date(2026, 6, 1),
        sanctioned=1_00_000_50,  # ₹1,00,000.50 → 100001 (half up)
        balance=50_000_49,  # ₹50,000.49 → 50000
        overdue=5_000_00,
        dpd=15,
        asset_class="SMA-0",
        last_payment_on=date(2026, 10, 1),
        last_payment=4_000_00,
        rate_bps=2400,
        tenure=6,
        emi=17_500_00,
        frequency="MONTHLY",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def parse_segment(text: str, seg_tag: str) -> dict[str, str]:
    """The fields of the segment ``seg_tag`` of one rendered record: tag → value (reading tag + length + value)."""
    i = text.index(seg_tag + "0")
    head_len = int(text[i + 2 : i + 4])
    i += 4 + head_len
    fields: dict[str, str] = {}
    while i < len(text) and text[i : i + 2].isdigit():
        tag, length = text[i : i + 2], int(text[i + 2 : i + 4])
        fields[tag] = text[i + 4 : i + 4 + length]
        i += 4 + length
    return fields


def segment_tags(text: str) -> list[str]:
    """The segments of a rendered record in order, by walking it tag by tag."""
    out, i = [], 0
    while i < len(text):
        if text[i:].startswith(tudf.END_OF_RECORD):
            out.append("ES")
            break
        seg, head_len = text[i : i + 2], int(text[i + 2 : i + 4])
        out.append(seg)
        i += 4 + head_len
        while i < len(text) and text[i : i + 2].isdigit():
            i += 4 + int(text[i + 2 : i + 4])
    return out


# ------------------------------------------------------------------------------------------- the record
def test_the_record_is_its_segments_in_order_ending_es02() -> None:
    text = cic.render_record(record())
    assert segment_tags(text) == ["PN", "ID", "PT", "EC", "PA", "TL", "ES"]
    assert text.startswith("PN03N01") and "ID03I01" in text and "PT03T01" in text and "EC03C01" in text
    assert "PA03A01" in text and "TL04T001" in text and text.endswith("ES02**")


def test_name_segment_field_by_field() -> None:
    pn = parse_segment(cic.render_record(record()), "PN")
    assert pn == {"01": "RAVI KUMAR", "07": "05011990", "08": "2"}
    assert "PN03N010110RAVI KUMAR0708050119900801" + "2" in cic.render_record(record())
    long = parse_segment(cic.render_record(record(name="Venkata Lakshmi Narasimha Subrahmanya Sastry Iyer")), "PN")
    assert all(len(v) <= 26 for k, v in long.items() if k < "06")
    assert " ".join(long[k] for k in ("01", "02")) == "VENKATA LAKSHMI NARASIMHA SUBRAHMANYA SASTRY IYER"
    assert parse_segment(cic.render_record(record(gender="F")), "PN")["08"] == "1"
    assert parse_segment(cic.render_record(record(gender="T")), "PN")["08"] == "3"


def test_identification_telephone_email_and_address_segments() -> None:
    text = cic.render_record(record(phone="+919876543210"))
    assert parse_segment(text, "ID") == {"01": "01", "02": "ABCPK1234Z"}  # ID type 01: PAN
    assert parse_segment(text, "PT") == {"01": "9876543210", "03": "01"}  # 01 mobile
    assert parse_segment(text, "EC") == {"01": "RAVI@EXAMPLE.IN"}
    pa = parse_segment(text, "PA")
    assert pa == {"01": "12 MG ROAD, INDIRANAGAR, BENGALURU", "06": "29", "07": "560038", "08": "02"}
    assert all(len(v) <= 40 for v in pa.values())
    # no PAN, no e-mail: those segments are left out
    bare = cic.render_record(record(pan=None, email=None))
    assert segment_tags(bare) == ["PN", "PT", "PA", "TL", "ES"]


def test_account_segment_field_by_field() -> None:
    tl = parse_segment(cic.render_record(record()), "TL")
    assert tl == {
        "01": "NB12345678",  # member code, 10
        "02": "DEMO FINANCE",  # short name
        "03": cic.account_number(LOAN),  # 25 characters
        "04": "05",  # personal loan
        "05": "1",  # individual
        "08": "01062026",  # opened, DDMMYYYY
        "09": "01102026",  # last payment
        "11": "16112026",  # reported and certified: the reference date
        "12": "100001",  # sanctioned, whole rupees, half up
        "13": "50000",  # balance
        "14": "5000",  # overdue
        "15": "015",  # DPD, 3 digits
        "26": "05",  # SMA
        "38": "24.00",
        "39": "6",
        "40": "17500",
        "44": "03",  # monthly
        "45": "4000",
    }
    assert len(tl["03"]) == 25
    assert "TL04T0010110NB12345678" in cic.render_record(record())


def test_codes_written_off_settled_restructured_and_asset_class() -> None:
    wo = parse_segment(
        cic.render_record(
            record(
                bureau_flag="WRITTEN_OFF", closed_on=date(2026, 11, 10), written_off_total=30_000_00,
                written_off_principal=25_000_00, asset_class="NPA", npa_since=date(2026, 8, 1), dpd=120,
            )
        ),
        "TL",
    )  # fmt: skip
    assert (wo["22"], wo["41"], wo["42"], wo["10"], wo["26"], wo["15"]) == (
        "02", "30000", "25000", "10112026", "02", "120",
    )  # fmt: skip
    settled = parse_segment(cic.render_record(record(bureau_flag="SETTLED", settlement_amount=12_000_00)), "TL")
    assert (settled["22"], settled["43"]) == ("03", "12000")
    assert parse_segment(cic.render_record(record(bureau_flag="RESTRUCTURED")), "TL")["22"] == "00"
    assert parse_segment(cic.render_record(record(asset_class="STANDARD", dpd=0)), "TL")["26"] == "01"
    # NPA for more than 12 months: doubtful
    assert tudf.asset_classification("NPA", date(2025, 9, 1), REF) == "03"
    assert tudf.asset_classification("NPA", date(2026, 1, 1), REF) == "02"
    assert "22" not in parse_segment(cic.render_record(record()), "TL")  # nothing to say: left out


def test_a_closing_after_the_reference_date_is_not_reported_yet() -> None:
    tl = parse_segment(cic.render_record(record(closed_on=date(2026, 11, 20))), "TL")
    assert "10" not in tl


def test_amounts_dates_and_account_numbers() -> None:
    assert tudf.rupees(50) == "1" and tudf.rupees(49) == "0" and tudf.rupees(12_345_00) == "12345"
    assert tudf.ddmmyyyy(date(2026, 2, 3)) == "03022026"
    for _ in range(50):
        loan_id = str(uuid.uuid4())
        number = cic.account_number(loan_id)
        assert len(number) == 25 and re.fullmatch(r"[0-9A-Z]{25}", number)
        assert cic.loan_id_of_account(number) == loan_id and cic.loan_id_of_account(number.lstrip("0")) == loan_id
    assert cic.loan_id_of_account("not-an-account") is None and cic.loan_id_of_account("Z" * 25) is None


def test_header_and_trailer() -> None:
    header = cic.Header("NB12345678", "Demo Finance", REF)
    line = header.render()
    assert len(line) == tudf.HEADER_LENGTH == 146
    assert line[:4] == "TUDF" and line[4:6] == "12"
    assert line[6:36] == "NB12345678".ljust(30) and line[36:52] == "DEMO FINANCE".ljust(16)
    assert line[54:62] == "16112026" and line[62:92] == " " * 30 and line[92] == "L"
    text = cic.render_file(header, [record(), record(loan_id=str(uuid.uuid4()))])
    lines = text.splitlines()
    assert lines[0] == line and lines[-1] == "TRLR" and text.endswith("TRLR\n")
    assert len(lines) == 4 and sum(1 for x in lines if x.endswith("ES02**")) == 2  # one line per record
    assert cic.render_file(header, []).splitlines() == [line, "TRLR"]


# ------------------------------------------------------------------------------------------- the validator
def messages(rec: cic.AccountRecord) -> set[tuple[str, str]]:
    return {(e.segment, e.tag) for e in cic.validate_record(rec)}


def test_a_good_record_has_no_errors() -> None:
    assert cic.validate_record(record()) == []
    assert cic.validate_header(cic.Header("NB12345678", "Demo", REF)) == []


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"name": None}, ("PN", "01")),
        ({"dob": None}, ("PN", "07")),
        ({"dob": date(2027, 1, 1)}, ("PN", "07")),
        ({"gender": None}, ("PN", "08")),
        ({"gender": "X"}, ("PN", "08")),
        ({"pan": "ABCDE12345"}, ("ID", "02")),
        ({"pan": "abcpk1234"}, ("ID", "02")),
        ({"pan": None, "phone": None}, ("ID", "")),
        ({"phone": "98765"}, ("PT", "01")),
        ({"email": "not-mail"}, ("EC", "01")),
        ({"address": None}, ("PA", "01")),
        ({"state": None}, ("PA", "06")),
        ({"state": "Atlantis"}, ("PA", "06")),
        ({"pincode": "060038"}, ("PA", "07")),
        ({"pincode": None}, ("PA", "07")),
        ({"member_code": ""}, ("TL", "01")),
        ({"member_code": "NB123"}, ("TL", "01")),
        ({"member_short_name": "A Very Long Member Short Name"}, ("TL", "02")),
        ({"account_type": "99"}, ("TL", "04")),
        ({"opened_on": None}, ("TL", "08")),
        ({"opened_on": date(2026, 12, 1)}, ("TL", "08")),
        ({"last_payment_on": date(2026, 5, 1)}, ("TL", "09")),
        ({"last_payment_on": date(2026, 11, 20)}, ("TL", "09")),
        ({"closed_on": date(2026, 5, 1)}, ("TL", "10")),
        ({"sanctioned": 0}, ("TL", "12")),
        ({"sanctioned": 10_000_000_000_00}, ("TL", "12")),  # 10 digits of rupees
        ({"balance": -1_00}, ("TL", "13")),
        ({"overdue": -5_00}, ("TL", "14")),
        ({"overdue": 0}, ("TL", "14")),  # DPD 15 with nothing overdue
        ({"dpd": 1000}, ("TL", "15")),
        ({"dpd": -1}, ("TL", "15")),
        ({"closed_on": date(2026, 11, 10)}, ("TL", "13")),  # closed with a balance
        ({"bureau_flag": "WRITTEN_OFF"}, ("TL", "41")),
        ({"written_off_total": 10_00, "written_off_principal": 20_00}, ("TL", "42")),
        ({"emi": -1}, ("TL", "40")),
        ({"extra_errors": ("the loan is COMPLETED but has no closure date",)}, ("TL", "")),
    ],
)
def test_the_validator_catches_each_broken_rule(changes: dict, where: tuple[str, str]) -> None:
    assert where in messages(record(**changes))


def test_the_validator_names_the_field_and_says_what_is_wrong() -> None:
    (error,) = cic.validate_record(record(pan="ABCDE12345"))
    assert error.as_dict() == {
        "segment": "ID",
        "tag": "02",
        "field": "ID Number",
        "message": "a PAN must be 5 letters, 4 digits and a letter (AAAAA9999A)",
    }
    bad = cic.validate_header(cic.Header("", "", REF))
    assert [e.field for e in bad] == ["Member User ID", "Member Short Name"]


def test_a_closed_written_off_account_with_its_amounts_is_valid() -> None:
    rec = record(
        bureau_flag="WRITTEN_OFF", closed_on=date(2026, 11, 10), written_off_total=30_000_00,
        written_off_principal=25_000_00, balance=0, overdue=0, dpd=0, asset_class="NPA",
    )  # fmt: skip
    assert cic.validate_record(rec) == []


# ------------------------------------------------------------------------------------------- the calendar
def test_reference_dates_and_kinds() -> None:
    assert [d for d in range(1, 31) if cic.kind_of(date(2026, 11, d))] == [9, 16, 23, 30]
    assert cic.kind_of(date(2026, 11, 9)) == cic.kind_of(date(2026, 11, 16)) == cic.INCREMENTAL
    assert cic.kind_of(date(2026, 11, 23)) == cic.INCREMENTAL
    assert cic.kind_of(date(2026, 11, 30)) == cic.kind_of(date(2026, 12, 31)) == cic.FULL
    assert cic.kind_of(date(2027, 2, 28)) == cic.FULL and cic.kind_of(date(2028, 2, 29)) == cic.FULL
    assert cic.kind_of(date(2028, 2, 28)) is None and cic.kind_of(date(2026, 11, 15)) is None
    assert cic.is_reference_date(date(2026, 11, 9), cic.INCREMENTAL)
    assert not cic.is_reference_date(date(2026, 11, 9), cic.FULL)


def test_check_reference_date_names_the_field() -> None:
    with pytest.raises(ValidationError) as e:
        cal.check_reference_date(date(2026, 11, 15), cic.INCREMENTAL)
    assert e.value.field == "referenceDate"
    with pytest.raises(ValidationError) as e:
        cal.check_reference_date(date(2026, 11, 23), cic.FULL)
    assert e.value.field == "referenceDate" and "2026-11-30" in e.value.message
    with pytest.raises(ValidationError) as e:
        cal.check_reference_date(date(2026, 11, 30), "WEEKLY")
    assert e.value.field == "kind"
    cal.check_reference_date(date(2026, 11, 30), cic.FULL)


def test_due_dates() -> None:
    # incremental: within 4 calendar days of the reference date
    assert cic.due_date(cic.INCREMENTAL, date(2026, 11, 9)) == date(2026, 11, 13)
    assert cic.due_date(cic.INCREMENTAL, date(2026, 12, 23)) == date(2026, 12, 27)
    # full: by the 5th of the next month, over the year's end too
    assert cic.due_date(cic.FULL, date(2026, 11, 30)) == date(2026, 12, 5)
    assert cic.due_date(cic.FULL, date(2026, 12, 31)) == date(2027, 1, 5)
    assert cic.due_date(cic.FULL, date(2027, 2, 28)) == date(2027, 3, 5)


def test_previous_reference_dates() -> None:
    assert cic.previous_reference_date(date(2026, 11, 9)) == date(2026, 10, 31)
    assert cic.previous_reference_date(date(2026, 11, 16)) == date(2026, 11, 9)
    assert cic.previous_reference_date(date(2026, 11, 30)) == date(2026, 11, 23)
    assert cic.previous_reference_date(date(2027, 3, 9)) == date(2027, 2, 28)
    assert cic.previous_full_date(date(2026, 11, 30)) == date(2026, 10, 31)
    assert cic.previous_full_date(date(2027, 1, 31)) == date(2026, 12, 31)


# ------------------------------------------------------------------------------------------- the selection
def snap(status: str = "DISBURSED", asset: str = "STANDARD", dpd: int = 0, flag: str | None = None,
         closed: bool = False) -> cic.Snapshot:  # fmt: skip
    return cic.Snapshot(status, asset, cic.dpd_bucket(dpd), flag, closed)


def acct(loan_id: str, opened: date, state: cic.Snapshot, closed: date | None = None) -> cic.Account:
    return cic.Account(loan_id, opened, closed, state)


LAST, NOW = date(2026, 11, 9), date(2026, 11, 16)


def test_the_incremental_file_holds_exactly_the_accounts_that_changed() -> None:
    old = date(2026, 9, 1)
    accounts = [
        acct("unchanged", old, snap()),
        acct("opened", date(2026, 11, 12), snap()),
        acct("opened-on-the-reference-date", NOW, snap()),
        acct("opened-on-the-last-reference-date", LAST, snap()),  # reported in the last file
        acct("opened-after", date(2026, 11, 17), snap()),
        acct("closed", old, snap("COMPLETED", closed=True), closed=date(2026, 11, 14)),
        acct("closed-before", old, snap("COMPLETED", closed=True), closed=date(2026, 11, 1)),
        acct("status", old, snap("OVERDUE", "SMA-0", 5)),
        acct("dpd-bucket", old, snap("OVERDUE", "SMA-1", 35)),
        acct("same-bucket", old, snap("OVERDUE", "SMA-0", 20)),
        acct("npa", old, snap("OVERDUE", "NPA", 95)),
        acct("written-off", old, snap("WRITTEN_OFF", "NPA", 95, "WRITTEN_OFF", True), closed=date(2026, 11, 2)),
        acct("never-reported", old, snap()),
        acct("rejected", old, snap()),
    ]
    reported = {
        "unchanged": snap(),
        "opened-on-the-last-reference-date": snap(),
        "closed-before": snap("COMPLETED", closed=True),
        "status": snap(),
        "dpd-bucket": snap("OVERDUE", "SMA-0", 25),
        "same-bucket": snap("OVERDUE", "SMA-0", 5),
        "npa": snap("OVERDUE", "SMA-2", 85),
        "written-off": snap("OVERDUE", "NPA", 95),
        "rejected": snap(),
    }
    chosen = cic.select_incremental(accounts, LAST, NOW, reported, resubmit=["rejected"])
    assert chosen == [
        "opened", "opened-on-the-reference-date", "closed", "status", "dpd-bucket", "npa", "written-off",
        "never-reported", "rejected",
    ]  # fmt: skip


def test_the_full_file_holds_every_open_account_and_those_closed_since_the_last_one() -> None:
    last_full, ref = date(2026, 10, 31), date(2026, 11, 30)
    accounts = [
        acct("open", date(2026, 1, 1), snap()),
        acct("opened-this-month", date(2026, 11, 20), snap()),
        acct("opened-after", date(2026, 12, 1), snap()),
        acct("closed-this-month", date(2026, 1, 1), snap("COMPLETED", closed=True), closed=date(2026, 11, 5)),
        acct("closed-on-the-last-full-date", date(2026, 1, 1), snap("COMPLETED", closed=True), closed=last_full),
        acct("closed-long-ago", date(2025, 1, 1), snap("COMPLETED", closed=True), closed=date(2025, 6, 1)),
        acct("closed-after", date(2026, 1, 1), snap("COMPLETED", closed=True), closed=date(2026, 12, 1)),
        acct("rejected-long-ago", date(2025, 1, 1), snap("COMPLETED", closed=True), closed=date(2025, 6, 1)),
    ]
    chosen = cic.select_full(accounts, last_full, ref, resubmit=["rejected-long-ago"])
    assert chosen == ["open", "opened-this-month", "closed-this-month", "closed-after", "rejected-long-ago"]


def test_dpd_buckets() -> None:
    assert [cic.dpd_bucket(d) for d in (0, 1, 30, 31, 60, 61, 90, 91)] == [
        "0", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "90+",
    ]  # fmt: skip
    assert cic.Snapshot.of(snap("OVERDUE", "SMA-1", 40).as_dict()) == snap("OVERDUE", "SMA-1", 40)


# ------------------------------------------------------------------------------------------- the CKYC number
def id_segments(text: str) -> list[tuple[str, dict[str, str]]]:
    """Every ID segment of a rendered record: its value (``I01``, ``I02``) and its fields, walking the record."""
    out, i = [], 0
    while i < len(text) and not text[i:].startswith(tudf.END_OF_RECORD):
        seg, head_len = text[i : i + 2], int(text[i + 2 : i + 4])
        value = text[i + 4 : i + 4 + head_len]
        i += 4 + head_len
        fields: dict[str, str] = {}
        while i < len(text) and text[i : i + 2].isdigit():
            tag, length = text[i : i + 2], int(text[i + 2 : i + 4])
            fields[tag] = text[i + 4 : i + 4 + length]
            i += 4 + length
        if seg == "ID":
            out.append((value, fields))
    return out


def test_the_ckyc_number_is_an_id_segment_after_the_pan() -> None:
    text = cic.render_record(record(ckyc="30012345678901"))
    assert segment_tags(text) == ["PN", "ID", "ID", "PT", "EC", "PA", "TL", "ES"]
    assert id_segments(text) == [
        ("I01", {"01": "01", "02": "ABCPK1234Z"}),  # PAN
        ("I02", {"01": "09", "02": "30012345678901"}),  # CKYC number, 14 digits
    ]
    assert "ID03I01" + "0102010210ABCPK1234Z" + "ID03I02" + "0102090214" + "30012345678901" + "PT03T01" in text
    assert cic.validate_record(record(ckyc="30012345678901")) == []


def test_without_a_pan_the_ckyc_number_is_the_first_id_segment() -> None:
    text = cic.render_record(record(pan=None, ckyc=" 30012345678901 "))
    assert id_segments(text) == [("I01", {"01": "09", "02": "30012345678901"})]
    # an identifier: no telephone needed then
    assert cic.validate_record(record(pan=None, phone=None, ckyc="30012345678901")) == []


def test_no_ckyc_number_no_ckyc_segment() -> None:
    for none in (None, "", "  "):
        assert id_segments(cic.render_record(record(ckyc=none))) == [("I01", {"01": "01", "02": "ABCPK1234Z"})]


@pytest.mark.parametrize("bad", ["3001234567890", "300123456789012", "X001234567890A", "30012345 78901"])
def test_a_ckyc_number_not_of_14_digits_is_refused(bad: str) -> None:
    errors = cic.validate_record(record(ckyc=bad))
    assert [(e.segment, e.tag, e.message) for e in errors] == [("ID", "02", "a CKYC number must be 14 digits")]
