"""Where the loan workflow's knobs live: search attributes, activity timeouts and retry policies, the patch ids
that keep older loans replaying, and the time zone of due dates. Workflow modules import from here only."""

from __future__ import annotations

from datetime import timedelta, timezone

from temporalio.common import RetryPolicy, SearchAttributeKey

LOAN_STATUS = SearchAttributeKey.for_keyword("LoanStatus")
BRAND_ID = SearchAttributeKey.for_keyword("BrandId")
LOAN_AMOUNT = SearchAttributeKey.for_int("LoanAmount")
NEXT_DUE_AT = SearchAttributeKey.for_datetime("NextDueAt")
DPD = SearchAttributeKey.for_int("DPD")

# Provider calls: retried with backoff; a business refusal is final.
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=["BusinessRefusal"],
)
PROVIDER_TIMEOUT = timedelta(seconds=30)
# Sending a transfer: retried until the bank answers (the activity is idempotent and asks the bank's status API
# before any resend), so a bank down for hours never ends the loan's workflow with money possibly out.
TRANSFER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=["BusinessRefusal"],
)
KYC_TIMEOUT = timedelta(seconds=120)  # a KYC step or the credit decision (several provider calls)
AGREEMENT_TIMEOUT = timedelta(seconds=90)  # render the PDF and open the eSign docket
# Database writes: retried until they succeed (a refusal retrying cannot fix is raised as non-retryable).
DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
DB_TIMEOUT = timedelta(seconds=15)

OVERDUE_RECHECK = timedelta(days=1)  # demo products (period_seconds): how often an overdue loan is re-assessed
IST = timezone(timedelta(hours=5, minutes=30), "IST")

