"""What must hold for every loan after any fault, read from the database and the sandbox bank: one transfer out,
every payment credited once, a ledger that balances, the expected end."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import text

RECEIVABLES = ("LOAN_PRINCIPAL_RECEIVABLE", "INTEREST_RECEIVABLE", "FEES_RECEIVABLE", "PENAL_CHARGES_RECEIVABLE")


def captured_payments(stack, link_ids: set[str]) -> set[str]:  # noqa: ANN001
    """The ids of the payments the sandbox gateway (Razorpay) captured on these payment links, from the webhooks it
    sent (``payment_link.paid``, whatever became of their delivery): what the borrower really paid."""
    hooks = httpx.get(f"{stack.sandbox}/_webhooks", timeout=10).json()
    paid = set()
    for hook in hooks:
        body = hook["payload"]
        if hook["vendor"] == "razorpay" and body.get("event") == "payment_link.paid":
            link = body["payload"]["payment_link"]["entity"]["id"]
            if link in link_ids:
                paid.add(body["payload"]["payment"]["entity"]["id"])
    return paid


def _links_and_credited(stack, loan_id: str) -> tuple[set[str], set[str]]:  # noqa: ANN001
    """The loan's payment link ids and the Razorpay payment ids credited to it."""
    links_sql = "SELECT link_id FROM payment_links WHERE loan_id = :loan"
    paid_sql = "SELECT gateway_payment_id FROM payment_transactions WHERE loan_id = :loan AND gateway = 'razorpay'"
    with stack.db() as s:
        links = {r[0] for r in s.execute(text(links_sql), {"loan": loan_id})}
        credited = {r[0] for r in s.execute(text(paid_sql), {"loan": loan_id})}
    return links, credited


def wait_for_deliveries(stack, loan_id: str, timeout: float = 60.0) -> None:  # noqa: ANN001
    """Give the gateway's webhooks still being retried (the sandbox's 8 tries take about 35 s) the time to arrive:
    a loan may close on its last installment while an earlier, doubled payment is still on its way to the API."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        links, credited = _links_and_credited(stack, loan_id)
        if captured_payments(stack, links) <= credited:
            return
        time.sleep(0.5)


def loan_problems(stack, loan_id: str, expected_status: str, payments_made: int | None = None) -> list[str]:  # noqa: ANN001
    """Every invariant the loan breaks (empty when it keeps them all). ``payments_made``: how many payments the
    borrower made, when the test knows (each must be credited exactly once); the payments the gateway captured on
    the loan's links are checked against the credited ones in any case."""
    problems: list[str] = []
    wait_for_deliveries(stack, loan_id)
    with stack.db() as s:

        def one(sql: str) -> object:
            return s.execute(text(sql), {"loan": loan_id}).scalar()

        status = one("SELECT status FROM loans WHERE id = :loan")
        if status != expected_status:
            reason = one(
                "SELECT coalesce(reason, '') FROM loan_status_history WHERE loan_id = :loan ORDER BY seq DESC LIMIT 1"
            )
            problems.append(f"status {status} (last reason {reason!r}), expected {expected_status}")
        transfers = s.execute(
            text("SELECT status, count(*) FROM disbursals WHERE loan_id = :loan GROUP BY status"), {"loan": loan_id}
        ).all()
        if dict(transfers).get("SETTLED") != 1 or sum(n for _, n in transfers) != 1:
            problems.append(f"disbursal rows {dict(transfers)}, expected one SETTLED")
        paid = one("SELECT count(*) FROM payment_transactions WHERE loan_id = :loan")
        if payments_made is not None and paid != payments_made:
            problems.append(f"{paid} payments credited, {payments_made} made")
        total = one("SELECT coalesce(sum(amount), 0) FROM payment_transactions WHERE loan_id = :loan")
        collected = one("SELECT total_collected FROM loans WHERE id = :loan")
        if total != collected:
            problems.append(f"payments sum to {total}, the loan says {collected} collected")
        links = {
            row[0]
            for row in s.execute(text("SELECT link_id FROM payment_links WHERE loan_id = :loan"), {"loan": loan_id})
        }
        credited = {
            row[0]
            for row in s.execute(
                text(
                    "SELECT gateway_payment_id FROM payment_transactions WHERE loan_id = :loan AND gateway = 'razorpay'"
                ),
                {"loan": loan_id},
            )
        }
        captured = captured_payments(stack, links)
        if not credited and expected_status in ("COMPLETED", "SETTLED"):
            problems.append("a closed loan with no payment credited")
        if captured != credited:
            problems.append(f"captured at the gateway {sorted(captured)}, credited {sorted(credited)}")
        parked = one("SELECT count(*) FROM parked_payments WHERE loan_id = :loan")
        if parked:
            problems.append(f"{parked} payments parked")
        unbalanced = s.execute(
            text(
                "SELECT t.kind, t.idempotency_key, sum(e.amount) FROM ledger_transactions t "
                "JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.loan_id = :loan "
                "GROUP BY t.id, t.kind, t.idempotency_key HAVING sum(e.amount) <> 0"
            ),
            {"loan": loan_id},
        ).all()
        if unbalanced:
            problems.append(f"ledger transactions not balanced: {unbalanced}")
        receivable = s.execute(
            text(
                "SELECT e.account, sum(e.amount) FROM ledger_transactions t JOIN ledger_entries e "
                "ON e.transaction_id = t.id WHERE t.loan_id = :loan AND e.account = ANY(:accounts) "
                "GROUP BY e.account HAVING sum(e.amount) <> 0"
            ),
            {"loan": loan_id, "accounts": list(RECEIVABLES)},
        ).all()
        if receivable and expected_status in ("COMPLETED", "SETTLED"):
            problems.append(f"receivables left on a closed loan: {receivable}")
        # a refund of a credit balance goes out through the disbursal bank too, once per refund sent
        refunds_sent = one("SELECT count(*) FROM refunds WHERE loan_id = :loan AND transfer_id IS NOT NULL")
    bank = httpx.get(f"{stack.sandbox}/_transfers", params={"loan_id": loan_id}, timeout=10).json()
    if len(bank) != 1 + int(refunds_sent):  # type: ignore[call-overload]
        problems.append(f"the bank took {len(bank)} transfers for one disbursal and {refunds_sent} refunds sent")
    return problems


def workflow_task_failures(stack, loan_ids: list[str]) -> dict[str, str]:  # noqa: ANN001
    """The loans among ``loan_ids`` whose workflow task failed on any of the stack's workers, each with the start of
    the first traceback the worker logged for it: the diagnosis a failed chaos run prints with its assertion (a
    workflow task failing on every attempt leaves the loan stuck with no other trace in the API)."""
    logs = [path.read_text(errors="replace") for path in sorted((stack.home / "logs").glob("worker*.log"))]
    found: dict[str, str] = {}
    for loan_id in loan_ids:
        marker = f"Failed activation on workflow LoanWorkflow with ID loan-{loan_id}"
        for log in logs:
            start = log.find(marker)
            if start != -1:
                found[loan_id] = log[start : start + 1500]
                break
    return found
