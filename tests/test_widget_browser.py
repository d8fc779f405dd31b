"""The embeds in headless Chromium: a hostile host page on another origin embeds the script, the
iframe and the badge; the cards keep their looks, go live, share requests, set no cookies and
break no CSP. Screenshots of the builder and the host page go to test-artifacts/."""

import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Signature
from tests.live_server import host_page

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
RED = "rgb(255, 0, 0)"

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Union news: a host page with hostile CSS</title>
<style>
  * { color: red !important; font: 40px serif !important; }
  div, p, span, a, progress { display: inline !important; background: yellow !important;
    border: 6px dashed red !important; padding: 0 !important; }
  .cds, .cds-n, .cds-sign, .cds-count { color: lime !important; background: black !important; }
</style>
</head>
<body>
<script>
  window.messages = [];
  addEventListener("message", (event) => window.messages.push(event.data));
</script>
<h1>Union news</h1>
<p><a class="cds-sign" id="host-link" href="#">A host link that shares a class name with the card</a></p>
<script async src="LIVE/widget.js" data-sector="education" data-org="neu"></script>
<div id="by-union" data-care-dont-share data-org="neu" data-theme="dark" data-accent="#ffdd00"></div>
<div id="by-sector" data-care-dont-share data-sector="education" data-size="small"></div>
<iframe id="frame" src="LIVE/widget/union/neu" width="320" height="200" title="NEU count" frameborder="0"></iframe>
<iframe id="wp-frame" sandbox="allow-scripts" src="LIVE/widget/sector/education#?secret=abc123"
  data-secret="abc123" width="320" height="240" title="Education count (as WordPress embeds it)"></iframe>
<a href="LIVE/sign/education?org=neu&amp;source=badge"><img id="badge" src="LIVE/badge/union/neu.svg"
  width="320" height="170" alt="Care Don't Share: how many NEU members have signed the pledge"></a>
</body>
</html>
"""


@pytest.fixture
def host(live, tmp_path):
    """The host page, served from another origin (another loopback port)."""
    with host_page(HOST_PAGE.replace("LIVE", live), tmp_path) as url:
        yield url


@pytest.fixture
def signed(make_signup, confirm_all, org_id):
    """Confirmed: 2 NEU teachers, 1 teacher in no union, 1 NEU health worker."""
    make_signup(email="a@example.com", organisation_id=org_id("neu"))
    make_signup(email="b@example.com", organisation_id=org_id("neu"))
    make_signup(email="c@example.com")
    make_signup(email="d@example.com", sector="health", organisation_id=org_id("neu"))
    confirm_all()
    db.session.remove()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def watch(page) -> dict:
    """Record the page's console messages and every request it (or its frames) makes."""
    seen = {"console": [], "requests": []}
    page.on("console", lambda message: seen["console"].append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen["console"].append(f"pageerror: {error}"))
    page.on("request", lambda request: seen["requests"].append(request))
    return seen


