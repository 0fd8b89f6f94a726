"""The loan lifecycle (domain.lifecycle): the moves the workflow makes are allowed, nothing else is."""

from __future__ import annotations

import json
from base64 import b64decode
from collections import deque
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access import ReviewStage
from domain.errors import Conflict, IllegalTransition
from domain.lifecycle import (
    MOVES,
    NOT_YET_REACHED,
    REVIEW_EXITS,
    REVIEW_START,
    STAGE_MOVES,
    START,
    allowed_moves,
    can_move,
    check_move,
)
from domain.status import TERMINAL, LoanStatus

S = LoanStatus
CE, SM, SH = ReviewStage.CREDIT_EXECUTIVE, ReviewStage.SANCTION_MANAGER, ReviewStage.SANCTION_HEAD

# Every status move the loan workflow makes today: (from, to, stage it is at, stage it moves to), with what
# makes it. Keep in step with the workflow's _move/_end calls.
WORKFLOW_MOVES: list[tuple[LoanStatus, LoanStatus, ReviewStage | None, ReviewStage | None]] = [
    # origination
    (S.APPLIED, S.REJECTED, None, None),  # KYC incomplete/failed, or the rules refuse
    (S.APPLIED, S.SANCTIONED, None, None),  # auto-sanction
    (S.APPLIED, S.UNDER_REVIEW, None, CE),  # manual review, sanction hierarchy
    (S.APPLIED, S.UNDER_REVIEW, None, None),  # manual review, single staff decision (older loans)
    (S.UNDER_REVIEW, S.UNDER_REVIEW, CE, SM),  # FORWARD
    (S.UNDER_REVIEW, S.UNDER_REVIEW, SM, SH),  # APPROVE
    (S.UNDER_REVIEW, S.UNDER_REVIEW, SM, CE),  # SEND_BACK by the sanction manager
    (S.UNDER_REVIEW, S.UNDER_REVIEW, SH, CE),  # SEND_BACK by the sanction head
    (S.UNDER_REVIEW, S.SANCTIONED, SH, None),  # SANCTION
    (S.UNDER_REVIEW, S.REJECTED, SM, None),  # REJECT by the sanction manager
    (S.UNDER_REVIEW, S.REJECTED, SH, None),  # REJECT by the sanction head
    (S.UNDER_REVIEW, S.SANCTIONED, None, None),  # single staff decision: sanction
    (S.UNDER_REVIEW, S.REJECTED, None, None),  # single staff decision: reject
    (S.SANCTIONED, S.SANCTIONED, None, None),  # the borrower accepted the KFS
    (S.SANCTIONED, S.AGREEMENT_PENDING, None, None),  # agreement sent for eSign
    (S.SANCTIONED, S.EXPIRED, None, None),  # the KFS not accepted in time
    (S.SANCTIONED, S.CANCELLED, None, None),  # staff cancel while the KFS is awaited
    (S.AGREEMENT_PENDING, S.AGREEMENT_PENDING, None, None),  # declined, new docket, or a new KFS accepted
    (S.AGREEMENT_PENDING, S.AGREEMENT_SIGNED, None, None),  # eSign SIGNED
    (S.AGREEMENT_PENDING, S.EXPIRED, None, None),  # eSign expiry, or the eSign ended unsigned
    (S.AGREEMENT_PENDING, S.CANCELLED, None, None),  # staff cancel after the signer declined
    (S.AGREEMENT_SIGNED, S.DISBURSAL_PENDING, None, None),  # disbursal approved, transfer initiated
    (S.DISBURSAL_PENDING, S.AGREEMENT_SIGNED, None, None),  # transfer failed
    (S.DISBURSAL_PENDING, S.DISBURSED, None, None),  # transfer settled
    # the hold: a step refused for good parks the loan; ops resume it (back where it was) or reject it
    *[(s, S.NEEDS_ATTENTION, None, None) for s in (S.APPLIED, S.SANCTIONED, S.AGREEMENT_PENDING)],
    *[(s, S.NEEDS_ATTENTION, None, None) for s in (S.AGREEMENT_SIGNED, S.DISBURSAL_PENDING)],
    *[(S.NEEDS_ATTENTION, s, None, None) for s in (S.APPLIED, S.SANCTIONED, S.AGREEMENT_PENDING)],
    *[(S.NEEDS_ATTENTION, s, None, None) for s in (S.AGREEMENT_SIGNED, S.DISBURSAL_PENDING, S.REJECTED)],
    # servicing
    (S.DISBURSED, S.OVERDUE, None, None),  # installment unpaid after its due date
    (S.OVERDUE, S.DISBURSED, None, None),  # arrears cleared
    (S.DISBURSED, S.COMPLETED, None, None),  # all installments paid
    (S.OVERDUE, S.COMPLETED, None, None),  # all installments paid while overdue
    (S.DISBURSED, S.OVERPAID, None, None),  # all paid, a credit balance to refund
    (S.OVERDUE, S.OVERPAID, None, None),  # the same, by a payment that also cleared the arrears
    (S.OVERPAID, S.COMPLETED, None, None),  # the credit balance refunded
    (S.DISBURSED, S.CANCELLED, None, None),  # the borrower exited within the cooling-off period
    (S.OVERDUE, S.SETTLED, None, None),  # a settlement paid before its deadline
    (S.DISBURSED, S.SETTLED, None, None),  # the same, after part-payments cleared the arrears
    (S.OVERDUE, S.WRITTEN_OFF, None, None),  # written off past the brand's write-off DPD
]


