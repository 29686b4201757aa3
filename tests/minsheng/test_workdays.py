"""The working-day calendar: the 2026 holiday notice with its make-up days, local adjustments,
and the refusal of years no notice covers."""

from __future__ import annotations

from datetime import date

import pytest

from minsheng.workdays import (
    CalendarError,
    add_working_days,
    adjust_day,
    calendar_for,
    is_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # make-up Saturday (调休上班)
        (date(2026, 2, 16), False),  # 除夕 week, a Monday
        (date(2026, 2, 23), False),  # last day of the 9-day holiday, a Monday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # second make-up Saturday
        (date(2026, 3, 1), False),  # an ordinary Sunday
        (date(2026, 9, 20), True),  # make-up Sunday before National Day
        (date(2026, 10, 5), False),
        (date(2026, 10, 10), True),  # make-up Saturday after National Day
        (date(2025, 10, 8), False),  # 2025 National Day and Mid-Autumn, 8 days
    ],
)
def test_the_holiday_notice_decides_working_days(day, working):
    assert is_working_day(day) is working


def test_a_deadline_set_on_the_eve_of_the_spring_festival_skips_the_holiday():
    # Handed over on Friday 13 February 2026: Saturday 14th is a make-up working day, 15-23 the
    # holiday, so 2 working days end on Tuesday 24th and 15 on Thursday 12 March (28 Feb counts).
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 13), 15) == date(2026, 3, 12)


def test_working_days_between_counts_after_exclusive_through_inclusive():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2  # 8th and 9th
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3  # make-up Saturday
    assert working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0


def test_a_year_without_a_notice_is_refused_not_guessed():
    with pytest.raises(CalendarError) as caught:
        add_working_days(date(2026, 12, 24), 15)
    message = str(caught.value.problems[0])
    assert "2027" in message and "does not know" in message and "2025, 2026" in message


def test_counts_outside_the_allowed_range_are_refused():
    for n in (0, -1, 251):
        with pytest.raises(CalendarError, match="expected 1 to 250"):
            add_working_days(date(2026, 3, 2), n)


def test_a_local_adjustment_changes_deadlines_and_is_audited(session):
    # A typhoon closure on Monday 14 September 2026.
    adjust_day(session, date(2026, 9, 14), working=False, note="台风停工")
    calendar = calendar_for(session)
    assert not calendar.is_working_day(date(2026, 9, 14))
    assert calendar.add_working_days(date(2026, 9, 11), 1) == date(2026, 9, 15)
    assert add_working_days(date(2026, 9, 11), 1) == date(2026, 9, 14)  # national unchanged
    with pytest.raises(CalendarError, match="say why"):
        adjust_day(session, date(2026, 9, 15), working=False, note=" ")


def test_cli_prints_deadlines_and_adjusts_days(runner, session):
    result = runner.invoke(args=["workdays", "due", "2026-02-13", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-02-24"
    result = runner.invoke(args=["workdays", "due", "2026-12-24", "15"])
    assert result.exit_code == 2 and "2027" in result.output
    result = runner.invoke(
        args=["workdays", "adjust", "2026-09-14", "--holiday", "--note", "台风停工"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["workdays", "list"])
    assert "2026-09-14\tholiday\t台风停工" in result.output
    assert runner.invoke(args=["workdays", "due", "2026-09-11", "1"]).output.strip() == (
        "2026-09-15"
    )
    result = runner.invoke(args=["workdays", "restore", "2026-09-14"])
    assert result.exit_code == 0, result.output
