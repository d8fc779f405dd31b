"""Personal data is encrypted at rest, and nothing personal reaches the logs."""

import logging

from sqlalchemy import text

from app.extensions import db
from tests.forms import csrf_token

NAME = "Zebedee Quixotic-Marchbanks"
EMAIL = "zebedee.quixotic@example.org"


def _raw_dump() -> str:
    """Every value in every table, as text, the way a stolen dump would see it."""
    values = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    values.append(str(value))
    return "\n".join(values).lower()


def test_database_rows_hold_no_plaintext_name_or_email(client, sign_via_form, mailbox, keys, confirm_via_page):
    sign_via_form(name=NAME, email=EMAIL, postcode="SW1A 1AA", organisation="neu")
    confirm = mailbox.link(mailbox.messages()[0], "confirm")
    assert confirm_via_page(confirm, name=NAME, consent_share_union="y").status_code == 303
    dump = _raw_dump()
    assert "zebedee" not in dump and "quixotic" not in dump and "example.org" not in dump
    assert "1aa" not in dump  # only the outward code is kept
    assert "sw1a" in dump
    # ...yet the service can still read it back with the key
    message = mailbox.messages()[0]
    assert message["To"] == EMAIL


def test_logs_hold_no_names_emails_or_ips(client, sign_via_form, mailbox, caplog, confirm_via_page):
    caplog.set_level(logging.DEBUG)
    page = client.get("/sign/education", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    client.post(
        "/sign/education",
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
        data={"name": NAME, "email": EMAIL, "csrf_token": csrf_token(page.text)},
    )
    message = mailbox.messages()[0]
    confirm = mailbox.link(message, "confirm")
    assert confirm_via_page(confirm).status_code == 303
    manage = mailbox.link(message, "manage")
    client.post(f"{manage}/withdraw", data={"csrf_token": csrf_token(client.get(manage).text)})
    logged = "\n".join(r.getMessage() for r in caplog.records).lower()
    assert all(step in logged for step in ["signature created", "confirmed", "withdrawn"])  # the journey was logged...
    for secret in ["zebedee", "quixotic", "example.org", "203.0.113"]:
        assert secret not in logged  # ...without anything personal