@pytest.mark.parametrize(("src", "dst", "at", "to"), WORKFLOW_MOVES)
def test_every_move_the_workflow_makes_is_allowed(
    src: LoanStatus, dst: LoanStatus, at: ReviewStage | None, to: ReviewStage | None
) -> None:
    check_move(src, dst, from_review_stage=at, review_stage=to)
    assert dst in allowed_moves(src)
    assert can_move(src, dst, from_review_stage=at, review_stage=to)


def test_the_table_holds_the_workflow_moves_and_nothing_more() -> None:
    table = {(src, dst) for src, targets in MOVES.items() for dst in targets}
    assert table == {(src, dst) for src, dst, _, _ in WORKFLOW_MOVES}
    stage_moves = {(at, to) for src, dst, at, to in WORKFLOW_MOVES if src == dst == S.UNDER_REVIEW}
    assert stage_moves == STAGE_MOVES
    exits = {(at, dst) for src, dst, at, _ in WORKFLOW_MOVES if src == S.UNDER_REVIEW != dst and at is not None}
    assert exits == REVIEW_EXITS


def test_every_status_has_a_row_and_terminal_means_no_move_out() -> None:
    assert set(MOVES) == set(LoanStatus)
    assert {s for s, targets in MOVES.items() if not targets} == TERMINAL
    for status in TERMINAL:
        assert allowed_moves(status) == frozenset()
        for target in LoanStatus:
            assert not can_move(status, target)