def screenshot(page, path: Path) -> None:
    """The whole page. Chromium leaves iframes blank in full_page shots, so grow the viewport instead."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(height, 4000)})
    for frame in page.frames:  # each frame has drawn a frame at the new size
        frame.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.screenshot(path=str(path))


def csp_violations(seen: dict) -> list[str]:
    return [m for m in seen["console"] if "Content Security Policy" in m or "Refused to" in m]


def counts_request(page):
    """Is this request for the counts API, made by the host page itself (not its iframes)?"""
    return lambda request: "/api/v1/counts" in request.url and request.frame == page.main_frame


def count_requests(seen: dict, page, narrowed: bool | None = None) -> int:
    """Requests for the counts API made by the host page itself (not its iframes)."""
    calls = [r for r in seen["requests"] if counts_request(page)(r)]
    if narrowed is not None:
        calls = [r for r in calls if ("?" in r.url) == narrowed]
    return len(calls)


def wait_for_count_requests(seen: dict, page, at_least: int, narrowed: bool | None = None) -> None:
    """Block until count_requests() reaches at_least, one counts request at a time."""
    while count_requests(seen, page, narrowed) < at_least:
        page.wait_for_event("request", counts_request(page), timeout=15_000)


# The cards' shared poller (widget.js) marks a feed busy from its fetch until the card has drawn
# the answer or given up on it.
POLLS_SETTLED = "() => Object.values(window.__careDontShare.feeds).every((feed) => !feed.busy)"


def test_cards_on_a_hostile_host_page(browser, live, host, signed, mailbox, artifacts):
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{host}/index.html")
    page.evaluate("window.notReloaded = true")

    one_liner = page.locator("script[data-sector] + div")
    by_union, by_sector = page.locator("#by-union"), page.locator("#by-sector")
    frame = page.frame_locator("#frame")
    wordpress = page.frame_locator("#wp-frame")

    # The right counts, from the counts API (script) and the server (iframe, badge).
    expect(one_liner.locator(".cds-n")).to_have_text("2")
    expect(one_liner.locator(".cds-who")).to_have_text("NEU members in education have signed the pledge")
    expect(by_union.locator(".cds-n")).to_have_text("3")
    expect(by_sector.locator(".cds-n")).to_have_text("3")
    expect(by_sector.locator(".cds-bar + .cds-goal")).to_have_text("0% of the goal of 10,000")
    expect(frame.locator(".cds-n")).to_have_text("3")
    expect(wordpress.locator(".cds-n")).to_have_text("3")
    page.wait_for_function("document.getElementById('badge').complete")
    assert page.evaluate("document.getElementById('badge').naturalWidth") == 320

    # Isolation, both ways: the host's CSS does not reach the cards, and the card's does not leak out.
    number = one_liner.locator(".cds-n")
    assert number.evaluate("e => getComputedStyle(e).color") == "rgb(27, 27, 27)"
    assert number.evaluate("e => getComputedStyle(e).fontSize") == "35.2px"  # 2.2em of 16px
    assert "serif" != number.evaluate("e => getComputedStyle(e).fontFamily")
    assert one_liner.evaluate("e => getComputedStyle(e).display") == "block"
    dark_button = by_union.locator(".cds-sign")
    assert dark_button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 221, 0)"
    assert dark_button.evaluate("e => getComputedStyle(e).color") == "rgb(17, 17, 17)"
    host_link = page.locator("#host-link")
    assert host_link.evaluate("e => getComputedStyle(e).color") == "rgb(0, 255, 0)"
    assert host_link.evaluate("e => getComputedStyle(e).fontSize") == "40px"

    # Several cards share one request: two cards read the unnarrowed counts, one the narrowed.
    wait_for_count_requests(seen, page, at_least=4, narrowed=True)  # the first load and three polls
    shared, narrowed = count_requests(seen, page, narrowed=False), count_requests(seen, page, narrowed=True)
    assert narrowed >= 3 and shared <= narrowed + 1, (shared, narrowed)
    polls = [r for r in seen["requests"] if "/api/v1/counts" in r.url and r.frame == page.main_frame]
    assert any("if-none-match" in r.all_headers() for r in polls), "polls should revalidate with the ETag"
    assert all("cookie" not in r.all_headers() for r in polls)

    # A new signature through the card's button, confirmed in another browser.
    href = one_liner.locator(".cds-sign").get_attribute("href")
    assert href == f"{live}/sign/education?org=neu&source=widget"
    assert one_liner.locator(".cds-sign").get_attribute("target") == "_blank"
    signer_context = browser.new_context()
    signer = signer_context.new_page()
    signer.goto(href)
    signer.get_by_label("Full name", exact=True).fill("Mary Bousted")
    signer.get_by_label("Email address", exact=True).fill("mary@example.com")
    signer.get_by_role("button", name="Sign the pledge").click()
    expect(signer.get_by_role("heading", level=1)).to_have_text("Check your email")
    (message,) = [m for m in mailbox.messages() if "mary@example.com" in m["To"]]
    signer.goto(live + mailbox.link(message, "confirm"))
    signer.get_by_role("button", name="Confirm my signature").click()
    expect(signer.get_by_role("heading", level=1)).to_contain_text("confirmed")
    signer_context.close()

    # Every card catches up without a reload.
    expect(one_liner.locator(".cds-n")).to_have_text("3", timeout=15_000)
    expect(by_union.locator(".cds-n")).to_have_text("4", timeout=15_000)
    expect(by_sector.locator(".cds-n")).to_have_text("4", timeout=15_000)
    expect(frame.locator(".cds-n")).to_have_text("4", timeout=15_000)
    expect(wordpress.locator(".cds-n")).to_have_text("4", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    signature = db.session.execute(select(Signature).where(Signature.source == "widget")).scalar_one()
    assert (signature.organisation.slug, signature.sector.slug) == ("neu", "education")

    # The iframes tell the host page their height and nothing else (plus WordPress's own secret).
    messages = page.evaluate("window.messages")
    assert messages, "the iframes should post their heights"
    for data in messages:
        assert data["message"] == "height" and isinstance(data["value"], int) and 150 < data["value"] < 400
        assert set(data) <= {"message", "value", "secret"}
    assert {data.get("secret") for data in messages} == {None, "abc123"}

    # No cookies, nothing from third parties, no CSP violations.
    assert context.cookies() == []
    origins = {re.match(r"https?://[^/]+", r.url).group(0) for r in seen["requests"]}
    assert origins <= {host, live}, origins
    assert csp_violations(seen) == []

    screenshot(page, artifacts / "widget-host-page.png")
    context.close()


def test_wordpress_sandboxed_frame_asks_wordpress_to_open_the_link(browser, live, host):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{host}/index.html")
    button = page.frame_locator("#wp-frame").locator(".cds-sign")
    button.click()
    page.wait_for_function("window.messages.some((m) => m.message === 'link')")
    link = next(m for m in page.evaluate("window.messages") if m["message"] == "link")
    assert link == {"message": "link", "value": f"{live}/sign/education?source=widget-iframe", "secret": "abc123"}
    context.close()


def test_cards_pause_while_hidden_and_fail_quietly(browser, live, host, signed):
    from playwright.sync_api import expect

    context = browser.new_context()
    context.clock.install()  # the cards' poll timer (every second here) fires only as the test moves the clock
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{host}/index.html")
    card = page.locator("#by-union")
    expect(card.locator(".cds-n")).to_have_text("3")

    # Hidden tab: no polling; visible again: a poll at once.
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    before = count_requests(seen, page)
    page.clock.run_for(3000)
    assert count_requests(seen, page) == before
    with page.expect_request(counts_request(page)):
        page.evaluate(
            """() => {
                Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
    assert count_requests(seen, page) > before

    # The API goes away: the card keeps its last number.
    page.wait_for_function(POLLS_SETTLED)
    page.route("**/api/v1/counts*", lambda route: route.abort())
    with page.expect_event("requestfailed", counts_request(page)):
        page.clock.run_for(1000)
    page.wait_for_function(POLLS_SETTLED)
    expect(card.locator(".cds-n")).to_have_text("3")
    expect(card.locator(".cds-sign")).to_be_visible()

    # Unreachable from the start: just the link, and no error shown.
    fresh = context.new_page()
    fresh.route("**/api/v1/counts*", lambda route: route.abort())
    with fresh.expect_event("requestfailed", counts_request(fresh)):
        fresh.goto(f"{host}/index.html")
    lonely = fresh.locator("#by-union")
    expect(lonely.locator(".cds-sign")).to_be_visible()
    assert lonely.locator(".cds-sign").get_attribute("href") == f"{live}/sign/education?org=neu&source=widget"
    with fresh.expect_event("requestfailed", counts_request(fresh)):
        fresh.clock.run_for(1000)  # a poll fails too
    fresh.wait_for_function(POLLS_SETTLED)
    expect(lonely.locator(".cds-count")).to_be_hidden()
    context.close()


def test_iframe_codes_are_tall_enough_for_the_card(browser, live):
    page = browser.new_page()
    for choices in [
        {"org": "neu"},
        {"sector": "policing", "size": "small"},
        {"sector": "health", "size": "large"},
        {"sector": "health", "org": "other", "size": "small"},
        {"sector": "health", "verified": "show", "size": "large"},
        {"org": "neu", "verified": "show", "size": "small"},
        {"region": "wales"},
        {},
    ]:
        data = requests.get(f"{live}/embed/codes.json", params=choices, timeout=5).json()
        width, height = data["frame"]["width"], data["frame"]["height"]
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live + data["frame"]["src"])
        card = page.locator(".cds").bounding_box()
        assert card["width"] <= width and card["height"] <= height, (choices, card, width, height)
    page.close()


