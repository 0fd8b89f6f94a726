"""Open the encrypted payloads of a saved workflow history, so the replay suite (which has no payload keys) can
read it: ``python -m tests.decode_history tests/histories/<name>.json ...`` rewrites each file in place with the
development payload key (``Settings()``, the key every test's worker encrypts with).

A history fetched from a worker that encrypts payloads (``los.temporal.data_converter``) holds ciphertext; payloads
already plain (histories recorded before encryption) are left as they are.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from los.codec import ENCODING, EncryptionCodec
from los.settings import Settings
from los.temporal import payload_codec

ENCRYPTED = base64.b64encode(ENCODING).decode()


async def _open(node: Any, codec: EncryptionCodec) -> Any:
    if isinstance(node, list):
        return [await _open(item, codec) for item in node]
    if not isinstance(node, dict):
        return node
    if (node.get("metadata") or {}).get("encoding") == ENCRYPTED:
        (opened,) = await codec.decode([json_format.ParseDict(node, Payload())])
        return json_format.MessageToDict(opened)
    return {key: await _open(value, codec) for key, value in node.items()}


async def decode_history_json(text: str, codec: EncryptionCodec | None = None) -> str:
    """The history (``WorkflowHistory.to_json()`` text) with every encrypted payload opened."""
    import json

    opened = await _open(json.loads(text), codec or payload_codec(Settings()))
    return json.dumps(opened, indent=2)


async def _main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        path.write_text(await decode_history_json(path.read_text()))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1:]))
