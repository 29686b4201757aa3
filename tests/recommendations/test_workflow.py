"""The state machine as scenario lists: paths that must succeed, steps that must be refused."""

from __future__ import annotations

import pytest

from minsheng.audit import events_for
from recommendations.errors import TransitionError
from recommendations.workflow import ALLOWED_TRANSITIONS, STATES, transition

ALLOWED_PATHS = [
    [
        "adopted",
        "assigned",
        "in_progress",
        "completed",
        "feedback_given",
        "evaluated",
        "recognised",
    ],
    ["partly_adopted", "assigned", "completed", "feedback_given", "evaluated"],
    ["not_adopted", "feedback_given", "evaluated", "recognised"],
]

REFUSED = [
    # (steps that succeed first, refused step)
    ([], "assigned"),
    ([], "completed"),
    (["adopted"], "not_adopted"),
    (["adopted"], "feedback_given"),
    (["not_adopted"], "assigned"),
    (["adopted", "assigned"], "feedback_given"),
    (["adopted", "assigned", "in_progress"], "assigned"),
    (["not_adopted", "feedback_given", "evaluated", "recognised"], "proposed"),
]


@pytest.mark.parametrize("path", ALLOWED_PATHS, ids=lambda p: "-".join(p))
def test_allowed_paths_succeed_and_are_audited(session, make_recommendation, path):
    recommendation = make_recommendation()
    for status in path:
        transition(session, recommendation, status)
    assert recommendation.status == path[-1]
    actions = [e.action for e in events_for(session, "recommendation", recommendation.id)]
    assert actions == ["recommendation.create"] + [f"recommendation.{s}" for s in path]


@pytest.mark.parametrize(("before", "refused"), REFUSED, ids=lambda v: str(v))
def test_refused_steps_name_the_current_state_and_the_allowed_ones(
    session, make_recommendation, before, refused
):
    recommendation = make_recommendation()
    for status in before:
        transition(session, recommendation, status)
    current = recommendation.status
    with pytest.raises(TransitionError) as caught:
        transition(session, recommendation, refused)
    message = str(caught.value)
    assert f"is {current!r}" in message
    allowed = ALLOWED_TRANSITIONS[current]
    assert (", ".join(allowed) if allowed else "nothing (final state)") in message
    assert f"not to {refused!r}" in message
    assert recommendation.status == current


def test_unknown_states_are_refused_with_the_list_of_states(session, make_recommendation):
    with pytest.raises(TransitionError, match="unknown status 'done'; expected one of proposed"):
        transition(session, make_recommendation(), "done")


def test_every_target_state_is_a_known_state():
    assert {t for targets in ALLOWED_TRANSITIONS.values() for t in targets} <= set(STATES)
