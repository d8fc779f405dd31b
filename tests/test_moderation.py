"""Moderation and the organisers' date filters: no 500 on odd dates, nothing plain in the audit log,
masked and paged lists, an audited reveal, and ticked rows acted on together."""

import html
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Signature, SignatureStatus
from app.services.export import ExportFilters, ExportScope, export_query
from tests.forms import csrf_token

OUT_OF_RANGE = "Enter a date between 2000-01-01 and 2100-12-31."
MALFORMED = "Enter a date like 2026-03-10."


@pytest.fixture
def admin(make_account, sign_in):
    account = make_account()
    sign_in(account)
    return account


def events(action: str) -> list[dict]:
    query = select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return [json.loads(details) for details in db.session.execute(query).scalars()]


def total_count(client) -> int:
    return client.get("/api/v1/counts").json["total"]


def ticked_ids(page_html: str) -> list[int]:
    return [int(found) for found in re.findall(r'name="ids" value="(\d+)"', page_html)]


def results_table(page_html: str) -> str:
    return re.search(r'<table class="results">.*?</table>', page_html, re.S).group(0)


def link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}"', page_html)
    return html.unescape(found.group(1)) if found else None


# Date filters ---------------------------------------------------------------------------------

DATE_FILTERS = [
    ("/organiser/exports/signatories.csv", "confirmed_from", "confirmed_to"),
    ("/organiser/exports/signatories.json", "confirmed_from", "confirmed_to"),
    ("/organiser/exports", "confirmed_from", "confirmed_to"),
    ("/organiser/moderation", "created_from", "created_to"),
    ("/organiser/moderation/bulk", "created_from", "created_to"),
]


@pytest.mark.parametrize(
    "day, message",
    [
        ("9999-12-31", OUT_OF_RANGE),  # the day after overflowed: a 500
        ("2101-01-01", OUT_OF_RANGE),
        ("0001-01-01", OUT_OF_RANGE),
        ("1999-12-31", OUT_OF_RANGE),
        ("2026-13-01", MALFORMED),
        ("10/03/2026", MALFORMED),
        ("99999-01-01", MALFORMED),
    ],
)
def test_a_day_out_of_range_or_malformed_is_a_400_that_says_why(client, admin, day, message):
    for path, start, end in DATE_FILTERS:
        for field in (start, end):
            response = client.get(f"{path}?{field}={day}")
            assert response.status_code == 400, (path, field, response.status_code)
            assert message in response.text
            assert 'aria-invalid="true"' in response.text  # marked on the field, in the error summary too


@pytest.mark.parametrize("path, start, end", DATE_FILTERS)
def test_a_range_that_ends_before_it_starts_is_a_400(client, admin, path, start, end):
    response = client.get(f"{path}?{start}=2026-03-11&{end}=2026-03-10")
    assert response.status_code == 400
    assert "Enter a date on or after 2026-03-11" in response.text


def test_the_first_and_last_days_allowed_still_filter(client, admin, make_signature):
    make_signature(email="in.range@example.com", status=SignatureStatus.CONFIRMED)
    days = "confirmed_from=2000-01-01&confirmed_to=2100-12-31"
    assert "in.range@example.com" in client.get(f"/organiser/exports/signatories.csv?{days}").text
    assert client.get(f"/organiser/exports?{days}").status_code == 200
    found = client.get("/organiser/moderation?created_from=2000-01-01&created_to=2100-12-31")
    assert found.status_code == 200 and "Showing 1–1 of 1" in found.text
    preview = client.get("/organiser/moderation/bulk?created_from=2000-01-01&created_to=2100-12-31")
    assert preview.status_code == 200 and "<strong>1</strong> sign-ups would be invalidated" in preview.text


def test_the_day_helper_refuses_days_it_cannot_represent_instead_of_overflowing(app):
    from app.services.days import DayOutOfRange, within_days

    with pytest.raises(DayOutOfRange, match=re.escape(OUT_OF_RANGE)):
        within_days(Signature.created_at, None, date.max)
    with pytest.raises(DayOutOfRange):
        export_query(db.session, ExportFilters(confirmed_from=date.min), ExportScope.everything())


@pytest.mark.parametrize(
    "args, option",
    [
        (["--to", "9999-12-31"], "--to"),
        (["--from", "9999-12-31"], "--from"),
        (["--from", "0001-01-01"], "--from"),
        (["--from", "2026-03-10", "--to", "2101-01-01"], "--to"),
    ],
)
def test_cli_refuses_a_day_out_of_range_with_a_message_not_a_traceback(app, runner, tmp_path, args, option):
    output = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "csv", *args, "--output", str(output)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': {OUT_OF_RANGE}" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not output.exists() and events("export") == []


# The audit log holds no plaintext domain --------------------------------------------------------


