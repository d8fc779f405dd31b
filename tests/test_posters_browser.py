"""Posters in headless Chromium: the QR code read back from a screenshot, one A4 page each when printed,
no CSP violations and no serious accessibility problems. Screenshots go to test-artifacts/."""

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from app.models import SignatureStatus

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
POSTER = "sector=education&org=neu&source=staffroom-1"
# The longest words and address a poster can have: the longest union phrase and sector, and a 64-character code.
LONGEST = f"sector=local-services&org=other&source={'x' * 64}"


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF from Chromium, which writes each page as a plain (uncompressed) /Type /Page object."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def read_qr(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def watch_console(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


def test_the_poster_on_screen_has_a_code_that_opens_the_crediting_form(browser, live, make_signature, artifacts):
    from tests.test_browser import serious_violations

    make_signature(union="neu", status=SignatureStatus.CONFIRMED)
    page = browser.new_page(viewport={"width": 900, "height": 1300})
    console = watch_console(page)
    page.goto(f"{live}/posters/print?{POSTER}")
    assert page.locator(".sheet-number").inner_text() == "1"
    shot = page.screenshot(path=str(artifacts / "poster-a4.png"), full_page=True)
    assert read_qr(shot) == [f"{live}/sign/education?org=neu&source=staffroom-1"]

    qr_box = page.locator(".sheet-qr svg").bounding_box()
    assert 360 <= qr_box["width"] <= 400, qr_box  # 100 mm at 96 CSS pixels to the inch is 378
    assert serious_violations(page) == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    page.close()


def test_the_flyers_and_the_downloaded_svg_scan_too(browser, live, artifacts):
    page = browser.new_page(viewport={"width": 900, "height": 1300})
    page.goto(f"{live}/posters/flyer?org=unison")
    shot = page.screenshot(path=str(artifacts / "poster-a5-flyers.png"), full_page=True)
    assert read_qr(shot) == [f"{live}/sign/health?org=unison&source=poster"] * 2

    # The SVG download is an attachment, so show it in a page as an image would be in a design.
    page.set_content(f'<img src="{live}/posters/qr.svg?{POSTER}" width="400" height="400" alt="">')
    page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth > 0")
    assert read_qr(page.screenshot()) == [f"{live}/sign/education?org=neu&source=staffroom-1"]
    page.close()


@pytest.mark.parametrize("path", ["/posters/print", "/posters/flyer"])
@pytest.mark.parametrize("query", [POSTER, LONGEST])
def test_each_prints_on_exactly_one_a4_page(browser, live, path, query):
    page = browser.new_page()
    page.goto(f"{live}{path}?{query}")
    page.emulate_media(media="print")
    assert page.locator(".print-bar").is_hidden()
    assert pdf_pages(page.pdf(format="A4")) == 1
    page.close()


def test_the_page_count_sees_a_second_page(browser):
    page = browser.new_page()
    page.set_content('<div style="height: 400mm">Taller than one A4 page</div>')
    assert pdf_pages(page.pdf(format="A4")) == 2
    page.close()


def test_the_builder_is_accessible_with_and_without_a_result(browser, live):
    from playwright.sync_api import expect

    from tests.test_browser import serious_violations

    page = browser.new_page()
    console = watch_console(page)
    page.goto(f"{live}/posters")
    assert serious_violations(page) == []
    page.get_by_label("Union").select_option("neu")
    page.get_by_label("Campaign code (optional)").fill("staffroom 1")
    page.get_by_role("button", name="Make the poster").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_label("Campaign code (optional)").fill("staffroom-1")
    page.get_by_role("button", name="Make the poster").click()
    expect(page.locator(".poster-address")).to_have_text(f"{live}/sign/education?org=neu&source=staffroom-1")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Open the A4 poster to print").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keep public services safe for everyone")
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    page.close()
