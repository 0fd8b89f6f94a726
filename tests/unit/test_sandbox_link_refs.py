"""The sandbox's Razorpay payment links: a reference id already used is refused, as Razorpay refuses a duplicate
(400 ``BAD_REQUEST_ERROR``, field ``reference_id``), and fetch-all's ``reference_id`` filter finds the link made with
it, through an index rather than a walk over every link, also after a restart from a state file written before the
index existed."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from sandbox.app import create_app


def _link(client: TestClient, reference: str | None, amount: int = 50_000) -> dict:
    body = {"amount": amount, "callback_url": "http://127.0.0.1:9/webhooks", "description": "EMI 1"}
    if reference is not None:
        body["reference_id"] = reference
    answer = client.post("/razorpay/payment_links", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _refused(client: TestClient, reference: str) -> dict:
    body = {"amount": 99_999, "callback_url": "http://127.0.0.1:9/webhooks", "reference_id": reference}
    answer = client.post("/razorpay/payment_links", json=body)
    assert answer.status_code == 400, answer.text
    return answer.json()["error"]


def _found(client: TestClient, reference: str) -> list[dict]:
    answer = client.get("/razorpay/payment_links", params={"reference_id": reference})
    assert answer.status_code == 200, answer.text
    return answer.json()["payment_links"]


def test_a_used_reference_id_is_refused_and_fetch_all_finds_its_link(tmp_path: Path) -> None:
    with TestClient(create_app(delay_seconds=0, state_file=tmp_path / "state.json")) as client:
        first = _link(client, "loan-1:emi-1")
        others = [_link(client, f"loan-{n}:emi-1") for n in range(2, 50)]
        error = _refused(client, "loan-1:emi-1")
        (found,) = _found(client, "loan-1:emi-1")
        assert _found(client, "loan-0:emi-1") == []
        plain = [_link(client, None), _link(client, None)]
    assert (error["code"], error["field"]) == ("BAD_REQUEST_ERROR", "reference_id")
    assert (found["id"], found["short_url"], found["amount"], found["status"]) == (
        first["id"], first["short_url"], 50_000, "created",
    )  # fmt: skip
    assert len({first["id"], *(o["id"] for o in others)}) == 49  # each new reference its own link
    assert plain[0]["id"] != plain[1]["id"]  # no reference id: a new link each time


def test_a_state_file_from_before_the_index_still_finds_its_links(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with TestClient(create_app(delay_seconds=0, state_file=path)) as client:
        first = _link(client, "loan-7:emi-2")
    state = json.loads(path.read_text())
    del state["link_refs"]  # as written by a sandbox before the index
    path.write_text(json.dumps(state))
    with TestClient(create_app(delay_seconds=0, state_file=path)) as client:
        assert _refused(client, "loan-7:emi-2")["field"] == "reference_id"
        assert [link["id"] for link in _found(client, "loan-7:emi-2")] == [first["id"]]
        assert _link(client, "loan-8:emi-2")["id"] != first["id"]


def test_a_reference_id_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    with TestClient(create_app(delay_seconds=0, state_file=tmp_path / "state.json")) as client:
        body = {"amount": 100, "callback_url": "http://127.0.0.1:9/webhooks", "reference_id": ["loan-1"]}
        answer = client.post("/razorpay/payment_links", json=body)
    assert answer.status_code == 400 and "reference_id" in answer.text


def test_a_reference_id_longer_than_razorpay_allows_is_refused(tmp_path: Path) -> None:
    with TestClient(create_app(delay_seconds=0, state_file=tmp_path / "state.json")) as client:
        body = {"amount": 100, "callback_url": "http://127.0.0.1:9/webhooks", "reference_id": "x" * 41}
        answer = client.post("/razorpay/payment_links", json=body)
        assert _link(client, "x" * 40)["status"] == "created"  # 40 is still taken
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BAD_REQUEST_ERROR" and answer.json()["error"]["field"] == "reference_id"


def test_our_link_reference_is_sent_within_razorpays_limit() -> None:
    from activities.providers.payments.razorpay import REFERENCE_ID_MAX, reference_id_for

    loan = "3f2b8c1e-9a7d-4e21-8b6f-0c5d2e7a9f13"
    sent = reference_id_for(f"{loan}:1:123456")
    assert len(sent) == REFERENCE_ID_MAX and sent.startswith(loan[:27])
    assert reference_id_for(f"{loan}:1:123456") == sent  # the same reference, the same id: a retry finds its link
    assert len({sent, reference_id_for(f"{loan}:2:123456"), reference_id_for(f"{loan}:1:123457")}) == 3
    assert reference_id_for("loan-1:emi-1") == "loan-1:emi-1"  # one that fits is sent as it is
