"""Welsh pages in headless Chromium: axe-core finds no serious problem, and the switch works."""

import pytest

from tests.test_browser import serious_violations

pytestmark = pytest.mark.browser

WELSH_PAGES = [
    "/cy/",
    "/cy/sign/education",
    "/cy/unions/neu",
    "/cy/recommendations",
    "/cy/recommendations/health",
    "/cy/data-sharing",
    "/cy/privacy",
    "/cy/about",
    "/cy/map",
    "/cy/map/wales",
    "/cy/embed",
    "/cy/posters",
    "/cy/organiser/login",
]


def test_welsh_pages_have_no_serious_accessibility_violations(browser, live, mailbox, sign_via_form):
    response = sign_via_form(name="Gwen John", email="gwen@example.com", lang="cy")
    assert response.status_code in (200, 303)
    (message,) = mailbox.messages()
    context = browser.new_context()
    page = context.new_page()
    failures = {}
    for path in [*WELSH_PAGES, mailbox.link(message, "cy/confirm"), mailbox.link(message, "cy/manage")]:
        page.goto(live + path)
        assert page.locator("html").get_attribute("lang") == "cy", path
        failures[path] = serious_violations(page)
    page.goto(f"{live}/cy/sign/education")
    page.locator("form button[type=submit]").last.click()  # empty form: the error state
    assert page.locator(".error-summary, [role=alert]").first.is_visible()
    failures["/cy/sign/education (errors)"] = serious_violations(page)
    context.close()
    assert {path: found for path, found in failures.items() if found} == {}


def test_the_switch_opens_the_same_page_in_the_other_language(browser, live):
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live}/sign/health?org=unison")
    page.get_by_role("link", name="Cymraeg").click()
    expect(page).to_have_url(f"{live}/cy/sign/health?org=unison")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live}/sign/health?org=unison")
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    context.close()
