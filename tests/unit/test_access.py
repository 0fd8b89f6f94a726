"""The roles × permissions matrix and the sanction hierarchy's rules (pure data)."""

from __future__ import annotations

import re
from pathlib import Path

from domain.access import (
    API_KEY_PERMISSIONS,
    REVIEW_RULES,
    ROLE_PERMISSIONS,
    Permission,
    ReviewAction,
    ReviewStage,
    Role,
    matrix_markdown,
    permissions_of,
)


def test_every_role_has_permissions_and_super_admin_has_all() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS[Role.SUPER_ADMIN] == frozenset(Permission)
    assert all(ROLE_PERMISSIONS[r] for r in Role)
    assert permissions_of("NOT_A_ROLE") == frozenset() and permissions_of(None) == frozenset()


def test_segregation_of_duties() -> None:
    review = {P for P in Permission if P.value.startswith("review.")}
    holders = {p: {r for r in Role if p in ROLE_PERMISSIONS[r]} - {Role.SUPER_ADMIN} for p in review}
    assert holders == {
        Permission.REVIEW_CREDIT: {Role.CREDIT_EXECUTIVE},
        Permission.REVIEW_SANCTION_MANAGER: {Role.SANCTION_MANAGER},
        Permission.REVIEW_SANCTION_HEAD: {Role.SANCTION_HEAD},
    }
    assert Permission.PLATFORM_ADMIN not in ROLE_PERMISSIONS[Role.ADMIN]
    assert not any(p.value.startswith(("review.", "settings.manage", "staff.")) for p in API_KEY_PERMISSIONS)


def test_review_rules_form_the_hierarchy() -> None:
    walk, stage = [], ReviewStage.CREDIT_EXECUTIVE
    for verb in (ReviewAction.FORWARD, ReviewAction.APPROVE, ReviewAction.SANCTION):
        roles, nxt = REVIEW_RULES[(stage, verb)]
        walk.append((stage, next(iter(roles - {Role.SUPER_ADMIN}))))
        if nxt is None:
            break
        stage = nxt
    assert walk == [
        (ReviewStage.CREDIT_EXECUTIVE, Role.CREDIT_EXECUTIVE),
        (ReviewStage.SANCTION_MANAGER, Role.SANCTION_MANAGER),
        (ReviewStage.SANCTION_HEAD, Role.SANCTION_HEAD),
    ]
    # the credit executive can only forward; send-back always returns to the credit executive stage
    assert {v for (s, v) in REVIEW_RULES if s == ReviewStage.CREDIT_EXECUTIVE} == {ReviewAction.FORWARD}
    assert all(nxt == ReviewStage.CREDIT_EXECUTIVE for (s, v), (_, nxt) in REVIEW_RULES.items() if v == "SEND_BACK")


def test_docs_show_the_current_matrix() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "staff.md").read_text()
    embedded = re.search(r"<!-- roles-matrix.*?-->\n(.*?)\n<!-- /roles-matrix -->", doc, re.S)
    assert embedded is not None and embedded.group(1) == matrix_markdown()
