"""Validation and normalisation of what signers type: emails (for dedup), postcodes, free text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

RULES_FILE = Path(__file__).resolve().parent.parent / "content" / "email_domains.yaml"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
# Full UK postcode (plus the GIR 0AA oddity); outward code is the part before the space.
POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
# Messages are lazy: each is put into the language of the page that shows it.
INVALID_EMAIL = _l("Enter an email address in the correct format, like name@example.com.")
NAME_MAX = 100
# A name is not a place for a link: it is shown to organisers and was once put into emails.
WEB_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:\s*[/\\]{2}|\bhttps?:", re.IGNORECASE)
WEB_HOST = re.compile(r"(?<![\w.-])www\d{0,3}\.", re.IGNORECASE)
DOTTED = re.compile(r"[\w-]+(?:\.[\w-]+)+(/)?")
# Endings that make a dotted word read as a web address ("example.com", "bit.ly"). A two-letter
# ending after a lone initial is a name, not a host: "Y.Li", "K.Im", "J.De".
WEB_ENDINGS = frozenset(
    "com net org info biz xyz top site online shop store club app dev link click live space website tech blog "
    "news page pro vip win work email io co ly me tv cc ws gl gd to tk ml ga cf gq pw sh ai gg im fm uk us eu "
    "de fr nl ru cn su ua".split()
)


class InvalidInput(ValueError):
    """A value a signer typed that we cannot accept; the message is safe to show them."""


@dataclass(frozen=True)
class DomainRule:
    canonical: str
    drop_dots: bool
    drop_plus_tag: bool


@cache
def domain_rules() -> dict[str, DomainRule]:
    """Domain folding rules from content/email_domains.yaml, keyed by every domain they cover."""
    rules: dict[str, DomainRule] = {}
    for entry in yaml.safe_load(RULES_FILE.read_text())["providers"]:
        rule = DomainRule(
            canonical=entry["domains"][0],
            drop_dots=bool(entry.get("drop_dots", False)),
            drop_plus_tag=bool(entry.get("drop_plus_tag", False)),
        )
        for domain in entry["domains"]:
            rules[domain] = rule
    return rules


def clean_text(value: str, *, max_length: int) -> str:
    """Trim, fold tabs and runs of spaces, NFC-normalise; reject other control and invisible characters."""
    value = unicodedata.normalize("NFC", value).replace("\t", " ").strip()
    if CONTROL_CHARS.search(value):
        raise InvalidInput(_l("Remove the hidden or control characters from this answer."))
    if len(value) > max_length:
        raise InvalidInput(_l("This must be %(max)s characters or fewer.", max=max_length))
    return re.sub(r" {2,}", " ", value)


def clean_name(value: str) -> str:
    """A signer's name as we store it; raises InvalidInput with a message for the signer.

    Refuses invisible format characters (Unicode category Cf: zero-width spaces, direction
    overrides), control characters, more than NAME_MAX characters and anything that reads
    as a web address. The one rule for the sign-up form, the confirmation page and the service.
    """
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(char) == "Cf" for char in value):
        raise InvalidInput(_l("Remove the invisible formatting characters (such as zero-width spaces) from your name."))
    value = clean_text(value, max_length=NAME_MAX)
    if not value:
        raise InvalidInput(_l("Enter your name."))
    if _looks_like_web_address(value):
        raise InvalidInput(_l("Enter your name without a web address."))
    return value


def _looks_like_web_address(name: str) -> bool:
    # Compatibility forms fold ("ｅｘａｍｐｌｅ．ｃｏｍ", "example․com"); so does the ideographic full stop.
    probe = unicodedata.normalize("NFKC", name).replace("\u3002", ".")
    if WEB_SCHEME.search(probe) or WEB_HOST.search(probe):
        return True
    for match in DOTTED.finditer(probe):
        labels = match.group(0).casefold().split(".")
        if match.group(1):  # followed by a path: "bit.ly/x"
            return True
        if labels[-1] in WEB_ENDINGS and not (len(labels[-1]) == 2 and len(labels[-2]) == 1):
            return True
    return False


def email_forms(address: str) -> tuple[str, str]:
    """(normalise_email(address), canonical_email(address)) for the price of one; raises InvalidInput."""
    return _normalised_and_canonical(address)


def normalise_email(address: str) -> str:
    """The address to write to: syntax-checked and domain-normalised by email-validator.

    Raises InvalidInput with a message for the signer, also for an address that has no
    canonical form (see canonical_email), so whatever this accepts can be deduplicated.
    """
    return _normalised_and_canonical(address)[0]


def canonical_email(address: str) -> str:
    """The deduplication key's input: one string for every spelling of one mailbox.

    Lower-cases (after Unicode normalisation), maps provider aliases to one domain and,
    where the provider's rule says so, removes dots and +tags from the local part.
    Raises InvalidInput. The result is itself a valid address with the same canonical form.
    """
    return _normalised_and_canonical(address)[1]


def _normalised_and_canonical(address: str) -> tuple[str, str]:
    normalised = _validated(address.strip())
    local, _, domain = normalised.rpartition("@")
    local = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local).casefold())
    domain = domain.casefold()
    rule = domain_rules().get(domain)
    if rule is not None:
        domain = rule.canonical
        if rule.drop_plus_tag:
            local = local.split("+", 1)[0]
        if rule.drop_dots:
            local = local.replace(".", "")
    canonical = f"{local}@{domain}"
    # Folding can leave something that is no address ("+x@gmail.com" -> "@gmail.com";
    # NFKC turns U+00B8 into a space): such a key would be shared by unrelated inputs.
    # (Nothing folded, nothing to check again: email-validator's form is its own normal form.)
    if not local or (canonical != normalised and not _is_normalised_address(canonical)):
        raise InvalidInput(INVALID_EMAIL)
    return normalised, canonical


def _validated(address: str) -> str:
    """email-validator's normalised form of the address; raises InvalidInput."""
    if CONTROL_CHARS.search(address):
        raise InvalidInput(_l("Remove the hidden or control characters from your email address."))
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(INVALID_EMAIL) from None


def _is_normalised_address(value: str) -> bool:
    try:
        return _validated(value) == value
    except InvalidInput:
        return False


def normalise_postcode(value: str) -> tuple[str, str]:
    """Returns (full postcode as 'SW1A 1AA', outward code 'SW1A'); raises InvalidInput."""
    compact = re.sub(r"\s+", "", value).upper()
    if not POSTCODE.match(compact) or len(compact) < 5:
        raise InvalidInput(_l("Enter a full UK postcode, like SW1A 1AA, or leave it blank."))
    full = f"{compact[:-3]} {compact[-3:]}"
    return full, compact[:-3]
