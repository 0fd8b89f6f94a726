"""Collections at each day-end while a loan is in arrears: the loan (re)allocated to a collector when its bucket
changes, promises to pay not kept marked BROKEN, and the worst DPD kept (docs/collections.md)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.loan.common import LoanBase
from db import collections as sql
from db.models import Brand, Customer, Loan
from domain.brand_config import BrandConfig
from domain.collections import CollectorCandidate, choose_collector
from domain.errors import ValidationError
from workflows.contracts import CollectionReview


class CollectionActivities(LoanBase):
    @activity.defn
    async def review_collection(self, review: CollectionReview) -> str | None:
        """The loan's collections at the day-end of ``review.as_of`` (IST date), in one transaction:

        - ``review.bucket`` differs from ``loans.collection_bucket`` (the loan just became overdue, or moved bucket):
          the current allocation ends and the loan goes to a collector of the role the brand's ``bucketRoles`` gives
          the bucket (executive, then manager, then head: the escalation), chosen by
          ``domain.collections.choose_collector`` (leave that day, cap, the customer's pincode, load, rating) — a
          ``collection_allocations`` row keyed ``loan-<id>:bucket:<bucket>:<as_of>`` (a retry writes nothing twice),
          the loan's bucket and collector, and a NEW_ASSIGNMENT notification to the collector. Nobody eligible: the
          row says why, and the loan waits in the bucket with no collector (the queues' ``agentId=none``);
        - ``review.bucket`` None (or DPD 0: the loan is current again): the allocation ends, bucket and collector are
          cleared;
        - PENDING promises to pay dated before ``as_of`` become BROKEN;
        - ``loans.max_dpd`` = the greater of itself and ``review.dpd``.

        The same bucket as recorded leaves the allocation as it is (a manual move stands). Returns the staff id of
        the loan's collector after the review (None when nobody works it). An unknown loan, or brand collections
        settings that do not read, fail without a retry."""

        def write(session: Session) -> str | None:
            loan = session.get(Loan, review.loan_id, with_for_update=True)
            if loan is None:
                raise ApplicationError(f"loan {review.loan_id} not found", type="NotFound", non_retryable=True)
            current = review.bucket is None or review.dpd <= 0
            if current:
                if loan.collection_bucket is not None or loan.collector_id is not None:
                    sql.release(session, loan)
            elif review.bucket != loan.collection_bucket:
                brand = session.get_one(Brand, loan.brand_id)
                customer = session.get_one(Customer, loan.customer_id)
                try:
                    policy = BrandConfig.of(brand.config).collection_policy()
                except ValidationError as exc:  # a retry cannot mend the brand's settings: say so, once
                    message = f"the brand's collections settings: {exc}"
                    raise ApplicationError(message, type="ValidationError", non_retryable=True) from exc
                bucket = str(review.bucket)
                role = policy.role_for(bucket)
                pool = sql.collector_candidates(session, loan.brand_id, role, review.as_of)
                # the loan being moved is not part of its current holder's load any more
                pool = [_without_this_loan(c) if c.staff_id == loan.collector_id else c for c in pool]
                choice = choose_collector(
                    pool, role, customer.pincode, review.as_of, brand_id=loan.brand_id, cap=policy.allocation_cap
                )
                sql.allocate(
                    session,
                    loan,
                    staff_id=choice.staff_id,
                    role=role,
                    bucket=bucket,
                    dpd=review.dpd,
                    reason=choice.reason,
                    key=f"loan-{loan.id}:bucket:{bucket}:{review.as_of.isoformat()}",
                )
            sql.break_promises(session, loan.id, review.as_of)
            loan.max_dpd = max(loan.max_dpd or 0, review.dpd)  # the row is locked: no lost update
            return loan.collector_id

        return await self._tx(write)


def _without_this_loan(candidate: CollectorCandidate) -> CollectorCandidate:
    """The loan's current holder as a candidate for its next bucket: the loan itself no longer counts in their load."""
    return replace(candidate, open_workload=max(0, candidate.open_workload - 1))
