"""The Facebook Lead Ads export parser (domain/leads.py): a real-shaped export, Indian phone numbers, e-mails,
duplicates within the file, per-row errors with line numbers, TSV/UTF-16 as the export URL gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.leads import LeadFileError, normalise_email, normalise_phone, parse_leads

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "facebook_leads.csv"


def test_fixture_rows_errors_and_duplicates() -> None:
    parsed = parse_leads(FIXTURE.read_bytes())
    assert [r.line for r in parsed.rows] == [2, 3, 4, 6]
    first = parsed.rows[0]
    assert first.phone == "9876543210" and first.email == "asha.verma@example.com"
    assert first.external_id == "l:1234567890123401" and first.ad_id == "120210000000000001"
    assert first.adset_name == "Bengaluru 25-40" and first.campaign_id == "120210000000000021"
    assert first.form_name == "Quick loan form" and first.platform == "ig" and not first.is_organic
    assert first.responses == {"monthly_salary": "45000", "employment_type": "salaried"}
    assert first.created_time is not None and first.created_time.utcoffset() is not None
    organic = parsed.rows[2]
    assert organic.is_organic and organic.ad_id is None and organic.phone == "8123456789"
    assert parsed.rows[3].duplicate_of_line == 3  # same phone as Ravi Kumar, written differently
    assert [(e.line, e.column) for e in parsed.errors] == [(5, "phone_number"), (7, "email")]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("+91 98765 43210", "9876543210"),
        ("p:+919876543210", "9876543210"),
        ("09876543210", "9876543210"),
        ("91-98765-43210", "9876543210"),
        ("(987) 654-3210", "9876543210"),
        ("1234567890", None),
        ("+1 415 555 0100", None),
        ("98765", None),
        ("phone: 9876543210x", None),
    ],
)
def test_phone(raw: str, want: str | None) -> None:
    assert normalise_phone(raw) == want


def test_email() -> None:
    assert normalise_email(" E:Some.One@Mail.IN ") == "some.one@mail.in"
    assert normalise_email("no-at-sign") is None


def test_tsv_utf16_and_file_errors() -> None:
    tsv = "id\tfull_name\tphone_number\temail\tpan\nl:1\tA B\t9876543210\t\tABCDE1234F\n\n"
    parsed = parse_leads(tsv.encode("utf-16"))
    assert len(parsed.rows) == 1 and parsed.rows[0].responses == {"pan": "ABCDE1234F"} and not parsed.errors
    with pytest.raises(LeadFileError, match="neither phone_number nor email"):
        parse_leads("id,name\n1,x\n")
    with pytest.raises(LeadFileError, match="empty"):
        parse_leads("")
    with pytest.raises(LeadFileError, match="more than 1 rows"):
        parse_leads("phone_number\n9876543210\n9876543211\n", max_rows=1)
    with pytest.raises(LeadFileError):
        parse_leads(b"\xff\x00\xc3(")
    missing = parse_leads("id,phone_number,email\n1,,\n")
    assert [(e.line, e.column) for e in missing.errors] == [(2, "phone_number")]
