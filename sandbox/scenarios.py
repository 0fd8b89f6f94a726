"""The sandbox's scenario table: which inputs take which branch. Documented in docs/sandbox.md.

Everything here is a pure function of its inputs (and of ``today`` where a date is involved), so tests
and demos can compute what the sandbox will answer. Amounts are integer paise; dates ISO strings (the
sandbox keeps them in its JSON state). The happy path is the default: every unhappy branch needs a
deliberate input — a PAN starting FAIL/SLOW/DOWN or ending Z/Q/M/N/L/X, a phone ending 0000–0007, an
account number starting 0000/7777/8888/9, a ``SANDBOX:`` marker inside a statement — none of which
``los demo``'s random identities produce (their letters avoid I, O and X, their last letter is A–K).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

NAMES = ["Aarav Sharma", "Diya Patel", "Vihaan Iyer", "Ananya Reddy", "Kabir Singh", "Isha Nair"]
GENDERS = {
    "Aarav Sharma": "M",
    "Diya Patel": "F",
    "Vihaan Iyer": "M",
    "Ananya Reddy": "F",
    "Kabir Singh": "M",
    "Isha Nair": "F",
    "Rohit Verma": "M",
    "Meera Joshi": "F",
    "Farhan Qureshi": "M",
}
FATHERS = ["Rajesh", "Suresh", "Mahesh", "Ramesh", "Dinesh", "Naresh"]
OTHER_NAMES = ["Rohit Verma", "Meera Joshi", "Farhan Qureshi"]  # someone else's account / record
ADDRESSES = [
    {"line": "12, MG Road, Shivajinagar", "city": "Bengaluru", "state": "Karnataka", "pincode": "560001"},
    {"line": "4B, Linking Road, Bandra West", "city": "Mumbai", "state": "Maharashtra", "pincode": "400050"},
    {"line": "221, Anna Salai, Teynampet", "city": "Chennai", "state": "Tamil Nadu", "pincode": "600018"},
    {"line": "7, Banjara Hills Road No. 2", "city": "Hyderabad", "state": "Telangana", "pincode": "500034"},
    {"line": "88, Sector 18", "city": "Noida", "state": "Uttar Pradesh", "pincode": "201301"},
    {"line": "15, Park Street", "city": "Kolkata", "state": "West Bengal", "pincode": "700016"},
]
EMPLOYERS = [
    "Infosys Limited",
    "Tata Consultancy Services",
    "Wipro Limited",
    "HCL Technologies",
    "Zomato Limited",
    "Reliance Retail Limited",
    "Larsen & Toubro Limited",
    "Bharti Airtel Limited",
]
LENDERS = ["HDFC Bank", "Bajaj Finance", "ICICI Bank", "Tata Capital", "Axis Bank"]
BANKS = {
    "HDFC": "HDFC Bank",
    "ICIC": "ICICI Bank",
    "SBIN": "State Bank of India",
    "UTIB": "Axis Bank",
    "IDFB": "IDFC FIRST Bank",
    "KKBK": "Kotak Mahindra Bank",
}
DOB = "1990-01-15"
AADHAAR_OTP = "123456"
AADHAAR_OTP_ATTEMPTS = 3
# A 1×1 PNG: the "photo" on Aadhaar and CKYC records.
PHOTO_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
PAN_LETTERS = "ABCDEFGHJK"  # digit → letter for PANs the sandbox makes up

TIMEOUT, UNAVAILABLE = "timeout", "503"  # how a vendor misbehaves


class Refusal(Exception):
    """The vendor refuses the request (HTTP 4xx with a reason code)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _h(*parts: str | bytes) -> int:
    digest = hashlib.sha256()
    for p in parts:
        digest.update(p if isinstance(p, bytes) else p.encode())
    return int.from_bytes(digest.digest()[:8], "big")


def _months_back(today: date, n: int) -> date:
    """The first day of the month ``n`` months before ``today``'s month."""
    index = today.year * 12 + today.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _masked(number: str, keep: int = 4) -> str:
    return "X" * max(len(number) - keep, 0) + number[-keep:]


