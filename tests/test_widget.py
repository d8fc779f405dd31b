"""The embeddable count's routes: /widget.js, the /widget/... iframe and the /badge/....svg badge."""

import base64
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from app.services.embed import PLURAL_CATEGORIES, fill, plural_categories
from app.widget.text import script_words, text_for
from app.widget.views import SCRIPT_CSS_PROPERTIES

SVG = "{http://www.w3.org/2000/svg}"
COUNTED_PATHS = ["/widget.js", "/widget/union/neu", "/badge/union/neu.svg"]


@pytest.fixture
def client(app):
    """The test client, with the widget's one-second counts cache off so changes show at once."""
    app.config["WIDGET_CACHE_SECONDS"] = 0
    return app.test_client()


@pytest.fixture
def signed(make_signup, confirm_all, org_id):
    """Confirmed: 2 NEU and 1 NASUWT teachers, 1 NEU and 1 non-union health worker. Pending: 1 NEU."""
    make_signup(email="a@example.com", organisation_id=org_id("neu"))
    make_signup(email="b@example.com", organisation_id=org_id("neu"))
    make_signup(email="c@example.com", organisation_id=org_id("nasuwt"))
    make_signup(email="d@example.com", sector="health", organisation_id=org_id("neu"))
    make_signup(email="e@example.com", sector="health")
    confirm_all()
    make_signup(email="pending@example.com", organisation_id=org_id("neu"))


def number(page: str) -> str:
    return re.search(r'<span class="cds-n">([^<]*)</span>', page).group(1)


def who(page: str) -> str:
    return re.search(r'<span class="cds-who">([^<]*)</span>', page).group(1)


def assert_cacheable(response):
    cache = response.headers["Cache-Control"]
    for part in ("public", "max-age=", "stale-while-revalidate=", "stale-if-error="):
        assert part in cache, cache
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers


# --- /widget.js ------------------------------------------------------------------------------------


def served_words(source: str) -> dict:
    """T, the words in a served widget.js: an object literal, JSON but for its keys, bare where they can be."""
    literal = re.search(r"const T=(\{.*?\}),CSS=", source).group(1)
    return json.loads(re.sub(r"([{,])([A-Za-z_$][\w$]*):", r'\1"\2":', literal))


def script_says(forms: dict, category: str) -> str:
    """The words widget.js's form() finds for a plural category: the phrase's own, else "other"'s."""
    return forms.get(category) or forms["other"]


def test_widget_js_is_at_most_3_kb_gzipped_in_every_language(app, client):
    """PRODUCT.md: widget.js under 3 KB gzipped, in each of the site's languages (Welsh is the longest)."""
    for lang in app.config["LANGUAGES"]:
        response = client.get(f"/widget.js?lang={lang}")
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        size = len(gzip.compress(response.data, compresslevel=6))  # gzip's default level, as most servers use
        assert size <= 3 * 1024, f"widget.js in {lang} is {size} bytes gzipped"


@pytest.mark.skipif(not shutil.which("node"), reason="node checks the served script's syntax")
def test_widget_js_is_valid_javascript(app, client, tmp_path):
    for lang in app.config["LANGUAGES"]:
        path = tmp_path / f"widget.{lang}.js"
        path.write_bytes(client.get(f"/widget.js?lang={lang}").data)
        checked = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_widget_js_words_come_from_the_catalogue(client):
    source = client.get("/widget.js").text
    words = served_words(source)
    assert words == script_words("en")
    assert words["orgs"]["neu"] == {"sector": "education"} and words["members"]["other"] == "{org} members"
    assert words["orgs"]["unite"] == {"sector": "local-services", "org": "Unite"}
    assert words["sign"] == "Sign the pledge"
    for key in words:  # nothing the script never reads
        assert f"T.{key}" in source, key
    css = json.loads(re.search(r',CSS=("(?:[^"\\]|\\.)*")', source).group(1))
    assert css.startswith(":host{all:initial!important") and ".cds-sign{" in css
    assert re.search(r"\bP=15\b", source)  # COUNT_POLL_SECONDS


def test_widget_js_says_every_count_as_the_server_does(app):
    """T leaves out the plural forms that say what "other" does, and each union's words but its short
    name; the script's form() and members pattern give back every category's words, in every language."""
    for lang in app.config["LANGUAGES"]:
        text, words = text_for(lang), script_words(lang)
        phrases = [(words[key], text[key]) for key in ("signed", "total", "verified_people")]
        phrases += [(words["sectors"][slug], forms) for slug, forms in text["sectors"].items()]
        for category in plural_categories(lang):
            for sent, forms in phrases:
                assert script_says(sent, category) == script_says(forms, category), (lang, category, sent)
            for slug, forms in text["orgs"].items():
                union = words["orgs"][slug]
                said = script_says(union if "other" in union else words["members"], category)
                assert fill(said, org=union.get("org", slug.upper())) == script_says(forms, category), (lang, slug)
                assert union["sector"] == (forms["sector"] or "public")
        for sent, _ in phrases:
            assert all(sent[key] != sent["other"] for key in sent if key in PLURAL_CATEGORIES and key != "other")
        assert all(words["sectors"][slug]["area"] == forms["area"] for slug, forms in text["sectors"].items())


