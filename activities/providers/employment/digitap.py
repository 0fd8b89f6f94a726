"""EPFO/UAN through Digitap: mobile → UAN, UAN → employment history (vendor ``digitap``, kind
``employment``). Both are read-only look-ups, safe to repeat; EPFO is slow and sometimes down, so they
time out more than most (the activity retries)."""

from __future__ import annotations

from activities.providers.base import HttpProvider, parse_date, rupees_to_paise
from activities.providers.employment.base import EmploymentHistory, EmploymentRecord, UanLookup

FOUND, NOT_FOUND = 101, 102


class DigitapEpfo(HttpProvider):
    async def phone_to_uan(self, phone: str) -> UanLookup:
        """The UAN(s) linked to ``phone`` in EPFO, with the member's name."""
        body = await self.call("POST", "/digitap/epfo/mobile-to-uan", json={"mobile": phone})
        with self.reading("mobile-to-UAN answer"):
            if body["result_code"] == NOT_FOUND:
                return UanLookup(False, (), None, body)
            if body["result_code"] != FOUND:
                raise ValueError(f"result_code {body['result_code']}")
            result = body["result"]
            return UanLookup(True, tuple(str(u) for u in result["uan"]), result.get("name"), body)

    async def uan_to_employment(self, uan: str) -> EmploymentHistory:
        """The UAN's employment history, most recent first. A malformed UAN (not 12 digits) is refused
        (``BusinessRefusal``, code UAN_INVALID); an unknown one is ``found`` False."""
        body = await self.call("POST", "/digitap/epfo/uan-employment", json={"uan": uan})
        with self.reading("UAN employment answer"):
            if body["result_code"] == NOT_FOUND:
                return EmploymentHistory(False, uan, None, (), body)
            if body["result_code"] != FOUND:
                raise ValueError(f"result_code {body['result_code']}")
            result = body["result"]
            records = tuple(
                EmploymentRecord(
                    employer=str(e["establishment_name"]),
                    establishment_id=e.get("establishment_id"),
                    joined_on=parse_date(e["date_of_joining"]) if e.get("date_of_joining") else None,
                    exited_on=parse_date(e["date_of_exit"]) if e.get("date_of_exit") else None,
                    latest_wage=rupees_to_paise(e["last_wage"]) if e.get("last_wage") is not None else None,
                    wage_month=e.get("wage_month"),
                )
                for e in result["employment_history"]
            )
            return EmploymentHistory(True, str(result["uan"]), result.get("name"), records, body)
