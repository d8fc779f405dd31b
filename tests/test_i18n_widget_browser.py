"""The Welsh embeds in headless Chromium: a hostile host page on another origin loads the Welsh script
(/cy/widget.js, and /widget.js?lang=cy) beside the English one; each draws only the cards in its
own language, in its own words, and stays live. The Welsh builder's codes and preview, too."""

import re

import pytest

from app.extensions import db
from tests.live_server import host_page
from tests.test_widget_browser import (
    POLLS_SETTLED,
    artifacts,  # noqa: F401 (a fixture)
    csp_violations,
    screenshot,
    signed,  # noqa: F401 (a fixture)
    watch,
)

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html lang="cy">
<head>
<meta charset="utf-8">
<title>Newyddion y gangen: a host page with hostile CSS</title>
<style>
  * { color: red !important; font: 40px serif !important; }
  div, p, span, a, progress { display: inline !important; background: yellow !important;
    border: 6px dashed red !important; padding: 0 !important; }
  .cds, .cds-n, .cds-sign, .cds-count { color: lime !important; background: black !important; }
</style>
</head>
<body>
<h1>Newyddion y gangen</h1>
<script async src="LIVE/cy/widget.js" data-lang="cy" data-sector="education" data-org="neu"></script>
<div id="welsh-union" data-care-dont-share data-lang="cy" data-org="neu" data-theme="dark"></div>
<div id="welsh-sector" data-care-dont-share data-lang="cy" data-sector="education" data-size="small"></div>
<div id="welsh-region" data-care-dont-share data-lang="cy" data-region="wales"></div>
<div id="english-union" data-care-dont-share data-org="neu"></div>
<script async src="LIVE/widget.js"></script>
<div id="by-query" data-care-dont-share data-lang="cy" data-org="unison"></div>
<script async src="LIVE/widget.js?lang=cy" data-lang="cy" data-org="unison"></script>
</body>
</html>
"""


@pytest.fixture
def host(live, tmp_path):
    """The host page, served from another origin (another loopback port)."""
    with host_page(HOST_PAGE.replace("LIVE", live), tmp_path) as url:
        yield url


def test_welsh_script_cards_on_a_hostile_host_page(browser, live, host, signed, sector_id, artifacts):  # noqa: F811
    from playwright.sync_api import expect

    from app.models import utcnow
    from app.services.counts import adjust_count

    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{host}/index.html")

    one_liner = page.locator("script[data-sector] + div")
    welsh_union, welsh_sector = page.locator("#welsh-union"), page.locator("#welsh-sector")
    welsh_region, english = page.locator("#welsh-region"), page.locator("#english-union")

    # Welsh words, Welsh plurals and the count, from the counts API.
    expect(one_liner.locator(".cds-n")).to_have_text("2")
    expect(one_liner.locator(".cds-who")).to_have_text("aelod o NEU ym maes addysg wedi llofnodi'r addewid")  # 2
    expect(welsh_union.locator(".cds-n")).to_have_text("3")
    expect(welsh_union.locator(".cds-who")).to_have_text("o aelodau NEU wedi llofnodi'r addewid")
    expect(welsh_sector.locator(".cds-n")).to_have_text("3")
    expect(welsh_sector.locator(".cds-bar + .cds-goal")).to_have_text("0% o'r nod o 10,000")
    expect(welsh_region.locator(".cds-n")).to_have_text("Llai na 10")
    expect(welsh_region.locator(".cds-who")).to_have_text("o bobl yng Nghymru wedi llofnodi'r addewid")
    for card in (one_liner, welsh_union, welsh_sector, welsh_region):
        expect(card.locator(".cds-sign")).to_have_text("Llofnodi'r addewid")
        assert card.locator(".cds").get_attribute("lang") == "cy"
    # ?lang=cy is the same Welsh script; its own card and the one waiting for it.
    by_query = page.locator("script[data-org=unison] + div")
    expect(by_query.locator(".cds-who")).to_have_text("o aelodau UNISON wedi llofnodi'r addewid", timeout=15_000)
    expect(page.locator("#by-query .cds-sign")).to_have_text("Llofnodi'r addewid")
    # The English script draws the English card, and only it.
    expect(english.locator(".cds-who")).to_have_text("NEU members have signed the pledge")
    assert english.locator(".cds-sign").get_attribute("href") == f"{live}/sign/education?org=neu&source=widget"

    # The buttons open the Welsh form (the region's, the Welsh home page's list of sectors).
    assert one_liner.locator(".cds-sign").get_attribute("href") == f"{live}/cy/sign/education?org=neu&source=widget"
    assert welsh_region.locator(".cds-sign").get_attribute("href") == f"{live}/cy/#sign"
    signer_context = browser.new_context()  # the form sets a session cookie; the host page must get none
    signer = signer_context.new_page()
    signer.goto(one_liner.locator(".cds-sign").get_attribute("href"))
    assert signer.locator("html").get_attribute("lang") == "cy"
    signer_context.close()

    # Isolation: the host's CSS does not reach the Welsh cards.
    number = welsh_union.locator(".cds-n")
    assert "serif" != number.evaluate("e => getComputedStyle(e).fontFamily")
    assert welsh_union.evaluate("e => getComputedStyle(e).display") == "block"

    # Live: the counts change and every card catches up, in Welsh plural forms.
    adjust_count(db.session, sector_id("public"), None, 12, utcnow(), postcode_outward="CF10", shard=0)
    db.session.commit()
    expect(welsh_region.locator(".cds-n")).to_have_text("12", timeout=15_000)
    expect(welsh_region.locator(".cds-who")).to_have_text("o bobl yng Nghymru wedi llofnodi'r addewid")
    page.wait_for_function(POLLS_SETTLED)

    assert context.cookies() == []
    origins = {re.match(r"https?://[^/]+", r.url).group(0) for r in seen["requests"]}
    assert origins <= {host, live}, origins
    assert csp_violations(seen) == []
    assert not [m for m in seen["console"] if m.startswith("pageerror")], seen["console"]
    screenshot(page, artifacts / "widget-host-page-cy.png")
    context.close()


def test_welsh_builder_previews_and_copies_welsh_codes(browser, live, artifacts):  # noqa: F811
    from playwright.sync_api import expect

    from tests.test_browser import serious_violations

    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{live}/cy/embed")
    assert page.locator("html").get_attribute("lang") == "cy"
    expect(page.frame_locator("#preview-frame").locator(".cds-who")).to_have_text("o bobl wedi llofnodi'r addewid")
    script_code = page.locator("#code-script")

    page.get_by_label("Undeb").select_option("neu")
    expect(script_code).to_contain_text(f'src="{live}/cy/widget.js" data-lang="cy" data-org="neu"')
    preview = page.frame_locator("#preview-frame")
    expect(preview.locator(".cds-who")).to_have_text("o aelodau NEU wedi llofnodi'r addewid")
    expect(preview.locator(".cds-sign")).to_have_text("Llofnodi'r addewid")
    expect(page.locator("#preview-badge")).to_have_attribute("src", "/cy/badge/union/neu.svg")

    # Choosing English makes English codes, from the Welsh page.
    page.get_by_label("Iaith y cerdyn").select_option("en")
    expect(script_code).to_contain_text(f'src="{live}/widget.js" data-org="neu"')
    expect(preview.locator(".cds-who")).to_have_text("NEU members have signed the pledge")

    page.get_by_role("button", name="Copïo cod y sgript").click()
    expect(page.locator("#copy-status")).to_have_text("Wedi'i gopïo. Gludwch ef yn eich tudalen.")
    assert page.evaluate("navigator.clipboard.readText()") == script_code.inner_text()

    assert csp_violations(seen) == []
    assert serious_violations(page) == []
    screenshot(page, artifacts / "embed-builder-cy.png")
    context.close()