def test_widget_js_stylesheet_has_short_property_names(client):
    """The stylesheet inlined into widget.js names widget.css's custom properties in a letter each; the
    script sets two of them for data-accent."""
    source = client.get("/widget.js").text
    css = json.loads(re.search(r',CSS=("(?:[^"\\]|\\.)*")', source).group(1))
    assert set(re.findall(r"(?<![\w-])--[\w-]+", css)) == set(SCRIPT_CSS_PROPERTIES.values())
    accent, on_accent = SCRIPT_CSS_PROPERTIES["--accent"], SCRIPT_CSS_PROPERTIES["--on-accent"]
    assert f"var({accent})" in css and f"var({on_accent})" in css
    assert f"`{accent}:#${{" in source and f";{on_accent}:${{" in source  # c.style.cssText, for data-accent


def test_widget_js_is_cacheable_and_conditional(client):
    first = client.get("/widget.js")
    assert_cacheable(first)
    assert first.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert client.get("/widget.js", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("query", ["lang=xx", "lang=en&lang=en", "sector=education", "v=2"])
def test_widget_js_bad_parameters_get_400(client, query):
    response = client.get(f"/widget.js?{query}")
    assert response.status_code == 400 and response.text.strip()


# --- the iframe ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, count, words",
    [
        ("/widget/all", "5", "people have signed the pledge"),
        ("/widget/sector/education", "3", "education workers have signed the pledge"),
        ("/widget/sector/policing", "0", "police officers and staff have signed the pledge"),
        ("/widget/union/neu", "3", "NEU members have signed the pledge"),
        ("/widget/union/nasuwt", "1", "NASUWT member has signed the pledge"),
        ("/widget/union/neu/education", "2", "NEU members in education have signed the pledge"),
        ("/widget/union/other", "0", "members of other unions have signed the pledge"),
    ],
)
def test_frame_shows_the_right_count(client, signed, path, count, words):
    page = client.get(path)
    assert page.status_code == 200
    assert (number(page.text), who(page.text)) == (count, words)


def test_frame_shows_progress_to_a_sector_goal(client, signed):
    page = client.get("/widget/sector/education").text
    assert '<progress class="cds-bar" max="10000" value="3"' in page
    assert '<p class="cds-goal">0% of the goal of 10,000</p>' in page
    assert "<progress" not in client.get("/widget/union/neu").text


def test_frame_can_be_framed_anywhere_but_other_pages_cannot(client):
    frame = client.get("/widget/union/neu")
    assert "frame-ancestors *" in frame.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in frame.headers
    for path in ["/", "/embed", "/sign/education", "/api/v1/counts"]:
        other = client.get(path)
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"], path
        assert other.headers["X-Frame-Options"] == "DENY", path


def test_frame_policy_allows_only_its_own_inline_style(client):
    response = client.get("/widget/sector/health?accent=ffdd00")
    style = re.search(r"<style>(.*?)</style>", response.text).group(1)
    assert "--accent:#ffdd00;--on-accent:#111111" in style
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"'sha256-{digest}'" in policy and "unsafe-inline" not in policy
    assert "connect-src 'self'" in policy and "script-src 'self'" in policy


def test_frame_is_cacheable_and_conditional(client, make_signup, confirm_all):
    first = client.get("/widget/union/neu?theme=dark")
    assert_cacheable(first)
    assert "max-age=10" in first.headers["Cache-Control"] and first.headers["Last-Modified"]
    etag = first.headers["ETag"]
    assert client.get("/widget/union/neu?theme=dark", headers={"If-None-Match": etag}).status_code == 304
    make_signup(email="z@example.com", organisation_id=None)
    confirm_all()
    changed = client.get("/widget/sector/education", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_frame_sign_link_credits_the_union_and_source(client):
    page = client.get("/widget/union/neu").text
    assert 'href="/sign/education?org=neu&amp;source=widget-iframe" target="_blank" rel="noopener"' in page
    own = client.get("/widget/union/neu/education?source=neu-news.may").text
    assert 'href="/sign/education?org=neu&amp;source=neu-news.may"' in own
    assert 'href="/#sign"' in client.get("/widget/all").text


def test_frame_polls_the_narrowed_counts(client):
    page = client.get("/widget/union/neu/education").text
    assert 'data-counts-url="/api/v1/counts?sector=education&amp;org=neu"' in page
    assert 'data-poll-seconds="15"' in page
    assert 'data-who=\'{"one": "NEU member in education has signed the pledge"' in page


@pytest.mark.parametrize(
    "query",
    [
        "theme=pink",
        "size=huge",
        "accent=red",
        "accent=12345",
        "lang=xx",
        "source=no%20spaces",
        "colour=red",
        "theme=dark&theme=light",
    ],
)
def test_frame_bad_parameters_get_a_framable_400(client, query):
    response = client.get(f"/widget/union/neu?{query}")
    assert response.status_code == 400
    assert (
        "This count cannot be shown" in response.text
        and "frame-ancestors *" in response.headers["Content-Security-Policy"]
    )
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path", ["/widget/sector/nope", "/widget/union/nope", "/widget/union/neu/nope", "/widget/sector/%3Cb%3Ex"]
)
def test_frame_unknown_targets_get_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "<b>" not in response.text


