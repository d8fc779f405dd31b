"""Encryption at rest: AES-GCM for new values, Fernet values from before still open, and key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from app.extensions import db
from app.models import Signature
from app.services.crypto import GCM_VERSION, InvalidToken, PersonalDataCipher
from app.services.key_rotation import ENCRYPTED, rotate_keys
from app.services.keys import Keys

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_new_values_are_sealed_with_aes_gcm_and_open_again():
    cipher = PersonalDataCipher(OLD, "index")
    sealed = cipher.encrypt("Siân Öztürk")
    assert sealed[:1] == GCM_VERSION and b"Si" not in sealed
    assert cipher.decrypt(sealed) == "Siân Öztürk"
    assert cipher.encrypt("Siân Öztürk") != sealed  # a fresh nonce every time
    assert cipher.is_current(sealed)


def test_fernet_values_written_before_still_open():
    legacy = Fernet(OLD).encrypt(b"ada@example.com")
    cipher = PersonalDataCipher(OLD, "index")
    assert cipher.decrypt(legacy) == "ada@example.com"
    assert not cipher.is_current(legacy)


@pytest.mark.parametrize("flip", [0, 1, 5, 17, -1])
def test_a_tampered_or_foreign_value_does_not_open(flip):
    cipher = PersonalDataCipher(OLD, "index")
    sealed = bytearray(cipher.encrypt("ada@example.com"))
    if flip:  # the key id, the nonce, the ciphertext or the tag
        sealed[flip] ^= 1
        with pytest.raises(InvalidToken):
            cipher.decrypt(bytes(sealed))
    with pytest.raises(InvalidToken):
        PersonalDataCipher(NEW, "index").decrypt(cipher.encrypt("ada@example.com"))


def test_the_first_key_seals_and_every_key_opens():
    old_only = PersonalDataCipher(OLD, "index")
    rotated = PersonalDataCipher(f"{NEW},{OLD}", "index")
    sealed_before = old_only.encrypt("ada@example.com")
    assert rotated.decrypt(sealed_before) == "ada@example.com"
    assert not rotated.is_current(sealed_before)
    resealed = rotated.reseal(sealed_before)
    assert rotated.is_current(resealed) and PersonalDataCipher(NEW, "index").decrypt(resealed) == "ada@example.com"
    with pytest.raises(InvalidToken):
        old_only.decrypt(resealed)


def _raw_signatures() -> list[tuple]:
    return db.session.execute(text("SELECT id, email_encrypted, name_encrypted FROM signature ORDER BY id")).all()


def test_flask_keys_rotate_reseals_every_value_under_the_new_key(app, runner, make_signup, confirm, keys):
    for i in range(5):
        make_signup(email=f"rotate{i}@example.com", name=f"Rotate {i}")
    confirm(db.session.execute(select(Signature)).scalars().first())
    # Two rows as they were written before AES-GCM: Fernet under the old key.
    fernet = Fernet(app.config["ENCRYPTION_KEY"].split(",")[0])
    legacy_ids = [row.id for row in _raw_signatures()[:2]]
    for signature_id in legacy_ids:
        db.session.execute(
            text("UPDATE signature SET email_encrypted = :e WHERE id = :id"),
            {"e": fernet.encrypt(f"legacy{signature_id}@example.com".encode()), "id": signature_id},
        )
    db.session.commit()
    before = _raw_signatures()

    old_key = app.config["ENCRYPTION_KEY"]
    app.config["ENCRYPTION_KEY"] = f"{NEW},{old_key}"
    app.extensions["care_keys"] = Keys.from_config(app.config)
    result = runner.invoke(args=["keys", "rotate", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "Re-sealed 10 values" in result.output and "signature.email_encrypted: 5" in result.output

    after = _raw_signatures()
    new_only = PersonalDataCipher(NEW, "index")
    for (_, email_before, name_before), (signature_id, email, name) in zip(before, after, strict=True):
        assert email != email_before and name != name_before
        opened = new_only.decrypt(email)
        assert opened == (f"legacy{signature_id}@example.com" if signature_id in legacy_ids else opened)
        assert new_only.decrypt(name).startswith("Rotate")
    # Run again: nothing left to do.
    again = runner.invoke(args=["keys", "rotate"])
    assert again.exit_code == 0 and "Re-sealed 0 values; 10 were already under the first key" in again.output


def test_rotation_reports_values_no_key_opens_and_leaves_them(app, runner, make_signup):
    make_signup(email="lost@example.com")
    app.config["ENCRYPTION_KEY"] = NEW  # the key that sealed it is gone
    app.extensions["care_keys"] = Keys.from_config(app.config)
    before = _raw_signatures()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 1 and "could not be opened with any configured key" in result.output
    assert _raw_signatures() == before


def test_every_encrypted_column_is_rotated():
    """A column added later that holds ciphertext must be added to ENCRYPTED, or rotation misses it."""
    covered = {(table.name, column) for table, columns in ENCRYPTED for column in columns}
    encrypted = {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    }
    assert encrypted == covered and ("signature", "name_encrypted") in covered


def test_rotation_leaves_a_value_changed_meanwhile(app, make_signup, keys):
    """Each value is replaced only if it is still the one read: a confirmation racing the
    rotation keeps the name it wrote."""
    make_signup(email="race@example.com")
    cipher = PersonalDataCipher(f"{NEW},{app.config['ENCRYPTION_KEY']}", "index")
    signature_id, email, name = _raw_signatures()[0]
    changes = []

    class Interleaved(PersonalDataCipher):
        def reseal(self, token):
            if not changes:  # between the rotation's read and its write, someone confirms
                changes.append(1)
                db.session.execute(
                    text("UPDATE signature SET name_encrypted = :n WHERE id = :id"),
                    {"n": keys.cipher.encrypt("Corrected Name"), "id": signature_id},
                )
            return super().reseal(token)

    racing = Interleaved.__new__(Interleaved)
    racing.__dict__.update(cipher.__dict__)
    rotate_keys(db.session, racing)
    _, email_after, name_after = _raw_signatures()[0]
    assert cipher.is_current(email_after)
    assert cipher.decrypt(name_after) == "Corrected Name"
