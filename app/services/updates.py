"""Updates to signers: write, preview, test, send in bulk, pause, cancel, follow, and unsubscribe from one."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from sqlalchemy import ColumnElement, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.models import (
    CampaignUpdate,
    CampaignUpdateText,
    MailPriority,
    Organisation,
    OutboxMessage,
    Sector,
    Signature,
    SignatureStatus,
    UpdateStatus,
    utcnow,
)
from app.services import audit, tokens
from app.services.keys import Keys
from app.services.outbox import SKIPPED
from app.services.signing import signature_for_token

log = logging.getLogger(__name__)

UPDATE_EMAIL = "update"
UPDATE_TEST_EMAIL = "update_test"
CANCELLED = "cancelled"


class UpdateNotFound(LookupError):
    pass


class UpdateNotEditable(ValueError):
    """Only a draft can be changed or test-sent as a draft; the message is safe to show."""


@dataclass(frozen=True)
class Audience:
    """Who an update goes to: confirmed signers who asked for updates, narrowed by these filters (None: all).

    To add a filter (region, verified status): a field here, a column on CampaignUpdate, and a
    condition in audience_conditions. Nothing else reads the filters.
    """

    sector_id: int | None = None
    organisation_id: int | None = None

    @classmethod
    def of(cls, item: CampaignUpdate) -> Audience:
        return cls(sector_id=item.sector_id, organisation_id=item.organisation_id)


def wants_updates() -> list[ColumnElement[bool]]:
    """A signature that may be sent an update now: confirmed, consenting, not anonymised."""
    return [
        Signature.status == SignatureStatus.CONFIRMED,
        Signature.consent_updates.is_(True),
        Signature.anonymised_at.is_(None),
    ]


def audience_conditions(audience: Audience) -> list[ColumnElement[bool]]:
    conditions = wants_updates()
    if audience.sector_id is not None:
        conditions.append(Signature.sector_id == audience.sector_id)
    if audience.organisation_id is not None:
        conditions.append(Signature.organisation_id == audience.organisation_id)
    return conditions


def audience_size(session: Session, audience: Audience) -> int:
    """Exact: only admins see it."""
    return session.execute(
        select(func.count()).select_from(Signature).where(*audience_conditions(audience))
    ).scalar_one()


# No images: an email must not need anything loaded to read (an image's Markdown becomes a link to it).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


@lru_cache(maxsize=32)
def render_body(markdown: str) -> str:
    """The body as HTML: CommonMark, with any raw HTML shown as text, unsafe link schemes refused, no images."""
    return _markdown.render(markdown)


def audience_choices(session: Session) -> tuple[list, list]:
    """Every sector and every union (rows with id, slug and name), in display order, for narrowing an audience."""
    return tuple(  # type: ignore[return-value]
        list(session.execute(select(model.id, model.slug, model.name).order_by(model.position)))
        for model in (Sector, Organisation)
    )


def translation(item: CampaignUpdate, language: str) -> CampaignUpdateText | None:
    """The update's own words in `language`, if it was written in it (never for the default
    language, whose words are the update's subject and body_markdown)."""
    return next((text for text in item.texts if text.language == language), None)


def _set_translations(item: CampaignUpdate, translations: Mapping[str, tuple[str, str]]) -> None:
    """Keep a version for each language given both a subject and a body; drop the others."""
    existing = {text.language: text for text in item.texts}
    kept = []
    for language, (subject, body_markdown) in sorted(translations.items()):
        if not (subject.strip() and body_markdown.strip()):
            continue
        text = existing.get(language) or CampaignUpdateText(language=language)
        text.subject, text.body_markdown = subject.strip(), body_markdown
        kept.append(text)
    item.texts = kept


def get_update(session: Session, update_id: int) -> CampaignUpdate:
    item = session.get(CampaignUpdate, update_id)
    if item is None:
        raise UpdateNotFound(update_id)
    return item


def list_updates(session: Session) -> list[CampaignUpdate]:
    return list(session.execute(select(CampaignUpdate).order_by(CampaignUpdate.id.desc())).scalars())


