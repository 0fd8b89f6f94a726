"""The made-up borrowers the demos and tests apply as: phones, PANs, Aadhaar numbers, accounts and a statement PDF
that take the wanted sandbox branch (sandbox/scenarios.py) and are never a real person's."""

from __future__ import annotations

import random

from activities.loan.receipt_docs import pdf_of


def random_account() -> str:
    """A salary account number no sandbox scenario reacts to (none starts with 3)."""
    return f"3{random.randrange(10**10, 10**11)}"


SANDBOX_AADHAAR_OTP = "123456"  # the OTP the sandbox accepts


def demo_aadhaar() -> str:
    """A random Aadhaar number with a valid Verhoeff check digit (never a real person's)."""
    from domain.kyc import verhoeff_check_digit

    body = f"{random.randrange(2, 10)}{random.randrange(10**9, 10**10):010d}"
    return body + verhoeff_check_digit(body)


def demo_statement_pdf() -> bytes:
    """A small, valid PDF standing in for a salary account statement."""
    text = b"BT /F1 12 Tf 72 720 Td (Salary credit ACME TECHNOLOGIES 65000.00) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_of(objects)


def plain_ending(phone: str) -> bool:
    """Whether no sandbox scenario reacts to the last four digits of ``phone``: not 000x nor 0099 (see
    :func:`plain_phone`); for a number whose prefix a test picks, a scenario prefix among them."""
    return not phone[-4:].startswith("000") and phone[-4:] != "0099"


def plain_phone(phone: str) -> bool:
    """Whether no sandbox scenario reacts to the 10-digit ``phone`` (sandbox/scenarios.py, sandbox/messaging.py,
    sandbox/dialer.py, sandbox/esign.py): it does not start with 9999 (SMS and dialer vendors answer 503) or 88888
    (a dialer times out), and its last four digits are not 000x (0000: the EPFO lookup hangs and SMS are reported
    FAILED; 0001-0007: no mobile or UAN record, an AA consent refused or revoked, an employment or statement
    exception) nor 0099 (the signer signs at once). Until 5 December a random demo phone ended in 0000 about once in
    10,000: its employment check timed out on every try and the loan never got its decision."""
    return not phone.startswith(("9999", "88888")) and plain_ending(phone)


def demo_identity(index: int, scenario: str) -> tuple[str, str]:
    """A fresh phone (:func:`plain_phone`) and a PAN that takes the wanted branch (see sandbox/scenarios.py)."""
    rng = random.Random()
    phone = f"9{rng.randrange(10**8, 10**9):09d}"
    while not plain_phone(phone):
        phone = f"9{rng.randrange(10**8, 10**9):09d}"
    first = {"auto": "5", "review": "1", "reject": "0"}[scenario]
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWYZ") for _ in range(5))
    pan = f"{letters}{first}{rng.randrange(100, 999)}{rng.choice('ABCDEFGHJK')}"
    return phone, pan
