"""Roles and permissions of lending staff (seed 000's roles × features matrix, seed 001's PBAC).

Nine roles; each holds a fixed set of permissions. Routes declare the permission they need (``api.access``);
the sanction hierarchy's stages say which role acts at each one. Pure data: no I/O.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    ADMIN = "ADMIN"
    LOAN_EXECUTIVE = "LOAN_EXECUTIVE"
    CREDIT_EXECUTIVE = "CREDIT_EXECUTIVE"
    SANCTION_MANAGER = "SANCTION_MANAGER"
    SANCTION_HEAD = "SANCTION_HEAD"
    COLLECTION_EXECUTIVE = "COLLECTION_EXECUTIVE"
    COLLECTION_MANAGER = "COLLECTION_MANAGER"
    COLLECTION_HEAD = "COLLECTION_HEAD"


class Permission(StrEnum):
    DASHBOARD_VIEW = "dashboard.view"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_ALLOCATE = "customers.allocate"
    LOANS_VIEW = "loans.view"
    LOANS_ALLOCATE = "loans.allocate"
    LOANS_COMMENT = "loans.comment"
    DOCUMENTS_VIEW = "documents.view"
    DOCUMENTS_VERIFY = "documents.verify"
    QUEUE_CREDIT_EXECUTIVE = "queue.credit_executive"
    QUEUE_SANCTION_MANAGER = "queue.sanction_manager"
    QUEUE_SANCTION_HEAD = "queue.sanction_head"
    QUEUE_LOANS_OPS = "queue.loans_ops"
    QUEUE_UNALLOCATED = "queue.unallocated"
    REVIEW_CREDIT = "review.credit"  # forward, override the evaluation score
    REVIEW_SANCTION_MANAGER = "review.sanction_manager"  # approve with conditions, reject, send back
    REVIEW_SANCTION_HEAD = "review.sanction_head"  # final approval, reject, send back
    CAM_MANAGE = "cam.manage"
    LOAN_OPS_DISBURSE = "loan_ops.disburse"
    COLLECTIONS_VIEW = "collections.view"
    COLLECTIONS_PRE = "collections.pre"
    COLLECTIONS_MANAGE = "collections.manage"
    COLLECTIONS_WRITEOFF = "collections.writeoff"
    SETTINGS_VIEW = "settings.view"
    SETTINGS_MANAGE = "settings.manage"
    REPORTS_VIEW = "reports.view"
    STAFF_VIEW = "staff.view"
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    API_KEYS_MANAGE = "api_keys.manage"
    PLATFORM_ADMIN = "platform.admin"  # /api/v1/admin: brands, users and settings of every brand


P = Permission
_VIEW = {P.DASHBOARD_VIEW, P.CUSTOMERS_VIEW, P.LOANS_VIEW, P.LOANS_COMMENT, P.DOCUMENTS_VIEW}
# Collections staff see the customer's documents (address proof for a field visit) but do not decide them.
_COLLECTIONS = {P.DASHBOARD_VIEW, P.CUSTOMERS_VIEW, P.LOANS_VIEW, P.LOANS_COMMENT, P.COLLECTIONS_VIEW, P.DOCUMENTS_VIEW}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPER_ADMIN: frozenset(Permission),
    Role.ADMIN: frozenset(
        _VIEW
        | {
            P.CUSTOMERS_ALLOCATE,
            P.LOANS_ALLOCATE,
            P.DOCUMENTS_VERIFY,
            P.QUEUE_CREDIT_EXECUTIVE,
            P.QUEUE_SANCTION_MANAGER,
            P.QUEUE_SANCTION_HEAD,
            P.QUEUE_LOANS_OPS,
            P.QUEUE_UNALLOCATED,
            P.LOAN_OPS_DISBURSE,
            P.COLLECTIONS_VIEW,
            P.COLLECTIONS_PRE,
            P.COLLECTIONS_MANAGE,
            P.COLLECTIONS_WRITEOFF,
            P.SETTINGS_VIEW,
            P.SETTINGS_MANAGE,
            P.REPORTS_VIEW,
            P.STAFF_VIEW,
            P.STAFF_MANAGE,
            P.AUDIT_VIEW,
            P.API_KEYS_MANAGE,
        }
    ),
    Role.LOAN_EXECUTIVE: frozenset(
        _VIEW | {P.DOCUMENTS_VERIFY, P.QUEUE_LOANS_OPS, P.QUEUE_UNALLOCATED, P.LOAN_OPS_DISBURSE, P.COLLECTIONS_PRE}
    ),
    Role.CREDIT_EXECUTIVE: frozenset(
        _VIEW | {P.DOCUMENTS_VERIFY, P.QUEUE_CREDIT_EXECUTIVE, P.QUEUE_UNALLOCATED, P.REVIEW_CREDIT, P.CAM_MANAGE}
    ),
    Role.SANCTION_MANAGER: frozenset(
        _VIEW
        | {
            P.QUEUE_CREDIT_EXECUTIVE,
            P.QUEUE_SANCTION_MANAGER,
            P.QUEUE_UNALLOCATED,
            P.LOANS_ALLOCATE,
            P.REVIEW_SANCTION_MANAGER,
            P.DOCUMENTS_VERIFY,
            P.CAM_MANAGE,
            P.REPORTS_VIEW,
            P.STAFF_VIEW,
        }
    ),
    Role.SANCTION_HEAD: frozenset(
        _VIEW
        | {
            P.QUEUE_CREDIT_EXECUTIVE,
            P.QUEUE_SANCTION_MANAGER,
            P.QUEUE_SANCTION_HEAD,
            P.QUEUE_UNALLOCATED,
            P.LOANS_ALLOCATE,
            P.REVIEW_SANCTION_HEAD,
            P.DOCUMENTS_VERIFY,
            P.CAM_MANAGE,
            P.REPORTS_VIEW,
            P.STAFF_VIEW,
        }
    ),
    Role.COLLECTION_EXECUTIVE: frozenset(_COLLECTIONS | {P.COLLECTIONS_PRE}),
    Role.COLLECTION_MANAGER: frozenset(
        _COLLECTIONS | {P.COLLECTIONS_PRE, P.COLLECTIONS_MANAGE, P.REPORTS_VIEW, P.STAFF_VIEW}
    ),
    Role.COLLECTION_HEAD: frozenset(
        _COLLECTIONS | {P.COLLECTIONS_PRE, P.COLLECTIONS_MANAGE, P.COLLECTIONS_WRITEOFF, P.REPORTS_VIEW, P.STAFF_VIEW}
    ),
}

# What a brand's API key may do: read-only access for the brand's own systems. Decisions need a person.
API_KEY_PERMISSIONS: frozenset[Permission] = frozenset(
    {P.LOANS_VIEW, P.CUSTOMERS_VIEW, P.COLLECTIONS_VIEW, P.DASHBOARD_VIEW, P.REPORTS_VIEW}
)


def permissions_of(role: str | None) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)] if role else frozenset()
    except ValueError:
        return frozenset()


class ReviewStage(StrEnum):
    """Where an UNDER_REVIEW loan stands in the sanction hierarchy."""

    CREDIT_EXECUTIVE = "CREDIT_EXECUTIVE"
    SANCTION_MANAGER = "SANCTION_MANAGER"
    SANCTION_HEAD = "SANCTION_HEAD"


class ReviewAction(StrEnum):
    FORWARD = "FORWARD"  # credit executive -> sanction manager (optionally overriding the score)
    APPROVE = "APPROVE"  # sanction manager -> sanction head, with conditions
    SEND_BACK = "SEND_BACK"  # sanction manager / head -> credit executive
    REJECT = "REJECT"  # sanction manager / head -> REJECTED (reason from the brand's status reasons)
    SANCTION = "SANCTION"  # sanction head -> SANCTIONED


# Which action may be taken at which stage, by whom (SUPER_ADMIN may act at any stage; maker-checker still
# stops one person acting twice on a loan), and the stage it leads to (None: the review ends).
REVIEW_RULES: dict[tuple[ReviewStage, ReviewAction], tuple[frozenset[str], ReviewStage | None]] = {
    (ReviewStage.CREDIT_EXECUTIVE, ReviewAction.FORWARD): (
        frozenset({Role.CREDIT_EXECUTIVE, Role.SUPER_ADMIN}),
        ReviewStage.SANCTION_MANAGER,
    ),
    (ReviewStage.SANCTION_MANAGER, ReviewAction.APPROVE): (
        frozenset({Role.SANCTION_MANAGER, Role.SUPER_ADMIN}),
        ReviewStage.SANCTION_HEAD,
    ),
    (ReviewStage.SANCTION_MANAGER, ReviewAction.SEND_BACK): (
        frozenset({Role.SANCTION_MANAGER, Role.SUPER_ADMIN}),
        ReviewStage.CREDIT_EXECUTIVE,
    ),
    (ReviewStage.SANCTION_MANAGER, ReviewAction.REJECT): (
        frozenset({Role.SANCTION_MANAGER, Role.SUPER_ADMIN}),
        None,
    ),
    (ReviewStage.SANCTION_HEAD, ReviewAction.SANCTION): (
        frozenset({Role.SANCTION_HEAD, Role.SUPER_ADMIN}),
        None,
    ),
    (ReviewStage.SANCTION_HEAD, ReviewAction.SEND_BACK): (
        frozenset({Role.SANCTION_HEAD, Role.SUPER_ADMIN}),
        ReviewStage.CREDIT_EXECUTIVE,
    ),
    (ReviewStage.SANCTION_HEAD, ReviewAction.REJECT): (
        frozenset({Role.SANCTION_HEAD, Role.SUPER_ADMIN}),
        None,
    ),
}

# Actions that need a reason picked from the brand's status reasons (``BrandStatusReason.statuses``).
REASONED_ACTIONS = frozenset({ReviewAction.REJECT, ReviewAction.SEND_BACK})


ROLE_ABBREVIATIONS = {
    Role.SUPER_ADMIN: "SA",
    Role.ADMIN: "AD",
    Role.LOAN_EXECUTIVE: "LE",
    Role.CREDIT_EXECUTIVE: "CE",
    Role.SANCTION_MANAGER: "SM",
    Role.SANCTION_HEAD: "SH",
    Role.COLLECTION_EXECUTIVE: "CX",
    Role.COLLECTION_MANAGER: "CM",
    Role.COLLECTION_HEAD: "CH",
}


def matrix_markdown() -> str:
    """The roles × permissions matrix as a Markdown table (``los roles``; docs/staff.md embeds it)."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(ROLE_ABBREVIATIONS[r] for r in roles) + " | API key |",
        "|---|" + "---|" * (len(roles) + 1),
    ]
    for perm in Permission:
        marks = ["✓" if perm in ROLE_PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{perm.value}` | " + " | ".join(marks) + f" | {'✓' if perm in API_KEY_PERMISSIONS else ''} |")
    return "\n".join(lines)
