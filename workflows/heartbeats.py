"""Heartbeat timeouts of the long activities: how long the server waits without a heartbeat before it takes the
worker for dead and retries the attempt elsewhere (under the call's retry policy), instead of waiting out the whole
``start_to_close_timeout`` (workflows/options.py: up to 120 s).

The activities heartbeat while they wait on a vendor, the browser or their turn for it
(``activities.providers.heartbeat.keep_alive``: a beat every third of the timeout; the SDK sends at most one per
0.8 × the timeout), so a live worker never misses one. Temporal: "Activity Heartbeats" in
https://docs.temporal.io/encyclopedia/detecting-activity-failures. A heartbeat timeout is an option of the activity
call, not a command: loans in flight replay unchanged, no patch (tests/workflows/test_replay.py).

A timed-out attempt may still be running on a worker that is only slow; its next heartbeat is refused and it is
cancelled, and every activity here is idempotent by key (a transfer asks the bank's status API before any resend),
so a second attempt meanwhile repeats nothing. The values leave room for a loaded worker: a beat can be late by
most of the timeout before the attempt is given up.
"""

from __future__ import annotations

from datetime import timedelta

# The Aadhaar OTP, the KYC steps that move documents (bank statement, DigiLocker), and the credit decision's single
# activity of older loans; on loans started before KYC_LOCAL_PATCH also the lookup KYC steps and the bureau pull
# (KYC_TIMEOUT 120 s, PROVIDER_TIMEOUT 30 s). Since the patch those lookups run as local activities, with no heartbeat:
# a worker that dies in one loses its workflow task, which is run again after its 10 s timeout.
KYC_HEARTBEAT = timedelta(seconds=10)
# The agreement printed by the browser and sent for eSign, a docket cancelled, the signed PDF fetched and sent
# (AGREEMENT_TIMEOUT 90 s, PROVIDER_TIMEOUT 30 s): the browser prints one document at a time per worker.
AGREEMENT_HEARTBEAT = timedelta(seconds=15)
# The bank transfer (and its status asked after a lost answer), the beneficiary's penny drop before it, the
# borrower's disbursal notice (PROVIDER_TIMEOUT 30 s).
TRANSFER_HEARTBEAT = timedelta(seconds=15)
