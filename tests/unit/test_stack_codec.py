"""What `los up` gives the embedded Temporal UI for decoding: the API's codec endpoint under `localhost` (the
UI's own host, so the codec sign-in cookie is same-site), the UI's URL in every child's environment (so the
API allows the UI's origin), and a banner line saying where to sign in."""

from __future__ import annotations

from pathlib import Path

import pytest

from los.cli import banner
from los.settings import Settings
from los.stack import Stack, codec_endpoint, codec_login_url

SEED = {
    "brand_code": "demo",
    "brand_id": "b-1",
    "staff": [
        {"role": "SUPER_ADMIN", "email": "super.admin@demo.example", "password": "demo-password"},
        {"role": "ADMIN", "email": "admin@demo.example", "password": "demo-password"},
    ],
}


class _Spawned(Exception):
    pass


class _FirstChild(Stack):
    """A stack that records its first child (the embedded Temporal server) instead of starting it."""

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]):  # noqa: ANN202
        self.spawned = (name, cmd, env)
        raise _Spawned


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOS_TEMPORAL_UI_URL", "LOS_TEMPORAL_UI_PORT", "TEMPORAL_ADDRESS", "LOS_TEMPORAL_ADDRESS"):
        monkeypatch.delenv(name, raising=False)


def _first_child(settings: Settings) -> tuple[str, list[str], dict[str, str]]:
    stack = _FirstChild(settings)
    with pytest.raises(_Spawned):
        stack.start()
    return stack.spawned


def test_the_children_are_told_the_embedded_uis_url(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, database_url="postgresql://u@h/db", api_port=18123, temporal_ui_port=18999)
    name, cmd, env = _first_child(s)
    assert name == "temporal"
    assert env["LOS_TEMPORAL_UI_URL"] == "http://localhost:18999"
    assert cmd[cmd.index("--ui-codec-endpoint") + 1] == "http://localhost:18123/api/v1/codec"
    # what the API child reads: an external-looking TEMPORAL_ADDRESS, and still the UI to allow
    child = Settings(temporal_address="127.0.0.1:7233", temporal_ui_url=env["LOS_TEMPORAL_UI_URL"])
    assert child.temporal_ui == "http://localhost:18999"


def test_an_operators_ui_url_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOS_TEMPORAL_UI_URL", "http://127.0.0.1:18999")
    _, _, env = _first_child(Settings(home=tmp_path, database_url="postgresql://u@h/db"))
    assert env["LOS_TEMPORAL_UI_URL"] == "http://127.0.0.1:18999"


def test_an_api_on_this_machine_is_addressed_as_localhost() -> None:
    for host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost"):  # noqa: S104
        assert codec_endpoint(Settings(api_host=host, api_port=9000)) == "http://localhost:9000/api/v1/codec"
    assert codec_endpoint(Settings(api_host="10.1.2.3", api_port=9000)) == "http://10.1.2.3:9000/api/v1/codec"
    assert codec_endpoint(Settings(api_host="fd00::5", api_port=9000)) == "http://[fd00::5]:9000/api/v1/codec"
    assert codec_login_url(Settings(api_port=9000)) == "http://localhost:9000/api/v1/codec/login"


def test_the_banner_says_where_to_sign_in_for_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(api_port=18123)
    text = banner(s, {"temporal": s.temporal_target, "database": "postgresql://x", "seed": SEED}, Path("logs"))
    assert "super.admin@demo.example at http://localhost:18123/api/v1/codec/login" in text
    assert "endpoint http://localhost:18123/api/v1/codec," in text and "Include cross-origin credentials" in text
    # the demo command alone on its line (copied whole, it runs as is); the default Temporal port needs no --address
    assert "\n  Try: LOS_API_PORT=18123 los demo --loans 3\n" in text and "--address" not in text
    moved = Settings(temporal_port=17233)
    text = banner(moved, {"temporal": moved.temporal_target, "database": "x", "seed": SEED}, Path("logs"))
    assert "add --address 127.0.0.1:17233" in text

    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("LOS_TEMPORAL_UI_URL", "https://ui.temporal.internal")
    external = Settings(api_port=18123)
    text = banner(external, {"temporal": external.temporal_target, "database": "x", "seed": SEED}, Path("logs"))
    assert "codec/login" not in text  # an external UI's codec settings are its operator's