def test_a_domain_search_is_audited_by_the_domains_keyed_hash(client, admin, keys, make_signature):
    signature = make_signature(email="someone@spam-wave.example", status=SignatureStatus.CONFIRMED)
    client.get("/organiser/moderation?domain=@Spam-Wave.EXAMPLE&status=confirmed&created_from=2026-01-01")
    preview = client.get("/organiser/moderation/bulk?domain=spam-wave.example")
    client.post(
        "/organiser/moderation/bulk?domain=spam-wave.example",
        data={"reason": "spam", "expected": 1, "csrf_token": csrf_token(preview.text)},
    )
    expected_hash = signature.email_domain_key.hex()  # the same keyed hash as the signature's index
    assert expected_hash == keys.cipher.domain_index("spam-wave.example").hex()
    (search,) = events("moderation.search")
    assert search["criteria"] == {
        "by": ["domain", "status", "created_from"],
        "domain_hash": expected_hash,
        "status": "confirmed",
        "created_from": "2026-01-01",
    }
    (bulk,) = events("moderation.bulk_preview_confirmed")
    assert bulk["criteria"] == {"by": ["domain"], "domain_hash": expected_hash}
    everything = " ".join(db.session.execute(select(AuditEvent.details)).scalars()).lower()
    assert "spam-wave" not in everything and "someone" not in everything


def test_an_email_search_is_audited_without_the_email(client, admin, make_signature):
    make_signature(email="private.person@example.net")
    client.get("/organiser/moderation?email=Private.Person@example.net")
    (search,) = events("moderation.search")
    assert search["criteria"] == {"by": ["email"]}
    assert "private" not in json.dumps(search).lower() and "example.net" not in json.dumps(search)


# Masked lists and the audited reveal ----------------------------------------------------------


def test_results_mask_names_and_emails_until_one_row_is_revealed(client, admin, make_signature):
    wendy = make_signature(email="wendy.wright@example.org", name="Wendy Wright", source="leaflet")
    make_signature(email="x@example.org", name="Xi")
    page = client.get("/organiser/moderation?domain=example.org")
    assert page.status_code == 200
    assert "w*****@example.org" in page.text and "Wendy W." in page.text
    assert "x*****@example.org" in page.text and ">Xi<" in page.text
    assert "wendy.wright" not in page.text and "Wright" not in page.text
    assert events("moderation.reveal") == []

    revealed = client.post(
        f"/organiser/moderation/{wendy.id}/reveal",
        data={"csrf_token": csrf_token(page.text), "back": "/organiser/moderation?domain=example.org&page=1"},
    )
    assert revealed.status_code == 200
    assert "wendy.wright@example.org" in revealed.text and "Wendy Wright" in revealed.text
    assert "x@example.org" not in revealed.text  # only the one row
    assert revealed.headers["Cache-Control"] == "no-store"
    assert 'href="/organiser/moderation?domain=example.org&amp;page=1"' in revealed.text
    assert events("moderation.reveal") == [{"id": wendy.id}]


def test_reveal_is_a_post_with_csrf(client, admin, make_signature):
    wendy = make_signature(email="wendy@example.org")
    assert client.get(f"/organiser/moderation/{wendy.id}/reveal").status_code == 405
    assert client.post(f"/organiser/moderation/{wendy.id}/reveal").status_code == 400
    assert events("moderation.reveal") == []


def test_reveal_is_for_admins_only(client, make_account, sign_in, make_signature):
    wendy = make_signature(email="wendy@example.org")
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    page = client.get("/organiser/exports")
    response = client.post(f"/organiser/moderation/{wendy.id}/reveal", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 403 and "wendy@example.org" not in response.text


def test_each_row_has_a_menu_whose_buttons_post_the_pages_one_form(client, admin, make_signature):
    wendy = make_signature(email="wendy@example.org")
    page = client.get("/organiser/moderation?domain=example.org").text
    assert "<form" not in results_table(page)  # the rows sit in one form for the page, none of their own
    menu = re.search(r'<details class="row-menu">.*?</details>', page, re.S).group(0)
    assert f'formaction="/organiser/moderation/{wendy.id}/reveal"' in menu
    assert f'formaction="/organiser/moderation/{wendy.id}/invalidate"' in menu
    assert f'formaction="/organiser/moderation/{wendy.id}/delete"' in menu


def test_one_row_from_its_menu_returns_to_the_same_results(client, admin, make_signature):
    wendy = make_signature(email="wendy@example.org", status=SignatureStatus.CONFIRMED)
    back = "/organiser/moderation?domain=example.org&page=1"
    page = client.get(back)
    response = client.post(
        f"/organiser/moderation/{wendy.id}/invalidate",
        data={"reason": "test", "csrf_token": csrf_token(page.text), "back": back, "ids": []},
    )
    assert response.status_code == 303 and response.headers["Location"] == back
    assert db.session.get(Signature, wendy.id).status == SignatureStatus.INVALID
    elsewhere = client.post(
        f"/organiser/moderation/{wendy.id}/invalidate",
        data={"reason": "test", "csrf_token": csrf_token(page.text), "back": "https://evil.example/"},
    )
    assert elsewhere.headers["Location"] == "/organiser/moderation"


# Paging -----------------------------------------------------------------------------------------


def test_results_come_fifty_a_page_with_the_total_and_paging_keeps_the_search(client, admin, make_signup):
    for n in range(120):
        make_signup(email=f"p{n:03}@paging.example", name=f"Pat Person{n}", source="wave")
    make_signup(email="other@paging.example", source="elsewhere")  # outside the search

    first = client.get("/organiser/moderation?domain=paging.example&source=wave")
    assert "Showing 1–50 of 120" in first.text and "Page 1 of 3" in first.text
    assert len(ticked_ids(first.text)) == 50 and link(first.text, "prev") is None
    following = link(first.text, "next")
    assert "domain=paging.example" in following and "source=wave" in following and "page=2" in following

    make_signup(email="late@paging.example", source="wave")  # a sign-up made meanwhile shifts nothing
    second = client.get(following)
    assert "Showing 51–100 of 120" in second.text
    third = client.get(link(second.text, "next"))
    assert "Showing 101–120 of 120" in third.text and link(third.text, "next") is None
    pages = [ticked_ids(p.text) for p in (first, second, third)]
    seen = [i for ids in pages for i in ids]
    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)  # newest first, a stable order
    assert "Showing 1–50 of 120" in client.get(link(second.text, "prev")).text

    fresh = client.get("/organiser/moderation?domain=paging.example&source=wave")
    assert "Showing 1–50 of 121" in fresh.text  # a new search sees it
    search = events("moderation.search")[0]
    assert (search["page"], search["results"], search["total"]) == (1, 50, 120)


