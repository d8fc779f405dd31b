"""Flask commands. They call the same services as the web app."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.cli.export import export
    from app.cli.keys import keys_group
    from app.cli.mail import mail
    from app.cli.maintenance import retention, seed
    from app.cli.milestones import milestones
    from app.cli.organisers import audit_command, organisers_group
    from app.cli.regions import regions
    from app.cli.reminders import reminders
    from app.cli.signing import signing

    for command in (
        seed,
        mail,
        signing,
        organisers_group,
        audit_command,
        retention,
        reminders,
        export,
        keys_group,
        regions,
        milestones,
    ):
        app.cli.add_command(command)
