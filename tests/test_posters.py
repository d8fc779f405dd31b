"""Posters and flyers (/posters): the builder, the pages to print, and QR codes that open a crediting form."""

import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import select

from app import cache_control
from app.extensions import db
from app.models import Signature, SignatureStatus
from app.posters.choices import count_taken

SITE = "https://pledge.example.org"
POSTER = "sector=education&org=neu&source=staffroom-1"
CREDITED = f"{SITE}/sign/education?org=neu&source=staffroom-1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def site(app):
    app.config["SITE_URL"] = SITE


def decode(image: Image.Image) -> str:
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


def rasterise(svg: str, scale: int = 8) -> Image.Image:
    """Draw an SVG QR code as segno writes it (one path of horizontal runs, one module wide) as pixels."""
    view = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    zoom = re.search(r'transform="scale\((\d+)\)"', svg)
    modules = view // int(zoom.group(1)) if zoom else view
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    image = Image.new("L", (modules * scale, modules * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([^MmHh]*)", path):
        values = [float(n) for n in numbers.replace(",", " ").split()]
        if command in "Mm":
            x, y = values if command == "M" else (x + values[0], y + values[1])
        else:
            end = values[0] if command == "H" else x + values[0]
            draw.rectangle((x * scale, (y - 0.5) * scale, end * scale - 1, (y + 0.5) * scale - 1), fill=0)
            x = end
    return image


def inline_svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


# --- the builder ------------------------------------------------------------------------------------


def test_builder_offers_the_choices_without_an_error(client):
    response = client.get("/posters")
    assert response.status_code == 200
    assert 'name="sector"' in response.text and 'name="org"' in response.text and 'name="source"' in response.text
    assert "There is a problem" not in response.text and "<svg" not in response.text


def test_builder_shows_the_code_and_links_to_print_and_download(client):
    response = client.get(f"/posters?{POSTER}")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert f'The code opens <code class="poster-address">{CREDITED}</code>' in page
    for path in ("/posters/print?", "/posters/flyer?", "/posters/qr.svg?", "/posters/qr.png?"):
        assert f'href="{path}{POSTER}"' in page
    (svg,) = inline_svgs(response.text)
    assert decode(rasterise(svg)) == CREDITED


def test_the_embed_builder_links_to_posters(client):
    assert 'href="/posters"' in client.get("/embed").text


BAD_CHOICES = [
    ("source=staffroom-1", "Choose a sector, a union or both"),
    ("sector=&org=&source=", "Choose a sector, a union or both"),
    ("org=nope", "There is no union &#39;nope&#39;."),
    ("sector=teaching", "There is no sector &#39;teaching&#39;."),
    ("sector=Education", "sector must be a slug"),
    ("org=neu&source=has space", "source must be 1 to 64 letters"),
    (f"org=neu&source={'x' * 65}", "source must be 1 to 64 letters"),
    ("org=neu&org=unison", "Give org once."),
    ("org=neu&theme=dark", "Unknown parameter &#39;theme&#39;"),
]


@pytest.mark.parametrize(("query", "message"), BAD_CHOICES)
@pytest.mark.parametrize("path", ["/posters", "/posters/print", "/posters/flyer"])
def test_bad_choices_get_a_400_page_saying_what_to_change(client, path, query, message):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "There is a problem" in response.text and message in response.text
    assert 'name="source"' in response.text  # the form, to put it right


@pytest.mark.parametrize(("query", "message"), BAD_CHOICES)
@pytest.mark.parametrize("kind", ["svg", "png"])
def test_bad_choices_for_a_qr_code_get_a_plain_400(client, kind, query, message):
    response = client.get(f"/posters/qr.{kind}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert html.unescape(message) in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_qr_format_is_not_found(client):
    assert client.get(f"/posters/qr.jpg?{POSTER}").status_code == 404


# --- the pages to print -----------------------------------------------------------------------------


def test_poster_has_the_pledge_why_it_matters_the_count_and_the_code(client, make_signature):
    make_signature(email="a@example.com", union="neu", status=SignatureStatus.CONFIRMED)
    make_signature(email="b@example.com", union="neu", status=SignatureStatus.CONFIRMED)
    make_signature(email="c@example.com", union="neu")  # not confirmed: not counted
    response = client.get(f"/posters/print?{POSTER}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = html.unescape(response.text)
    assert '<h1 class="sheet-headline">Keep public services safe for everyone</h1>' in page
    assert "pupil records were shared for immigration enforcement" in page  # education's line
    assert '<span class="sheet-number">2</span> NEU members in education have signed the pledge' in page
    assert count_taken() in page
    assert "pledge.example.org/sign/education?org=neu&source=staffroom-1" in page  # written out too
    (svg,) = inline_svgs(response.text)
    assert decode(rasterise(svg)) == CREDITED


def test_poster_has_no_site_furniture_and_its_own_print_stylesheet(client):
    page = client.get(f"/posters/print?{POSTER}").text
    assert "site-header" not in page and "<nav" not in page and "site-footer" not in page
    assert 'href="/static/css/print.css"' in page and "css/site.css" not in page
    assert "og:title" not in page  # a page to print, not to share
    assert '<a href="/posters?sector=education&amp;org=neu&amp;source=staffroom-1">' in page  # back, on screen only


def test_print_stylesheet_sets_a4_and_hides_the_screen_bar(client):
    css = client.get("/static/css/print.css").text
    assert re.search(r"@page\s*\{\s*size:\s*A4 portrait;\s*margin:\s*0;\s*\}", css)
    assert re.search(r"@media print\s*\{[^@]*\.print-bar\s*\{\s*display:\s*none;", css)


def test_flyers_are_two_copies_of_one_flyer_with_one_heading(client):
    response = client.get("/posters/flyer?org=unison&source=ward-7")
    assert response.status_code == 200
    page = response.text
    assert page.count('class="sheet sheet--a5"') == 2
    assert page.count("<h1") == 1 and page.count('aria-hidden="true"') == 1
    svgs = inline_svgs(page)
    assert len(svgs) == 2 and svgs[0] == svgs[1]
    assert decode(rasterise(svgs[0])) == f"{SITE}/sign/health?org=unison&source=ward-7"


@pytest.mark.parametrize(
    ("query", "url"),
    [
        ("org=neu", f"{SITE}/sign/education?org=neu&source=poster"),  # a union alone: its own sector's form
        ("org=other", f"{SITE}/sign/public?org=other&source=poster"),
        ("sector=health", f"{SITE}/sign/health?source=poster"),
        ("sector=health&org=neu&source=a.b_c-1", f"{SITE}/sign/health?org=neu&source=a.b_c-1"),
    ],
)
def test_the_code_opens_the_form_that_credits_the_union_and_the_campaign_code(client, query, url):
    response = client.get(f"/posters/qr.png?{query}")
    assert decode(Image.open(io.BytesIO(response.data))) == url


def test_the_count_taken_is_dated_in_words():
    assert count_taken(date(2025, 3, 5)) == "Count on 5 March 2025. The live count is on our site."


def test_addresses_come_from_site_url_not_the_host_header(client):
    hostile = {"Host": "attacker.example", "X-Forwarded-Host": "forwarded.example"}
    for path in ("/posters", "/posters/print", "/posters/flyer", "/posters/qr.svg"):
        body = client.get(f"{path}?{POSTER}", headers=hostile).text
        assert "attacker.example" not in body and "forwarded.example" not in body
    png = client.get(f"/posters/qr.png?{POSTER}", headers=hostile).data
    assert decode(Image.open(io.BytesIO(png))) == CREDITED


def test_signing_through_the_code_credits_the_union_and_the_campaign_code(client, sign_via_form):
    png = client.get(f"/posters/qr.png?{POSTER}").data
    path_and_query = decode(Image.open(io.BytesIO(png))).removeprefix(SITE)
    sector, query = path_and_query.removeprefix("/sign/").split("?")
    assert sign_via_form(sector, f"?{query}").status_code == 303
    signature = db.session.execute(select(Signature)).scalar_one()
    assert (signature.sector.slug, signature.organisation.slug, signature.source) == ("education", "neu", "staffroom-1")


# --- the QR code downloads --------------------------------------------------------------------------


def test_qr_png_download(client):
    response = client.get(f"/posters/qr.png?{POSTER}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(PNG_SIGNATURE)
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="care-dont-share-qr-education-neu-staffroom-1.png"'
    )
    image = Image.open(io.BytesIO(response.data))
    assert image.width == image.height and 1000 <= image.width <= 1600  # sharp enough to print 10 cm wide
    assert decode(image) == CREDITED


def test_qr_svg_download_is_the_code_on_the_poster(client):
    response = client.get(f"/posters/qr.svg?{POSTER}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="care-dont-share-qr-education-neu-staffroom-1.svg"'
    )
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == f"QR code: opens {CREDITED}"
    svg = response.text
    assert decode(rasterise(svg)) == CREDITED
    (on_poster,) = inline_svgs(client.get(f"/posters/print?{POSTER}").text)
    path = re.compile(r' d="([^"]+)"')
    assert path.search(svg).group(1) == path.search(on_poster).group(1)


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_qr_downloads_are_cacheable_until_we_deploy(client, kind):
    response = client.get(f"/posters/qr.{kind}?{POSTER}")
    assert response.headers["Cache-Control"] == cache_control.UNTIL_DEPLOY
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Set-Cookie" not in response.headers
    again = client.get(f"/posters/qr.{kind}?{POSTER}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
