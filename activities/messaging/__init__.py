"""Customer messages: the event catalogue and its variables (``events``), the shipped templates (``defaults``),
sandboxed rendering and the save-time check (``templates``), the sender with failover and the delivery log
(``send``, ``log``), delivery reports (``reports``) and the ``send_notice`` activity (``activities``)."""

from __future__ import annotations

from activities.messaging.activities import MessagingActivities

__all__ = ["MessagingActivities"]
