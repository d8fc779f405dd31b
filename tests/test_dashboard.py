"""The organiser dashboard: exact for admins; a union's organiser sees members who did not agree
to sharing only in public totals or through the disclosure rule, so a per-member source code
("member-4711") cannot show who signed."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Signature, SignatureStatus, utcnow
from app.services.days import start_of_day
from app.services.disclosure import RULE

DASH = "–"  # a figure not shown on its own (none, or fewer than 10)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Tables(HTMLParser):
    """Each table's rows as a sighted reader sees them (visually hidden text left out), keyed
    by the h2 heading before it."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading: list[str] | None = None
        self._title = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._hidden_depth = 0  # >0 inside a visually hidden element
        self._stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        hidden = "visually-hidden" in (dict(attrs).get("class") or "")
        if tag not in VOID:
            self._stack.append(hidden)
            self._hidden_depth += hidden
        if tag == "h2":
            self._heading = []
        elif tag == "table":
            self.tables[self._title] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag not in VOID and self._stack:
            self._hidden_depth -= self._stack.pop()
        if tag == "h2" and self._heading is not None:
            self._title = " ".join("".join(self._heading).split())
            self._heading = None
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._title].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._hidden_depth:
            return
        if self._heading is not None:
            self._heading.append(data)
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def by_source(page: str) -> list[list[str]]:
    return tables(page)["By source (confirmed)"]


def per_day(page: str) -> list[list[str]]:
    return next(rows for title, rows in tables(page).items() if title.startswith("Sign-ups per day"))


@pytest.fixture
def members(make_signature):
    """Make n NEU members with a source code: confirmed (agreed to sharing or not) or pending."""
    numbers = itertools.count()

    def make(source, n=1, *, agreed=False, status=SignatureStatus.CONFIRMED, sector="education"):
        return [
            make_signature(
                email=f"member{next(numbers)}@example.com",
                name="A Member",
                sector=sector,
                union="neu",
                source=source,
                share_union=agreed,
                status=status,
            )
            for _ in range(n)
        ]

    return make


@pytest.fixture
def neu_organiser(client, make_account, sign_in):
    """Signed in as the NEU's organiser; returns a function fetching the dashboard's HTML."""
    sign_in(make_account("neu@example.org", "organiser", "neu"))

    def page() -> str:
        response = client.get("/organiser/")
        assert response.status_code == 200
        return response.text

    return page


@pytest.fixture
def sources(members):
    """Confirmed NEU members by source: two per-member codes used by one and two members who did
    not agree, a branch newsletter used by 12 who did not agree, and a code used by two who agreed
    and one who did not."""
    members("member-4711", 1)
    members("member-4712", 2)
    members("branch-newsletter", 12)
    members("member-77", 2, agreed=True)
    members("member-77", 1)


def test_a_code_used_by_fewer_than_10_members_who_did_not_agree_is_not_on_the_page(neu_organiser, sources):
    page = neu_organiser()
    assert "member-4711" not in page and "member-4712" not in page
    assert ["Other sources", "", "fewer than 10"] in by_source(page)


def test_a_code_used_by_12_members_who_did_not_agree_is_shown_exactly(neu_organiser, sources):
    assert ["branch-newsletter", "0", "12"] in by_source(neu_organiser())


def test_members_who_agreed_are_counted_exactly_and_never_added_to_those_who_did_not(neu_organiser, sources):
    # All members from member-77 (3) less those who agreed (2) would give the one who did not.
    assert by_source(neu_organiser()) == [
        ["Source", "Agreed to share", "Did not agree"],
        ["branch-newsletter", "0", "12"],
        ["member-77", "2", DASH],
        ["Other sources", "", "fewer than 10"],
    ]


def test_one_small_code_takes_the_next_smallest_with_it(neu_organiser, members):
    # Otherwise the union's total (public) less what members who agreed (exported) and the
    # shown codes come to would leave member-4711's one member.
    members("member-4711", 1)
    members("leaflet", 11)
    members("branch-newsletter", 30)
    rows = by_source(neu_organiser())
    assert rows[1:] == [["branch-newsletter", "0", "30"], ["Other sources", "", "12"]]


def test_the_page_states_the_rule_in_plain_words(neu_organiser, sources):
    page = neu_organiser()
    assert RULE in page
    assert "Members who did not agree are protected" in page


