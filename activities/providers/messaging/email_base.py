"""The email kind: one message (plain text, optional attachments) to one recipient."""

from __future__ import annotations

from typing import Protocol

#: an attachment: (file name, MIME type, the file's bytes)
Attachment = tuple[str, str, bytes]


class EmailProvider(Protocol):
    async def send_email(
        self,
        *,
        to: str,
        to_name: str | None,
        subject: str,
        text: str,
        attachments: list[Attachment] = [],  # noqa: B006 - never mutated; the Protocol mirrors the adapters
        reference: str | None,
    ) -> str:
        """Send ``text`` (``text/plain``) under ``subject`` to ``to``; the provider's message id back.
        ``reference`` (ours, e.g. a loan id) travels with the message so the vendor's events can be matched."""
        ...