def test_widget_routes_set_no_cookies(client, signed):
    for path in [*COUNTED_PATHS, "/widget/sector/education", "/badge/all.svg"]:
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    assert not client.get_cookie("session")


@pytest.mark.parametrize("path", [*COUNTED_PATHS, "/widget/sector/education?accent=00ff00"])
def test_widget_views_never_touch_the_session(app, path):
    """Not reading it means no cookie and no Vary: Cookie from us (the CSRF token lives there too)."""
    with app.test_request_context(path) as context:
        app.dispatch_request()
        # The flask.session proxy would itself mark the session as accessed, so look underneath.
        assert not context._session.accessed


def test_responses_are_kept_for_a_moment(app, make_signup, confirm_all):
    app.config["WIDGET_CACHE_SECONDS"] = 60
    client = app.test_client()
    first = client.get("/widget/all")
    assert number(first.text) == "0"
    make_signup()
    confirm_all()
    again = client.get("/widget/all")
    assert number(again.text) == "0" and again.headers["ETag"] == first.headers["ETag"]  # from the cache
    not_modified = client.get("/widget/all", headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.data == b""
    for header in ("ETag", "Cache-Control"):
        assert not_modified.headers[header] == first.headers[header]
    assert "Content-Type" not in not_modified.headers
    assert "frame-ancestors *" in again.headers["Content-Security-Policy"] and "Set-Cookie" not in again.headers
    assert client.get("/widget/all?theme=pink").status_code == 400  # errors are never kept
    app.config["WIDGET_CACHE_SECONDS"] = 0
    assert number(client.get("/widget/all").text) == "1"


def test_response_cache_keeps_only_the_most_recent():
    from app.widget.response_cache import ResponseCache, StoredResponse

    cache = ResponseCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put((key,), StoredResponse(key.encode(), [], [], None, time.monotonic()))
    assert cache.get(("a",), 60) is None and cache.get(("c",), 60).body == b"c"
    assert cache.get(("b",), 0) is None  # older than the freshness asked for


def test_micro_cache_keeps_only_plain_successes(app):
    """Responses with cookies or errors are passed on and never kept; conditional asks still fill it."""
    from werkzeug.test import Client

    from app.widget.response_cache import EmbedResponseCache

    calls = []

    def inner(environ, start_response):
        calls.append(environ.get("HTTP_IF_NONE_MATCH"))
        path = environ["PATH_INFO"]
        headers = [("Content-Type", "text/plain"), ("ETag", '"v1"')]
        if path.endswith("cookie"):
            headers.append(("Set-Cookie", "a=b"))
        start_response("404 NOT FOUND" if path.endswith("missing") else "200 OK", headers)
        return [path.encode()]

    app.config["WIDGET_CACHE_SECONDS"] = 60
    client = Client(EmbedResponseCache(app, inner))
    first = client.get("/widget/x", headers={"If-None-Match": '"v1"'})
    assert first.status_code == 304 and calls == [None]  # Flask was asked for the whole response
    assert client.get("/widget/x").data == b"/widget/x" and len(calls) == 1
    assert client.head("/widget/x").data == b"" and len(calls) == 1
    for path in ("/widget/cookie", "/widget/missing", "/elsewhere"):
        client.get(path)
        client.get(path)
    assert len(calls) == 7
    assert client.get("/widget/missing").status_code == 404


def test_words_are_escaped(client, monkeypatch):
    words = json.loads(json.dumps(text_for("en")))
    words["orgs"]["neu"]["other"] = '<script>alert("NEU")</script> & co'
    monkeypatch.setattr("app.widget.cards.text_for", lambda lang: words)
    page = client.get("/widget/union/neu").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;NEU&#34;)&lt;/script&gt; &amp; co" in page
    svg = client.get("/badge/union/neu.svg")
    root = ET.fromstring(svg.data)  # still well-formed XML
    assert '<script>alert("NEU")</script> &amp; co' not in svg.text
    assert root.find(f"{SVG}title").text == '0 <script>alert("NEU")</script> & co have signed the pledge'


# --- the badge -------------------------------------------------------------------------------------


def test_badge_is_an_accessible_svg_of_the_count(client, signed):
    response = client.get("/badge/union/neu.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    labelled_by = root.get("aria-labelledby").split()
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert labelled_by == [title.get("id"), desc.get("id")]
    assert title.text == "3 NEU members have signed the pledge"
    assert desc.text == "Care Don't Share: how many NEU members have signed the pledge."
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "3" in texts and "Sign the pledge" in texts


def test_badge_draws_the_goal_theme_and_size(client, signed):
    svg = client.get("/badge/sector/health.svg?theme=dark&accent=ffdd00&size=large").text
    root = ET.fromstring(svg)
    assert root.get("width") == "380"
    assert 'fill="#1d1d1f"' in svg and 'fill="#ffdd00"' in svg and 'fill="#111111">Sign the pledge' in svg
    assert "0% of the goal of 10,000." in svg
    assert "of the goal" not in client.get("/badge/union/neu.svg").text


def test_badge_is_cacheable_and_conditional(client, signed):
    first = client.get("/badge/sector/education.svg")
    assert_cacheable(first)
    assert first.headers["Last-Modified"] and first.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert first.headers["Content-Security-Policy"].startswith("default-src 'none'")
    again = client.get("/badge/sector/education.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path, status",
    [
        ("/badge/union/neu.svg?theme=pink", 400),
        ("/badge/union/neu.svg?source=x", 400),  # a badge has no link of its own
        ("/badge/union/neu.svg?size=huge&size=small", 400),
        ("/badge/union/nope.svg", 404),
        ("/badge/sector/nope.svg", 404),
    ],
)
def test_badge_bad_requests_get_a_message(client, path, status):
    response = client.get(path)
    assert response.status_code == status and response.mimetype == "text/plain" and response.text.strip()


# --- the verified option ---------------------------------------------------------------------------


@pytest.fixture
def verified(signed):
    """Of `signed`: the NEU health worker verified with a work address, as confirming a work email does."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Organisation, Sector, Signature, utcnow
    from app.services.counts import adjust_verified

    signature = db.session.execute(
        select(Signature)
        .join(Sector, Sector.id == Signature.sector_id)
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .where(Sector.slug == "health", Organisation.slug == "neu")
    ).scalar_one()
    now = utcnow()
    signature.verified_at, signature.verified_sector_id = now, signature.sector_id
    adjust_verified(db.session, signature, +1, now)
    db.session.commit()


def test_verified_line_is_off_by_default(client, verified):
    for path in ["/widget/sector/health", "/badge/sector/health.svg", "/widget/union/neu"]:
        assert "verified" not in client.get(path).text, path
    assert client.get("/api/v1/counts?org=neu").json["organisations"][0]["verified"] == 1


@pytest.mark.parametrize(
    "path, line",
    [
        ("/widget/sector/health", "including 1 verified health or care worker"),
        ("/widget/union/neu", "including 1 verified public-service worker"),
        ("/widget/union/neu/health", "including 1 verified health or care worker"),
        ("/widget/all", "including 1 verified public-service worker"),
    ],
)
def test_verified_line_shows_when_asked(client, verified, path, line):
    frame = client.get(f"{path}?verified=show").text
    assert f'<p class="cds-goal cds-verified">{line}</p>' in frame
    assert 'data-verified=\'{"one": "including {v} verified' in frame
    badge = client.get(f"/badge{path.removeprefix('/widget')}.svg?verified=show").text
    assert f"signed the pledge, {line}</title>" in badge and "including 1 verified" in badge.split("</desc>")[1]


def test_verified_line_waits_hidden_for_the_first_verification(client, signed):
    frame = client.get("/widget/sector/policing?verified=show").text
    assert '<p class="cds-goal cds-verified" hidden></p>' in frame
    assert "verified" not in client.get("/badge/sector/policing.svg?verified=show").text.split("</desc>")[1]


def test_verified_option_reaches_every_code_and_refuses_bad_values(client):
    codes = client.get("/embed/codes.json?sector=health&verified=show").json["codes"]
    assert 'data-verified="show"' in codes["script"]
    assert "verified=show" in codes["iframe"] and "verified=show" in codes["badge"]
    assert "verified" not in client.get("/embed/codes.json?sector=health").json["codes"]["script"]
    assert 'id="verified-show"' in client.get("/embed").text
    for path in ["/widget/sector/health?verified=yes", "/badge/sector/health.svg?verified=1"]:
        assert client.get(path).status_code == 400, path


def test_iframe_code_makes_room_for_the_verified_line(client):
    plain = client.get("/embed/codes.json?sector=health").json["frame"]["height"]
    assert client.get("/embed/codes.json?sector=health&verified=show").json["frame"]["height"] > plain
