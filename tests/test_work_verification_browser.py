"""Verifying with a work email in headless Chromium: sign, confirm, take the thank-you page's offer,
give a work address, open the link from the mail, press the button, see the verified count; with
axe-core on every page of the journey."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_a_health_worker_verifies_with_a_work_email(browser, live, mailbox):
    from playwright.sync_api import expect

    from tests.test_browser import serious_violations

    context = browser.new_context()
    page = context.new_page()
    failures: dict[str, list[str]] = {}

    def check(name: str) -> None:
        failures[name] = serious_violations(page)

    page.goto(f"{live}/sign/health")
    page.get_by_label("Full name", exact=True).fill("Florence Nightingale")
    page.get_by_label("Email address", exact=True).fill("florence@example.com")
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    (confirmation,) = [m for m in mailbox.messages() if "florence@example.com" in m["To"]]
    page.goto(live + mailbox.link(confirmation, "confirm"))
    page.get_by_role("button", name="Confirm my signature").click()

    # The thank-you page offers verification for the signer's sector.
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your signature is confirmed")
    expect(page.get_by_role("heading", name="Do you work in health and care?")).to_be_visible()
    check("thank-you page with the offer")
    page.get_by_role("link", name="Verify with your work email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Do you work in health and care? Verify with your work email"
    )
    assert re.search(r"/work-email/[^/]+$", page.url), page.url
    check("/work-email/<token>")

    # A domain outside the sector's rules: a clear message, and nothing sent.
    page.get_by_label("Work email address").fill("florence@nhs.net.evil.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator(".error-summary, [role=alert]").first).to_be_visible()
    assert page.title().startswith("Error: ")
    check("/work-email/<token> (refused domain)")
    assert not [m for m in mailbox.messages() if "nhs.net" in m["To"]]

    page.get_by_label("Work email address").fill("Florence.Nightingale@NHS.net")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your work email")
    check("/work-email/<token> (sent)")

    # The link from the mail opens a page with a button; only the POST verifies.
    (work_mail,) = [m for m in mailbox.messages() if "nhs.net" in m["To"].lower()]
    page.goto(live + mailbox.link(work_mail, "work-email/verify"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify that you work in health and care")
    check("/work-email/verify/<token>")
    page.get_by_role("button", name="Verify my work email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: your signature is verified")
    check("verified")

    # The count shows it: on the home page and in the API.
    page.goto(f"{live}/")
    expect(page.locator(".count-verified")).to_contain_text("including 1 verified")
    health = next(s for s in page.request.get(f"{live}/api/v1/counts").json()["sectors"] if s["slug"] == "health")
    assert (health["count"], health["verified"]) == (1, 1)
    # And on the card, when the partner asks for it.
    page.goto(f"{live}/widget/sector/health?verified=show")
    expect(page.locator(".cds-verified")).to_have_text("including 1 verified health or care worker")
    check("/widget/sector/health?verified=show")

    assert {name: found for name, found in failures.items() if found} == {}
    context.close()
