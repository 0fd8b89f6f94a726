"""The templates every brand starts with (English), one per event and kind.

SMS: each carries :data:`PLACEHOLDER_DLT_ID` — NOT a registered template. A brand registers each text on a DLT
platform (TRAI TCCCPR 2018) and saves the id it was given (``PUT .../settings/templates/{event}/sms``); the SMS
gateways refuse a text whose template is not registered. The texts use the DLT variable style: short, one link.

WhatsApp: the body lists the template's parameters, one per line, in the order of the pre-approved template; the
``dlt_template_id`` field holds the vendor's campaign name (AiSensy's API campaign), a placeholder here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from activities.messaging.events import NoticeEvent as E

PLACEHOLDER_DLT_ID = "REPLACE-WITH-DLT-TEMPLATE-ID"  # marks a default SMS template no DLT platform knows
PLACEHOLDER_CAMPAIGN = "REPLACE-WITH-CAMPAIGN"


@dataclass(frozen=True)
class Template:
    """One template: ``body`` (jinja2), ``subject`` (email), ``dlt_template_id`` (SMS: the DLT id; WhatsApp: the
    campaign name)."""

    body: str
    subject: str | None = None
    dlt_template_id: str | None = None
    active: bool = True


_PAY = "{% if payment_link is defined %} Pay: {{ payment_link }}{% endif %}"
# "7 days overdue", "1 day overdue", and on the day it fell due (DPD 0) just "overdue"
_DAYS_OVERDUE = "{% if dpd|int > 0 %}{{ dpd }} day{% if dpd|int != 1 %}s{% endif %} {% endif %}overdue"

_SMS = {
    E.SANCTIONED: "{{ brand_name }}: your loan {{ loan_ref }} of {{ amount }} for {{ tenure_months }} months is "
    "sanctioned. We will send the agreement to sign next.",
    E.AGREEMENT_READY: "{{ brand_name }}: your loan is sanctioned. Sign your agreement: {{ signing_url }}",
    E.AGREEMENT_SIGNED: "{{ brand_name }}: your signed loan agreement (with its Key Fact Statement) is ready: "
    "{{ agreement_link }}",
    E.DISBURSED: "{{ brand_name }}: {{ amount }} sent to your bank account, UTR {{ utr }}, loan {{ loan_ref }}.",
    E.DUE_REMINDER: "{{ brand_name }}: your installment of {{ amount }} is due on {{ due_date }} (in {{ days_before }} "
    "day{% if days_before|int != 1 %}s{% endif %})." + _PAY,
    E.DUE_TODAY: "{{ brand_name }}: your installment of {{ amount }} is due today." + _PAY,
    E.PAYMENT_RECEIVED: "{{ brand_name }}: we received {{ amount }} on {{ paid_on }} for loan {{ loan_ref }}."
    "{% if receipt_link is defined %} Receipt: {{ receipt_link }}{% endif %}",
    E.PAYMENT_FAILED: "{{ brand_name }}: your payment of {{ amount }} failed ({{ reason }})." + _PAY,
    E.MANDATE_DEBIT_NOTICE: "{{ brand_name }}: {{ amount }} will be debited on {{ debit_date }} under your autopay "
    "mandate{% if mandate_ref is defined %} {{ mandate_ref }}{% endif %} for loan {{ loan_ref }}. Keep your account "
    "funded.",
    E.OVERDUE: "{{ brand_name }}: {{ amount }} of loan {{ loan_ref }} is " + _DAYS_OVERDUE + ". Pay now to avoid "
    "charges." + _PAY,
    E.CLOSED: "{{ brand_name }}: your loan {{ loan_ref }} is closed on {{ closed_on }}.{% if noc_link is defined %} "
    "Your no-objection certificate: {{ noc_link }}{% endif %}",
    E.REFUND_PAID: "{{ brand_name }}: a refund of {{ amount }} was sent to your bank account, UTR {{ utr }}.",
    E.OVERPAID: "{{ brand_name }}: you paid {{ amount }} more than was due on loan {{ loan_ref }}. It is kept as "
    "credit and adjusted or refunded to you.",
    E.AA_CONSENT: "{{ brand_name }}: share your bank statement securely: {{ consent_url }}",
    E.DIGILOCKER: "{{ brand_name }}: share your documents from DigiLocker: {{ authorization_url }}",
    E.COLLECTION_PAYMENT_LINK: "{{ brand_name }}: {{ amount }} of loan {{ loan_ref }} is " + _DAYS_OVERDUE + "." + _PAY,
    E.SETTLEMENT_OFFER: "{{ brand_name }}: settle loan {{ loan_ref }} by paying {{ amount }} by {{ deadline }}." + _PAY,
    E.SETTLED: "{{ brand_name }}: loan {{ loan_ref }} is settled with your payment of {{ amount }}.",
    E.WAIVER: "{{ brand_name }}: penal charges of {{ amount }} on loan {{ loan_ref }} have been waived.",
    E.RESTRUCTURED: "{{ brand_name }}: loan {{ loan_ref }} is restructured: {{ installments }} installments of "
    "{{ emi }} from {{ first_due }}.",
    E.NOC_ISSUED: "{{ brand_name }}: your certificate {{ certificate_no }} for loan {{ loan_ref }}: {{ noc_link }}",
    E.RELOAN_OFFER: "{{ brand_name }}: you can borrow {{ amount }} again, valid till {{ expires_on }}. Apply in the "
    "app.",
}

_SUBJECTS = {
    E.SANCTIONED: "{{ brand_name }}: your loan is sanctioned",
    E.AGREEMENT_READY: "{{ brand_name }}: sign your loan agreement",
    E.AGREEMENT_SIGNED: "{{ brand_name }}: your signed loan agreement",
    E.DISBURSED: "{{ brand_name }}: {{ amount }} disbursed",
    E.DUE_REMINDER: "{{ brand_name }}: installment due on {{ due_date }}",
    E.DUE_TODAY: "{{ brand_name }}: installment due today",
    E.PAYMENT_RECEIVED: "{{ brand_name }}: payment of {{ amount }} received",
    E.PAYMENT_FAILED: "{{ brand_name }}: your payment failed",
    E.MANDATE_DEBIT_NOTICE: "{{ brand_name }}: autopay debit of {{ amount }} on {{ debit_date }}",
    E.OVERDUE: "{{ brand_name }}: your loan is overdue",
    E.CLOSED: "{{ brand_name }}: your loan is closed",
    E.REFUND_PAID: "{{ brand_name }}: refund of {{ amount }} sent",
    E.OVERPAID: "{{ brand_name }}: {{ amount }} paid in excess",
    E.AA_CONSENT: "{{ brand_name }}: share your bank statement",
    E.DIGILOCKER: "{{ brand_name }}: share your documents",
    E.COLLECTION_PAYMENT_LINK: "{{ brand_name }}: pay your overdue amount",
    E.SETTLEMENT_OFFER: "{{ brand_name }}: settlement offer for your loan",
    E.SETTLED: "{{ brand_name }}: your loan is settled",
    E.WAIVER: "{{ brand_name }}: penal charges waived",
    E.RESTRUCTURED: "{{ brand_name }}: your loan is restructured",
    E.NOC_ISSUED: "{{ brand_name }}: your loan closure certificate",
    E.RELOAN_OFFER: "{{ brand_name }}: a new loan offer for you",
}

_WHATSAPP = {  # the parameters of the pre-approved template, one per line
    E.SANCTIONED: "{{ customer_name }}\n{{ amount }}\n{{ tenure_months }}",
    E.AGREEMENT_READY: "{{ customer_name }}\n{{ signing_url }}",
    E.AGREEMENT_SIGNED: "{{ customer_name }}\n{{ agreement_link }}",
    E.DISBURSED: "{{ customer_name }}\n{{ amount }}\n{{ utr }}",
    E.DUE_REMINDER: "{{ customer_name }}\n{{ amount }}\n{{ due_date }}\n{{ payment_link | default('-') }}",
    E.DUE_TODAY: "{{ customer_name }}\n{{ amount }}\n{{ payment_link | default('-') }}",
    E.PAYMENT_RECEIVED: "{{ customer_name }}\n{{ amount }}\n{{ paid_on }}\n{{ receipt_link | default('-') }}",
    E.PAYMENT_FAILED: "{{ customer_name }}\n{{ amount }}\n{{ payment_link | default('-') }}",
    E.MANDATE_DEBIT_NOTICE: "{{ customer_name }}\n{{ amount }}\n{{ debit_date }}\n{{ mandate_ref | default('-') }}",
    E.OVERDUE: "{{ customer_name }}\n{{ amount }}\n{{ dpd }}\n{{ payment_link | default('-') }}",
    E.CLOSED: "{{ customer_name }}\n{{ closed_on }}\n{{ noc_link | default('-') }}",
    E.REFUND_PAID: "{{ customer_name }}\n{{ amount }}\n{{ utr }}",
    E.OVERPAID: "{{ customer_name }}\n{{ amount }}",
    E.AA_CONSENT: "{{ customer_name }}\n{{ consent_url }}",
    E.DIGILOCKER: "{{ customer_name }}\n{{ authorization_url }}",
    E.COLLECTION_PAYMENT_LINK: "{{ customer_name }}\n{{ amount }}\n{{ dpd }}\n{{ payment_link | default('-') }}",
    E.SETTLEMENT_OFFER: "{{ customer_name }}\n{{ amount }}\n{{ deadline }}\n{{ payment_link | default('-') }}",
    E.SETTLED: "{{ customer_name }}\n{{ amount }}",
    E.WAIVER: "{{ customer_name }}\n{{ amount }}",
    E.RESTRUCTURED: "{{ customer_name }}\n{{ emi }}\n{{ installments }}\n{{ first_due }}",
    E.NOC_ISSUED: "{{ customer_name }}\n{{ certificate_no }}\n{{ noc_link }}",
    E.RELOAN_OFFER: "{{ customer_name }}\n{{ amount }}\n{{ expires_on }}",
}


def _email(event: E) -> str:
    return f"Dear {{{{ customer_name }}}},\n\n{_SMS[event].split(': ', 1)[1]}\n\nRegards,\n{{{{ brand_name }}}}"


DEFAULTS: dict[tuple[str, str], Template] = {}
for _event in E:
    DEFAULTS[(_event.value, "sms")] = Template(_SMS[_event], None, PLACEHOLDER_DLT_ID)
    DEFAULTS[(_event.value, "email")] = Template(_email(_event), _SUBJECTS[_event])
    DEFAULTS[(_event.value, "whatsapp")] = Template(_WHATSAPP[_event], None, PLACEHOLDER_CAMPAIGN)


def default(event: str, kind: str) -> Template:
    """The shipped template for ``event`` and ``kind`` (KeyError: no such pair)."""
    return DEFAULTS[(event, kind)]
