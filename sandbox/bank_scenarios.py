"""Which disbursal takes which branch at the sandbox banks (IDFC FIRST Bank, ICICI Bank): pure functions of the
request, plus the sandbox's published ICICI test keys. ``sandbox/banks.py`` serves the HTTP side.

Both banks refuse (HTTP 400, as the real banks refuse a bad request) a transfer whose IFSC is not
``^[A-Z]{4}0[A-Z0-9]{6}$``, whose account number is not 9-18 digits, without a beneficiary name, of an amount
≤ 0, by IMPS above ₹5,00,000 (NPCI's cap) or by RTGS below ₹2,00,000 (RBI's floor).

Scenarios, by the first four digits of the beneficiary's account number:

| account      | what the bank does                                                                          |
|--------------|---------------------------------------------------------------------------------------------|
| ``1111…``    | settles the transfer (UTR) but its callback is lost (never sent); the status API says SUCCESS |
| ``2222…``    | the first request for a reference hangs until the caller gives up — the bank has taken the   |
|              | transfer, settles it and calls back; a retry with the same reference gets the same transfer  |
| ``5555…``    | the first transfer to the account fails ("Beneficiary bank unavailable": callback FAILED,   |
|              | status FAILED); later transfers (new references) to it settle                               |
| ``6666…``    | every transfer fails ("Beneficiary account closed": callback FAILED, status FAILED)         |
| anything else| settles with a UTR after the sandbox's delay, callback SUCCESS                               |

(Penny drop uses 0000, 7777, 8888 and 9…: ``sandbox/scenarios.py``.) A transfer is PENDING at the status API
until the sandbox's delay (``LOS_SANDBOX_DELAY_SECONDS``) has passed, then SUCCESS or FAILED.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
ACCOUNT = re.compile(r"^[0-9]{9,18}$")
IMPS_MAX = 5_00_000_00  # paise: NPCI's per-transaction IMPS cap
RTGS_MIN = 2_00_000_00  # paise: RTGS is for ₹2 lakh and above
MODES = ("IMPS", "NEFT", "RTGS")

BANK_DOWN = "Beneficiary bank unavailable"
ACCOUNT_CLOSED = "Beneficiary account closed"


@dataclass(frozen=True)
class Outcome:
    """What becomes of a transfer: ``settles`` (else it fails with ``reason``), whether the callback goes out,
    and whether the first request for its reference hangs (the caller times out; the bank has the transfer)."""

    settles: bool
    reason: str | None = None
    callback: bool = True
    hang_first: bool = False


def refusal(account: str, ifsc: str, name: str, amount: int, mode: str) -> tuple[str, str, str] | None:
    """Why the bank refuses this transfer at the door — (field, code, message) — or None when it takes it."""
    if mode not in MODES:
        return "mode", "INVALID_MODE", f"mode must be one of {', '.join(MODES)}"
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return "amount", "INVALID_AMOUNT", "amount must be a positive amount"
    if not IFSC.fullmatch(ifsc or ""):
        return "ifsc", "INVALID_IFSC", "the beneficiary IFSC is invalid"
    if not ACCOUNT.fullmatch(account or ""):
        return "account_number", "INVALID_ACCOUNT", "the beneficiary account number must be 9 to 18 digits"
    if not (name or "").strip():
        return "name", "NAME_REQUIRED", "the beneficiary name is required"
    if mode == "IMPS" and amount > IMPS_MAX:
        return "amount", "IMPS_LIMIT_EXCEEDED", "IMPS transfers are limited to Rs 5,00,000"
    if mode == "RTGS" and amount < RTGS_MIN:
        return "amount", "RTGS_MINIMUM", "RTGS transfers must be Rs 2,00,000 or more"
    return None


def outcome(account: str, earlier_transfers_to_account: int) -> Outcome:
    """The branch a new transfer to ``account`` takes (``earlier_transfers_to_account``: how many transfers this
    bank already holds for the account)."""
    prefix = account[:4]
    if prefix == "1111":
        return Outcome(True, callback=False)
    if prefix == "2222":
        return Outcome(True, hang_first=True)
    if prefix == "5555" and earlier_transfers_to_account == 0:
        return Outcome(False, BANK_DOWN)
    if prefix == "6666":
        return Outcome(False, ACCOUNT_CLOSED)
    return Outcome(True)


def utr(bank_code: str, mode: str, reference: str, today: date) -> str:
    """The transfer's UTR, a function of its reference: IMPS a 12-digit RRN, NEFT ``<bank>N<yyddd><6 digits>``
    (16 characters), RTGS ``<bank>R<yyyymmdd><8 digits>`` (21 characters)."""
    digits = f"{int(hashlib.sha256(reference.encode()).hexdigest()[:15], 16):018d}"
    if mode == "IMPS":
        return digits[-12:]
    if mode == "NEFT":
        return f"{bank_code}N{today:%y}{today.timetuple().tm_yday:03d}{digits[-6:]}"
    return f"{bank_code}R{today:%Y%m%d}{digits[-8:]}"


def rupees(text: object) -> int | None:
    """ICICI's AMOUNT ("1000.50") in paise, or None when it is not a plain rupee amount with at most 2 decimals."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


