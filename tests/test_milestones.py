"""Milestones: each sector's goal climbs a ladder of steps; the moments steps are passed are recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import ReachedMilestone, utcnow
from app.services import milestones
from app.services.counts import adjust_count, get_counts
from app.services.milestones import Goal, goal_for, record_milestones


@pytest.mark.parametrize(
    ("count", "goal"),
    [
        (0, Goal(1000, 5000)),
        (999, Goal(1000, 5000)),
        (1000, Goal(5000, 10000)),  # reached: the next step is the goal
        (9999, Goal(10000, 25000)),
        (10000, Goal(25000, None)),
        (25000, Goal(25000, None)),  # the last step stays the goal once reached
        (99999, Goal(25000, None)),
    ],
)
def test_the_goal_is_the_first_step_not_yet_reached(count, goal):
    assert goal_for((1000, 5000, 10000, 25000), count) == goal


def test_no_ladder_no_goal():
    assert goal_for((), 5) == Goal(None, None)


def test_every_sector_has_a_ladder_that_climbs():
    for sector in ("education", "health", "policing", "local-services", "public", milestones.TOTAL):
        steps = milestones.ladder(sector)
        assert steps and list(steps) == sorted(set(steps)), sector


@pytest.fixture
def count(sector_id):
    """Add confirmed signatures straight to the counters, as confirmations would."""

    def add(how_many, sector="education"):
        adjust_count(db.session, sector_id(sector), None, how_many, utcnow(), postcode_outward=None, shard=0)
        db.session.commit()

    return add


def test_the_api_pages_and_widgets_show_the_current_step(client, count):
    education = next(s for s in client.get("/api/v1/counts").json["sectors"] if s["slug"] == "education")
    assert (education["goal"], education["next_goal"]) == (10000, 25000)
    count(10000)
    education = next(s for s in client.get("/api/v1/counts").json["sectors"] if s["slug"] == "education")
    assert (education["goal"], education["next_goal"]) == (25000, 50000)
    assert 'data-goal-sector="education">25,000<' in client.get("/").text
    assert 'data-goal-sector="education">25,000<' in client.get("/sign/education").text
    assert 'data-goal-sector="education">25,000<' in client.get("/thank-you/education").text
    assert '<progress class="goal" data-progress-sector="education" max="25000" value="10000"' in client.get("/").text
    assert "40% of the goal of 25,000" in client.get("/widget/sector/education").text
    assert "40% of the goal of 25,000" in client.get("/badge/sector/education.svg").text
    count(-1)  # a withdrawal takes it back below the step: that step is the goal again
    education = next(s for s in client.get("/api/v1/counts").json["sectors"] if s["slug"] == "education")
    assert education["goal"] == 10000


def test_passing_a_step_is_recorded_once_with_its_moment(app, count):
    first = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    count(2500, sector="policing")
    recorded = record_milestones(db.session, get_counts(db.session), first)
    assert [(m.scope, m.step, m.reached_at) for m in recorded] == [("policing", 2000, first)]
    assert record_milestones(db.session, get_counts(db.session), utcnow()) == []  # idempotent
    count(10000)
    later = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    recorded = record_milestones(db.session, get_counts(db.session), later)
    assert {(m.scope, m.step) for m in recorded} == {("education", 10000), ("total", 10000)}
    assert [(m.scope, m.step) for m in milestones.milestones(db.session)] == [
        ("total", 10000),
        ("education", 10000),
        ("policing", 2000),
    ]
    count(-10000)
    assert record_milestones(db.session, get_counts(db.session), utcnow()) == []
    assert milestones.latest_milestone(db.session).reached_at == later  # falling back leaves it in place


def test_a_step_recorded_by_another_process_meanwhile_is_not_recorded_twice(app, count):
    count(2000, sector="policing")
    counts = get_counts(db.session)
    db.session.add(ReachedMilestone(scope="policing", step=2000, reached_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.commit()
    assert record_milestones(db.session, counts, utcnow()) == []
    assert milestones.latest_milestone(db.session).reached_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_the_home_page_shows_the_latest_milestone(client, runner, count):
    assert "Latest milestone" not in client.get("/").text
    count(2000, sector="policing")
    result = runner.invoke(args=["milestones", "record"])
    assert result.exit_code == 0 and "Recorded 1 new milestone." in result.output
    assert "Recorded 0 new milestones." in runner.invoke(args=["milestones", "record"]).output
    today = utcnow().astimezone(milestones.UK).date()
    assert f"2,000 police officers and staff: reached {today.day} {today:%B %Y}" in client.get("/").text
    assert "policing  2,000" in runner.invoke(args=["milestones", "list"]).output


def test_the_migration_moves_milestones_out_of_site_settings_and_back(app):
    """Milestones recorded before 0010 were site settings; the migration moves them to the table."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    db.session.remove()
    downgrade(revision="0009")
    db.session.execute(
        text("INSERT INTO site_setting (key, value, updated_at) VALUES (:k, :v, :t)"),
        {"k": "milestone:policing:2000", "v": "2026-01-01T00:00:00+00:00", "t": datetime(2026, 1, 1, tzinfo=UTC)},
    )
    db.session.commit()
    db.session.remove()
    upgrade()
    assert [(m.scope, m.step, m.reached_at) for m in milestones.milestones(db.session)] == [
        ("policing", 2000, datetime(2026, 1, 1, tzinfo=UTC))
    ]
    assert db.session.execute(text("SELECT count(*) FROM site_setting WHERE key LIKE 'milestone:%'")).scalar() == 0
    db.session.remove()
    downgrade(revision="0009")
    assert db.session.execute(text("SELECT value FROM site_setting WHERE key = 'milestone:policing:2000'")).scalar()
    db.session.remove()
    upgrade()