def save_draft(
    session: Session,
    actor: audit.Actor,
    *,
    subject: str,
    body_markdown: str,
    audience: Audience,
    update_id: int | None = None,
    translations: Mapping[str, tuple[str, str]] | None = None,
) -> CampaignUpdate:
    """Create a draft, or change one (UpdateNotEditable once it is queued); audited; commits.

    translations: {language: (subject, body_markdown)} for languages other than the default; a
    language missing or with an empty subject or body has no version (its signers get the
    default's words). None leaves the versions as they are.
    """
    if update_id is None:
        item = CampaignUpdate(created_by_id=actor.organiser_id)
        session.add(item)
    else:
        item = get_update(session, update_id)
        if item.status != UpdateStatus.DRAFT:
            raise UpdateNotEditable(_l("This update has been sent, so it can no longer be changed."))
    item.subject = subject.strip()
    item.body_markdown = body_markdown
    item.sector_id = audience.sector_id
    item.organisation_id = audience.organisation_id
    if translations is not None:
        _set_translations(item, translations)
    session.flush()
    audit.record(
        session,
        actor,
        "update.draft_saved",
        update_id=item.id,
        sector_id=audience.sector_id,
        organisation_id=audience.organisation_id,
        languages=[text.language for text in item.texts],
    )
    session.commit()
    return item


def send_test(session: Session, actor: audit.Actor, update_id: int) -> None:
    """Queue the update to the acting organiser's own address, ahead of bulk mail; audited; commits."""
    item = get_update(session, update_id)
    session.add(
        OutboxMessage(
            organiser_id=actor.organiser_id,
            update_id=item.id,
            kind=UPDATE_TEST_EMAIL,
            priority=MailPriority.TRANSACTIONAL,
        )
    )
    audit.record(session, actor, "update.test_sent", update_id=item.id)
    session.commit()


def queue_update(session: Session, actor: audit.Actor, update_id: int) -> int:
    """Send: one outbox row per recipient, in one INSERT ... SELECT; returns how many were queued.

    Idempotent: only the transaction that moves the update from draft to sending queues
    anything (a second press finds it sending and returns the same number), and the unique
    (update_id, signature_id) constraint holds whatever happens. The rows carry no personal
    data: the worker reads each signature, and checks its consent again, at send time.
    """
    item = get_update(session, update_id)
    now = utcnow()
    moved = session.execute(
        update(CampaignUpdate)
        .where(CampaignUpdate.id == update_id, CampaignUpdate.status == UpdateStatus.DRAFT)
        .values(status=UpdateStatus.SENDING, queued_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        session.rollback()
        return get_update(session, update_id).recipients
    recipients = select(
        Signature.id,
        literal(update_id),
        literal(UPDATE_EMAIL),
        literal(int(MailPriority.BULK)),
        literal(now, type_=OutboxMessage.created_at.type),
        literal(now, type_=OutboxMessage.next_attempt_at.type),
        literal(0),
    ).where(*audience_conditions(Audience.of(item)))
    session.execute(
        insert(OutboxMessage).from_select(
            ["signature_id", "update_id", "kind", "priority", "created_at", "next_attempt_at", "attempts"],
            recipients,
        )
    )
    # Counted rather than taken from rowcount, which psycopg's driver reports as -1 here.
    queued = session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.update_id == update_id, OutboxMessage.kind == UPDATE_EMAIL)
    ).scalar_one()
    session.execute(
        update(CampaignUpdate)
        .where(CampaignUpdate.id == update_id)
        .values(recipients=queued)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, actor, "update.sent", update_id=update_id, recipients=queued)
    session.commit()
    session.expire(item)
    log.info("update id=%s queued for %s recipients", update_id, queued)
    return queued


def _change_status(
    session: Session, actor: audit.Actor, update_id: int, frm: tuple[UpdateStatus, ...], to: UpdateStatus, action: str
) -> bool:
    get_update(session, update_id)
    changed = session.execute(
        update(CampaignUpdate)
        .where(CampaignUpdate.id == update_id, CampaignUpdate.status.in_(frm))
        .values(status=to)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        if to == UpdateStatus.CANCELLED:
            # What has not gone out never will; kept, marked, for the record. A batch a worker
            # holds right now is waited for, and what it sent stays sent.
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.update_id == update_id,
                    OutboxMessage.kind == UPDATE_EMAIL,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.failed_at.is_(None),
                )
                .values(failed_at=utcnow(), last_error=SKIPPED + CANCELLED)
                .execution_options(synchronize_session=False)
            )
        audit.record(session, actor, action, update_id=update_id)
    session.commit()
    session.expire_all()
    return bool(changed)


