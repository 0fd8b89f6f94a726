"""FINDUIT Account Aggregator (FIU side).

- ``create_consent`` is idempotent by ``Idempotency-Key``: the same key returns the same consent handle.
- Consent status changes arrive as the AA's ReBIT ``ConsentNotification`` (spec
  https://api.rebit.org.in/viewSpec/FIU_2_0_0.yaml; FINDUIT's own docs are not public, and ReBIT is the
  standard every AA's notification follows), signed with hex HMAC-SHA256 of the raw body in
  ``X-Finduit-Signature`` (``verify_webhook``, then ``parse_webhook``); failed deliveries are retried.
- ``fetch_data`` needs an APPROVED consent (else ``BusinessRefusal``, code CONSENT_NOT_ACTIVE); repeating it
  returns the same data session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from activities.providers.aa.base import STATUSES, AaConsent, AaConsentEvent, parse_consent_notification
from activities.providers.base import HttpProvider, parse_date
from activities.providers.bsa.base import Bounce, BsaReport, EmiDebit, SalaryCredit
from activities.providers.signing import SIGNATURE_HEADERS


def _status(value: str) -> str:
    status = str(value).upper()  # ValueError when unknown: malformed, in an answer or in a webhook
    if status not in STATUSES:
        raise ValueError(f"unknown consent status {value!r}")
    return status


class FinduitAa(HttpProvider):
    signature_header = SIGNATURE_HEADERS["finduit"]

    async def create_consent(
        self,
        *,
        phone: str,
        reference_id: str,
        callback_url: str,
        idempotency_key: str,
        months: int = 12,
        fi_types: tuple[str, ...] = ("DEPOSIT",),
    ) -> AaConsent:
        """A consent request for ``months`` of ``fi_types`` data from the customer's accounts."""
        body = await self.call(
            "POST",
            "/finduit/v1/consents",
            json={
                "customer": {"mobile": phone},
                "reference_id": reference_id,
                "callback_url": callback_url,
                "fi_types": list(fi_types),
                "data_range_months": months,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        with self.reading("FINDUIT consent"):
            return AaConsent(
                str(body["consent_handle"]),
                str(body["consent_url"]),
                _status(body["status"]),
                datetime.fromisoformat(body["expires_at"]) if body.get("expires_at") else None,
                body,
            )

    async def consent_status(self, consent_handle: str) -> str:
        """The consent's status now (for when a webhook was missed). Read-only."""
        body = await self.call("GET", f"/finduit/v1/consents/{consent_handle}")
        with self.reading("FINDUIT consent status"):
            return _status(body["status"])

    async def fetch_data(self, consent_handle: str) -> BsaReport:
        """FI data for an approved consent, analysed (salary credits, EMIs, bounces, average balance)."""
        body = await self.call("POST", f"/finduit/v1/consents/{consent_handle}/fetch", timeout=60.0)
        with self.reading("FINDUIT data"):
            a = body["analysis"]
            return BsaReport(
                report_id=str(body["session_id"]),
                vendor="finduit",
                source="AA",
                account_holder=a.get("holder"),
                bank_name=a.get("fip_name"),
                account_number_masked=a.get("masked_account"),
                period_from=parse_date(a["from"]) if a.get("from") else None,
                period_to=parse_date(a["to"]) if a.get("to") else None,
                salary_credits=tuple(
                    SalaryCredit(parse_date(t["date"]), int(t["amount_paise"]), t.get("narration", ""))
                    for t in a["salary_credits"]
                ),
                emi_debits=tuple(
                    EmiDebit(parse_date(t["date"]), int(t["amount_paise"]), t.get("lender", ""))
                    for t in a["emi_debits"]
                ),
                bounces=tuple(
                    Bounce(parse_date(t["date"]), int(t["amount_paise"]), t.get("reason", "")) for t in a["bounces"]
                ),
                average_balance=int(a["average_balance_paise"]),
                raw=body,
            )

    def parse_webhook(self, body: Mapping[str, Any]) -> AaConsentEvent:
        """A consent notification (ReBIT ``ConsentNotification``, see
        :func:`activities.providers.aa.base.parse_consent_notification`) → :class:`AaConsentEvent`;
        ``domain.errors.ValidationError`` naming the field when malformed."""
        return parse_consent_notification(body)
