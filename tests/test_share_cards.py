"""Share cards: the /share/....png images, the Open Graph tags pointing to them, and the thank-you Share button."""

import html
import io
import re

import pytest
from PIL import Image, ImageChops

from app import content_loader
from app.cache_control import live_count
from app.models import SignatureStatus
from app.widget import share_image

SITE = "https://pledge.example.org"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 100 * 1024
CARDS = ["/share/all.png", "/share/sector/education.png", "/share/union/neu.png", "/share/region/wales.png"]


@pytest.fixture(autouse=True)
def site(app):
    app.config["SITE_URL"] = SITE


def image_of(response) -> Image.Image:
    return Image.open(io.BytesIO(response.data))


def meta(page: str) -> dict[str, str]:
    head = page.split("</head>")[0]
    found = re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)">', head)
    return {name: html.unescape(value) for name, value in found}


# --- the images -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CARDS)
def test_a_card_is_a_1200_by_630_png_under_100_kb(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(PNG_SIGNATURE)
    assert len(response.data) < MAX_BYTES, f"{path} is {len(response.data)} bytes"
    image = image_of(response)
    assert (image.format, image.size) == ("PNG", (1200, 630))


def test_every_sector_and_union_has_a_card_under_100_kb(client):
    paths = [f"/share/sector/{s['slug']}.png" for s in content_loader.sectors()]
    paths += [f"/share/union/{o['slug']}.png" for o in content_loader.organisations()]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(response.data) < MAX_BYTES and image_of(response).size == (1200, 630), path


@pytest.mark.parametrize("path", CARDS)
def test_a_card_is_cached_like_the_badge_and_revalidates_to_304(client, path):
    response = client.get(path)
    assert response.headers["Cache-Control"] == live_count()
    assert response.headers["Cache-Control"] == client.get("/badge/all.svg").headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag


def test_the_count_drawn_changes_with_the_count(client, make_signature, confirm):
    for email in ("a@example.com", "b@example.com"):  # 2 to 3 keeps the words ("members have signed") the same
        make_signature(email=email, union="neu", status=SignatureStatus.CONFIRMED)
    before = client.get("/share/union/neu.png")
    unrelated = client.get("/share/union/unison.png")
    signature = make_signature(email="c@example.com", union="neu")
    pending = client.get("/share/union/neu.png")
    assert pending.headers["ETag"] == before.headers["ETag"]  # not counted until confirmed
    assert pending.data == before.data

    confirm(signature)
    after = client.get("/share/union/neu.png")
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = client.get("/share/union/neu.png", headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200 and stale.data == after.data
    changed = ImageChops.difference(image_of(before).convert("RGB"), image_of(after).convert("RGB")).getbbox()
    assert changed is not None
    left, top, right, bottom = changed
    assert 250 < top and bottom < 480, changed  # only the number's band, not the headline or the words under it
    assert client.get("/share/union/unison.png").data == unrelated.data
    assert client.get("/share/all.png").headers["ETag"] != before.headers["ETag"]


def test_a_region_card_draws_its_figure_under_the_disclosure_rule(client, sector_id):
    """Hidden below 10 ("Fewer than 10", never the number); the figure once it is shown."""
    from app.extensions import db
    from app.models import utcnow
    from app.services.counts import adjust_count

    def place(outward, how_many):
        adjust_count(db.session, sector_id("education"), None, how_many, utcnow(), postcode_outward=outward, shard=0)
        db.session.commit()

    place("CF10", 9)
    place("M1", 30)  # other regions shown, and hidden ones that add up to 10 or more between them,
    place("B33", 30)  # so that once Wales reaches 12 nothing hides it as the next-smallest
    place("E1", 9)
    place("EH1", 5)

    def wales() -> int | None:
        return next(r["count"] for r in client.get("/api/v1/regions").json["regions"] if r["slug"] == "wales")

    assert wales() is None
    hidden = client.get("/share/region/wales.png")
    assert hidden.status_code == 200 and hidden.mimetype == "image/png"
    place("CF10", 3)
    assert wales() == 12
    shown = client.get("/share/region/wales.png")
    assert ImageChops.difference(image_of(hidden).convert("RGB"), image_of(shown).convert("RGB")).getbbox()
    assert hidden.headers["ETag"] != shown.headers["ETag"]


def test_unknown_cards_are_404_in_plain_text(client):
    for path in ["/share/sector/teaching.png", "/share/union/nope.png", "/share/region/atlantis.png", "/share/x/y.png"]:
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/plain", path


def test_cards_are_answered_from_the_per_process_cache_for_a_moment(client, app, make_signature):
    app.config["WIDGET_CACHE_SECONDS"] = 60
    first = client.get("/share/all.png")
    make_signature(status=SignatureStatus.CONFIRMED)
    assert client.get("/share/all.png").data == first.data  # from memory
    app.config["WIDGET_CACHE_SECONDS"] = 0
    assert client.get("/share/all.png").data != first.data


def test_the_fonts_are_installed():
    assert share_image.missing_fonts() == [], "share cards need Debian's fonts-dejavu-core (apt-get install it)"


def test_without_the_fonts_cards_are_still_drawn(monkeypatch, tmp_path):
    monkeypatch.setattr(share_image, "FONT_DIR", tmp_path)
    share_image._font.cache_clear()
    share_image.render_png.cache_clear()
    try:
        card = share_image.ShareCard("Care Don't Share", "example.org", "A headline", "1,234", "people have signed")
        image = Image.open(io.BytesIO(share_image.render_png(card)))
        assert image.size == (1200, 630) and share_image.font_family() == "pillow-default"
    finally:
        share_image._font.cache_clear()
        share_image.render_png.cache_clear()


# --- the tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "url", "image"),
    [
        ("/", "/", "/share/all.png"),
        ("/sign/education?org=neu&source=x", "/sign/education", "/share/sector/education.png"),
        ("/unions/neu", "/unions/neu", "/share/union/neu.png"),
        ("/unions/other", "/unions/other", "/share/union/other.png"),
        ("/thank-you/health", "/sign/health", "/share/sector/health.png"),  # shared as the form, not a thank-you
        ("/recommendations", "/recommendations", "/share/all.png"),
        ("/recommendations/policing", "/recommendations/policing", "/share/all.png"),
        ("/data-sharing", "/data-sharing", "/share/all.png"),
        ("/privacy", "/privacy", "/share/all.png"),
        ("/about", "/about", "/share/all.png"),
        ("/embed", "/embed", "/share/all.png"),
        ("/posters", "/posters", "/share/all.png"),
        ("/map", "/map", "/share/all.png"),
        ("/map/wales", "/map/wales", "/share/region/wales.png"),
    ],
)
def test_public_pages_have_open_graph_and_twitter_card_tags(client, path, url, image):
    response = client.get(path, headers={"Host": "attacker.example"})
    assert response.status_code == 200
    tags = meta(response.text)
    assert tags["og:url"] == SITE + url
    assert tags["og:image"] == SITE + image
    assert (tags["og:image:width"], tags["og:image:height"], tags["og:image:type"]) == ("1200", "630", "image/png")
    assert tags["og:title"] and tags["og:description"] and tags["og:image:alt"].startswith("Care Don't Share: ")
    assert tags["twitter:card"] == "summary_large_image"
    assert client.get(image.removeprefix(SITE)).status_code == 200


def test_tags_default_to_the_page_title_and_description(client):
    home, sign, builder = (meta(client.get(p).text) for p in ("/", "/sign/education", "/embed"))
    pledge = content_loader.pledge()
    assert home["og:title"] == f"Care Don't Share: {pledge['title']}"
    assert home["og:description"] == pledge["summary"]
    assert sign["og:title"] == "Education workers: sign the pledge – Care Don't Share"
    assert builder["og:description"].startswith("Embed the live count of the Care Don't Share pledge")
    assert meta(client.get("/unions/neu").text)["og:image:alt"] == (
        "Care Don't Share: how many NEU members have signed the pledge"
    )


def test_no_share_tags_on_organiser_pages_or_secret_links(client, make_signature, confirm_token):
    signature = make_signature()
    token = confirm_token(signature)
    for path in ["/organiser/login", f"/confirm/{token}", "/no-such-page"]:
        page = client.get(path).text
        assert "og:" not in page and "twitter:" not in page, path


# --- the Share button -------------------------------------------------------------------------------


@pytest.mark.browser
def test_thank_you_page_offers_the_share_sheet_only_where_there_is_one(browser, live):
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live}/thank-you/education")
    button = page.get_by_role("button", name="Share the pledge")
    expect(button).to_be_hidden()  # headless Chromium on Linux has no share sheet
    expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()

    page.add_init_script("navigator.share = (data) => { window.shared = data; return Promise.resolve(); };")
    page.reload()
    expect(button).to_be_visible()
    button.click()
    page.wait_for_function("window.shared !== undefined")
    shared = page.evaluate("window.shared")
    assert shared["url"] == f"{live}/sign/education"
    assert shared["text"] == content_loader.pledge()["share_text"]
    assert shared["title"] == "Sign the Care Don't Share pledge"
    expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()  # the links stay
    context.close()
