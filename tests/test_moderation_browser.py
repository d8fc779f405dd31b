"""Moderation in headless Chromium: on a 375-pixel phone screen, and with JavaScript off."""

import re

import pytest

from tests.organisers import PASSWORD, next_code
from tests.test_browser import serious_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def sign_in(page, live, keys, account):
    from playwright.sync_api import expect

    page.goto(f"{live}/organiser/login")
    page.get_by_label("Email address").fill(account.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(next_code(keys, account))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_moderation_fits_a_phone_and_the_row_menu_reveals_one_row(
    browser, live, keys, make_account, make_signup, javascript
):
    from playwright.sync_api import expect

    for n in range(55):
        make_signup(
            email=f"a.rather.long.address.number{n:02}@a-long-organisation-name.example",
            name=f"Bartholomew Featherstonehaugh-Smythe{n:02}",
            source="a-long-campaign-source-code",
        )
    account = make_account()
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    sign_in(page, live, keys, account)

    page.goto(f"{live}/organiser/moderation?source=a-long-campaign-source-code")
    expect(page.get_by_role("heading", level=2)).to_have_text("Showing 1–50 of 55")
    expect(page.get_by_text("a*****@a-long-organisation-name.example").first).to_be_visible()
    assert "a.rather.long.address" not in page.content()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")

    if javascript:  # axe runs as a script in the page
        assert serious_violations(page) == []

    row = page.locator("table.results tbody tr").first
    reveal = row.get_by_role("button", name="Reveal name and email")
    expect(reveal).to_be_hidden()  # folded away until the row's menu is opened
    row.locator("summary").click()
    expect(reveal).to_be_visible()
    expect(row.get_by_role("button", name=re.compile("^Delete"))).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    reveal.click()

    expect(page.get_by_role("heading", name="Sign-up #55 in full")).to_be_visible()
    expect(page.get_by_text("a.rather.long.address.number54@a-long-organisation-name.example")).to_be_visible()
    expect(page.get_by_text("Bartholomew Featherstonehaugh-Smythe54")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    if javascript:
        assert serious_violations(page) == []
    page.get_by_role("link", name="Back to the list").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Showing 1–50 of 55")
    context.close()
