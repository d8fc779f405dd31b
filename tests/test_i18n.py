"""Languages: complete catalogues, a /cy/ twin of every public address, no English left on Welsh
pages, language links, and caches that never mix languages."""

from __future__ import annotations

import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app import content_loader
from app.extensions import db
from app.models import SignatureStatus
from app.services import audit, tokens, updates
from app.services.updates import Audience, unsubscribe_token
from app.services.work_verification import link_token, offer_token
from config import Config

ROOT = Path(__file__).resolve().parent.parent
OTHER_LANGUAGES = Config.LANGUAGES[1:]
WELSH = "cy"


def catalogue(code: str):
    with (ROOT / "app" / "translations" / code / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=code)


# Catalogues -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_message_has_a_translation(code):
    untranslated = []
    for message in catalogue(code):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if "fuzzy" in message.flags or not all(form and form.strip() for form in forms):
            untranslated.append(message.id if isinstance(message.id, str) else message.id[0])
    assert untranslated == []


def not_hidden(path: str) -> bool:
    """As `make messages` walks the tree: every folder but hidden ones (_macros/ included)."""
    return not os.path.basename(path).startswith(".")


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_the_catalogue_holds_every_string_the_code_marks(code):
    """A string marked in a template or module but missing from the catalogue would show in English:
    `make messages` adds it, and the test above then asks for its translation."""
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open(encoding="utf-8"))
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    marked = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, directory_filter=not_hidden
        )
    }
    known = {message.id if isinstance(message.id, str) else message.id[0] for message in catalogue(code)}
    assert sorted(marked - known) == []


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_placeholders_survive_translation(code):
    placeholder = re.compile(r"%\(\w+\)s|\{\w+\}")
    broken = []
    for message in catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        wanted = set().union(*(placeholder.findall(text) for text in ids))
        for text in strings:
            if text and not set(placeholder.findall(text)) <= wanted:
                broken.append((ids[0], text))
    assert broken == []


def test_the_welsh_catalogue_asks_for_review_by_a_fluent_speaker():
    header = (ROOT / "app/translations/cy/LC_MESSAGES/messages.po").read_text(encoding="utf-8").split("msgid", 1)[0]
    assert "fluent Welsh speaker" in header


# Every public address has a Welsh twin ---------------------------------------------------------

# Sample values for each URL variable of the public routes; a new route with a variable not listed
# here fails test_every_public_route_is_covered until it is added.
SAMPLES = {
    "sector_slug": "education",
    "sector": "education",
    "org_slug": "neu",
    "org": "neu",
    "area_slug": "health",
    "region_slug": "wales",
    "region": "wales",
    "kind": "sector",
    "slug": "education",
    "filename": "css/site.css",
}
# Query strings some routes need to show a page rather than a 400.
QUERIES = {
    "widget.oembed": "url=http%3A%2F%2Flocalhost%2Fwidget%2Fsector%2Feducation",
    "posters.flyer": "sector=education",
    "posters.poster": "org=neu",
    "posters.qr_code": "sector=education",
}
# Not pages: answered in the language of their address, but with no words to check.
NOT_HTML = re.compile(r"\.(json|js|svg|png)$|^/api/|^/oembed|^/healthz|^/static/|^/posters/qr|data\.json$")
# Embedded in other sites' pages: they carry lang but no language switch of their own.
EMBEDS = re.compile(r"^/widget/")


def public_rules(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.endpoint.startswith("organiser.")
        ),
        key=lambda rule: rule.rule,
    )