# Patches (workflow.patched): each keeps loans started before a change on their recorded path.
KYC_PHASE_PATCH = "kyc-phase-v2"  # the KYC phase (before it: PAN check and bureau pull only)
REVIEW_PATCH = "sanction-hierarchy-v1"  # the three-stage sanction hierarchy (before it: one staff decision)
# DPD and asset class as of the last day-end (RBI IRACP): the midnight (IST) run after a due date is that
# date's day-end, DPD 1. Before this patch the workflow counted the new day too (DPD 2, classes a day early).
DAY_END_PATCH = "dpd-day-end-v1"
# Payments are never dropped: a malformed one is parked for ops, one that arrives when no installment can take it
# (the loan ended) becomes the loan's credit balance.
RECEIPTS_PATCH = "receipts-never-dropped-v1"
# One activity per KYC step (kyc_pan, kyc_ckyc...) and the credit decision in three (bureau pull, rules and
# evaluation, allocation). Before it: one kyc_step activity for every step and one decide_credit.
KYC_PER_STEP_PATCH = "kyc-activity-per-step-v1"
# Money out: the borrower accepts the KFS before anything is sent for eSign; eSign decline and resend; the beneficiary
# re-verified and named on the transfer; failed transfers recorded with the bank's reason; the borrower told.
MONEY_OUT_PATCH = "money-out-v1"
# A business refusal parks the loan in NEEDS_ATTENTION (workflows.hold) instead of failing the workflow.
HOLD_PATCH = "hold-not-fail-v1"
# Money in: failed payments recorded and told, foreclosure and the cooling-off exit close the loan, OVERPAID until a
# credit balance is refunded, interest accrued at each period's end, reminders and autopay debits on timers.
MONEY_IN_PATCH = "money-in-v1"
# Collections: allocation at each DPD change, settlement, waiver, write-off, restructure, the closure certificate and
# the reloan offer (workflows.collections).
COLLECTIONS_PATCH = "collections-v1"
# A payment link no gateway made (a refusal, or faults past its retries) is logged and asked for again at the next
# pass; before it, a loan without a follow-up queue failed there (workflows.followup).
LINK_FAILURE_LOGGED_PATCH = "followup-link-failure-logged-v1"
# An autopay debit the gateway answers CAPTURED at once (a retried charge finding its payment) stays the installment's
# try until that payment is credited or the debit's patience runs out; before it, the try ended at once, and a loop
# pass before the payment's webhook could start the next try and debit the borrower again (workflows.autopay).
AUTOPAY_CAPTURE_AWAITS_PAYMENT_PATCH = "autopay-capture-awaits-payment-v1"
# A sent autopay debit whose outcome has not arrived (its webhook lost) is looked up at the gateway: six hours after the
# charge (a demo product: half its patience), then at each multiple of its patience, AUTOPAY_DEBIT_CHECKS times in all.
# Captured, its payment is credited and no second debit goes; failed, it is a failed try; nothing at the gateway, the
# try is over; still processing after the last look-up, no further autopay try goes for that installment. Before it,
# the try simply ended at its patience and the next try debited the borrower again, though the first may have been
# captured and was never credited (workflows.autopay).
AUTOPAY_DEBIT_CHECK_PATCH = "autopay-debit-check-v1"
AUTOPAY_DEBIT_CHECKS = 4
# A servicing run continues-as-new past this many events even if the server has not suggested it yet, so a loan's
# history stays bounded however long it stays in arrears (about 24 events a day while overdue). Under COLLECTIONS_PATCH.
MAX_RUN_EVENTS = 2_000
# KYC reuse: the KYC phase first asks which of the customer's earlier KYC results are still valid (the brand's
# reloan.kycValidityDays) and skips those steps; once every step passed, the loan's results are recorded.
KYC_REUSE_PATCH = "kyc-reuse-v1"
# Inputs given ahead (a bank statement uploaded while the checks before its step run, as the app offers it):
# 1. A customer's input that arrives while a KYC step's attempt runs wakes that step when the attempt answers WAITING:
#    the step waits for an input newer than the one its attempt was started with. Before it, the wait counted from when
#    the answer was read, so an upload racing the attempt (the attempt read the database before the upload's commit,
#    the signal came before its answer) was missed and the step waited until the brand's KYC timeout rejected the loan.
# 2. When the verified Aadhaar OTP's handoff runs, the first attempts of the next KYC steps that are activity tasks (the
#    statement read, DigiLocker) start beside it, in the same workflow task, so a statement given ahead is read while
#    the lookups run; before it, they started with the lookups and went out only once those had answered.
# 3. A waiting step wakes only on an input given for it: a statement uploaded while the Aadhaar OTP is awaited does not
#    restart that wait's timer, nor run a penny drop waiting for an account again; before it, any input woke any step.
# 4. A first loan (LoanWorkflowInput.first_loan, the API's check) does not look for earlier KYC results to reuse.
# Asked once, where the KYC phase starts.
KYC_INPUTS_AHEAD_PATCH = "kyc-inputs-ahead-v1"
# A bank statement the customer uploads ahead is read as soon as it is given while the Aadhaar OTP is awaited (its first
# attempt, an activity task, starts on the upload's signal, or where the Aadhaar step starts when the upload came
# before), not with the verified OTP's handoff: an analysis that takes its time (a BSA vendor answers in seconds to
# minutes) runs while the customer types the OTP, and the decision follows the lookups with the statement's result in.
# A statement uploaded again meanwhile is read again (a read still running is cancelled). Such a read does not hold
# the loan (nobody awaits ops' decision while the OTP is awaited): one that failed runs again in its turn, through the
# hold. Each step's attempts are numbered by the run (their keys), whoever starts them. A read so started that the KYC
# phase does not reach (the OTP failed or timed out) is cancelled. Asked once, where the KYC phase starts, after
# KYC_INPUTS_AHEAD_PATCH (and only under it).
KYC_READ_ON_UPLOAD_PATCH = "kyc-read-on-upload-v1"
# Database-only steps (a status move, a payment's allocation recorded) run as local activities: inside the workflow
# task that decided them, with no activity task through the server and no second workflow task for its result. Same
# activities, same idempotency (a crash re-runs the step with the workflow task); before it: activity tasks.
LOCAL_DB_PATCH = "local-db-steps-v1"
# A credited payment's receipt and the borrower's notice linking it in one activity (issue_receipt_and_notify);
# before it: issue_receipt, then send_notice.
RECEIPT_NOTICE_PATCH = "receipt-with-notice-v1"
# The repayment loop's database-only steps as local activities too (as LOCAL_DB_PATCH did for status moves and
# payments): an installment marked overdue, a penal charge levied, DPD and asset class recorded, interest accrued,
# the collections review. A due-date pass then takes one workflow task for all of them instead of one per step, and
# each step leaves one marker event instead of three activity events. Decided once per servicing run.
SERVICING_LOCAL_PATCH = "servicing-local-steps-v1"
# Origination's database-only steps as local activities too: the customer's earlier KYC results looked up and the
# loan's recorded, the rules and evaluation, a manual-review loan's allocation, the agreement's outcome, a failed
# transfer and the disbursal booked. Same activities, keys and retry policy; a crash re-runs the step with its
# workflow task. Before it: activity tasks (each three history events and a second workflow task for its result).
ORIGINATION_LOCAL_PATCH = "origination-local-steps-v1"
# Origination's vendor lookups as local activities too: the KYC steps a vendor answers in seconds (PAN, mobile, CKYC,
# penny drop, EPFO: workflows.kyc.LOCAL_KYC_STEPS) and the bureau pull run inside the workflow task that decided them,
# so an application's automated KYC and credit decision take one workflow task instead of five, and each call leaves
# one marker event instead of three activity events and a second workflow task. Same activities, keys, timeouts and
# retry policy; a call longer than the workflow task timeout keeps its task alive by the SDK's workflow task
# heartbeats, and a worker that dies mid-call loses its task, which another worker runs again after the task's 10 s
# timeout (every call is idempotent by key). The steps that move documents (bank statement, DigiLocker) stay activity
# tasks. Decided once per run at the start of the KYC phase; before it: activity tasks with a heartbeat timeout.
KYC_LOCAL_PATCH = "kyc-provider-steps-local-v1"
# An application's KYC results are recorded (kyc_record_results, a database step) while its bureau is pulled, both
# started in the same workflow task, instead of one after the other: neither needs the other (the rules read the KYC
# facts the workflow passes them, not the recorded results), so a credit decision waits for one step fewer. Asked once
# per run where the KYC phase's steps are done (its marker there); before it: the results recorded, then the pull.
KYC_RESULTS_BESIDE_BUREAU_PATCH = "kyc-results-beside-bureau-v1"
# A step under the hold (workflows.hold: the KYC steps, the bureau pull, the agreement, the beneficiary check) whose
# retry policy gave up without an answer (a vendor down or timing out on every try) parks the loan in NEEDS_ATTENTION
# like a refusal, instead of failing its workflow. Asked only when that happens (its marker there); before it, such a
# failure failed the loan's workflow.
PROVIDER_FAULT_HOLD_PATCH = "hold-when-retries-spent-v1"
# A payment that clears the loan's arrears (OVERDUE, nothing unpaid past due once it is applied) records the move
# back to DISBURSED in the payment's own transaction (``PaymentRecord.status_change``): one local step a credit
# instead of two. Before it: record_payment, then record_status at the loop's next look at the schedule. Decided once
# when a servicing run starts (its marker there, not in a credit's workflow task), and only there: a history with
# this marker anywhere else was never recorded by released code.
STATUS_WITH_PAYMENT_PATCH = "status-with-payment-v1"
# RECEIPT_NOTICE_PATCH's path decided when a servicing run starts, not at the run's first credit: a patch decided
# for the first time leaves a marker and the SDK's TemporalChangeVersion upsert (a visibility write on the server) in
# the workflow task that asks, which was a credit's. Runs before it ask for RECEIPT_NOTICE_PATCH at their first
# credit, as they did, and replay unchanged.
RECEIPT_NOTICE_AT_START_PATCH = "receipt-notice-at-start-v1"
# A payment whose value date is earlier than the day the loan takes it, dated by the gateway (an e-mandate debit
# confirmed days after it was presented) or the engine, reverses the penal charges levied meanwhile on installments
# that fell overdue after that date and that it pays in full by the brand's waterfall
# (``domain.servicing.penal_after_value_date``; never for an offline payment, a restructured schedule or a demo
# product), in the payment's own transaction (``PaymentRecord.penal_reversed``). Asked only when there is something
# to reverse; before it, those charges stood and were paid from the money first.
VALUE_DATED_PENAL_PATCH = "value-dated-penal-v1"
# The customer's Aadhaar OTP update is answered in a workflow task of its own, before the KYC lookups after it start:
# those are local activities (KYC_LOCAL_PATCH), which hold the workflow task, and with it the update's answer, until
# they finish (the SDKs have no way to complete a task early: temporalio/features#424), so the borrower's "verify OTP"
# waited for every vendor lookup behind it. A timer of AADHAAR_ANSWER_GAP ends that task first. Asked where the OTP
# was verified after the step's wait began (its marker there); before it, the lookups ran in the update's task.
AADHAAR_ANSWER_FIRST_PATCH = "aadhaar-answer-first-v1"
AADHAAR_ANSWER_GAP = timedelta(milliseconds=1)
# The same, with an activity task in the timer's place (``aadhaar_answered``, which does nothing): the server fires a
# timer when its timer queue next runs, about a second after a 1 ms timer is due (the v1 histories show 1.0 s), so the
# lookups, and the decision, came a second later; an activity task on the worker's own queue is dispatched with the
# task's completion (eager execution) and its result starts the next task within milliseconds. Asked where v1 was
# (v1 only replaying runs recorded before it).
AADHAAR_HANDOFF_PATCH = "aadhaar-answer-first-v2"
AADHAAR_HANDOFF_TIMEOUT = timedelta(seconds=10)
# The Aadhaar OTP's two updates (sent, checked) call the KYC vendor as local activities: the update is answered in
# the workflow task that accepted it, where an activity task's result needed a second task (a round trip to the server
# and a workflow task on the decision's path under load, twice per loan). Asked first in each update's handler (its
# marker with the first such update of a run); before it, activity tasks.
AADHAAR_LOCAL_PATCH = "aadhaar-otp-local-v1"
# An advance to principal re-amortises only the installments not yet paid (``domain.servicing.untouched_future``,
# ``skip_paid``). A grace period's installment of nothing (no principal, no interest: paid from the start) was counted
# as untouched, so the new schedule started at it, before its own anchor; the schedule refused that and the whole
# payment was parked instead of credited, the installment it paid left to fall overdue. Decided when a servicing run
# starts, and asked only where the schedule has such an installment (its marker there); before it, it was counted.
GRACE_ADVANCE_PATCH = "advance-skips-paid-installments-v1"
# An advance re-amortising from disbursal (nothing settled before it) anchors the new schedule on the disbursal's IST
# date, as every other date of the loan is; it took the UTC date, a day early for a loan disbursed between midnight
# and 05:30 IST, so the first new period was a day long too many and its interest too high. Decided when a servicing
# run starts, asked only for such a loan with nothing paid yet (its marker there); before it, the UTC date.
IST_ANCHOR_PATCH = "reamortise-anchor-ist-v1"
# A payment that reaches a loan while its write-off is being applied (once the pass that applies it has counted its
# payments: during the cancellations, the postings that zero the receivables and the closure record, before the
# WRITTEN_OFF status) is booked as a recovery (recovery income), as the webhooks book one arriving after it; it was
# applied to installments the write-off had already taken off the books, posting to receivables already zeroed and
# writing the outstanding principal back. Payments that arrive during the pass's own steps before that are applied
# first, so one that clears the arrears still drops the write-off. Asked where a write-off is requested (the
# update's own handler, before any local activity's result in its workflow task); before it, applied as a repayment.
WRITE_OFF_RECOVERY_PATCH = "late-payment-after-write-off-is-recovery-v1"
# Autopay goes on past an installment whose tries are spent: the debit is for the oldest unpaid installment autopay has
# not gone past, on its own due date after its own pre-debit notice (a lender presents each EMI on its due date; a
# bounced one stays with the payment link and collections). Never past an installment whose last try's outcome is
# not known (that debit may still be captured). Before it, autopay stopped for good once the oldest unpaid
# installment's tries were spent. Asked only for a loan with an autopay mandate: at a servicing run's start when
# one is ACTIVE, and right after record_mandate_event's result when one becomes ACTIVE (its marker there).
AUTOPAY_LATER_INSTALLMENTS_PATCH = "autopay-later-installments-v1"
# A restructure gives each installment of the new schedule its own autopay tries (1 + autopayRetries): the tries its
# number had under the schedule before are kept as its start (ServicingState.debit_tries_before), and its debits go on
# numbering the attempts from there, so each has its own debit row and pre-debit notice. A debit notified for the old
# schedule and not yet charged is not charged (its row FAILED); one whose outcome never came still blocks. Before it, a
# restructured installment whose number had spent its tries was never debited (and, with
# autopay-later-installments-v1, autopay stopped there for the rest of the loan). Asked first in the
# approve_restructure update's handler, for every loan in a money-in servicing run.
AUTOPAY_RESTRUCTURE_TRIES_PATCH = "autopay-restructure-tries-v1"
# A captured autopay debit spaces the installment's next try as a failed one does (autopayRetryDays after it): when
# the money went to older dues first (the waterfall) and left the installment part unpaid, its next debit no longer
# comes a day after the capture (two EMIs within about two days from a borrower who just bounced one). Asked where
# autopay-later-installments-v1 is: at a servicing run's start with an ACTIVE mandate, and right after
# record_mandate_event's result when one becomes ACTIVE.
AUTOPAY_CAPTURE_SPACES_RETRY_PATCH = "autopay-capture-spaces-retry-v1"
# A debit notified but not yet charged when its mandate is cancelled, paused or rejected is recorded FAILED (not
# charged) and its attempt number is used up without counting as a try (ServicingState.debit_tries_before): the next
# try, on the mandate registered or resumed after, gets a debit row and a pre-debit notice of its own. Before it, the
# next try reused that row: on a new mandate its charge failed (the row named the cancelled one), on a resumed one it
# could be charged on a date its notice never named, and no new notice went either way. Asked right after
# record_mandate_event's result, where such a debit is dropped.
AUTOPAY_DROPPED_DEBIT_PATCH = "autopay-dropped-debit-frees-attempt-v1"
# A charge the gateway did not answer past its retries (an outage at the debit hour: 5xx, 429, time-outs) no longer
# fails the loan's workflow (before it, the ActivityError ended the run Failed: a payment waiting in it was lost, and
# every later payment found no workflow). The debit is taken as sent with its outcome unknown, since a cut-off
# request may have reached the gateway: it is looked up by its receipt like any debit whose outcome does not arrive
# (find_mandate_debit asks the gateway for a debit row still NOTIFIED), captured or failed as the gateway says, and,
# when the gateway has nothing, recorded FAILED ("not answered") and the try is over. Asked only in that failure's
# handler, right after charge_mandate's result.
AUTOPAY_CHARGE_UNANSWERED_PATCH = "autopay-charge-unanswered-v1"
# A settlement's approval makes its payment link before it records anything: a gateway that gives no link past the
# retries refuses the approval (503, nothing changed; staff approve again). Before it the link came after the
# approval was recorded, and its failure left the settlement APPROVED with no link and no offer, the approval refused
# if repeated, so the offer lapsed unseen. Asked first in the approval's update handler, before any await.
SETTLEMENT_LINK_FIRST_PATCH = "settlement-link-first-v1"
# The payment that completes an approved settlement is applied whole (principal first, then interest, fees, penal):
# only what it leaves unpaid is waived, and money beyond everything owed is the credit balance. When it leaves nothing
# unpaid the loan is paid in full, not settled: it closes COMPLETED (FORECLOSED while a period was still to come, else
# REPAID), never SETTLED or reported to the bureaus as settled, and the settlement reads PAID_IN_FULL. Before it, the
# payment paid only what the settlement still asked, the rest was kept as credit to refund and the dues it could have
# paid were waived. Asked first in the approval's update handler, before any await (SettlementState.applies_all).
SETTLEMENT_APPLIES_ALL_PATCH = "settlement-applies-all-v1"
# A settlement part-paid another way after its approval (an old overdue link, a branch payment) has its link made again
# for what it still asks, superseding the first (cancelled at its gateway), and the borrower is sent it
# (SETTLEMENT_OFFER). Before it the link kept asking the whole amount, and a borrower who paid it took more than was
# agreed. Asked first in the approval's update handler, before any await (SettlementState.link_follows).
SETTLEMENT_LINK_FOLLOWS_PATCH = "settlement-link-follows-payments-v1"
# Partner lenders (workflows.partner_routing): the loan is offered to the brand's partner lenders in order past each
# one's SLA; a booked loan's policy APR (the cooling-off exit's cost) is the accepted offer's.
PARTNER_ROUTING_PATCH = "partner-routing-v1"
PARTNER_APR_PATCH = "partner-offer-apr-v1"
# Co-lending (workflows.colending): a loan booked with a partner is co-lent, its losses split (and the DLG invoked),
# its restructure sent to the partner.
CO_LENDING_PATCH = "co-lending-v1"
LOSSES_PATCH = "co-lending-losses-v1"
RESTRUCTURE_PATCH = "co-lending-restructure-v1"
# Foreclosure credits the interest paid for days the loan did not run (an EMI paid before its due date, the loan
# closed before that date): the quote is that much lower, the money counts towards the principal, and the ledger moves
# it from interest income to principal (domain.closure, PaymentRecord.interest_credited). Before it, such interest
# was kept and the borrower paid the principal in full on top. Asked at each servicing run's start.
FORECLOSURE_INTEREST_CREDIT_PATCH = "foreclosure-interest-credit-v1"
# An overdue notice (SMS, WhatsApp, e-mail: "your EMI is overdue") goes out only from 08:00 to 19:00 IST, RBI's window
# for contact about overdue dues (domain.contact_hours): the 00:00 IST day-end run that finds an installment unpaid
# holds it, and the loop wakes at 08:00 to send it. Before it, the notice went at midnight. Asked at the start of a
# servicing run of a calendar product (a product timed in seconds, the demo's, is not held).
CONTACT_HOURS_PATCH = "overdue-notice-contact-hours-v1"
NOTICE_TIMEOUT = timedelta(seconds=60)  # one notice: render, send with failover across vendors, log