@pytest.mark.parametrize(
    ("src", "dst", "words"),
    [
        (S.APPLIED, S.DISBURSED, "moves only to UNDER_REVIEW, SANCTIONED, NEEDS_ATTENTION, REJECTED"),
        (S.APPLIED, S.AGREEMENT_PENDING, "moves only to"),
        (S.SANCTIONED, S.DISBURSED, "moves only to SANCTIONED, AGREEMENT_PENDING, NEEDS_ATTENTION, EXPIRED, CANCELLED"),
        (S.AGREEMENT_SIGNED, S.DISBURSED, "moves only to DISBURSAL_PENDING"),
        (S.DISBURSED, S.APPLIED, "moves only to OVERDUE, OVERPAID, SETTLED, COMPLETED, CANCELLED"),
        (S.DISBURSED, S.DISBURSED, "moves only to"),
        (S.OVERDUE, S.OVERDUE, "moves only to"),
        (S.AGREEMENT_PENDING, S.REJECTED, "moves only to"),
        (S.COMPLETED, S.OVERDUE, "COMPLETED is terminal"),
        (S.COMPLETED, S.DISBURSED, "COMPLETED is terminal"),
        (S.REJECTED, S.SANCTIONED, "REJECTED is terminal"),
        (S.EXPIRED, S.AGREEMENT_PENDING, "EXPIRED is terminal"),
        (S.WRITTEN_OFF, S.DISBURSED, "WRITTEN_OFF is terminal"),
        (S.DISBURSED, S.WRITTEN_OFF, "moves only to OVERDUE"),  # written off only once in arrears
        (S.SETTLED, S.OVERDUE, "SETTLED is terminal"),
        (S.OVERPAID, S.SETTLED, "moves only to COMPLETED"),
    ],
)
def test_forbidden_moves_name_both_states(src: LoanStatus, dst: LoanStatus, words: str) -> None:
    with pytest.raises(IllegalTransition) as err:
        check_move(src, dst)
    assert err.value.from_status == src and err.value.to_status == dst
    assert f"from {src} to {dst}" in err.value.message and words in err.value.message
    assert isinstance(err.value, Conflict) and err.value.status_code == 409
    assert not can_move(src, dst)


def test_completed_moves_nowhere() -> None:
    for target in LoanStatus:
        with pytest.raises(IllegalTransition, match=f"from COMPLETED to {target}: COMPLETED is terminal"):
            check_move(S.COMPLETED, target)


@pytest.mark.parametrize(
    ("src", "dst", "at", "to", "words"),
    [
        (S.UNDER_REVIEW, S.UNDER_REVIEW, CE, SH, "from the CREDIT_EXECUTIVE stage a review moves only to"),
        (S.UNDER_REVIEW, S.UNDER_REVIEW, SH, SM, "from the SANCTION_HEAD stage a review moves only to"),
        (S.UNDER_REVIEW, S.UNDER_REVIEW, CE, CE, "moves only to SANCTION_MANAGER"),
        (S.UNDER_REVIEW, S.UNDER_REVIEW, None, SM, "name the stage it is at and the next"),
        (S.UNDER_REVIEW, S.UNDER_REVIEW, CE, None, "name the stage it is at and the next"),
        (S.UNDER_REVIEW, S.UNDER_REVIEW, None, None, "changes the review stage"),
        (S.APPLIED, S.UNDER_REVIEW, None, SH, "a review starts at the CREDIT_EXECUTIVE stage"),
        (S.UNDER_REVIEW, S.SANCTIONED, CE, None, "a review does not end at the CREDIT_EXECUTIVE stage"),
        (S.UNDER_REVIEW, S.SANCTIONED, SM, None, "at the SANCTION_MANAGER stage a review ends only in REJECTED"),
        (S.UNDER_REVIEW, S.REJECTED, CE, None, "does not end at the CREDIT_EXECUTIVE stage"),
        (S.APPLIED, S.SANCTIONED, None, SM, "only a move to UNDER_REVIEW leads to a review stage"),
        (S.UNDER_REVIEW, S.SANCTIONED, SH, SH, "only a move to UNDER_REVIEW leads to a review stage"),
        (S.SANCTIONED, S.AGREEMENT_PENDING, SH, None, "only an UNDER_REVIEW loan has a review stage"),
    ],
)
def test_review_stage_moves_follow_the_review_rules(
    src: LoanStatus, dst: LoanStatus, at: ReviewStage | None, to: ReviewStage | None, words: str
) -> None:
    with pytest.raises(IllegalTransition) as err:
        check_move(src, dst, from_review_stage=at, review_stage=to)
    assert words in err.value.message
    here = f"{src} ({at})" if at else str(src)
    there = f"{dst} ({to})" if to else str(dst)
    assert f"from {here} to {there}" in err.value.message
    assert err.value.from_review_stage == at and err.value.review_stage == to