# --- PAN and bureau ---------------------------------------------------------------------------------
def pan_name(pan: str) -> str:
    return NAMES[sum(map(ord, pan)) % len(NAMES)]


def pan_check(pan: str) -> dict:
    """PAN ending in 'X' does not verify (no such PAN in the ITD database)."""
    if pan.endswith("X"):
        return {"status": "INVALID", "reason": "PAN not found in ITD records"}
    return {"status": "VALID", "pan": pan, "name": pan_name(pan), "dob": DOB, "type": "INDIVIDUAL"}


def bureau_score(pan: str) -> int:
    """The first digit of the PAN's numeric part picks the score band:
    0 → 580 (below a typical minimum: BRE rejects), 1 → 700 (manual review), 2-9 → 780 (auto-sanction)."""
    first = pan[5] if len(pan) == 10 else "9"
    return {"0": 580, "1": 700}.get(first, 780)


def bureau_fault(pan: str, vendor: str) -> str | None:
    """PAN starting FAIL: CIBIL answers 503 (Equifax answers); SLOW: CIBIL times out; DOWN: both 503."""
    prefix = pan[:4]
    if prefix == "DOWN":
        return UNAVAILABLE
    if vendor == "cibil":
        return {"FAIL": UNAVAILABLE, "SLOW": TIMEOUT}.get(prefix)
    return None


def bureau_profile(pan: str, today: date) -> dict:
    """The bureau file, the same at every bureau (each sandbox vendor writes it in its own format).

    - score: ``bureau_score``;
    - one active credit card, plus ``int(pan[6]) % 3`` active personal/consumer loans (0–2);
    - last letter Z: an extra consumer loan 30/60/90 days past due in the last 5 months, ₹5,000 overdue;
    - last letter Q: 6 enquiries in the last 30 days (else 1).
    Accounts: amounts in paise (whole rupees), ``dpd_history`` last 12 months most recent first."""
    h = _h("bureau", pan)
    loans = int(pan[6]) % 3 if len(pan) == 10 and pan[6].isdigit() else 0
    accounts = [
        {
            "type": "CREDIT_CARD",
            "lender": LENDERS[h % len(LENDERS)],
            "account_number": _masked(f"{h % 10**16:016d}"),
            "status": "ACTIVE",
            "sanctioned_amount": (50_000 + (h >> 8) % 4 * 25_000) * 100,
            "current_balance": (5_000 + (h >> 12) % 20 * 1_000) * 100,
            "overdue_amount": 0,
            "opened_on": _months_back(today, 30).isoformat(),
            "dpd_history": [0] * 12,
        }
    ]
    for i in range(loans):
        sanctioned = 50_000 * (1 + (h >> (16 + 4 * i)) % 6)
        accounts.append(
            {
                "type": ("PERSONAL_LOAN", "CONSUMER_LOAN")[i % 2],
                "lender": LENDERS[(h >> (20 + i)) % len(LENDERS)],
                "account_number": _masked(f"{(h >> i) % 10**12:012d}"),
                "status": "ACTIVE",
                "sanctioned_amount": sanctioned * 100,
                "current_balance": sanctioned * (30 + 20 * i) // 100 * 100,
                "overdue_amount": 0,
                "opened_on": _months_back(today, 8 + 7 * i).isoformat(),
                "dpd_history": [0] * 12,
            }
        )
    if pan.endswith("Z"):
        accounts.append(
            {
                "type": "CONSUMER_LOAN",
                "lender": "Sandbox Consumer Finance",
                "account_number": "XXXXXXXX0090",
                "status": "ACTIVE",
                "sanctioned_amount": 40_000_00,
                "current_balance": 18_000_00,
                "overdue_amount": 5_000_00,
                "opened_on": _months_back(today, 14).isoformat(),
                "dpd_history": [30, 60, 90, 60, 30] + [0] * 7,
            }
        )
    return {
        "score": bureau_score(pan),
        "accounts": accounts,
        "active_loans": sum(1 for a in accounts if a["status"] == "ACTIVE" and a["type"] != "CREDIT_CARD"),
        "enquiries_30d": 6 if pan.endswith("Q") else 1,
    }


