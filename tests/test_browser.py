"""The whole journey in headless Chromium, and axe-core accessibility checks."""

import pytest

pytestmark = pytest.mark.browser


def serious_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_sign_confirm_and_watch_the_count_rise_in_another_tab(browser, live, mailbox):
    from playwright.sync_api import expect

    context = browser.new_context()
    watcher = context.new_page()
    requested = []
    watcher.on("request", lambda request: requested.append(request.url))
    watcher.goto(f"{live}/")
    total = watcher.locator('[data-count="total"]')
    before = int(total.inner_text().replace(",", ""))
    watcher.evaluate("window.notReloaded = true")

    signer = context.new_page()
    signer.goto(f"{live}/")
    signer.get_by_role("link", name="Education").first.click()
    signer.get_by_label("Full name", exact=True).fill("Rosalind Franklin")
    signer.get_by_label("Email address", exact=True).fill("rosalind@example.com")
    signer.get_by_label("Postcode (optional)").fill("cb2 1tn")
    signer.get_by_role("button", name="Sign the pledge").click()
    expect(signer.get_by_role("heading", level=1)).to_have_text("Check your email")

    (message,) = mailbox.messages()
    signer.goto(live + mailbox.link(message, "confirm"))
    expect(total).to_have_text(f"{before:,}")  # opening the link confirms nothing
    signer.get_by_role("button", name="Confirm my signature").click()
    expect(signer.get_by_role("heading", level=1)).to_contain_text("confirmed")

    expect(total).to_have_text(f"{before + 1:,}", timeout=15_000)
    assert watcher.evaluate("window.notReloaded") is True
    assert requested and all(url.startswith(live) for url in requested)  # no third-party requests
    context.close()


def test_signing_works_with_javascript_off(browser, live):
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live}/sign/health")
    page.get_by_label("Full name", exact=True).fill("Mary Seacole")
    page.get_by_label("Email address", exact=True).fill("not an email")
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    page.get_by_label("Email address", exact=True).fill("mary@example.com")
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    context.close()


def test_pages_have_no_serious_accessibility_violations(browser, live, mailbox, make_signup):
    make_signup(email="axe@example.com")
    (message,) = mailbox.messages()
    context = browser.new_context()
    page = context.new_page()
    failures = {}
    paths = [
        "/",
        "/sign/education",
        "/recommendations",
        "/recommendations/health",
        "/unions/neu",
        "/data-sharing",
        mailbox.link(message, "confirm"),
        mailbox.link(message, "manage"),
    ]
    for path in paths:
        page.goto(live + path)
        failures[path] = serious_violations(page)
    page.goto(f"{live}/sign/education")
    page.get_by_role("button", name="Sign the pledge").click()  # empty form: the error state
    failures["/sign/education (errors)"] = serious_violations(page)
    context.close()
    assert {path: found for path, found in failures.items() if found} == {}


def test_organiser_signs_in_views_dashboard_and_downloads_an_export(browser, live, app, keys, make_signature, tmp_path):
    import pyotp
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import SignatureStatus
    from app.services import organisers, two_factor

    make_signature(email="exported@example.com", name="Exported Person", status=SignatureStatus.CONFIRMED)
    account = organisers.create_organiser(db.session, "staff@example.org", "admin")
    password = "a long enough passphrase"
    organisers.set_password(
        db.session, keys, organisers.password_link_token(keys, account), password, max_age_seconds=60, min_length=12
    )
    secret = two_factor.begin_totp_setup(db.session, keys, account)
    account.totp_enabled = True
    db.session.commit()

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live}/organiser/")
    page.get_by_label("Email address").fill("staff@example.org")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("svg.chart")).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_role("link", name="Exports").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "export.csv"
    download_info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert "exported@example.com" in text and "Exported Person" in text
    context.close()