def test_builder_previews_and_copies(browser, live, artifacts):
    from playwright.sync_api import expect

    from tests.test_browser import serious_violations

    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live)
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{live}/embed")
    expect(page.frame_locator("#preview-frame").locator(".cds-n")).to_have_text("0")

    page.get_by_label("Union").select_option("neu")
    page.get_by_label("Dark").check()
    page.get_by_label("Large (380 pixels wide)").check()
    preview = page.locator("#preview-frame")
    expect(preview).to_have_attribute("src", "/widget/union/neu?theme=dark&size=large")
    expect(page.frame_locator("#preview-frame").locator(".cds-who")).to_have_text("NEU members have signed the pledge")
    expect(page.locator("#preview-badge")).to_have_attribute("src", "/badge/union/neu.svg?theme=dark&size=large")
    script_code = page.locator("#code-script")
    expect(script_code).to_have_text(
        f'<script async src="{live}/widget.js" data-org="neu" data-theme="dark" data-size="large"></script>'
    )
    # The address keeps the choices.
    assert page.url == f"{live}/embed?org=neu&theme=dark&size=large&paper=apart&verified=hide&lang=en"

    page.get_by_role("button", name="Copy the script code").click()
    expect(page.locator("#copy-status")).to_have_text("Copied. Paste it into your page.")
    assert page.evaluate("navigator.clipboard.readText()") == script_code.inner_text()

    assert csp_violations(seen) == []
    assert serious_violations(page) == []
    screenshot(page, artifacts / "embed-builder.png")
    context.close()