# The sandbox's ICICI test keys (published, like the sandbox's webhook secret; never used outside the sandbox).
# ICICI's own key pair: the client encrypts requests to its public key, the bank signs its callbacks with it.
ICICI_BANK_PRIVATE_PEM = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA5GOMO/tG/cTyQvkT2/MoIMFeUvKUeX7RXZo0JITt+pumb0BE
1zmq7oKYal/ds+tWOaoB8mcQ5zQIiCCBhalXXMQGa4x/ajUNFiIcIF3yiw8T6vfs
AK+4r4ri9w/yI3uWpfVJtA1cYRRmbPSXStjn5fmxOJQvUnHIn3A+qT2+Z51KzYA1
vmENr+NKvU4vvx56fv5iI4GqmqKwsA1AY7rA5TnsZaw6I/1xBxbxrweHcfzhAO0M
UR4UJilBmh2JyaLQ6re+sZu6sQCbn+Y8XjMLm8FRzuhAnQQpimEpV4cYNJv2OuvX
VQsXnrFTW7IdlvCQXCvPuaI3VT3YP8QVkD9XgQIDAQABAoIBACYcVnJL4/TEwIhc
d+vkD3Ynzk2ZHR2JA/bSnJDbfbqr7oHx/4rKnLNgJ37YsG4tfx3wOJLyj+eEz0en
5PUg5Osd6tRXhYt7fsuKtZbRFoAN7Azxgfg7Wl4wlt8TUhyJqwHWhI3/DMNGXDEi
P3zF5SyDFgeS8rKXOhsg59Pl8bfoPreNmXm/0F46lE9MXtWSwBhadtNlR7wPWKeB
k/dxFU/0W2+2TspWnOW/ZZ3K4PeGjF3HykPk7EWWKK0vyHCtPUyGJDx/293voUJA
lOQf4eXmkbQryb6h+25PHRk8fJclBsq8vY7t9ezs3ejk01xp/O5pp0eGNUFQdBA1
coCn/GECgYEA8/2D84DPhkh1Fl+6xW0eW4lx77q96tPTDAmAQyKiYmTp/J1UASlA
+2Rvych1WMqZcMyihW8bGzU2AMzOB6aZpVL/CIPfldNz6XwoaQTALXtiwNhPqstK
kVxAEx+uhiVO9GDzhqIDxDGzerq2CAGe/AI61IojavjgF9D+lqx8OIsCgYEA76Fw
553LuIPTpW755X/YSWWqDhT1TYJ6gvf2J43CHO6TdlXhhw514Ecp+tWEilxNz5yB
BZRQH9W9LB+zAUiLXw0PZobHvwqZou0z050hE4z50tGTNAHEOHpKBPsiCCScpVhL
pOKzUIyTOPBS4O5VqwB1b6QJdFq8ArYWJWsZ5aMCgYEA0c5nP+W9DgiSfqnU7l3V
o/r9uZqIIz0BFzG4VIKcxiVmu64CBXmXAlWsdwRkO/UDmuasvjb7RRstk+SJKjUN
nAdRfN4BTlHlM5prGVtXcgTOt2uKniBvv61m/8rXhUzhpu0Tm+sHeBcQ8fFKBHp4
XtYABrG+oQbflDtIIQKzUt8CgYAdwYRNnpCPhv8fCdrKHsfyxUcKnJuhVlR0MupE
GxxBj3aMOTnaFXeZs/yIgz8EF1YqM5rp4HLaoSXudrk5rZJw6SRCbPYcyOovCxlm
a5qR3O2guhl3WcjN4pGScMTXEgTJm185SFVP6UTWyzDfcXj91P7AMDRkWGgERiwV
1WjP1QKBgHmUKvs9bhgcMNnU3la/puhkVDQxTMgdNJmE5vDBPPLA2RPaKb+zEXR1
tgVbTIiRyOXByYqs6rcC4KsOzlyd6Q4T4tsuT6i2qQsCLVNMkVxKSGK40HkZaVzR
Naq9c9fSNN2JWLonnCz64fiFxej28IVieYjIMnRSP5OBbVqOq/0y
-----END RSA PRIVATE KEY-----
"""  # noqa: S105 - the sandbox's published test key
# The client's (lender's) key pair: the bank encrypts its answers and callbacks to its public key.
ICICI_CLIENT_PRIVATE_PEM = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAoWZ7pcwW/sUbAGHXrRRJuuy9ox2NULpl3cqYL1GXtJeCFqo6
DvCddttb9h2ElTM0ERQ+csleabllRXtrDhBEIuPqdfujjLEUZB0Sl0rImgkCUmiT
R96ezMVMplNQiAWt6XUNIgTxdqM1piqTq/0ZTGDWCybTcolR/68g868DeAmNR6Ts
ba6OBV1Nq+nCPJBNIHBcIU0sJcLlcBDrtWlF1/LqTO/Yce3uZF6gEs9Mm/ovizyu
cxmAJFqJDMLWIUlH7CsrJgyaXq9GPgAj4mMulhJbh+i1z01uKD71tr7ceixWV6ua
pZ8ipg3S1zLuP/YxUcfFCs+PR6IIQ/H1i/hdSQIDAQABAoIBAAH+Ct60E0CX3Ep3
6rqnOnXFQF4IGlt5wZIoUxKadj3zdNakyUyv6bGy6YKzQJS66hSf5Fl0ZOb3M+nU
qTCmQMERgS5tqcot0Wue9EDL2ogUPmQYCGFlvR4X/Wc8Ng1HzKrKGBxoZTaqsxnX
ArWnzS0lMN84XnnWeh2m4sg/S9Kqfn3xUStdS6Zl5DNf+HmBbZerHlryhu2Md8/v
tWfM2A5SqeHZ9cAOR/zFmCK0NlOnaH4f5pyTIXoNvTF8V5RuBdAFwWNt8tpDSx5M
+bYI4Y+RLgVcP491yDvJoSGvixVvMZz+/V76Vu+gfs86+jumRRGgAk5f3o9RZuti
Le3TRYECgYEA1895bwpO36t9qq/8WQWTb20lnhbxGLpuxzOue8+mLZs1C+m7BF8y
twMvMSelWrwgeKswwuQ6FS8j8coWbfJaZxRq6XKtdiRBpr53eiXaSxyGVw6n0qFi
eCsn3hLO+M2M08MJF35sSxHTDIkLgIK6ffiBM58me/xpWz3UM1KK7NECgYEAv3UQ
35XbZ5DDSLbjpiMVM2zROMxf6aAMfQo44BKeHeFhFjwEigVuTseHHdDKDcN0aDq9
hseY1dsyZiQgNAr8F5KWW0YX2m5HNpGKjtX6nllaJnpvHN0eATM+rER5nR2BHeSA
2oA1t6ERLtE6RLhT1tLDlWm0ze8mP0l8l4DhJvkCgYEAjyACISps9Nn/FdxxN3kD
NrrkX9xHOWcrYOFdrq8gPs7Yd3Yjmdqo/8cU3Ty15V8vCdg/FoHWI4aICCtGhNRe
ME7SONDdSaTyBWv8QP4pr/bTAZmuo3p0m83DOvyuV0O7ShXnSbWGjKLdnUqmXixV
EoZk6Z97Hm9gUCrJOOBdUoECgYAzYkLeDwUsnYCb4mHks+O7wofAe7F+LTNM19J9
6OFA2b1Jz1/UfzKkuA4+ZUvlN8DlPGajZqxRMRwsp6Nw9EXGOdRauMwsFo7MSXFr
dmhl2UtFqnRpxbqIze0TJOmSzllZ4XrnqaNBHlxTOVovGV1++V/+mLkqz/Vu5NUo
gDFtWQKBgHUSPDr8Tq+MlaokX2Z61xjDDiRU35ukCUwlLm6VRYp5iQ+9gc+c47Sl
yFzser5Hvzs1ppagrzjN3YrJllkdzhp1OmnQkFDoHJGcEEHgSa9xxEt0cwqH5XV2
UB3vAPSOmC1CZ5Jsv7vhOmtoX+Y7QNMPh01RvUUX8QPtDFWfduyN
-----END RSA PRIVATE KEY-----
"""  # noqa: S105 - the sandbox's published test key


def public_pem(private_pem: str) -> str:
    """The public half of a PEM private key, as PEM (what a brand configures for the sandbox bank)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.PEM, spki).decode()
