"""Both state machines as scenario lists: paths that must succeed, steps that must be refused
(wrong state, wrong actor, a missing field), and the README's copy of the tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from minsheng.audit import events_for
from recommendations.errors import TransitionError
from recommendations.workflow import (
    ASSIGNMENT_STATES,
    ASSIGNMENT_STEPS,
    RECOMMENDATION_STEPS,
    STATES,
    markdown,
    take,
)

ORGANIZER = "organizer"
PATHS = [
    # (step, actor, fields)
    [
        ("adopt", ORGANIZER, {}),
        ("assign", ORGANIZER, {"lead": "transport"}),
        ("start", "system", {}),
        ("complete", "system", {}),
        ("give_feedback", ORGANIZER, {"text": "已延长"}),
        ("evaluate", "system", {}),
        ("reopen", ORGANIZER, {"reason": "多数不满意"}),
        ("complete", "system", {}),
        ("give_feedback", ORGANIZER, {"text": "已整改"}),
        ("close", ORGANIZER, {}),
        ("recognise", ORGANIZER, {"kind": "suggester"}),
    ],
    [("reject", ORGANIZER, {"reason": "已有规划"}), ("give_feedback", ORGANIZER, {"text": "说明"})],
]

REFUSED = [
    # (steps that succeed first, refused step, actor, fields, what the message names)
    ([], "assign", ORGANIZER, {"lead": "transport"}, "it allows adopt, adopt_in_part, reject"),
    ([], "reject", ORGANIZER, {}, "'reject' needs a reason"),
    ([], "adopt", "handler", {}, "taken by organizer, not by handler"),
    ([("adopt", ORGANIZER, {})], "give_feedback", ORGANIZER, {"text": "x"}, "is 'adopted'"),
    ([("adopt", ORGANIZER, {})], "assign", ORGANIZER, {}, "'assign' needs a lead"),
    ([("reject", ORGANIZER, {"reason": "r"})], "assign", ORGANIZER, {"lead": "t"}, "not 'assign'"),
    ([], "teleport", ORGANIZER, {}, "unknown step 'teleport'"),
]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: "-".join(s for s, _, _ in p))
def test_allowed_paths_succeed_and_are_in_the_history_and_the_audit(
    session, make_recommendation, path
):
    recommendation = make_recommendation()
    for step, actor, fields in path:
        take(session, recommendation, step, actor, **fields)
    assert recommendation.status == RECOMMENDATION_STEPS[path[-1][0]].target
    actions = [e.action for e in events_for(session, "recommendation", recommendation.id)]
    assert actions == ["recommendation.create"] + [f"recommendation.{s}" for s, _, _ in path]


@pytest.mark.parametrize(("before", "step", "actor", "fields", "named"), REFUSED)
def test_refused_steps_say_why_and_change_nothing(
    session, make_recommendation, before, step, actor, fields, named
):
    recommendation = make_recommendation()
    for done, by, given in before:
        take(session, recommendation, done, by, **given)
    current = recommendation.status
    with pytest.raises(TransitionError) as caught:
        take(session, recommendation, step, actor, **fields)
    assert named in str(caught.value)
    assert recommendation.status == current


def test_every_state_of_both_tables_is_reached_or_left_by_a_step():
    for table, states in ((RECOMMENDATION_STEPS, STATES), (ASSIGNMENT_STEPS, ASSIGNMENT_STATES)):
        for step in table.values():
            assert step.target in states and set(step.sources) <= set(states)
    assert {"submitted", "accepted", "returned", "extension_requested", "replied"} <= set(
        ASSIGNMENT_STATES
    )
    assert {"reopened", "closed", "evaluated"} <= set(STATES)


def test_the_readme_shows_the_tables_as_generated():
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    assert markdown() in readme, "run `minsheng recommendations workflow` and paste it"
