"""Link tokens: unguessable, tamper-evident, expiring, revocable."""

import pytest

from app.services import tokens

KEY = b"k" * 32
NONCE = b"n" * 16


def test_round_trip():
    token = tokens.make_token(KEY, tokens.CONFIRM, 42, NONCE, now=1000)
    parsed = tokens.parse_token(token)
    assert parsed.signature_id == 42
    tokens.verify_token(KEY, tokens.CONFIRM, parsed, NONCE, max_age_seconds=60, now=1030)


def test_tampered_id_purpose_nonce_or_key_fail():
    token = tokens.make_token(KEY, tokens.CONFIRM, 42, NONCE)
    forged = "2b" + token[2:]  # same MAC, another id
    with pytest.raises(tokens.BadToken):
        tokens.verify_token(KEY, tokens.CONFIRM, tokens.parse_token(forged), NONCE, None)
    parsed = tokens.parse_token(token)
    for key, purpose, nonce in [
        (b"x" * 32, tokens.CONFIRM, NONCE),
        (KEY, tokens.MANAGE, NONCE),
        (KEY, tokens.CONFIRM, b"o" * 16),
    ]:
        with pytest.raises(tokens.BadToken):
            tokens.verify_token(key, purpose, parsed, nonce, None)


def test_expired_token_fails_with_reason():
    parsed = tokens.parse_token(tokens.make_token(KEY, tokens.CONFIRM, 1, NONCE, now=1000))
    with pytest.raises(tokens.BadToken, match="expired"):
        tokens.verify_token(KEY, tokens.CONFIRM, parsed, NONCE, max_age_seconds=60, now=1061)


@pytest.mark.parametrize(
    "junk", ["", "abc", "1.2", "1.2.3.4", "zz.10.AAAA", "1.2." + "A" * 42, "1.2." + "!" * 43, "1" * 200]
)
def test_malformed_tokens_are_bad_not_errors(junk):
    with pytest.raises(tokens.BadToken):
        tokens.parse_token(junk)
