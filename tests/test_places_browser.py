"""The map and delivery packs in headless Chromium: no serious accessibility problems, figures that update
by polling, and a delivery pack that prints on one or two A4 pages. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import utcnow
from app.services.counts import adjust_count
from tests.test_posters_browser import ARTIFACTS, pdf_pages, watch_console

pytestmark = pytest.mark.browser

# A busy region: every London area with a figure, so the pack's area table is as long as it gets.
LONDON = {"E1": 40, "EC1A": 12, "N1": 25, "NW1": 18, "SE1": 33, "SW1A": 51, "W1A": 14, "WC1A": 11, "BR1": 3}


@pytest.fixture
def places(sector_id, org_id):
    def add(figures: dict[str, int], sector="education", union=None):
        for outward, how_many in figures.items():
            organisation = org_id(union) if union else None
            adjust_count(
                db.session, sector_id(sector), organisation, how_many, utcnow(), postcode_outward=outward, shard=0
            )
        db.session.commit()

    return add


def test_the_map_is_accessible_and_its_figures_update_while_open(browser, live, places):
    from playwright.sync_api import expect

    from tests.test_browser import serious_violations

    places({"CF10": 30, "M1": 4})
    places(LONDON, sector="health")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    console = watch_console(page)
    page.goto(f"{live}/map")
    wales = page.locator('td [data-place="wales"]')
    expect(wales).to_have_text("30")
    page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)
    assert serious_violations(page) == []

    places({"CF10": 5})
    expect(wales).to_have_text("35", timeout=10_000)  # polled from /api/v1/regions
    expect(page.locator('[data-rate-of="wales"]')).to_have_text("1.1")
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m or "pageerror" in m]

    page.get_by_label("Union").select_option("neu")
    page.get_by_role("button", name="Show").click()
    expect(wales).to_have_text("fewer than 10")
    assert serious_violations(page) == []
    page.close()


def test_a_region_page_is_accessible(browser, live, places):
    from tests.test_browser import serious_violations

    places(LONDON)
    places({"M1": 4})  # so that London is not the only region with signatures (it would be hidden)
    page = browser.new_page()
    page.goto(f"{live}/map/london")
    assert page.locator('td [data-place="london/SW"]').inner_text() == "51"
    assert serious_violations(page) == []
    page.close()


def test_a_delivery_pack_prints_on_one_or_two_a4_pages(browser, live, places):
    from tests.test_browser import serious_violations

    places(LONDON)
    places({"E1": 20, "SW1A": 9}, sector="health")
    places({"M1": 4})
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 900, "height": 1300})
    page.goto(f"{live}/delivery/london")
    assert serious_violations(page) == []
    page.emulate_media(media="print")
    assert page.locator(".print-bar").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "delivery-pack-london.png"), full_page=True)
    pdf = page.pdf(format="A4", path=str(ARTIFACTS / "delivery-pack-london.pdf"))
    assert 1 <= pdf_pages(pdf) <= 2
    page.close()


def test_the_longest_region_still_fits_two_pages(browser, live, places):
    page = browser.new_page()
    places({"GU1": 12, "M1": 4})
    longest = max(("south-east", "scotland", "north-west"), key=lambda slug: len(page_areas(live, slug)))
    page.goto(f"{live}/delivery/{longest}")
    page.emulate_media(media="print")
    assert 1 <= pdf_pages(page.pdf(format="A4")) <= 2
    page.close()


def page_areas(live: str, slug: str) -> list[dict]:
    import json
    from urllib.request import urlopen

    with urlopen(f"{live}/api/v1/regions") as response:
        document = json.load(response)
    return next(region["areas"] for region in document["regions"] if region["slug"] == slug)