# --- CKYC -------------------------------------------------------------------------------------------
def ckyc_number(pan: str) -> str:
    return f"{_h('ckyc', pan) % 10**14:014d}"


def ckyc_record(pan: str) -> dict | None:
    """The CKYC record found by PAN. Last letter N (or an invalid PAN, X): no record. M: the record is in
    someone else's name (mismatch). L: the record has the first name as an initial ("A Sharma", a fuzzy
    partial match). Otherwise the PAN's own name. DOB is always ``DOB`` (the download's second factor)."""
    if len(pan) != 10 or pan[-1] in "NX":
        return None
    name = pan_name(pan)
    h = _h("ckyc", pan)
    if pan.endswith("M"):
        name = OTHER_NAMES[h % len(OTHER_NAMES)]
    elif pan.endswith("L"):
        first, _, last = name.partition(" ")
        name = f"{first[0]} {last}"
    surname = name.split()[-1]
    return {
        "ckyc_number": ckyc_number(pan),
        "name": name,
        "fathers_name": f"{FATHERS[h % len(FATHERS)]} {surname}",
        "dob": DOB,
        "gender": GENDERS.get(name) or GENDERS[pan_name(pan)],
        "address": ADDRESSES[(h >> 8) % len(ADDRESSES)],
        "photo_base64": PHOTO_BASE64,
        "kyc_date": "2019-06-01",
    }


# --- Aadhaar (Verhoeff) -----------------------------------------------------------------------------
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]
_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    c = 0
    for i, digit in enumerate(reversed(number)):
        c = _D[c][_P[i % 8][int(digit)]]
    return c == 0


def verhoeff_check_digit(number: str) -> str:
    c = 0
    for i, digit in enumerate(reversed(number)):
        c = _D[c][_P[(i + 1) % 8][int(digit)]]
    return str(_INV[c])


def make_aadhaar(first11: str) -> str:
    """A valid Aadhaar number from 11 digits (the first one 2–9): appends the Verhoeff check digit."""
    return first11 + verhoeff_check_digit(first11)


def aadhaar_valid(aadhaar: str) -> bool:
    """12 digits, not starting with 0 or 1, Verhoeff checksum right."""
    return len(aadhaar) == 12 and aadhaar.isdigit() and aadhaar[0] not in "01" and verhoeff_valid(aadhaar)


def mask_aadhaar(aadhaar: str) -> str:
    return _masked(aadhaar)


def aadhaar_person(aadhaar: str) -> dict:
    """The e-KYC of a valid Aadhaar number: the name is ``NAMES[sum of its 12 digits % 6]``."""
    name = NAMES[sum(map(int, aadhaar)) % len(NAMES)]
    return {
        "name": name,
        "dob": DOB,
        "gender": GENDERS[name],
        "address": ADDRESSES[_h("aadhaar", aadhaar) % len(ADDRESSES)],
        "photo_base64": PHOTO_BASE64,
        "masked_aadhaar": mask_aadhaar(aadhaar),
    }


def pan_for(digits: str, name: str) -> str:
    """A made-up individual PAN (4th letter P) built from ``digits`` (≥ 9) whose ``pan_name`` is ``name``:
    letters A–K only, so it verifies and takes the happy bureau/CKYC path."""
    head = f"{PAN_LETTERS[int(digits[0])]}{PAN_LETTERS[int(digits[1])]}{PAN_LETTERS[int(digits[2])]}P"
    head += f"{PAN_LETTERS[int(digits[3])]}{digits[-4:]}"
    target = NAMES.index(name)
    for last in "ABCDEF":  # ord 65..70 covers every residue mod 6
        if sum(map(ord, head + last)) % len(NAMES) == target:
            return head + last
    raise AssertionError("unreachable")


# --- phone: mobile-to-PAN/address, EPFO, AA ---------------------------------------------------------
def _last4(phone: str) -> str:
    return phone[-4:]


def mobile_pan(phone: str) -> dict | None:
    """Phone ending 0001: no PAN linked. Otherwise a PAN made from the phone's last 10 digits (happy path),
    in the name ``NAMES[sum of those digits % 6]``."""
    if _last4(phone) == "0001" or not phone.isdigit() or len(phone) < 10:
        return None
    digits = phone[-10:]  # "91…" or "+91…" numbers name the same person
    name = NAMES[sum(map(int, digits)) % len(NAMES)]
    return {"pan": pan_for(digits, name), "name": name}


