"""Paper tallies: recorded by organisers, corrected or withdrawn by admins, audited, counted apart."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Organisation, PaperTally, Sector
from app.services import audit, paper
from tests.forms import csrf_token


def ids():
    sector = db.session.execute(select(Sector).where(Sector.slug == "education")).scalar_one()
    neu = db.session.execute(select(Organisation).where(Organisation.slug == "neu")).scalar_one()
    unison = db.session.execute(select(Organisation).where(Organisation.slug == "unison")).scalar_one()
    return sector.id, neu.id, unison.id


def admin_recorder():
    return paper.Recorder(audit.Actor(None, "admin@example.org"), True, None)


def details(count=40, org=None, event="Leeds branch meeting", on=None):
    sector_id, neu_id, _ = ids()
    return paper.TallyDetails(event, on or date.today(), sector_id, neu_id if org is None else org, count)


def audit_events(action):
    return [
        json.loads(e.details)
        for e in db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
    ]


@pytest.fixture
def organiser_page(client, make_account, sign_in):
    account = make_account("rep@neu.example", role="organiser", org="neu")
    sign_in(account)
    return account


@pytest.fixture
def admin_page(client, make_account, sign_in):
    account = make_account()
    sign_in(account)
    return account


def post_tally(client, **fields):
    token = csrf_token(client.get("/organiser/paper").get_data(as_text=True))
    sector_id, neu_id, _ = ids()
    data = {
        "csrf_token": token,
        "event_name": "Leeds branch meeting",
        "event_date": date.today().isoformat(),
        "sector": str(sector_id),
        "organisation": str(neu_id),
        "count": "40",
    }
    data.update(fields)
    return client.post("/organiser/paper/tallies", data=data)


# The service -------------------------------------------------------------------------------


def test_a_union_organisers_tally_is_always_their_unions_and_at_most_500(app):
    sector_id, neu_id, unison_id = ids()
    rep = paper.Recorder(audit.Actor(None, "rep@neu.example"), False, neu_id)
    tally = paper.record_tally(db.session, rep, details(count=500))
    assert tally.organisation_id == neu_id and tally.count == 500
    with pytest.raises(paper.TallyRefused, match="from 1 to 500") as refused:
        paper.record_tally(db.session, rep, details(count=501))
    assert refused.value.field == "count"
    with pytest.raises(paper.TallyRefused, match="your own union"):
        paper.record_tally(db.session, rep, details(org=unison_id))
    no_union = paper.TallyDetails("Rally", date.today(), sector_id, None, 3)
    assert paper.record_tally(db.session, rep, no_union).organisation_id == neu_id


def test_an_admin_may_record_a_large_tally_but_not_zero_or_a_future_date(app):
    assert paper.record_tally(db.session, admin_recorder(), details(count=5000)).count == 5000
    with pytest.raises(paper.TallyRefused, match="from 1 to 100,000"):
        paper.record_tally(db.session, admin_recorder(), details(count=0))
    with pytest.raises(paper.TallyRefused, match="between"):
        paper.record_tally(db.session, admin_recorder(), details(on=date.today() + timedelta(days=1)))
    with pytest.raises(paper.TallyRefused, match="hidden or control"):
        paper.record_tally(db.session, admin_recorder(), details(event="Rally\x00"))


def test_the_schema_refuses_a_tally_out_of_range_or_withdrawn_without_reason(app):
    from sqlalchemy.exc import IntegrityError

    sector_id, _, _ = ids()
    for bad in ({"count": 0}, {"count": 100_001}, {"count": 3, "withdrawn_reason": "why"}):
        now = paper.utcnow()
        fields = {"event_name": "x", "event_date": date.today(), "sector_id": sector_id, "updated_at": now} | bad
        db.session.add(PaperTally(**fields))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_correcting_and_withdrawing_are_admin_only_and_audited_with_who_and_why(app):
    tally = paper.record_tally(db.session, admin_recorder(), details(count=40))
    _, neu_id, _ = ids()
    rep = paper.Recorder(audit.Actor(None, "rep@neu.example"), False, neu_id)
    with pytest.raises(paper.TallyRefused, match="Only an admin"):
        paper.correct_tally(db.session, rep, tally.id, details(count=4), "typo")
    with pytest.raises(paper.TallyRefused, match="Say why"):
        paper.correct_tally(db.session, admin_recorder(), tally.id, details(count=4), "  ")
    paper.correct_tally(db.session, admin_recorder(), tally.id, details(count=14), "one sheet counted twice")
    [corrected] = audit_events("paper.tally_corrected")
    assert corrected["before"]["count"] == 40 and corrected["after"]["count"] == 14
    assert corrected["reason"] == "one sheet counted twice"
    paper.withdraw_tally(db.session, admin_recorder(), tally.id, "test event, not real")
    with pytest.raises(paper.TallyRefused, match="already been withdrawn"):
        paper.withdraw_tally(db.session, admin_recorder(), tally.id, "again")
    [withdrawn] = audit_events("paper.tally_withdrawn")
    assert withdrawn["reason"] == "test event, not real" and withdrawn["count"] == 14
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action.like("paper.%"))).scalars().all()
    assert {e.actor for e in events} == {"admin@example.org"}


# The counts API ------------------------------------------------------------------------------


def test_counts_show_paper_apart_from_the_online_total(app, client, make_signature):
    from app.models import SignatureStatus

    make_signature(union="neu", status=SignatureStatus.CONFIRMED)
    paper.record_tally(db.session, admin_recorder(), details(count=40))
    sector_id, _, _ = ids()
    health = db.session.execute(select(Sector).where(Sector.slug == "health")).scalar_one()
    paper.record_tally(db.session, admin_recorder(), paper.TallyDetails("Ward", date.today(), health.id, None, 7))
    data = client.get("/api/v1/counts").get_json()
    assert data["total"] == 1 and data["paper"] == 47
    sectors = {s["slug"]: s for s in data["sectors"]}
    assert sectors["education"]["count"] == 1 and sectors["education"]["paper"] == 40
    assert sectors["health"]["paper"] == 7
    orgs = {o["slug"]: o for o in data["organisations"]}
    assert orgs["neu"]["paper"] == 40 and orgs["unison"]["paper"] == 0
    narrowed = client.get("/api/v1/counts?org=neu").get_json()
    assert narrowed["total"] == 1 and narrowed["paper"] == 40
    assert client.get("/api/v1/counts?sector=health").get_json()["paper"] == 7
    assert client.get("/api/v1/counts?sector=health&org=neu").get_json()["paper"] == 0


def test_a_tally_and_its_withdrawal_change_the_etag_and_last_modified(app, client):
    first = client.get("/api/v1/counts")
    tally = paper.record_tally(db.session, admin_recorder(), details(count=40))
    second = client.get("/api/v1/counts", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.get_json()["paper"] == 40
    assert client.get("/api/v1/counts", headers={"If-None-Match": second.headers["ETag"]}).status_code == 304
    paper.withdraw_tally(db.session, admin_recorder(), tally.id, "duplicate sheet")
    third = client.get("/api/v1/counts", headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200 and third.get_json()["paper"] == 0
    assert third.last_modified >= second.last_modified
    assert third.get_json()["updated_at"] > second.get_json()["updated_at"]


# The organiser pages -----------------------------------------------------------------------


def test_an_organiser_records_a_tally_for_their_union_through_the_page(client, organiser_page):
    _, _, unison_id = ids()
    response = post_tally(client, organisation=str(unison_id))
    assert response.status_code == 400 and "Choose a union from the list." in response.get_data(as_text=True)
    response = post_tally(client, count="501")
    assert response.status_code == 400
    assert "Enter a number from 1 to 500. Ask an admin to record a bigger tally." in response.get_data(as_text=True)
    response = post_tally(client, count="lots")
    assert response.status_code == 400 and "as a whole number, like 25." in response.get_data(as_text=True)
    response = post_tally(client, event_name="x" * 81)
    assert response.status_code == 400 and "80 characters or fewer" in response.get_data(as_text=True)
    assert post_tally(client).status_code == 303
    [tally] = db.session.execute(select(PaperTally)).scalars().all()
    assert tally.count == 40 and tally.organisation.slug == "neu"
    page = client.get("/organiser/paper").get_data(as_text=True)
    assert "Leeds branch meeting" in page and "Correct or withdraw" not in page
    assert client.get(f"/organiser/paper/tallies/{tally.id}").status_code == 403


def test_an_admin_corrects_and_withdraws_through_the_pages(client, admin_page):
    assert post_tally(client, count="1200").status_code == 303
    tally = db.session.execute(select(PaperTally)).scalar_one()
    page = client.get(f"/organiser/paper/tallies/{tally.id}").get_data(as_text=True)
    sector_id, neu_id, _ = ids()
    fields = {
        "event_name": "Leeds branch meeting",
        "event_date": date.today().isoformat(),
        "sector": str(sector_id),
        "organisation": str(neu_id),
        "count": "120",
    }
    no_reason = client.post(f"/organiser/paper/tallies/{tally.id}", data={"csrf_token": csrf_token(page), **fields})
    assert no_reason.status_code == 400 and "Say why, for the audit log." in no_reason.get_data(as_text=True)
    corrected = client.post(
        f"/organiser/paper/tallies/{tally.id}", data={"csrf_token": csrf_token(page), **fields, "reason": "typo"}
    )
    assert corrected.status_code == 303
    db.session.refresh(tally)
    assert tally.count == 120
    withdrawn = client.post(
        f"/organiser/paper/tallies/{tally.id}/withdraw",
        data={"csrf_token": csrf_token(page), "withdraw-reason": "counted at the wrong event"},
    )
    assert withdrawn.status_code == 303
    db.session.refresh(tally)
    assert tally.withdrawn_reason == "counted at the wrong event"
    assert client.get("/api/v1/counts").get_json()["paper"] == 0
    assert client.get("/organiser/paper/tallies/999999").status_code == 404


# Pages, widgets and the embed builder ------------------------------------------------------


def test_pages_say_online_and_on_paper(app, client):
    assert "on paper" not in client.get("/").get_data(as_text=True)
    paper.record_tally(db.session, admin_recorder(), details(count=40))
    home = client.get("/").get_data(as_text=True)
    assert 'people have signed online and <span class="count-number" data-paper="total">40</span> on paper.' in home
    assert 'data-paper="sector" data-slug="education">40</span> on paper' in home
    union = client.get("/unions/neu").get_data(as_text=True)
    assert 'have signed online and <span class="count-number" data-paper="org" data-slug="neu">40</span>' in union


def test_posters_and_share_cards_say_paper_too(app, client):
    poster_before = client.get("/posters/print?org=neu").get_data(as_text=True)
    card_before = client.get("/share/union/neu.png")
    assert "on paper" not in poster_before
    paper.record_tally(db.session, admin_recorder(), details(count=40))
    assert "0 online and 40 on paper" in client.get("/posters/print?org=neu").get_data(as_text=True)
    card_after = client.get("/share/union/neu.png")
    assert card_after.status_code == 200 and card_after.data != card_before.data
    assert card_after.headers["ETag"] != card_before.headers["ETag"]


def test_widgets_show_paper_apart_or_added_up_as_the_embed_asks(app, client):
    paper.record_tally(db.session, admin_recorder(), details(count=40))
    frame = client.get("/widget/union/neu").get_data(as_text=True)
    assert '<span class="cds-n">0</span>' in frame and "0 online and 40 on paper" in frame
    added = client.get("/widget/union/neu?paper=add").get_data(as_text=True)
    assert '<span class="cds-n">40</span>' in added and "0 online and 40 on paper" in added
    badge = client.get("/badge/union/neu.svg?paper=add").get_data(as_text=True)
    assert ">40</text>" in badge and "0 online and 40 on paper" in badge
    apart = client.get("/badge/union/neu.svg").get_data(as_text=True)
    assert ">0</text>" in apart and "0 online and 40 on paper" in apart
    bad = client.get("/badge/union/neu.svg?paper=both")
    assert bad.status_code == 400 and "paper must be one of apart, add." in bad.get_data(as_text=True)
    before = client.get("/badge/union/neu.svg").headers["ETag"]
    paper.record_tally(db.session, admin_recorder(), details(count=2))
    assert client.get("/badge/union/neu.svg", headers={"If-None-Match": before}).status_code == 200


def test_the_embed_builder_offers_a_labelled_choice_and_carries_it_into_the_codes(client):
    page = client.get("/embed").get_data(as_text=True)
    assert "<legend>Paper sign-ups</legend>" in page
    assert 'id="paper-add" name="paper" value="add"' in page and '<label for="paper-add">' in page
    codes = client.get("/embed/codes.json?org=neu&paper=add").get_json()["codes"]
    assert 'data-paper="add"' in codes["script"]
    assert "paper=add" in codes["iframe"] and "paper=add" in codes["badge"]
    assert "paper" not in client.get("/embed/codes.json?org=neu").get_json()["codes"]["script"]