def test_days_with_few_sign_ups_from_members_who_did_not_agree_are_not_shown_exactly(neu_organiser, members):
    today = utcnow().date()
    busy, quiet = today - timedelta(days=2), today - timedelta(days=1)
    on = {busy: members("branch-newsletter", 12), quiet: members("member-4711", 3)}
    on[quiet] += members("member-77", 2, agreed=True)
    for day, signatures in on.items():
        db.session.execute(
            update(Signature)
            .where(Signature.id.in_([s.id for s in signatures]))
            .values(created_at=start_of_day(day) + timedelta(hours=12))
        )
    db.session.commit()
    page = neu_organiser()
    rows = {row[0]: row[1:] for row in per_day(page)}
    assert rows[quiet.isoformat()] == ["2", DASH]
    assert rows[busy.isoformat()] == ["0", "12"]
    assert rows[today.isoformat()] == ["0", DASH]  # an empty day looks like a quiet one
    assert rows["Other days"] == ["", "fewer than 10"]
    assert not re.search(rf"{quiet.isoformat()}: [^<]*\b3\b", page)  # nor in the chart's tooltips


def test_a_few_awaiting_confirmation_are_not_counted_exactly(neu_organiser, members):
    members("branch-newsletter", 12)
    members("member-4711", 1, status=SignatureStatus.PENDING)
    page = neu_organiser()
    assert re.search(r"<strong>12</strong> confirmed", page)
    assert re.search(r"<strong>Fewer than 10</strong> awaiting confirmation", page)
    assert "of sign-ups confirmed" not in page  # 12 of 13 would give the 1 away


def test_sectors_show_the_public_count_and_those_who_agreed(neu_organiser, members):
    members("branch-newsletter", 3, agreed=True)
    members("member-4711", 1, sector="health")
    assert tables(neu_organiser())["By sector (confirmed)"] == [
        ["Sector", "All members (public count)", "Agreed to share"],
        ["Education", "3", "3"],
        ["Health and care", "1", "0"],
    ]


def test_admins_still_see_every_source_exactly(client, make_account, sign_in, sources):
    sign_in(make_account())
    rows = tables(client.get("/organiser/").text)["By source (confirmed)"]
    assert rows[1:] == [["branch-newsletter", "12"], ["member-77", "3"], ["member-4712", "2"], ["member-4711", "1"]]


def _verify(signatures) -> None:
    """Mark the signatures verified in their own sector (as confirming a work email does)."""
    for signature in signatures:
        signature.verified_at, signature.verified_sector_id = utcnow(), signature.sector_id
    db.session.commit()


def test_verified_members_who_did_not_agree_are_shown_through_the_rule(neu_organiser, members):
    _verify(members("branch-newsletter", 12))
    _verify(members("branch-newsletter", 11, sector="health"))
    _verify(members("member-4711", 2, sector="policing"))
    _verify(members("member-4712", 3, sector="local-services"))
    _verify(members("member-77", 1, agreed=True))
    members("branch-newsletter", 5)  # confirmed but not verified: not in this table
    rows = tables(neu_organiser())["Verified with a work email (confirmed)"]
    assert rows == [
        ["Sector", "Agreed to share", "Did not agree"],
        ["Education", "1", "12"],
        ["Health and care", "0", "11"],
        ["Policing", "0", DASH],
        ["Local services", "0", DASH],
        ["Members of the public", "0", DASH],
        ["Other sectors", "", "fewer than 10"],
    ]


def test_one_small_verified_cell_takes_the_next_smallest_with_it(neu_organiser, members):
    """With every other sector at 10 or more, policing's 3 alone could be worked out from the
    union's public verified total, so the smallest shown sector is hidden with it."""
    _verify(members("branch-newsletter", 12))
    _verify(members("branch-newsletter", 11, sector="health"))
    _verify(members("branch-newsletter", 10, sector="local-services"))
    _verify(members("member-4711", 10, sector="public"))
    _verify(members("member-4712", 3, sector="policing"))
    rows = {row[0]: row[2] for row in tables(neu_organiser())["Verified with a work email (confirmed)"][1:]}
    assert rows["Policing"] == DASH and rows["Local services"] == DASH and rows["Members of the public"] == DASH
    assert rows["Education"] == "12" and rows["Health and care"] == "11"
    assert rows["Other sectors"] == "23"