def public_paths(app, keys, signature) -> list[str]:
    """One concrete address for every public GET route (token routes get live tokens)."""
    item = updates.save_draft(
        db.session, audit.Actor(None, "cli"), subject="News", body_markdown="News.", audience=Audience()
    )
    token_values = {
        "pledge.confirm": tokens.make_token(keys.token_key, tokens.CONFIRM, signature.id, signature.token_nonce),
        "pledge.manage": tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce),
        "pledge.manage_download": tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce),
        "pledge.unsubscribe": tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce),
        "pledge.work_email": offer_token(keys, signature),
        "pledge.work_email_verify": link_token(keys, signature, b"k" * 32, int(time.time())),
        "pledge.update_unsubscribe": unsubscribe_token(keys, item.id, signature),
    }
    paths = []
    for rule in public_rules(app):
        values = {name: SAMPLES.get(name) for name in rule.arguments}
        if "token" in rule.arguments:
            values["token"] = token_values[rule.endpoint]
        if "update_id" in rule.arguments:
            values["update_id"] = item.id
        if rule.rule.startswith("/posters/qr"):
            values["kind"] = "svg"
        path = rule.build(values, append_unknown=False)[1]
        paths.append(f"{path}?{QUERIES[rule.endpoint]}" if rule.endpoint in QUERIES else path)
    return sorted(set(paths))


def test_every_public_route_is_covered(app):
    missing = {name for rule in public_rules(app) for name in rule.arguments} - set(SAMPLES) - {"token", "update_id"}
    assert missing == set()


@pytest.fixture
def signer(make_signature):
    return make_signature(email="twin@example.com", sector="health", status=SignatureStatus.CONFIRMED)


def test_every_public_page_has_a_welsh_twin_with_lang_and_links_between_them(app, client, keys, signer):
    problems = {}
    paths = public_paths(app, keys, signer)
    assert len(paths) > 35
    for path in paths:
        english, welsh = client.get(path), client.get(f"/cy{path}")
        found = []
        if english.status_code != 200 or welsh.status_code != 200:
            found.append(f"status {english.status_code}/{welsh.status_code}")
        elif not NOT_HTML.search(path):
            if '<html lang="cy"' not in welsh.text:
                found.append("Welsh page without lang=cy")
            if '<html lang="en-GB"' not in english.text:
                found.append("English page without lang=en-GB")
            if not EMBEDS.search(path):
                base = path.split("?")[0]
                if f'hreflang="cy" href="http://localhost/cy{base}' not in english.text:
                    found.append("no hreflang link to the Welsh page")
                if f'hreflang="en-GB" href="http://localhost{base}' not in welsh.text:
                    found.append("no hreflang link to the English page")
                if not re.search(
                    rf'<a href="/cy{re.escape(base)}[^"]*" hreflang="cy" lang="cy">Cymraeg</a>', english.text
                ):
                    found.append("no switch to Cymraeg")
                if not re.search(
                    rf'<a href="{re.escape(base)}[^"]*" hreflang="en-GB" lang="en-GB">English</a>', welsh.text
                ):
                    found.append("no switch to English")
        if found:
            problems[path] = found
    assert problems == {}, "\n".join(f"{path}: {found}" for path, found in problems.items())


# No English on Welsh pages ---------------------------------------------------------------------


class _Text(HTMLParser):
    """The words a person reads on a page: text nodes and the attributes read aloud or shown."""

    READ_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "value", "content")
    SKIP = ("script", "style", "code", "pre", "textarea")  # code, and embed codes to copy

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        attributes = dict(attrs)
        for name in self.READ_ATTRIBUTES:
            if name == "value" and attributes.get("type") not in ("submit", "button"):
                continue
            if name == "content" and attributes.get("name") != "description":
                continue
            if attributes.get(name):
                self.chunks.append(attributes[name])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.chunks.append(data)


def sentences(html: str) -> set[str]:
    """Runs of at least three words (a sentence, a heading, a button), as a person would read them."""
    parser = _Text()
    parser.feed(html)
    found = set()
    for chunk in parser.chunks:
        for piece in re.split(r"(?<=[.!?:])\s+|\s*[·|–]\s*", " ".join(chunk.split())):
            words = re.findall(r"[A-Za-z’']+", re.sub(r"\S*[./@]\w\S*", "", piece))  # not addresses: nhs.net
            if len(words) >= 3:
                found.add(piece.strip())
    return found