def pause_update(session: Session, actor: audit.Actor, update_id: int) -> bool:
    """Workers leave a paused update's mail until it is resumed; audited. False if it was not sending."""
    return _change_status(session, actor, update_id, (UpdateStatus.SENDING,), UpdateStatus.PAUSED, "update.paused")


def resume_update(session: Session, actor: audit.Actor, update_id: int) -> bool:
    return _change_status(session, actor, update_id, (UpdateStatus.PAUSED,), UpdateStatus.SENDING, "update.resumed")


def cancel_update(session: Session, actor: audit.Actor, update_id: int) -> bool:
    """Nothing more of it is sent; audited. False if it was not sending or paused."""
    return _change_status(
        session,
        actor,
        update_id,
        (UpdateStatus.SENDING, UpdateStatus.PAUSED),
        UpdateStatus.CANCELLED,
        "update.cancelled",
    )


@dataclass(frozen=True)
class Progress:
    status: str
    recipients: int
    sent: int
    failed: int
    not_sent: int  # withdrawn consent or signature before its turn, or cancelled
    waiting: int
    unsubscribed: int

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.not_sent

    @property
    def percent(self) -> int:
        return 100 if not self.recipients else int(100 * self.done / self.recipients)

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "not_sent": self.not_sent,
            "waiting": self.waiting,
            "unsubscribed": self.unsubscribed,
            "percent": self.percent,
        }


def progress(session: Session, update_id: int) -> Progress:
    """How far an update's sending has got, from its outbox rows (one grouped query)."""
    item = get_update(session, update_id)
    skipped = OutboxMessage.last_error.like(f"{SKIPPED}%")
    state = case(
        (OutboxMessage.sent_at.is_not(None), "sent"),
        (OutboxMessage.failed_at.is_not(None) & skipped, "not_sent"),
        (OutboxMessage.failed_at.is_not(None), "failed"),
        else_="waiting",
    )
    counts = dict(
        session.execute(
            select(state, func.count())
            .where(OutboxMessage.update_id == update_id, OutboxMessage.kind == UPDATE_EMAIL)
            .group_by(state)
        ).all()
    )
    return Progress(
        status=str(item.status),
        recipients=item.recipients,
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        # Recipients whose signature was withdrawn (erased, its mail with it) count as not sent.
        not_sent=counts.get("not_sent", 0) + max(0, item.recipients - sum(counts.values())),
        waiting=counts.get("waiting", 0),
        unsubscribed=item.unsubscribed,
    )


def unsubscribe_purpose(update_id: int) -> str:
    """Tokens in an update's unsubscribe link are bound to that update, so it can count them."""
    return f"unsubscribe-update-{update_id}"


def unsubscribe_token(keys: Keys, update_id: int, signature: Signature) -> str:
    return tokens.make_token(keys.token_key, unsubscribe_purpose(update_id), signature.id, signature.token_nonce)


def check_unsubscribe_token(session: Session, keys: Keys, update_id: int, token: str) -> None:
    """Raises tokens.BadToken unless the link is one we sent for this update to a signature that still exists."""
    signature_for_token(session, keys, unsubscribe_purpose(update_id), token)


def unsubscribe(session: Session, keys: Keys, update_id: int, token: str) -> bool:
    """One-click unsubscribe from an update's email: that signature's consent_updates off, nothing else.

    Counted on the update once per signature that was still subscribed; returns whether this
    call turned it off. Raises tokens.BadToken. Commits.
    """
    signature = signature_for_token(session, keys, unsubscribe_purpose(update_id), token)
    changed = session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.consent_updates.is_(True))
        .values(consent_updates=False, consents_updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        session.execute(
            update(CampaignUpdate)
            .where(CampaignUpdate.id == update_id)
            .values(unsubscribed=CampaignUpdate.unsubscribed + 1)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    log.info("updates stopped from update id=%s signature id=%s", update_id, signature.id)
    return bool(changed)