def mobile_address(phone: str) -> dict | None:
    """Phone ending 0001: no address on record. Otherwise one of ``ADDRESSES``."""
    if _last4(phone) == "0001" or not phone.isdigit():
        return None
    return ADDRESSES[_h("mobile", phone) % len(ADDRESSES)]


def epfo_fault(phone_or_uan: str) -> str | None:
    """A phone (or UAN) ending 0000: EPFO times out."""
    return TIMEOUT if phone_or_uan.endswith("0000") else None


def phone_uans(phone: str) -> list[str]:
    """Phone ending 0001: no UAN. 0007: two UANs (an older one first). Otherwise ``"10" + last 10 digits``."""
    if _last4(phone) == "0001" or not phone.isdigit() or len(phone) < 10:
        return []
    uan = "10" + phone[-10:]
    return ["11" + phone[-10:], uan] if _last4(phone) == "0007" else [uan]


def uan_name(uan: str) -> str:
    found = mobile_pan(uan[2:])
    return found["name"] if found else NAMES[0]


def employment_history(uan: str, today: date) -> dict | None:
    """UAN → employment, most recent first. UAN starting 99: unknown to EPFO (None). Ending 0004: the
    member left the last employer two months ago (no current employment). Otherwise a current employer
    with the latest wage ₹20,000–₹80,000 for last month, and (for about half the UANs) a previous one."""
    if uan.startswith("99"):
        return None
    h = _h("uan", uan)
    joined = _months_back(today, 12 + h % 48)
    wage_month = _months_back(today, 1)
    current = {
        "establishment_name": EMPLOYERS[h % len(EMPLOYERS)],
        "establishment_id": f"MHBAN{(h >> 4) % 10**7:07d}000",
        "date_of_joining": joined.isoformat(),
        "date_of_exit": None,
        "last_wage": (20_000 + (h >> 8) % 61 * 1_000) * 100,
        "wage_month": wage_month.strftime("%Y-%m"),
    }
    if uan.endswith("0004"):
        current["date_of_exit"] = (_months_back(today, 1) - timedelta(days=31)).replace(day=28).isoformat()
    history = [current]
    if (h >> 16) % 2 == 0:
        history.append(
            {
                "establishment_name": EMPLOYERS[(h >> 20) % len(EMPLOYERS)],
                "establishment_id": f"DLCPM{(h >> 24) % 10**7:07d}000",
                "date_of_joining": (joined - timedelta(days=3 * 365)).replace(day=1).isoformat(),
                "date_of_exit": (joined - timedelta(days=1)).isoformat(),
                "last_wage": (15_000 + (h >> 28) % 20 * 1_000) * 100,
                "wage_month": (joined - timedelta(days=1)).strftime("%Y-%m"),
            }
        )
    return {"uan": uan, "name": uan_name(uan), "employment_history": history}


def aa_decision(phone: str) -> list[str]:
    """What the customer does on the AA consent page (unless the page is told ``?outcome=``):
    phone ending 0002 rejects; 0003 approves, then revokes a moment later; anyone else approves."""
    return {"0002": ["REJECTED"], "0003": ["APPROVED", "REVOKED"]}.get(_last4(phone), ["APPROVED"])


# --- penny drop -------------------------------------------------------------------------------------
IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")


def bank_name(ifsc: str) -> str:
    return BANKS.get(ifsc[:4], "Sandbox Co-operative Bank")


