"""Milestones: each count's goal is a ladder of steps (content files); the moment a step is passed is recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_babel import format_date
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.content_loader import load_yaml
from app.models import ReachedMilestone

if TYPE_CHECKING:  # counts reads the ladders from here
    from app.services.counts import Counts

TOTAL = "total"
UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Goal:
    """Where a count stands on its ladder: the current step (the goal) and the one after it."""

    goal: int | None
    next_goal: int | None


@dataclass(frozen=True)
class Milestone:
    scope: str  # "total" or a sector slug
    step: int
    reached_at: datetime


def goal_for(steps: Sequence[int], count: int) -> Goal:
    """The first step above count is the goal, and the step after it the next goal.

    Once every step is reached the last one stays the goal (with no next goal), so a progress bar
    shows it full rather than vanishing. No steps: no goal.
    """
    if not steps:
        return Goal(None, None)
    index = next((i for i, step in enumerate(steps) if step > count), len(steps) - 1)
    return Goal(steps[index], steps[index + 1] if index + 1 < len(steps) else None)


@cache
def _ladders() -> dict[str, tuple[int, ...]]:
    """Every ladder from the content files; raises ValueError unless each climbs in whole steps."""
    ladders = {s["slug"]: tuple(s.get("goals") or ([s["goal"]] if s.get("goal") else [])) for s in load_yaml("sectors")}
    ladders[TOTAL] = tuple(load_yaml("milestones")["total_goals"])
    for scope, steps in ladders.items():
        if any(not isinstance(step, int) or step < 1 for step in steps) or list(steps) != sorted(set(steps)):
            raise ValueError(f"goals of {scope!r} must be whole numbers from 1 up, smallest first, each once")
    return ladders


def ladder(scope: str) -> tuple[int, ...]:
    """The steps for a sector slug or TOTAL, smallest first; () if it has none."""
    return _ladders().get(scope, ())


def sector_goal(slug: str, count: int, fallback: int | None = None) -> Goal:
    """The sector's goal at count; a sector missing from the content files uses its stored goal."""
    steps = ladder(slug) or ((fallback,) if fallback else ())
    return goal_for(steps, count)


def reached(counts: Counts) -> list[tuple[str, int]]:
    """(scope, step) for every step the total and each sector have reached at these counts."""
    scopes = [(TOTAL, counts.total)] + [(s.slug, s.count) for s in counts.sectors]
    return [(scope, step) for scope, count in scopes for step in ladder(scope) if count >= step]


def record_milestones(session: Session, counts: Counts, now: datetime) -> list[Milestone]:
    """Record, at now, every step reached and not recorded before; returns the new ones and commits.

    Idempotent and safe to run from several processes at once: a step already recorded keeps its
    first moment (insert or ignore on the key). counts must be unfiltered (get_counts(session)).
    A count that falls back below a step (withdrawals) leaves its milestone in place.
    """
    known = set(session.execute(select(ReachedMilestone.scope, ReachedMilestone.step)).tuples())
    new = [(scope, step) for scope, step in reached(counts) if (scope, step) not in known]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    recorded = []
    for scope, step in new:
        result = session.execute(
            insert(ReachedMilestone)
            .values(scope=scope, step=step, reached_at=now)
            .on_conflict_do_nothing(index_elements=[ReachedMilestone.scope, ReachedMilestone.step])
        )
        if result.rowcount:
            recorded.append(Milestone(scope, step, now))
    session.commit()
    return recorded


def milestones(session: Session) -> list[Milestone]:
    """Every recorded milestone, latest first (at the same moment the larger step, then the total)."""
    rows = session.execute(select(ReachedMilestone.scope, ReachedMilestone.step, ReachedMilestone.reached_at))
    found = [Milestone(scope, step, reached_at) for scope, step, reached_at in rows]
    return sorted(found, key=lambda m: (m.reached_at, m.step, m.scope == TOTAL, m.scope), reverse=True)


def latest_milestone(session: Session) -> Milestone | None:
    found = milestones(session)
    return found[0] if found else None


def announce(milestone: Milestone) -> str:
    """The milestone in words, e.g. "10,000 education workers: reached 12 March 2026" (UK date), in the
    language being rendered: the words from the content files, the month's name from its locale."""
    words = load_yaml("milestones")
    sector = next((s for s in load_yaml("sectors") if s["slug"] == milestone.scope), None)
    people = sector["count_label"] if sector else words["total_people"]
    day = milestone.reached_at.astimezone(UK).date()
    return (
        words["announcement"]
        .replace("{number}", f"{milestone.step:,}")
        .replace("{people}", people)
        .replace("{date}", format_date(day, "d MMMM y"))
    )


def latest_announcement(session: Session) -> str | None:
    """The latest milestone in words, for the home page; None before the first."""
    latest = latest_milestone(session)
    return announce(latest) if latest else None
