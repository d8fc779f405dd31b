"""The embed's rules (app/services/embed.py), the widget text catalogue, /oembed with its discovery
links, and the /embed builder."""

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app import content_loader
from app.extensions import db
from app.models import Signature
from app.services.card_layout import frame_height, text_colour_on
from app.services.embed import (
    SIZES,
    InvalidEmbed,
    Options,
    SignLink,
    Target,
    describe,
    parse_options,
    plural_categories,
    sign_link,
    single_values,
)
from app.widget.text import languages, text_for

SITE = "http://localhost"


@pytest.fixture
def client(app):
    """The test client, with the widget's one-second counts cache off so changes show at once."""
    app.config["WIDGET_CACHE_SECONDS"] = 0
    return app.test_client()


# --- options, words, colours, links ----------------------------------------------------------------


def test_options_default_and_normalise():
    assert parse_options({}, {"en"}) == Options()
    options = parse_options(
        {"theme": "dark", "accent": "#CC0000", "size": "large", "lang": "en", "source": "neu-news.5"}, {"en"}
    )
    assert options == Options(theme="dark", accent="cc0000", size="large", lang="en", source="neu-news.5")
    assert parse_options({"accent": "5A2A82"}, {"en"}).accent is None  # the default colour is no option
    assert Options(theme="dark", size="small").query() == {"theme": "dark", "size": "small"}


@pytest.mark.parametrize(
    "values, field",
    [
        ({"theme": "pink"}, "theme"),
        ({"size": "huge"}, "size"),
        ({"lang": "xx"}, "lang"),
        ({"accent": "red"}, "accent"),
        ({"accent": "#12345"}, "accent"),
        ({"source": "has space"}, "source"),
        ({"source": "x" * 65}, "source"),
    ],
)
def test_bad_option_values_name_their_field(values, field):
    with pytest.raises(InvalidEmbed) as raised:
        parse_options(values, {"en"})
    assert raised.value.field == field and str(raised.value)


def test_query_parameters_must_be_known_and_single():
    assert single_values({"theme": ["dark"]}, ("theme",)) == {"theme": "dark"}
    with pytest.raises(InvalidEmbed, match="Unknown parameter 'colour'"):
        single_values({"colour": ["red"]}, ("theme",))
    with pytest.raises(InvalidEmbed, match="once"):
        single_values({"theme": ["dark", "light"]}, ("theme",))


def test_words_agree_with_the_count():
    text = text_for("en")
    assert describe(text, "en", Target(org="neu"), 1, None).sentence == "1 NEU member has signed the pledge"
    assert describe(text, "en", Target(org="neu"), 2, None).who == "NEU members have signed the pledge"
    assert describe(text, "en", Target(), 0, None).who == "people have signed the pledge"
    assert describe(text, "en", Target(), 1, None).who == "person has signed the pledge"
    both = describe(text, "en", Target(sector="education", org="neu"), 12345, None)
    assert both.sentence == "12,345 NEU members in education have signed the pledge"
    assert describe(text, "en", Target(org="other"), 3, None).who == "members of other unions have signed the pledge"
    assert both.title == "Care Don't Share: how many NEU members in education have signed the pledge"


def test_goal_text_and_percentage_stop_at_100():
    text = text_for("en")
    card = describe(text, "en", Target(sector="health"), 2500, 10000)
    assert card.goal == "25% of the goal of 10,000" and card.percent == 25
    assert describe(text, "en", Target(sector="health"), 12000, 10000).percent == 100
    assert describe(text, "en", Target(org="neu"), 12000, None).goal is None


def test_sign_links_credit_the_union_and_the_source():
    text = text_for("en")
    assert sign_link(text, Target(sector="health"), "widget") == SignLink("health", {"source": "widget"})
    assert sign_link(text, Target(sector="education", org="neu"), "widget") == SignLink(
        "education", {"org": "neu", "source": "widget"}
    )
    # A union alone goes to its own sector's form, as its landing page does.
    assert sign_link(text, Target(org="unison"), "badge") == SignLink("health", {"org": "unison", "source": "badge"})
    assert sign_link(text, Target(org="other"), None) == SignLink("public", {"org": "other"})
    assert sign_link(text, Target(), "widget") == SignLink(None, {})


