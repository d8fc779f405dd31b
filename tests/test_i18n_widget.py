"""Welsh embeds, API names, map, delivery packs and posters: /cy/widget/..., /cy/badge/..., /cy/widget.js,
the builder's Welsh codes, oEmbed and share cards in the page's language, the micro-cache keeping the
languages apart, name_cy in the JSON API, and the Welsh map, region, delivery and poster pages."""

import gzip
import html
import json
import re
from urllib.parse import urlsplit

import pytest

from app import content_loader
from app.posters import qr
from app.services.embed import Target, describe, plural_categories
from app.widget.text import script_words, text_for
from tests import test_widget_browser
from tests.test_widget import assert_cacheable, served_words

SITE = "http://localhost"
signed = test_widget_browser.signed  # the fixture: 2 NEU teachers, 1 in no union, 1 NEU health worker
ENGLISH_CARD = ("have signed the pledge", "has signed the pledge", "Sign the pledge")


@pytest.fixture
def client(client, app):
    """conftest's client (each request in its own app context, so its own language), with the
    widget's one-second cache off so changes show at once."""
    app.config["WIDGET_CACHE_SECONDS"] = 0
    return client


def between(page: str, css_class: str) -> str:
    return html.unescape(re.search(rf'<span class="{css_class}">([^<]*)</span>', page).group(1))


def assert_no_english(page: str, sentences) -> None:
    for sentence in sentences:
        assert sentence not in page, sentence


# --- the words -------------------------------------------------------------------------------------


def test_welsh_counts_take_the_plural_form_and_mutation_of_the_number():
    text = text_for("cy")
    said = {n: describe(text, "cy", Target(), n, None).sentence for n in (0, 1, 2, 3, 6, 7, 1234)}
    assert said == {
        0: "0 o bobl wedi llofnodi'r addewid",
        1: "1 person wedi llofnodi'r addewid",
        2: "2 berson wedi llofnodi'r addewid",
        3: "3 o bobl wedi llofnodi'r addewid",
        6: "6 o bobl wedi llofnodi'r addewid",
        7: "7 o bobl wedi llofnodi'r addewid",
        1234: "1,234 o bobl wedi llofnodi'r addewid",
    }
    assert describe(text, "cy", Target(sector="education"), 2, None).who == "weithiwr addysg wedi llofnodi'r addewid"
    both = describe(text, "cy", Target(sector="education", org="neu"), 12, None)
    assert both.sentence == "12 o aelodau NEU ym maes addysg wedi llofnodi'r addewid"
    assert both.title == "Care Don't Share: faint o aelodau NEU ym maes addysg sydd wedi llofnodi'r addewid"
    wales = describe(text, "cy", Target(region="wales"), 30, None)
    assert wales.sentence == "30 o bobl yng Nghymru wedi llofnodi'r addewid"
    health = describe(text, "cy", Target(sector="health"), 2500, 10000, paper=40, verified=1)
    assert health.goal == "25% o'r nod o 10,000"
    assert health.paper_line == "2,500 ar-lein, 40 ar bapur"
    assert health.verified_line == "gan gynnwys 1 gweithiwr iechyd neu ofal dilysedig"


def test_every_count_phrase_has_each_plural_category_of_its_language():
    assert plural_categories("cy") == ("zero", "one", "two", "few", "many", "other")
    assert plural_categories("en") == ("one", "other")
    text = text_for("cy")
    phrases = [text["total"], text["verified_people"], *text["sectors"].values(), *text["orgs"].values()]
    for forms in phrases:
        assert set(plural_categories("cy")) <= set(forms), forms
    assert set(text["places"]) == {*(r["slug"] for r in content_loader.load_yaml("postcode_areas")["regions"])} | {
        "elsewhere"
    }


# --- the iframe, the badge and the script, by address ------------------------------------------------