def test_stages_may_be_given_as_their_stored_values() -> None:
    check_move(S.UNDER_REVIEW, S.UNDER_REVIEW, from_review_stage="SANCTION_MANAGER", review_stage="SANCTION_HEAD")
    assert REVIEW_START == CE


def _reachable(start: LoanStatus) -> set[LoanStatus]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in MOVES[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_is_reachable_from_applied_but_those_not_built_yet() -> None:
    assert START == S.APPLIED
    assert _reachable(START) == set(LoanStatus) - NOT_YET_REACHED
    assert NOT_YET_REACHED <= TERMINAL
    assert not any(NOT_YET_REACHED & targets for targets in MOVES.values())


def test_every_non_terminal_status_can_end() -> None:
    for status in set(LoanStatus) - TERMINAL:
        assert _reachable(status) & TERMINAL, status


@given(st.lists(st.integers(min_value=0, max_value=1_000), max_size=60))
def test_any_walk_the_table_allows_stays_consistent(choices: list[int]) -> None:
    """A loan walked from APPLIED by moves the table allows (review stages by STAGE_MOVES and
    REVIEW_EXITS): each move passes check_move, and an end is always still reachable."""
    status, stage = START, None
    for choice in choices:
        assert _reachable(status) & TERMINAL
        options: list[tuple[LoanStatus, ReviewStage | None]] = []
        for target in sorted(allowed_moves(status)):
            if target == S.UNDER_REVIEW == status:
                options += [(target, nxt) for at, nxt in sorted(STAGE_MOVES) if at == stage]
            elif target == S.UNDER_REVIEW:
                options += [(target, REVIEW_START)]
            elif status == S.UNDER_REVIEW:
                if (stage, target) in REVIEW_EXITS:
                    options.append((target, None))
            else:
                options.append((target, None))
        if not options:
            assert status in TERMINAL
            break
        target, next_stage = options[choice % len(options)]
        check_move(status, target, from_review_stage=stage, review_stage=next_stage)
        status, stage = target, next_stage


@given(st.sampled_from(list(LoanStatus)), st.sampled_from(list(LoanStatus)))
def test_check_move_agrees_with_the_table(src: LoanStatus, dst: LoanStatus) -> None:
    if src == dst == S.UNDER_REVIEW:
        return  # a stage move: covered above
    assert can_move(src, dst) == (dst in allowed_moves(src))


HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def _recorded_moves(path: Path) -> list[tuple[str, str, str | None]]:
    events = json.loads(path.read_text())["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    if started["workflowType"]["name"] != "LoanWorkflow":
        return []  # another workflow type (an invoice financing): its own statuses, not the loan's lifecycle
    moves = []
    for event in events:
        scheduled = event.get("activityTaskScheduledEventAttributes")
        if scheduled and scheduled["activityType"]["name"].endswith("record_status"):
            payload = scheduled["input"]["payloads"][0]
            if b64decode(payload.get("metadata", {}).get("encoding", "")) != b"json/plain":
                continue  # an encrypted payload: nothing to read here
            change = json.loads(b64decode(payload["data"]))
            moves.append((change["from_status"], change["to_status"], change.get("review_stage")))
    return moves


def test_the_saved_histories_hold_moves_to_check() -> None:
    """The check below reads moves from activity tasks; most saved loan histories must still give it some."""
    with_moves = [p for p in HISTORIES.glob("*.json") if _recorded_moves(p)]
    assert len(with_moves) >= 10, [p.stem for p in with_moves]


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
def test_every_move_in_the_saved_histories_is_allowed(path: Path) -> None:
    """The saved workflow histories (replayed on every run) record real status moves: each passes, with the
    stage the loan was at being the one its last recorded move led to."""
    moves = _recorded_moves(path)  # a status move run as a local activity (local-db-steps-v1) has no input here
    at: str | None = None
    for src, dst, to in moves:
        check_move(S(src), S(dst), from_review_stage=at, review_stage=to)
        at = to if dst == S.UNDER_REVIEW else None