@pytest.mark.parametrize(
    "background, text", [("ffdd00", "#111111"), ("5a2a82", "#ffffff"), ("000000", "#ffffff"), ("ffffff", "#111111")]
)
def test_button_text_contrasts_with_the_brand_colour(background, text):
    assert text_colour_on(background) == text


def test_frame_height_makes_room_for_lines_and_goal():
    medium = SIZES["medium"]
    assert frame_height(medium, 2, False) > frame_height(medium, 1, False)
    assert frame_height(medium, 2, True) > frame_height(medium, 2, False)
    assert frame_height(SIZES["large"], 2, True) > frame_height(medium, 2, True)


def test_every_language_is_complete(app):
    english_keys = set(content_loader.load_yaml("widget_text", language="en"))
    sector_slugs = {s["slug"] for s in content_loader.sectors()}
    assert languages() == {"en": "English", "cy": "Cymraeg"}
    for code in languages():
        words = content_loader.load_yaml("widget_text", language=code)
        assert set(words) == english_keys, code
        assert set(words["sectors"]) == sector_slugs, code
        for forms in [words["signed"], words["total"], words["org_members"], *words["sectors"].values()]:
            assert set(plural_categories(code)) <= set(forms), code
        resolved = text_for(code)
        assert set(resolved["orgs"]) == {o["slug"] for o in content_loader.organisations()}


# --- oEmbed ----------------------------------------------------------------------------------------


def oembed(client, url, **params):
    return client.get("/oembed", query_string={"url": url, **params})


def iframe_src(body: dict) -> str:
    match = re.search(r'<iframe src="([^"]+)"', body["html"])
    assert match, body["html"]
    return html.unescape(match.group(1))


def test_oembed_answers_rich_json_with_the_iframe(client):
    response = oembed(client, f"{SITE}/sign/education", format="json")
    assert response.status_code == 200 and response.is_json
    body = response.json
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "Care Don't Share" and body["provider_url"] == f"{SITE}/"
    assert body["title"] == "Care Don't Share: how many education workers have signed the pledge"
    assert iframe_src(body) == f"{SITE}/widget/sector/education?source=oembed"
    assert f'width="{body["width"]}"' in body["html"] and f'height="{body["height"]}"' in body["html"]
    # WordPress keeps only these iframe attributes from providers it does not know.
    wordpress_allowed = {"src", "width", "height", "frameborder", "marginwidth", "marginheight", "scrolling", "title"}
    attributes = set(re.findall(r"\s([a-z-]+)=", body["html"]))
    assert {"src", "width", "height", "title"} <= attributes & wordpress_allowed
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"] and response.headers["ETag"]


@pytest.mark.parametrize(
    "page, frame",
    [
        ("/unions/neu", "/widget/union/neu?source=oembed"),
        ("/sign/education?org=neu&source=leaflet", "/widget/union/neu/education?source=oembed"),
        ("/widget/union/unison?theme=dark", "/widget/union/unison?theme=dark&source=oembed"),
        ("/widget/all?source=intranet", "/widget/all?source=intranet"),
    ],
)
def test_oembed_knows_union_sign_and_widget_pages(client, page, frame):
    response = oembed(client, SITE + page)
    assert response.status_code == 200
    assert iframe_src(response.json) == SITE + frame


def test_oembed_fits_maxwidth_and_maxheight(client):
    body = oembed(client, f"{SITE}/unions/neu", maxwidth="300").json
    assert body["width"] <= 300 and "size=small" in iframe_src(body)
    large = oembed(client, f"{SITE}/widget/union/neu?size=large", maxwidth="2000").json
    assert large["width"] == SIZES["large"].width
    tiny = oembed(client, f"{SITE}/unions/neu", maxwidth="100", maxheight="50").json
    assert (tiny["width"], tiny["height"]) == (100, 50)
    assert 'width="100"' in tiny["html"] and 'height="50"' in tiny["html"]


