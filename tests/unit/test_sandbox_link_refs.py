"""The sandbox's Razorpay payment links: a reference id already used answers its first link (as Razorpay refuses a
duplicate reference id), found through an index rather than a walk over every link, also after a restart from a
state file written before the index existed."""

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


def test_a_used_reference_id_answers_its_first_link(tmp_path: Path) -> None:
    with TestClient(create_app(delay_seconds=0, state_file=tmp_path / "state.json")) as client:
        first = _link(client, "loan-1:emi-1")
        others = [_link(client, f"loan-{n}:emi-1") for n in range(2, 50)]
        again = _link(client, "loan-1:emi-1", amount=99_999)
        plain = [_link(client, None), _link(client, None)]
    assert again["id"] == first["id"] and again["status"] == "created"
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
        assert _link(client, "loan-7:emi-2")["id"] == first["id"]
        assert _link(client, "loan-8:emi-2")["id"] != first["id"]


def test_a_reference_id_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    with TestClient(create_app(delay_seconds=0, state_file=tmp_path / "state.json")) as client:
        body = {"amount": 100, "callback_url": "http://127.0.0.1:9/webhooks", "reference_id": ["loan-1"]}
        answer = client.post("/razorpay/payment_links", json=body)
    assert answer.status_code == 400 and "reference_id" in answer.text
