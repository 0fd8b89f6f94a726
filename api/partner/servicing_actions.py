"""Staff decisions on a servicing loan: settlement (propose, approve, reject), penal waiver, write-off and
restructure, each a workflow update with a validator."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
