"""Reports: each report type as paginated JSON, streamed CSV and a download, and the master report built in the
background and emailed."""

from __future__ import annotations

from api.partner.common import staff_router

router = staff_router()
