"""Flask commands: they go through the same audited services as the web pages."""

import json

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent


def test_signing_pause_and_resume_from_the_cli_are_audited(runner):
    assert "paused" in runner.invoke(args=["signing", "pause"]).output
    runner.invoke(args=["signing", "resume"])
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.action == "settings.signing_paused")
        .order_by(AuditEvent.id)
    ).all()
    audited = [(who, json.loads(details)) for who, details in rows]
    assert audited == [("cli", {"paused": True}), ("cli", {"paused": False})]


def test_organisers_list_disable_and_enable(runner, make_account, sign_in):
    admin = make_account()
    rep = make_account("rep@neu.example", "organiser", "neu", totp=False)
    listed = runner.invoke(args=["organisers", "list"]).output.splitlines()
    assert listed[0].split("\t") == ["id", "email", "role", "union", "2fa", "last_sign_in", "disabled"]
    assert listed[1].split("\t")[:5] == [str(admin.id), "admin@example.org", "admin", "-", "on"]
    assert listed[2].split("\t")[:5] == [str(rep.id), "rep@neu.example", "organiser", "neu", "off"]
    assert listed[2].split("\t")[5:] == ["never", "no"]

    assert sign_in(admin).status_code == 303
    result = runner.invoke(args=["organisers", "disable", "ADMIN@example.org"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["organisers", "list"]).output.splitlines()[1].split("\t")[6] != "no"
    assert sign_in(admin).status_code == 400  # disabled: the same failure as any other
    assert runner.invoke(args=["organisers", "disable", str(admin.id)]).exit_code != 0  # already
    assert runner.invoke(args=["organisers", "enable", str(admin.id)]).exit_code == 0
    assert sign_in(admin).status_code == 303
    assert runner.invoke(args=["organisers", "enable", "nobody@example.org"]).exit_code != 0
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.action.in_(["account.disable", "account.enable"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(who, action, json.loads(details)["account_id"]) for who, action, details in rows] == [
        ("cli", "account.disable", admin.id),
        ("cli", "account.enable", admin.id),
    ]


def test_disabling_from_the_cli_signs_the_account_out_at_once(client, runner, make_account, sign_in):
    account = make_account()
    sign_in(account)
    assert client.get("/organiser/").status_code == 200
    runner.invoke(args=["organisers", "disable", account.email])
    response = client.get("/organiser/")
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


def test_reset_2fa_after_a_lost_device(client, runner, make_account, sign_in):
    account = make_account()
    sign_in(account)
    result = runner.invoke(args=["organisers", "reset-2fa", account.email])
    assert result.exit_code == 0, result.output
    assert client.get("/organiser/").status_code == 302  # its sessions ended
    db.session.refresh(account)
    assert not account.totp_enabled and account.totp_secret_encrypted is None
    # the next sign-in asks for no code and goes through set-up again
    assert sign_in(account).headers["Location"].endswith("/organiser/account/two-factor")
    assert client.get("/organiser/").headers["Location"].endswith("/organiser/account/two-factor")
    (event,) = db.session.execute(select(AuditEvent).where(AuditEvent.action == "account.totp_reset")).scalars()
    assert event.actor == "cli" and json.loads(event.details) == {"account_id": account.id, "sessions_ended": 1}
