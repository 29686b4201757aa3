"""Working days (工作日) as the State Council's yearly holiday notice sets them, make-up working
days (调休上班) included, plus the local adjustments an admin adds; every deadline of the
follow-up loop is counted in them.

The notices are data (`minsheng/data/holidays.yaml`, one entry per year). A day in a year no
notice covers is refused with `CalendarError`, never guessed: the notice for next year comes out
each November, and a deadline computed before it would be wrong by a whole holiday week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources

import yaml
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from minsheng.audit import record
from minsheng.db import Base, utcnow
from minsheng.errors import InputError, Problem

#: No deadline runs longer than this; a count beyond it is a typing mistake, not a policy.
MAX_WORKING_DAYS = 250


class CalendarError(InputError):
    """A day outside the years the calendar knows, or a count it cannot take."""


class CalendarAdjustment(Base):
    """A local change to the national calendar (地方调整): a day made a holiday or a working day
    (a city's own day off, a typhoon closure), in a year the notices cover."""

    __tablename__ = "calendar_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class WorkCalendar:
    """The working days of the years in `years`: Monday to Friday, less `holidays`, plus
    `workdays` (make-up days), with `overrides` (local adjustments) on top of both."""

    years: frozenset[int]
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def check(self, day: date) -> None:
        if day.year not in self.years:
            known = ", ".join(str(y) for y in sorted(self.years))
            raise CalendarError(
                [
                    Problem(
                        "deadline",
                        f"{day.isoformat()} is in {day.year}, a year the working-day calendar "
                        f"does not know yet (it knows {known}); add that year's State Council "
                        "holiday notice before setting deadlines in it",
                    )
                ]
            )

    def is_working_day(self, day: date) -> bool:
        self.check(day)
        if day in self.overrides:
            return self.overrides[day]
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (n >= 1); `start` itself never counts,
        so a task handed over on the eve of the Spring Festival is due n working days after it."""
        if isinstance(n, bool) or not 1 <= n <= MAX_WORKING_DAYS:
            raise CalendarError(
                [Problem("working_days", f"got {n!r}; expected 1 to {MAX_WORKING_DAYS}")]
            )
        day, left = start, n
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, after: date, through: date) -> int:
        """Working days in (after, through]; negative when `through` is before `after`."""
        if through < after:
            return -self.working_days_between(through, after)
        count, day = 0, after
        while day < through:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


@cache
def national_calendar() -> WorkCalendar:
    """The calendar of the notices shipped with minsheng (read once per process)."""
    text = resources.files("minsheng").joinpath("data/holidays.yaml").read_text("utf-8")
    notices = yaml.safe_load(text)
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    for notice in notices.values():
        for first, last, name in notice["holidays"]:
            day = first
            while day <= last:
                holidays[day] = name
                day += timedelta(days=1)
        for day, name in notice["workdays"]:
            workdays[day] = name
    return WorkCalendar(frozenset(int(y) for y in notices), holidays, workdays)


def calendar_for(session: Session) -> WorkCalendar:
    """The national calendar with this instance's local adjustments."""
    base = national_calendar()
    rows = session.execute(select(CalendarAdjustment.day, CalendarAdjustment.working))
    return WorkCalendar(base.years, base.holidays, base.workdays, {d: w for d, w in rows})


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    """Whether `day` is a working day (national calendar unless one is given)."""
    return (calendar or national_calendar()).is_working_day(day)


def add_working_days(start: date, n: int, calendar: WorkCalendar | None = None) -> date:
    """The n-th working day strictly after `start`."""
    return (calendar or national_calendar()).add_working_days(start, n)


def working_days_between(after: date, through: date, calendar: WorkCalendar | None = None) -> int:
    """Working days in (after, through]."""
    return (calendar or national_calendar()).working_days_between(after, through)


def adjust_day(
    session: Session, day: date, working: bool, note: str = "", actor_id: int | None = None
) -> CalendarAdjustment:
    """Make `day` a working day or a holiday locally, replacing an earlier adjustment of it."""
    national_calendar().check(day)
    if not note.strip():
        raise CalendarError([Problem("note", "say why the day changes (e.g. 台风停工)")])
    adjustment = session.scalar(select(CalendarAdjustment).where(CalendarAdjustment.day == day))
    if adjustment is None:
        adjustment = CalendarAdjustment(day=day, working=working)
        session.add(adjustment)
    adjustment.working = working
    adjustment.note = note.strip()[:200]
    adjustment.created_by_id = actor_id
    session.flush()
    record(
        session,
        actor_id,
        "calendar.adjust",
        "calendar",
        day.isoformat(),
        working=working,
        note=note,
    )
    return adjustment


def remove_adjustment(session: Session, day: date, actor_id: int | None = None) -> None:
    """Give `day` back to the national calendar."""
    adjustment = session.scalar(select(CalendarAdjustment).where(CalendarAdjustment.day == day))
    if adjustment is None:
        raise CalendarError([Problem("day", f"{day.isoformat()} has no local adjustment")])
    session.delete(adjustment)
    session.flush()
    record(session, actor_id, "calendar.restore", "calendar", day.isoformat())


def adjustments(session: Session) -> list[CalendarAdjustment]:
    return list(session.scalars(select(CalendarAdjustment).order_by(CalendarAdjustment.day)))