# Words that are the same in both languages: names. The brand, the unions that have no Welsh name
# (their content files give the same name in both), and the organisations the about page credits.
SAME_IN_BOTH = {
    "Care Don't Share",
    *(
        organisation["name"]
        for organisation in content_loader.load_yaml("organisations", "en")
        if content_loader.name_of("organisations", organisation["slug"], WELSH) == organisation["name"]
    ),
    "Bail for Immigration Detainees",
    "Doctors of the World UK",
    "Latin American Women's Rights Service",
    "Room to Heal",
    "Freed Voices",
    "ECPAT UK",
}


def test_welsh_pages_hold_no_english_sentence(app, client, keys, signer):
    """Each Welsh page against its English twin: no sentence of the English page appears on it."""
    problems = {}
    for path in public_paths(app, keys, signer):
        if NOT_HTML.search(path):
            continue
        english, welsh = client.get(path).text, client.get(f"/cy{path}").text
        left = sorted(s for s in sentences(english) if s in welsh and s.rstrip(".:!?") not in SAME_IN_BOTH)
        if left:
            problems[path] = left
    assert problems == {}


def test_the_sentence_finder_finds_what_a_person_reads():
    page = (
        '<p>We never publish names: only counts.</p><button>Sign the pledge</button><a title="Read it all">x</a>'
        '<script>const s = "one two three four";</script><input type="submit" value="Confirm my signature">'
        '<input type="text" value="Ada Lovelace King"><meta name="description" content="About the pledge here">'
    )
    assert sentences(page) == {
        "We never publish names:",
        "Sign the pledge",
        "Read it all",
        "Confirm my signature",
        "About the pledge here",
    }


# The language is in the address, nowhere else -------------------------------------------------


def test_the_prefix_picks_the_language_and_nothing_else_does(client):
    assert '<html lang="cy"' in client.get("/cy/").text
    assert '<html lang="cy"' in client.get("/cy").text
    english = client.get("/", headers={"Accept-Language": "cy"})
    assert '<html lang="en-GB"' in english.text
    client.set_cookie("lang", "cy")
    assert '<html lang="en-GB"' in client.get("/").text
    assert client.get("/en/").status_code == 404  # English has no prefix
    assert client.get("/cymraeg").status_code == 404  # only the exact prefix is a language
    assert client.get("/cy/cy/").status_code == 404


def test_welsh_pages_link_to_welsh_pages(client):
    page = client.get("/cy/").text
    assert 'href="/cy/sign/education"' in page
    assert 'href="/sign/education"' not in page


@pytest.mark.parametrize(
    "path", ["/api/v1/counts", "/widget/sector/education", "/badge/sector/education.svg", "/widget.js"]
)
def test_cached_responses_vary_by_address_only(app, client, path):
    app.config["WIDGET_CACHE_SECONDS"] = 60  # the micro-cache on, as in production
    english = client.get(path)
    welsh = client.get(f"/cy{path}")
    again = client.get(path, headers={"Accept-Language": "cy", "Cookie": "lang=cy"})
    for response in (english, welsh, again):
        assert response.status_code == 200
        assert response.headers.get("Cache-Control", "").startswith("public")
        vary = response.headers.get("Vary", "").lower()
        assert "cookie" not in vary and "accept-language" not in vary
    assert again.data == english.data
    if not path.startswith("/api/"):
        assert welsh.data != english.data  # the Welsh twin is Welsh, not the cached English


def test_form_built_in_messages_follow_the_page_language_and_are_read_once(app):
    """WTForms' own messages ("Not a valid integer value.") in the page's language, from a
    catalogue each process reads once, not on every request (bench/README.md, "Confirmation load")."""
    from flask_babel import force_locale
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField

    from app.forms import Form, wtforms_messages

    class Sample(Form):
        number = IntegerField()

    app.config["WTF_CSRF_ENABLED"] = False
    wtforms_messages.cache_clear()
    errors = {}
    for _round in range(3):
        for language in ("en", WELSH):
            with app.test_request_context("/", method="POST"), force_locale(language):
                form = Sample(formdata=MultiDict({"number": "lots"}))
                assert not form.validate()
                errors[language] = form.number.errors
    assert errors == {"en": ["Not a valid integer value."], WELSH: ["Gwerth integer annilys"]}
    assert wtforms_messages.cache_info().misses == 2  # once per language, whatever the requests
