"""Run-time switches stored in the database, so every app process sees the same value."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import SiteSetting, utcnow
from app.services import audit

SIGNING_PAUSED = "signing_paused"


def signing_paused(session: Session) -> bool:
    value = session.execute(select(SiteSetting.value).where(SiteSetting.key == SIGNING_PAUSED)).scalar()
    return value == "1"


def set_signing_paused(session: Session, actor: audit.Actor, paused: bool) -> None:
    """Pause or resume signing site-wide (counts and the API keep working).

    Records a settings.signing_paused audit event and commits it with the switch.
    """
    setting = session.get(SiteSetting, SIGNING_PAUSED) or SiteSetting(key=SIGNING_PAUSED)
    setting.value = "1" if paused else "0"
    setting.updated_at = utcnow()
    session.add(setting)
    audit.record(session, actor, "settings.signing_paused", paused=paused)
    session.commit()