def test_oembed_json_only_xml_is_not_implemented(client):
    response = oembed(client, f"{SITE}/unions/neu", format="xml")
    assert response.status_code == 501 and response.json["error"]["message"]


@pytest.mark.parametrize(
    "params, status",
    [
        ({}, 400),
        ({"url": ""}, 400),
        ({"url": f"{SITE}/unions/neu", "maxwidth": "wide"}, 400),
        ({"url": f"{SITE}/unions/neu", "maxwidth": "0"}, 400),
        ({"url": f"{SITE}/unions/neu", "maxheight": "-5"}, 400),
        ({"url": f"{SITE}/widget/union/neu?theme=pink"}, 400),
        ({"url": "https://evil.example/unions/neu"}, 404),
        ({"url": "javascript:alert(1)"}, 404),
        ({"url": f"{SITE}/"}, 404),
        ({"url": f"{SITE}/privacy"}, 404),
        ({"url": f"{SITE}/api/v1/counts"}, 404),
        ({"url": f"{SITE}/unions/nope"}, 404),
        ({"url": f"{SITE}/sign/nope"}, 404),
        ({"url": f"{SITE}/sign/education?org=nope"}, 404),
        ({"url": f"{SITE}/sign/education?org=<b>"}, 400),
    ],
)
def test_oembed_bad_requests_get_json_errors(client, params, status):
    response = client.get("/oembed", query_string=params)
    assert response.status_code == status
    assert response.is_json and response.json["error"]["message"]


def test_oembed_ignores_parameters_consumers_add(client):
    assert client.get("/oembed", query_string={"url": f"{SITE}/unions/neu", "dnt": "1"}).status_code == 200


def test_oembed_is_conditional(client):
    first = oembed(client, f"{SITE}/unions/neu")
    again = client.get(
        "/oembed", query_string={"url": f"{SITE}/unions/neu"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def discovery_link(page_html: str) -> str:
    match = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page_html)
    assert match, "no oEmbed discovery link"
    return html.unescape(match.group(1))


@pytest.mark.parametrize(
    "page, frame",
    [
        ("/sign/health", "/widget/sector/health"),
        ("/sign/education?org=neu&source=x", "/widget/union/neu/education"),
        ("/unions/neu", "/widget/union/neu"),
        ("/widget/union/neu?theme=dark", "/widget/union/neu?theme=dark"),
    ],
)
def test_pages_link_to_their_oembed(client, page, frame):
    href = discovery_link(client.get(page).text)
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}" == SITE and parts.path == "/oembed"
    assert parse_qs(parts.query)["format"] == ["json"]
    body = client.get(parts.path + "?" + parts.query).json
    assert iframe_src(body).startswith(SITE + frame)


# --- the builder -----------------------------------------------------------------------------------


def codes_for(client, **choices) -> dict:
    response = client.get("/embed/codes.json", query_string=choices)
    assert response.status_code == 200, response.text
    return response.json


def test_builder_page_shows_every_code_and_a_preview(client):
    page = client.get("/embed?org=neu&theme=dark")
    assert page.status_code == 200
    text = page.text
    for kind in ("script", "iframe", "badge", "wordpress"):
        assert f'id="code-{kind}"' in text
    assert '<option value="neu" selected>' in text and 'id="theme-dark" name="theme" value="dark" checked' in text
    assert 'id="preview-frame" src="/widget/union/neu?theme=dark"' in text
    assert 'id="preview-badge" src="/badge/union/neu.svg?theme=dark"' in text
    assert "&lt;script async src=&#34;http://localhost/widget.js&#34; data-org=&#34;neu&#34;" in text
    assert "Which to use where" in text and "email newsletter" in text.lower() and "WordPress" in text
    # CSP: no inline scripts or style attributes on app pages (the codes shown are escaped text).
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) and ' style="' not in text