def test_held_list_is_masked_and_paged(client, admin, make_signature):
    for n in range(55):
        make_signature(email=f"held{n:02}@spam.example", name=f"Held Person{n}", status=SignatureStatus.HELD)
    first = client.get("/organiser/moderation/held")
    assert "Showing 1–50 of 55" in first.text and "h*****@spam.example" in first.text
    assert "held00@" not in first.text and "Person0" not in first.text and "Held P." in first.text
    assert first.text.count("/release") == 50 and "<form" not in results_table(first.text)
    second = client.get(link(first.text, "next"))
    assert "Showing 51–55 of 55" in second.text and second.text.count("/release") == 5


# Ticked rows -----------------------------------------------------------------------------------


def test_ticked_rows_are_invalidated_or_deleted_together_and_each_is_audited(client, admin, make_signature):
    ids = [make_signature(email=f"t{n}@tick.example", status=SignatureStatus.CONFIRMED).id for n in range(4)] + [
        make_signature(email="untouched@tick.example", status=SignatureStatus.CONFIRMED).id
    ]
    back = "/organiser/moderation?domain=tick.example"
    page = client.get(back)
    assert sorted(ticked_ids(page.text)) == sorted(ids)
    token = csrf_token(page.text)

    invalidated = client.post(
        "/organiser/moderation/selected/invalidate",
        data={"ids": ids[:2], "reason": "spam wave", "csrf_token": token, "back": back},
    )
    assert invalidated.status_code == 303 and invalidated.headers["Location"] == back
    assert total_count(client) == 3
    assert [db.session.get(Signature, i).invalid_reason for i in ids[:2]] == ["spam wave", "spam wave"]
    assert events("moderation.invalidate") == [
        {"ids": [ids[0]], "reason": "spam wave", "changed": 1},
        {"ids": [ids[1]], "reason": "spam wave", "changed": 1},
    ]
    assert "2 of 2 selected sign-ups invalidated." in client.get(back).text

    deleted = client.post(
        "/organiser/moderation/selected/delete",
        data={"ids": ids[2:4], "reason": "asked to be removed", "csrf_token": token, "back": back},
    )
    assert deleted.status_code == 303
    assert db.session.get(Signature, ids[2]) is None and db.session.get(Signature, ids[3]) is None
    assert sorted(e["id"] for e in events("moderation.delete")) == ids[2:4]
    assert db.session.get(Signature, ids[4]).status == SignatureStatus.CONFIRMED
    assert total_count(client) == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "spam"}, "Select a sign-up."),
        ({"ids": "1", "reason": ""}, "Give a reason."),
        ({"ids": "abc", "reason": "spam"}, "Select a sign-up."),
    ],
)
def test_ticked_rows_need_a_selection_and_a_reason(client, admin, make_signature, data, message):
    make_signature(email="t@tick.example", status=SignatureStatus.CONFIRMED)
    page = client.get("/organiser/moderation?domain=tick.example")
    response = client.post("/organiser/moderation/selected/delete", data={**data, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert message in client.get("/organiser/moderation").text
    assert total_count(client) == 1 and events("moderation.delete") == []


def test_ticked_rows_need_csrf(client, admin, make_signature):
    signature = make_signature(email="t@tick.example", status=SignatureStatus.CONFIRMED)
    response = client.post("/organiser/moderation/selected/delete", data={"ids": [signature.id], "reason": "x"})
    assert response.status_code == 400 and db.session.get(Signature, signature.id) is not None
