"""Email canonicalisation (the dedup key's input), postcodes and free text."""

import pytest

from app.services.normalise import (
    InvalidInput,
    canonical_email,
    clean_text,
    normalise_email,
    normalise_postcode,
)


@pytest.mark.parametrize(
    "variant",
    [
        "ada.lovelace@gmail.com",
        "AdaLovelace@GMAIL.com",
        "a.d.a.l.o.v.e.l.a.c.e@googlemail.com",
        "ada.lovelace+pledge@gmail.com",
        "  Ada.Lovelace+news@GoogleMail.COM ",
    ],
)
def test_gmail_variants_fold_to_one_key(variant):
    assert canonical_email(variant) == "adalovelace@gmail.com"


def test_dots_matter_outside_gmail():
    assert canonical_email("ada.lovelace@example.com") != canonical_email("adalovelace@example.com")


def test_plus_tags_fold_only_where_the_provider_rule_says():
    assert canonical_email("ada+x@outlook.com") == "ada@outlook.com"
    assert canonical_email("ada+x@example.com") == "ada+x@example.com"


def test_case_and_unicode_forms_fold():
    composed = "jos\u00e9@example.com"
    decomposed = "jose\u0301@EXAMPLE.com"
    assert canonical_email(composed) == canonical_email(decomposed)


def test_internationalised_domain_normalised():
    assert canonical_email("ada@BÜCHER.example") == canonical_email("ada@bücher.example")


def test_canonical_email_is_idempotent():
    once = canonical_email("A.Da+tag@GoogleMail.com")
    assert canonical_email(once) == once


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "ada@exa mple.com",
        "ada\u200b@example.com",
        "ada@exa\nmple.com",
    ],
)
def test_invalid_addresses_rejected_with_a_message(bad):
    with pytest.raises(InvalidInput, match="email address"):
        canonical_email(bad)


def test_normalise_email_keeps_the_deliverable_spelling():
    assert normalise_email("Ada.Lovelace+x@GMAIL.COM") == "Ada.Lovelace+x@gmail.com"


@pytest.mark.parametrize(
    ("typed", "full", "outward"),
    [
        ("sw1a1aa", "SW1A 1AA", "SW1A"),
        (" m1 1ae ", "M1 1AE", "M1"),
        ("EC1A 1BB", "EC1A 1BB", "EC1A"),
        ("b33 8th", "B33 8TH", "B33"),
        ("GIR 0AA", "GIR 0AA", "GIR"),
    ],
)
def test_postcodes_normalised_to_full_and_outward(typed, full, outward):
    assert normalise_postcode(typed) == (full, outward)


@pytest.mark.parametrize("bad", ["SW1A", "12345", "ZZZZ ZZZ", "SW1A 1AA1", "<script>"])
def test_bad_postcodes_rejected(bad):
    with pytest.raises(InvalidInput, match="postcode"):
        normalise_postcode(bad)


def test_clean_text_rejects_control_characters_and_folds_space():
    assert clean_text("  Ada \t  Lovelace ", max_length=100) == "Ada Lovelace"
    with pytest.raises(InvalidInput):
        clean_text("Ada\x00", max_length=100)
    with pytest.raises(InvalidInput):
        clean_text("Ada\u202eecalevoL", max_length=100)
    with pytest.raises(InvalidInput):
        clean_text("x" * 101, max_length=100)