def penny_drop(account: str, ifsc: str, name: str | None) -> dict:
    """IFSC not like ``HDFC0001234`` or an account number not 9–18 digits: refused (422). Account number
    starting 0000: no such account (FAILED). Starting 9: the bank holds someone else's name. Otherwise the
    bank holds the name given (upper case, as banks write it; ``NAMES[...]`` when none was given)."""
    if not IFSC.match(ifsc):
        raise Refusal(422, "INVALID_IFSC", f"IFSC {ifsc!r} is not valid")
    if not (account.isdigit() and 9 <= len(account) <= 18):
        raise Refusal(422, "INVALID_ACCOUNT_NUMBER", "account number must be 9-18 digits")
    h = _h("account", account, ifsc)
    if account.startswith("0000"):
        return {"exists": False, "registered_name": None, "reason": "Invalid account number or account closed"}
    if account.startswith("9"):
        registered = OTHER_NAMES[h % len(OTHER_NAMES)]
    else:
        registered = name or NAMES[h % len(NAMES)]
    return {"exists": True, "registered_name": registered.upper(), "reason": None}


def penny_drop_fault(account: str, vendor: str) -> str | None:
    """Razorpay only: account number starting 7777 → 503; 8888 → time-out (Cashfree answers both)."""
    if vendor != "razorpay":
        return None
    return {"7777": UNAVAILABLE, "8888": TIMEOUT}.get(account[:4])


# --- bank statements and AA data --------------------------------------------------------------------
def sample_statement(**markers: object) -> bytes:
    """A tiny "PDF" carrying sandbox markers, e.g. ``sample_statement(SALARY=45000, BOUNCES=2)``;
    a marker given True is written bare (``NO_SALARY=True`` → ``SANDBOX:NO_SALARY``)."""
    lines = [f"SANDBOX:{k}" if v is True else f"SANDBOX:{k}={v}" for k, v in markers.items()]
    return b"%PDF-1.4\n% sandbox bank statement\n" + "\n".join(lines).encode() + b"\n%%EOF\n"


def _marker(pdf: bytes, name: str) -> str | None:
    found = re.search(rb"SANDBOX:" + name.encode() + rb"(?:=([A-Za-z0-9_,.-]+))?", pdf)
    if not found:
        return None
    return found.group(1).decode() if found.group(1) else ""


def statement_fault(pdf: bytes, vendor: str) -> str | None:
    """``SANDBOX:FAIL=cart`` (or finbox, scoreme; comma-separated for several): that vendor answers 503."""
    failing = _marker(pdf, "FAIL")
    return UNAVAILABLE if failing and vendor in failing.split(",") else None


def statement_pending_polls(pdf: bytes) -> int:
    """``SANDBOX:PROCESSING=n``: the first n fetches of the analysis answer "still processing"."""
    value = _marker(pdf, "PROCESSING")
    return int(value) if value and value.isdigit() else 0


def statement_analysis(pdf: bytes, password: str | None, today: date) -> dict:
    """The analysis of an uploaded statement, a function of its bytes.

    Refusals: not starting ``%PDF-`` → STATEMENT_UNREADABLE; ``SANDBOX:PASSWORD=pw`` and no password →
    STATEMENT_PASSWORD_REQUIRED, a wrong one → STATEMENT_PASSWORD_INCORRECT.
    Content (see ``_analysis``): markers ``SALARY=<rupees>``, ``NO_SALARY``, ``EMI=<rupees>`` (0 for none),
    ``BOUNCES=<n>``; without them the values are derived from the SHA-256 of the bytes."""
    if not pdf.startswith(b"%PDF-"):
        raise Refusal(422, "STATEMENT_UNREADABLE", "the file is not a PDF bank statement")
    wanted = _marker(pdf, "PASSWORD")
    if wanted:
        if not password:
            raise Refusal(422, "STATEMENT_PASSWORD_REQUIRED", "the statement is password-protected")
        if password != wanted:
            raise Refusal(422, "STATEMENT_PASSWORD_INCORRECT", "the statement password is wrong")

    def number(name: str) -> int | None:
        value = _marker(pdf, name)
        return int(value) if value and value.isdigit() else None

    return _analysis(
        pdf,
        today,
        holder=None,
        salary=number("SALARY"),
        no_salary=_marker(pdf, "NO_SALARY") is not None,
        emi=number("EMI"),
        bounces=number("BOUNCES"),
    )


def aa_analysis(phone: str, today: date) -> dict:
    """AA data for the phone's accounts: like a statement seeded by the phone; ending 0005 → no salary
    credits, 0006 → two bounces. The holder is the phone's PAN name."""
    found = mobile_pan(phone)
    return _analysis(
        f"aa:{phone}".encode(),
        today,
        holder=found["name"] if found else None,
        salary=None,
        no_salary=_last4(phone) == "0005",
        emi=None,
        bounces=2 if _last4(phone) == "0006" else None,
    )


