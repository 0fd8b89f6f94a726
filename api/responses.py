"""The base of every response model, and the small answers many routes share.

Each route declares a ``response_model`` so /docs (and /openapi.json) show what it returns. The routes build
camelCase JSON; a response model names its fields in snake_case and the alias generator gives the wire name
(``amount_paise`` → ``amountPaise``). ``extra="forbid"`` makes a route that returns a key its model does not
declare fail loudly (a 500 in tests) instead of silently dropping it, so the model and the answer cannot
drift apart.

Amounts are integers in paise, dates ISO strings (``YYYY-MM-DD``, IST calendar dates) and instants ISO 8601
strings with their offset, exactly as the views build them: response models type them as ``str`` so the wire
format stays the one the views write.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Base of the response models: camelCase on the wire, no undeclared keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Deleted(ApiModel):
    """The answer of a DELETE: the row's id and ``deleted: true``."""

    id: str
    deleted: bool