PLACES_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Wales branch news</title></head>
<body>
<h1>Wales branch news</h1>
<script async src="LIVE/widget.js" data-region="wales"></script>
<div id="north-west" data-care-dont-share data-region="north-west" data-theme="dark"></div>
<div id="region-and-union" data-care-dont-share data-region="wales" data-org="neu"></div>
<div id="apart" data-care-dont-share data-org="neu"></div>
<div id="added" data-care-dont-share data-org="neu" data-paper="add" data-verified="show"></div>
<div id="health" data-care-dont-share data-sector="health" data-verified="show"></div>
</body>
</html>
"""


@pytest.fixture
def places_and_paper(signed, sector_id):
    """On top of `signed`: 30 people in Wales and 4 in the North West (members of the public, straight
    into the counters), 40 NEU members in education on paper, and the NEU health worker verified."""
    from app.models import Organisation, Sector, utcnow
    from app.services import paper
    from app.services.counts import adjust_count, adjust_verified
    from tests.test_paper import admin_recorder, details

    adjust_count(db.session, sector_id("public"), None, 30, utcnow(), postcode_outward="CF10", shard=0)
    adjust_count(db.session, sector_id("public"), None, 4, utcnow(), postcode_outward="M1", shard=0)
    paper.record_tally(db.session, admin_recorder(), details(count=40))
    nurse = db.session.execute(
        select(Signature)
        .join(Sector, Sector.id == Signature.sector_id)
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .where(Sector.slug == "health", Organisation.slug == "neu")
    ).scalar_one()
    nurse.verified_at, nurse.verified_sector_id = utcnow(), nurse.sector_id
    adjust_verified(db.session, nurse, +1, utcnow())
    db.session.commit()
    db.session.remove()


def test_script_cards_for_a_region_and_with_paper_and_verified_lines(
    browser, live, host, tmp_path, places_and_paper, sector_id, artifacts
):
    from playwright.sync_api import expect

    from app.models import utcnow
    from app.services.counts import adjust_count

    (tmp_path / "places.html").write_text(PLACES_PAGE.replace("LIVE", live), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{host}/places.html")

    # A region: the figure /api/v1/regions publishes, or "Fewer than 10" where the rule hides it.
    wales = page.locator("script[data-region] + div")
    expect(wales.locator(".cds-n")).to_have_text("30")
    expect(wales.locator(".cds-who")).to_have_text("people in Wales have signed the pledge")
    assert wales.locator(".cds-sign").get_attribute("href") == f"{live}/#sign"
    north_west = page.locator("#north-west")
    expect(north_west.locator(".cds-n")).to_have_text("Fewer than 10")
    expect(north_west.locator(".cds-who")).to_have_text("people in North West have signed the pledge")
    assert "4" not in north_west.inner_text()
    expect(north_west.locator(".cds-paper")).to_be_hidden()
    expect(north_west.locator(".cds-bar")).to_be_hidden()
    # A region stands alone: with a union too, the card is just the button, as the iframe is a 400.
    mixed = page.locator("#region-and-union")
    expect(mixed.locator(".cds-sign")).to_be_visible()
    expect(mixed.locator(".cds-count")).to_be_hidden()

    # Paper: apart by default, added up when asked, and "N online and M on paper" either way.
    apart, added = page.locator("#apart"), page.locator("#added")
    expect(apart.locator(".cds-n")).to_have_text("3")
    expect(apart.locator(".cds-paper")).to_have_text("3 online and 40 on paper")
    expect(added.locator(".cds-n")).to_have_text("43")
    expect(added.locator(".cds-paper")).to_have_text("3 online and 40 on paper")
    # Verified: only where asked, in the sector's words or, for a union, public-service workers.
    expect(apart.locator(".cds-verified")).to_be_hidden()
    expect(added.locator(".cds-verified")).to_have_text("including 1 verified public-service worker")
    expect(page.locator("#health .cds-verified")).to_have_text("including 1 verified health or care worker")

    # The region cards share one request to the regions API and keep up with it.
    adjust_count(db.session, sector_id("public"), None, 5, utcnow(), postcode_outward="CF10", shard=0)
    db.session.commit()
    expect(wales.locator(".cds-n")).to_have_text("35", timeout=15_000)
    region_calls = [r for r in seen["requests"] if "/api/v1/regions" in r.url]
    first_poll = {r.url for r in region_calls}
    assert first_poll == {f"{live}/api/v1/regions"}

    assert context.cookies() == []
    assert csp_violations(seen) == []
    assert not [m for m in seen["console"] if m.startswith("pageerror")], seen["console"]
    screenshot(page, artifacts / "widget-places-page.png")
    context.close()