def test_builder_codes_follow_the_choices(client):
    codes = codes_for(
        client, sector="education", org="neu", theme="dark", accent="#CC0000", size="large", source="neu-news"
    )["codes"]
    assert codes["script"] == (
        '<script async src="http://localhost/widget.js" data-sector="education" data-org="neu" '
        'data-theme="dark" data-accent="#cc0000" data-size="large" data-source="neu-news"></script>'
    )
    frame_url = (
        "http://localhost/widget/union/neu/education?theme=dark&amp;accent=cc0000&amp;size=large&amp;source=neu-news"
    )
    assert f'<iframe src="{frame_url}"' in codes["iframe"]
    assert 'width="380"' in codes["iframe"] and 'title="Care Don&#39;t Share: how many NEU members' in codes["iframe"]
    assert (
        '<a href="http://localhost/sign/education?org=neu&amp;source=neu-news">'
        '<img src="http://localhost/badge/union/neu/education.svg?theme=dark&amp;accent=cc0000&amp;size=large"'
    ) in codes["badge"]
    assert codes["wordpress"] == html.unescape(frame_url)
    assert codes_for(client)["codes"]["script"] == (
        '<script async src="http://localhost/widget.js" data-care-dont-share></script>'
    )


def test_builder_codes_all_work(client):
    data = codes_for(client, org="neu", theme="dark")
    codes = data["codes"]
    paths = [
        re.search(r'src="http://localhost([^"]+)"', codes["script"]).group(1),
        html.unescape(re.search(r'src="http://localhost([^"]+)"', codes["iframe"]).group(1)),
        html.unescape(re.search(r'<img src="http://localhost([^"]+)"', codes["badge"]).group(1)),
        html.unescape(re.search(r'<a href="http://localhost([^"]+)"', codes["badge"]).group(1)),
        data["frame"]["src"],
        data["badge"]["src"],
    ]
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert client.get("/oembed", query_string={"url": codes["wordpress"]}).status_code == 200


def test_builder_bad_choice_shows_the_problem(client):
    page = client.get("/embed?source=not ok!")
    assert page.status_code == 400
    assert 'href="#field-source"' in page.text and "source must be" in page.text
    assert client.get("/embed?org=nope").status_code == 400
    bad = client.get("/embed/codes.json?theme=pink")
    assert bad.status_code == 400 and bad.json["error"]["message"] == "theme must be one of light, dark."


def test_widget_sign_ups_show_in_the_union_count(client, confirm_all):
    """Point 7: follow the card's button, sign and confirm; the union and the source are credited."""
    frame = client.get("/widget/union/neu").text
    link = html.unescape(re.search(r'class="cds-sign" href="([^"]+)"', frame).group(1))
    assert link == "/sign/education?org=neu&source=widget-iframe"
    before = client.get("/api/v1/counts?org=neu").json["total"]
    form = client.get(link).text
    fields = {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1),
        "source": re.search(r'name="source" type="hidden" value="([^"]*)"', form).group(1),
        "organisation": re.search(r'<option selected value="([^"]+)"', form).group(1),
        "name": "Grace Hopper",
        "email": "grace@example.com",
    }
    assert (fields["source"], fields["organisation"]) == ("widget-iframe", "neu")
    assert client.post(link, data=fields).status_code == 303
    confirm_all()
    signature = db.session.execute(select(Signature)).scalar_one()
    assert (signature.source, signature.organisation.slug, signature.sector.slug) == (
        "widget-iframe",
        "neu",
        "education",
    )
    assert client.get("/api/v1/counts?org=neu").json["total"] == before + 1
    assert '<span class="cds-n">1</span>' in client.get("/widget/union/neu").text


def test_builder_json_previews_are_relative(client):
    data = codes_for(client, sector="health")
    assert data["frame"]["src"] == "/widget/sector/health" and data["badge"]["src"] == "/badge/sector/health.svg"
    assert json.dumps(data)  # plain JSON