def test_welsh_frame_is_welsh_with_lang_cy(client, signed):
    page = client.get("/cy/widget/sector/education")
    assert page.status_code == 200
    assert '<html lang="cy">' in page.text
    assert (between(page.text, "cds-n"), between(page.text, "cds-who")) == (
        "3",
        "o weithwyr addysg wedi llofnodi'r addewid",
    )
    assert "0% o&#39;r nod o 10,000" in page.text
    assert 'href="/cy/sign/education?source=widget-iframe"' in page.text  # the button opens the Welsh form
    assert_no_english(page.text, ENGLISH_CARD)
    who = json.loads(html.unescape(re.search(r"data-who='([^']*)'", page.text).group(1)))
    assert set(who) == set(plural_categories("cy")) and who["two"] == "weithiwr addysg wedi llofnodi'r addewid"


def test_welsh_badge_is_welsh_with_lang_cy(client, signed):
    badge = client.get("/cy/badge/union/neu.svg")
    assert badge.status_code == 200 and badge.mimetype == "image/svg+xml"
    assert 'lang="cy"' in badge.text
    assert "3 o aelodau NEU wedi llofnodi&#39;r addewid" in badge.text
    assert "Llofnodi&#39;r addewid" in badge.text
    assert_no_english(badge.text, ENGLISH_CARD)


def test_lang_in_the_query_still_chooses_the_language(client, signed):
    assert between(client.get("/widget/union/neu?lang=cy").text, "cds-who") == "o aelodau NEU wedi llofnodi'r addewid"
    english = client.get("/cy/widget/union/neu?lang=en").text
    assert '<html lang="en-GB">' in english and between(english, "cds-who") == "NEU members have signed the pledge"
    assert client.get("/cy/widget/union/neu?lang=xx").status_code == 400


def test_welsh_region_frame_names_the_place_in_welsh(client, signed):
    page = client.get("/cy/widget/region/wales").text
    assert between(page, "cds-n") == "Llai na 10"
    assert between(page, "cds-who") == "o bobl yng Nghymru wedi llofnodi'r addewid"


def test_welsh_script_embeds_only_welsh_words(client):
    welsh = client.get("/cy/widget.js")
    assert welsh.status_code == 200 and welsh.mimetype == "text/javascript"
    words = served_words(welsh.text)
    assert words == script_words("cy")
    assert words["sign"] == "Llofnodi'r addewid" and words["locale"] == "cy"
    assert words["total"] == {"one": "person", "two": "berson", "other": "o bobl"}  # forms like "other" left out
    assert words["members"] == {"one": "aelod o {org}", "two": "aelod o {org}", "other": "o aelodau {org}"}
    assert 'L="cy"' in welsh.text and '"/cy"+(to?' in welsh.text  # its cards' buttons open the Welsh form
    assert "have signed" not in welsh.text
    assert client.get("/widget.js?lang=cy").data == welsh.data
    english = client.get("/widget.js").text
    assert '"/cy' not in english


def test_region_phrases_come_apart_from_the_script(app, client):
    """A default-language region card names its region as /api/v1/regions does; another language's
    script fetches its own phrases ("yng Nghymru") from <root>/widget/places.json, kept out of widget.js
    (in Welsh they would be 230 of its 3 KB)."""
    assert "places" not in client.get("/widget.js").text
    for lang in app.config["LANGUAGES"][1:]:
        assert f'"/{lang}/widget/places.json"' in client.get(f"/{lang}/widget.js").text
        places = client.get(f"/{lang}/widget/places.json")
        assert places.status_code == 200 and places.mimetype == "application/json"
        assert places.json == text_for(lang)["places"] and places.headers["Access-Control-Allow-Origin"] == "*"
        assert_cacheable(places)
        assert client.get(f"/widget/places.json?lang={lang}").data == places.data
        again = client.get(f"/{lang}/widget/places.json", headers={"If-None-Match": places.headers["ETag"]})
        assert again.status_code == 304
    assert client.get("/cy/widget/places.json").json["wales"] == "yng Nghymru"
    assert client.get("/widget/places.json?lang=xx").status_code == 400


def test_welsh_script_stays_small(client):
    """Welsh words are longer, yet /cy/widget.js keeps to the same 3 KB as every language's script
    (tests/test_widget.py): its region phrases come apart, in /cy/widget/places.json."""
    size = len(gzip.compress(client.get("/cy/widget.js").data, compresslevel=6))
    assert size <= 3 * 1024, f"the Welsh widget.js is {size} bytes gzipped"


