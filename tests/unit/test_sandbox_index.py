"""The sandbox's root URL (the one `los up` prints) answers with where to start, not 404: the vendors it imitates,
the pages to inspect, and the API docs; every link it gives answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sandbox.app import create_app


def test_the_root_lists_the_vendors_and_the_pages_to_inspect() -> None:
    with TestClient(create_app()) as client:
        answer = client.get("/")
        assert answer.status_code == 200, answer.text
        index = answer.json()
        assert {"/razorpay", "/cashfree", "/paytring", "/gupshup", "/digitap", "/cibil"} <= set(index["vendors"])
        assert all(isinstance(n, int) and n > 0 for n in index["vendors"].values())
        assert {"/_webhooks", "/_transfers", "/_faults", "/gupshup/messages"} <= set(index["inspect"])
        assert not any(p.startswith("/_") for p in index["vendors"])  # drills and inspection are not vendors
        for path in [index["docs"], index["openapi"], *(p for p in index["inspect"] if "{" not in p)]:
            assert client.get(path).status_code == 200, path


def test_every_vendor_the_sandbox_imitates_can_be_made_to_misbehave() -> None:
    """`POST /_faults` and `/_chaos/slow` accept every vendor the root lists (VENDOR_PREFIXES is the routes' list):
    a vendor added without it could not be part of a failover drill."""
    from sandbox.app import VENDOR_PREFIXES

    with TestClient(create_app()) as client:
        vendors = {path.strip("/") for path in client.get("/").json()["vendors"]}
        assert vendors == VENDOR_PREFIXES
        for vendor in sorted(vendors):
            added = client.post("/_faults", json={"vendor": vendor, "mode": "503", "times": 1})
            assert added.status_code == 200, (vendor, added.text)
        assert client.delete("/_faults").status_code == 200