def _analysis(
    seed: bytes,
    today: date,
    *,
    holder: str | None,
    salary: int | None,
    no_salary: bool,
    emi: int | None,
    bounces: int | None,
) -> dict:
    """The three full months before ``today``'s month: a salary credit on day 1–5 of each month
    (₹25,000–₹75,000 unless given), an EMI debit on the 5th for two seeds in three (10–24 % of salary,
    to the ₹100), bounces on the 10th (none unless given), average balance 20–79 % of salary."""
    h = _h("statement", seed)
    months = [_months_back(today, n) for n in (3, 2, 1)]
    salary_rupees = salary if salary is not None else 25_000 + h % 51 * 1_000
    salary_day = 1 + (h >> 8) % 5
    employer = EMPLOYERS[(h >> 12) % len(EMPLOYERS)]
    if emi is None:
        emi = 0 if (h >> 16) % 3 == 0 else salary_rupees * (10 + (h >> 20) % 15) // 100 // 100 * 100
    lender = LENDERS[(h >> 24) % len(LENDERS)]
    credits = (
        []
        if no_salary
        else [
            {
                "date": m.replace(day=salary_day).isoformat(),
                "amount": salary_rupees * 100,
                "narration": f"NEFT-SALARY-{employer.upper().replace(' ', '')}",
            }
            for m in months
        ]
    )
    debits = (
        [{"date": m.replace(day=5).isoformat(), "amount": emi * 100, "lender": lender} for m in months] if emi else []
    )
    bounce_list = [
        {
            "date": months[-1 - i % 3].replace(day=10 + i // 3).isoformat(),
            "amount": (emi or 5_000) * 100,
            "reason": "INSUFFICIENT FUNDS",
        }
        for i in range(bounces or 0)
    ]
    bank = list(BANKS.values())[(h >> 28) % len(BANKS)]
    return {
        "holder": holder or NAMES[(h >> 32) % len(NAMES)],
        "bank": bank,
        "account_masked": f"XXXXXXXX{(h >> 36) % 10**4:04d}",
        "from": months[0].isoformat(),
        "to": (_months_back(today, 0) - timedelta(days=1)).isoformat(),
        "salary_credits": credits,
        "emi_debits": debits,
        "bounces": bounce_list,
        "average_balance": max(salary_rupees, 10_000) * (20 + (h >> 40) % 60) // 100 * 100,
    }


# --- DigiLocker -------------------------------------------------------------------------------------
def digilocker_documents(aadhaar: str, pan: str | None = None) -> list[dict]:
    """The documents a valid Aadhaar holder has in DigiLocker: PAN and Aadhaar always (the PAN in the
    same name, made from the Aadhaar's digits, or ``pan`` with its ITD name when the sign-in gave one);
    a driving licence when the first digit is 5–9."""
    person = dict(aadhaar_person(aadhaar))
    if pan:
        person["name"] = pan_check(pan).get("name") or person["name"]
    docs = [
        {
            "doc_type": "PAN",
            "number": pan or pan_for(aadhaar, person["name"]),
            "name": person["name"],
            "dob": DOB,
            "gender": person["gender"],
            "address": None,
            "issued_on": "2012-04-01",
            "valid_until": None,
        },
        {
            "doc_type": "AADHAAR",
            "number": person["masked_aadhaar"],
            "name": person["name"],
            "dob": DOB,
            "gender": person["gender"],
            "address": person["address"],
            "issued_on": "2011-09-01",
            "valid_until": None,
        },
    ]
    if int(aadhaar[0]) >= 5:
        docs.append(
            {
                "doc_type": "DRIVING_LICENCE",
                "number": f"KA01 2015{aadhaar[1:8]}",
                "name": person["name"],
                "dob": DOB,
                "gender": person["gender"],
                "address": person["address"],
                "issued_on": "2015-03-10",
                "valid_until": "2035-03-09",
            }
        )
    return docs