# A count in each of the plural categories of Welsh (zero, one, two, few, many, other) and English.
COUNTS = (0, 1, 2, 3, 6, 7, 1234)
SCRIPT_SITE, HOST_SITE = "http://widget.test", "http://host.test"


def script_cards() -> dict[str, Target]:
    """A card for everyone, for each sector, union and region, and for each union in its sector."""
    text = text_for("en")
    cards = {"everyone": Target()}
    cards |= {f"sector-{slug}": Target(sector=slug) for slug in text["sectors"]}
    cards |= {f"union-{slug}": Target(org=slug) for slug in text["orgs"]}
    cards |= {f"in-{slug}": Target(sector=u["sector"] or "public", org=slug) for slug, u in text["orgs"].items()}
    return cards | {f"region-{slug}": Target(region=slug) for slug in text["places"]}


def fake_counts(count: int) -> dict:
    """/api/v1/counts and /api/v1/regions as they would be with `count` everywhere (all verified)."""
    text, welsh = text_for("en"), text_for("cy")
    entry = {"count": count, "goal": None, "paper": 0, "verified": count}
    return {
        "counts": {
            "total": count,
            "paper": 0,
            "verified_total": count,
            "sectors": [{"slug": slug, **entry} for slug in text["sectors"]],
            "organisations": [{"slug": slug, **entry} for slug in text["orgs"]],
        },
        "regions": {
            "regions": [
                {"slug": slug, "name": name, "name_cy": welsh["places"][slug], "count": count, "areas": []}
                for slug, name in text["places"].items()
            ]
        },
    }


DRAWN = """() => [...document.querySelectorAll("[data-care-dont-share]")]
  .every((e) => e.shadowRoot && !e.shadowRoot.querySelector(".cds-count").hidden)"""
SAID = """() => Object.fromEntries([...document.querySelectorAll("[data-care-dont-share]")].map((e) => [e.id,
  [".cds-n", ".cds-who", ".cds-verified"].map((part) => e.shadowRoot.querySelector(part).textContent)]))"""


@pytest.mark.browser
def test_script_cards_say_every_count_as_the_server_does(app, client, browser):
    """widget.js, in every language, says what the iframe and badge say (describe()) for a count in
    each plural category: T's phrases without the forms that say what "other" does, the unions'
    words from their short names, and the region phrases from <root>/widget/places.json."""
    for lang in app.config["LANGUAGES"]:
        said = script_cards_say(browser, client, lang)
        for count, cards in said.items():
            for name, target in script_cards().items():
                card = describe(text_for(lang), lang, target, count, None, verified=None if target.region else count)
                assert cards[name] == [card.number, card.who, card.verified_line or ""], (lang, count, name)


def script_cards_say(browser, client, lang: str) -> dict[int, dict[str, list[str]]]:
    """What each of script_cards() says (number, words, verified line) for each of COUNTS: the script
    in lang on a page of another site, its API answers faked, the script and its places the app's."""
    served = {path: client.get(path) for path in (f"/widget.js?lang={lang}", f"/{lang}/widget/places.json")}
    answers = {}

    def answer(route):
        url = urlsplit(route.request.url)
        if url.path.startswith("/api/v1/"):
            body = json.dumps(answers["regions" if url.path.endswith("/regions") else "counts"])
            kind = "application/json"
        else:
            response = served[url.path + (f"?{url.query}" if url.query else "")]
            body, kind = response.data, response.mimetype
        route.fulfill(body=body, content_type=kind, headers={"Access-Control-Allow-Origin": "*"})

    divs = "".join(
        f'<div id="{name}" data-care-dont-share data-lang="{lang}" data-verified="show"'
        + "".join(f' data-{key}="{value}"' for key, value in vars(target).items() if value)
        + "></div>"
        for name, target in script_cards().items()
    )
    page_html = f'<!doctype html><body>{divs}<script async src="{SCRIPT_SITE}/widget.js?lang={lang}"></script>'
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{SCRIPT_SITE}/**", answer)
    page.route(f"{HOST_SITE}/", lambda route: route.fulfill(body=page_html, content_type="text/html"))
    said = {}
    for count in COUNTS:
        answers.update(fake_counts(count))
        page.goto(f"{HOST_SITE}/")
        page.wait_for_function(DRAWN)
        said[count] = page.evaluate(SAID)
    context.close()
    return said


# --- the micro-cache -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "english, welsh",
    [
        ("/widget/sector/education", "/cy/widget/sector/education"),
        ("/badge/union/neu.svg", "/cy/badge/union/neu.svg"),
        ("/widget.js", "/cy/widget.js"),
        ("/widget/places.json", "/cy/widget/places.json"),
        ("/share/sector/health.png", "/cy/share/sector/health.png"),
    ],
)
def test_the_response_cache_never_mixes_languages(app, client, signed, english, welsh):
    app.config["WIDGET_CACHE_SECONDS"] = 60
    first, second = client.get(english), client.get(welsh)
    assert first.status_code == second.status_code == 200
    assert first.data != second.data and first.headers["ETag"] != second.headers["ETag"]
    # Both are cached now: asking again in either order gives each its own.
    assert client.get(welsh).data == second.data and client.get(english).data == first.data
    if english.startswith("/widget/sector/"):
        assert '<html lang="en-GB">' in first.text and '<html lang="cy">' in second.text
    # The Welsh ETag is no good for the English address.
    assert client.get(english, headers={"If-None-Match": second.headers["ETag"]}).status_code == 200


def test_the_cache_key_holds_the_language_prefix(app, client):
    from app.widget.response_cache import EmbedResponseCache

    # Inside the language prefix middleware, so it sees /cy in SCRIPT_NAME.
    cache = next(wsgi for wsgi in _wsgi_layers(app.wsgi_app) if isinstance(wsgi, EmbedResponseCache))
    app.config["WIDGET_CACHE_SECONDS"] = 60
    client.get("/cy/widget.js")
    client.get("/widget.js")
    keys = list(cache.cache._entries)
    assert {key[2] for key in keys} == {"/cy", ""} and {key[3] for key in keys} == {"/widget.js"}


def _wsgi_layers(wsgi):
    while wsgi is not None:
        yield wsgi
        wsgi = getattr(wsgi, "wsgi_app", None) or getattr(wsgi, "app", None)


# --- the builder -----------------------------------------------------------------------------------


def codes_of(page: str) -> dict[str, str]:
    return {
        kind: html.unescape(code)
        for kind, code in re.findall(r'<code id="code-(\w+)" data-code="\w+">(.*?)</code>', page, flags=re.S)
    }


def attribute(code: str, name: str) -> str:
    return html.unescape(re.search(rf'{name}="([^"]*)"', code).group(1))


@pytest.mark.parametrize("address", ["/cy/embed?org=neu", "/embed?org=neu&lang=cy"])
def test_builder_makes_welsh_codes_that_work(client, signed, address):
    page = client.get(address)
    assert page.status_code == 200
    codes = codes_of(page.text)
    assert attribute(codes["script"], "src") == f"{SITE}/cy/widget.js"
    assert 'data-lang="cy"' in codes["script"] and 'data-org="neu"' in codes["script"]
    iframe = attribute(codes["iframe"], "src")
    assert iframe == f"{SITE}/cy/widget/union/neu"
    assert "faint o aelodau NEU sydd wedi llofnodi" in attribute(codes["iframe"], "title")
    assert attribute(codes["badge"], "src") == f"{SITE}/cy/badge/union/neu.svg"
    assert attribute(codes["badge"], "href") == f"{SITE}/cy/sign/education?org=neu&source=badge"
    assert codes["badge"].endswith(">Llofnodi&#39;r addewid</a>")  # the code is HTML
    assert codes["wordpress"] == f"{SITE}/cy/widget/union/neu"
    # Each code's address answers in Welsh.
    for address in (iframe, attribute(codes["badge"], "src"), codes["wordpress"]):
        response = client.get(urlsplit(address).path + (f"?{urlsplit(address).query}" if "?" in address else ""))
        assert response.status_code == 200 and "o aelodau NEU wedi llofnodi" in html.unescape(response.text)
    assert "Llofnodi'r addewid" in served_words(client.get("/cy/widget.js").text)["sign"]
    # The live preview is the Welsh card, by a relative address the page's CSP allows.
    preview = html.unescape(re.search(r'<iframe id="preview-frame" src="([^"]+)"', page.text).group(1))
    assert preview == "/cy/widget/union/neu"
    assert re.search(r'<option value="cy" lang="cy" selected>Cymraeg</option>', page.text)


def test_english_builder_codes_are_as_before(client):
    codes = codes_of(client.get("/embed?org=neu").text)
    assert attribute(codes["script"], "src") == f"{SITE}/widget.js" and "data-lang" not in codes["script"]
    assert attribute(codes["iframe"], "src") == f"{SITE}/widget/union/neu"


def test_welsh_builder_chooses_english_codes_too(client):
    page = client.get("/cy/embed?org=neu&lang=en").text
    codes = codes_of(page)
    assert attribute(codes["script"], "src") == f"{SITE}/widget.js" and "data-lang" not in codes["script"]
    assert '<option value="en" lang="en-GB" selected>English</option>' in page


def test_codes_json_follows_the_language_chosen(client):
    body = client.get("/embed/codes.json?sector=health&lang=cy").json
    assert body["frame"]["src"] == "/cy/widget/sector/health"
    assert body["badge"]["src"] == "/cy/badge/sector/health.svg"
    assert 'data-lang="cy"' in body["codes"]["script"]
    error = client.get("/cy/embed/codes.json?theme=pink").json["error"]["message"]
    assert error == "Rhaid i'r paramedr theme fod yn un o'r rhain: light, dark."


BUILDER_ENGLISH = [
    "Put the live count on your site",
    "Choose what to show",
    "No union: count everyone",
    "Show paper sign-ups apart",
    "Update the preview and codes",
    "For a web page: the script",
    "Which to use where",
    "More than one card on a page",
    "The count sets no cookies and reads none",
]


def test_welsh_builder_page_is_welsh(client):
    page = client.get("/cy/embed").text
    assert '<html lang="cy">' in page
    assert "Rhowch y cyfrif byw ar eich gwefan" in page
    assert_no_english(page, BUILDER_ENGLISH)
    assert 'data-copied="Wedi\'i gopïo. Gludwch ef yn eich tudalen."' in page  # for embed-builder.js
    assert '&lt;div data-care-dont-share data-lang="cy" data-org="neu"&gt;' in page  # the example's cards
    assert '&lt;script async src="http://localhost/cy/widget.js"&gt;' in page
    for name in ("Cymru", "Yr Alban", "Gogledd Iwerddon"):
        assert f">{name}</option>" in page


# --- oEmbed and share cards ------------------------------------------------------------------------


def test_oembed_follows_the_embedded_pages_language(client):
    body = client.get("/oembed", query_string={"url": f"{SITE}/cy/sign/education"}).json
    assert body["title"] == "Care Don't Share: faint o weithwyr addysg sydd wedi llofnodi'r addewid"
    assert body["provider_url"] == f"{SITE}/cy/"
    assert 'src="http://localhost/cy/widget/sector/education?source=oembed"' in body["html"]
    english = client.get("/cy/oembed", query_string={"url": f"{SITE}/unions/neu"}).json
    assert english["title"] == "Care Don't Share: how many NEU members have signed the pledge"
    frame = client.get("/oembed", query_string={"url": f"{SITE}/cy/widget/union/neu?theme=dark"}).json
    assert 'src="http://localhost/cy/widget/union/neu?theme=dark&amp;source=oembed"' in frame["html"]
    assert client.get("/cy/oembed").json["error"]["message"] == ("Rhowch url tudalen sector neu undeb ar y wefan hon.")


def test_welsh_pages_discover_welsh_oembed_and_share_cards(client):
    page = client.get("/cy/sign/education").text
    oembed = html.unescape(re.search(r'type="application/json\+oembed" href="([^"]+)"', page).group(1))
    assert oembed == f"{SITE}/cy/oembed?url={SITE}/cy/sign/education&format=json"
    image = re.search(r'<meta property="og:image" content="([^"]+)"', page).group(1)
    assert image == f"{SITE}/cy/share/sector/education.png"
    alt = html.unescape(re.search(r'<meta property="og:image:alt" content="([^"]+)"', page).group(1))
    assert alt == "Care Don't Share: faint o weithwyr addysg sydd wedi llofnodi'r addewid"


def test_welsh_share_card_draws_welsh_words(client, signed, monkeypatch):
    drawn = []
    from app.widget import share_cards

    def capture(card):
        drawn.append(card)
        return b"png"

    monkeypatch.setattr(share_cards, "render_png", capture)
    assert client.get("/cy/share/union/neu.png").status_code == 200
    assert client.get("/share/union/neu.png").status_code == 200
    welsh, english = drawn
    assert welsh.who == "o aelodau NEU wedi llofnodi'r addewid" and welsh.number == "3"
    assert welsh.headline == content_loader.load_yaml("pledge", language="cy")["title"]
    assert english.who == "NEU members have signed the pledge"
    assert welsh.headline != english.headline and welsh.fingerprint() != english.fingerprint()


# --- the API ---------------------------------------------------------------------------------------


def test_counts_name_every_sector_and_union_in_welsh(client):
    body = client.get("/api/v1/counts").json
    for kind, items in (("sectors", body["sectors"]), ("organisations", body["organisations"])):
        assert items
        for item in items:
            assert item["name"] == content_loader.name_of(kind, item["slug"], language="en")
            assert item["name_cy"] == content_loader.name_of(kind, item["slug"], language="cy")
            assert list(item)[:3] == ["slug", "name", "name_cy"]
    education = next(s for s in body["sectors"] if s["slug"] == "education")
    assert education["name"] == "Education" and education["name_cy"] != "Education"


def test_regions_name_every_region_and_area_in_welsh(client):
    body = client.get("/api/v1/regions").json
    names = {r["slug"]: (r["name"], r["name_cy"]) for r in body["regions"]}
    assert names["wales"] == ("Wales", "Cymru") and names["scotland"] == ("Scotland", "Yr Alban")
    assert names["elsewhere"][1] == content_loader.load_yaml("postcode_areas", "cy")["other_places"]["elsewhere"]
    for region in body["regions"]:
        assert region["name_cy"]
        assert all(area["name_cy"] for area in region["areas"])


def test_the_api_is_the_same_in_welsh_but_its_errors(client):
    english, welsh = client.get("/api/v1/regions"), client.get("/cy/api/v1/regions")
    assert english.json == welsh.json
    assert client.get("/api/v1/counts", headers={"If-None-Match": english.headers["ETag"]}).status_code in (200, 304)
    counts = client.get("/cy/api/v1/counts")
    assert client.get("/cy/api/v1/counts", headers={"If-None-Match": counts.headers["ETag"]}).status_code == 304
    for query, message in [
        ("?sector=nope", "Sector anhysbys 'nope'."),
        ("?org=nope", "Sefydliad anhysbys 'nope'."),
        ("?colour=red", "Paramedr anhysbys 'colour'; defnyddiwch sector ac org yn unig."),
        ("?sector=a&sector=b", "Rhowch sector unwaith ar y mwyaf."),
    ]:
        response = client.get(f"/cy/api/v1/counts{query}")
        assert response.status_code == 400 and response.json["error"]["message"] == message, query
        assert client.get(f"/cy/api/v1/regions{query}").json["error"]["message"] == message
    assert client.get("/api/v1/counts?sector=nope").json["error"]["message"] == "Unknown sector 'nope'."


# --- the map, region pages, delivery packs and posters ------------------------------------------------


MAP_ENGLISH = [
    "Support by region",
    "Where the people who have signed the pledge live",
    "signatures per 100,000 residents",
    "Each square is labelled with the region's short name",
    "We never show how many people signed",
    "How we protect people who sign",
    "Postcode not given",
    "regions API",
    "fewer than 10",
]
REGION_ENGLISH = [
    "Support in Wales",
    "people in Wales have signed",
    "Print a delivery pack for",
    "Signatures by postcode area",
    "An area that crosses a border",
    "How we protect people who sign",
    "Any union or none",
    "Sign the pledge",
]
DELIVERY_ENGLISH = [
    "Delivery pack:",
    "Back to Wales",
    "Use your browser's Print command",
    "The pledge in Wales",
    "This pack shows how many people",
    "have signed and confirmed their signature by email",
    "Figures taken at",
    "By sector",
    "By postcode area",
    "How these figures protect the people who signed",
    "Live figures:",
    "fewer than 10",
    "(UK time)",
]
POSTER_ENGLISH = [
    "Posters and flyers with a QR code",
    "Put the pledge up in a staffroom",
    "Choose who it is for",
    "Make the poster",
    "Print it or download the code",
    "Open the A4 poster to print",
    "Printing tips",
    "put the live count on your site",
    "QR code: opens",
]
SHEET_ENGLISH = [
    "Back to the poster builder",
    "Print at actual size",
    "Scan with your phone's camera",
    "or go to",
    "Count on",
    "The live count is on our site",
    "We never publish names",
    "have signed the pledge",
    "A 2018 report found",
]


def test_welsh_map_is_welsh(client, signed):
    page = client.get("/cy/map").text
    assert '<html lang="cy">' in page
    assert "Cefnogaeth fesul rhanbarth" in page and ">Cymru</a>" in page and ">CYM</text>" in page
    assert "Nid ydym byth yn dangos faint o bobl" in page and "llai na 10" in page
    assert_no_english(page, MAP_ENGLISH)
    filtered = html.unescape(client.get("/cy/map?sector=education").text)
    sector = content_loader.name_of("sectors", "education", language="cy")
    assert f"Yn dangos y sector {sector}. Mae'r ffigurau wedi'u talgrynnu i'r 5 agosaf." in filtered
    assert_no_english(filtered, ["Showing the", "Figures are rounded"])


def test_welsh_region_page_is_welsh(client, signed):
    page = client.get("/cy/map/wales").text
    assert '<html lang="cy">' in page
    assert "<h1>Cefnogaeth yng Nghymru</h1>" in page
    assert "o bobl yng Nghymru wedi llofnodi" in page
    assert "cynrychiolwyr etholedig Cymru" in page
    assert 'data-hidden-text="llai na 10"' in page
    assert_no_english(page, REGION_ENGLISH)


def test_welsh_delivery_pack_is_welsh(client, signed):
    page = client.get("/cy/delivery/wales").text
    assert '<html lang="cy">' in page
    assert "Yr addewid yng Nghymru" in page and "faint o bobl yng Nghymru sydd wedi llofnodi" in page
    assert re.search(r"am \d\d:\d\d ar \d+ \w+ 20\d\d \(amser y DU\)", page)
    assert content_loader.name_of("sectors", "education", language="cy") in page
    assert_no_english(page, DELIVERY_ENGLISH)
    assert 'hreflang="en-GB"' in page  # the way back to the English pack


def test_welsh_poster_builder_is_welsh_and_its_qr_code_opens_the_welsh_form(client, signed):
    page = client.get("/cy/posters").text
    assert '<html lang="cy">' in page and "Posteri a thaflenni gyda chod QR" in page
    assert_no_english(page, POSTER_ENGLISH)
    chosen = client.get("/cy/posters?sector=education&org=neu").text
    welsh_form = f"{SITE}/cy/sign/education?org=neu&source=poster"
    assert html.unescape(re.search(r'<code class="poster-address">([^<]+)</code>', chosen).group(1)) == welsh_form
    assert_no_english(chosen, POSTER_ENGLISH)
    svg = client.get("/cy/posters/qr.svg?sector=education&org=neu")
    assert svg.data == qr.svg_file(welsh_form, f"Cod QR: yn agor {welsh_form}")
    png = client.get("/cy/posters/qr.png?sector=education&org=neu")
    assert png.data == qr.png_file(welsh_form)
    english = client.get("/posters/qr.png?sector=education&org=neu")
    assert english.data == qr.png_file(f"{SITE}/sign/education?org=neu&source=poster") != png.data


@pytest.mark.parametrize("sheet", ["print", "flyer"])
def test_welsh_posters_and_flyers_are_welsh(client, signed, sheet):
    page = client.get(f"/cy/posters/{sheet}?org=neu").text
    assert '<html lang="cy">' in page
    assert "Sganiwch gyda chamera eich ffôn i lofnodi&#39;r addewid" in page
    assert "3</span> o aelodau NEU wedi llofnodi&#39;r addewid" in page
    assert re.search(r"Cyfrif ar \d+ \w+ 20\d\d\.", page)
    assert "cy/sign/education?org=neu&amp;source=poster" in page
    assert_no_english(page, SHEET_ENGLISH)
