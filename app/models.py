"""Database models: sectors, organisations, signatures and the mail outbox."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class Tz(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Sector(db.Model):
    """A sector with its own sign-up form and count."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    goal: Mapped[int | None]

    __table_args__ = (CheckConstraint("slug = lower(slug)", name="slug_lower"),)


class Organisation(db.Model):
    """A union or partner; signers may credit one, and it has its own landing page and count."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    default_sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))

    default_sector: Mapped[Sector | None] = relationship()

    __table_args__ = (CheckConstraint("slug = lower(slug)", name="slug_lower"),)


class CountCell(db.Model):
    """Confirmed signatures for one (sector, organisation or none) pair, in one of its shards.

    The confirming and withdrawing transactions add and subtract here, so a count request
    sums a few hundred rows and never reads the signature table; spreading each pair's count
    over shards keeps a surge of confirmations in one sector from queueing on one hot row.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    # One of the pair's COUNT_SHARDS rows (services/counts.py); readers sum them. A signature is
    # counted in the shard its count_shard names, so a surge on one pair spreads over row locks.
    shard: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    count: Mapped[int] = mapped_column(default=0)
    # Of count, those verified with a work address (services/work_verification.py).
    verified: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)

    __table_args__ = (
        CheckConstraint("count >= 0", name="count_not_negative"),
        CheckConstraint("verified >= 0 AND verified <= count", name="verified_within_count"),
        UniqueConstraint("sector_id", "organisation_id", "shard", name="uq_count_cell_sector_organisation_shard"),
    )


class AreaCountCell(db.Model):
    """Confirmed signatures of one count cell (sector, organisation) in one postcode area and region.

    Kept in step with its CountCell by the same transactions (counts.adjust_count), so counts by
    place never read the signature table. Keyed by the region as well as the area because a few
    areas cross a border by district (CH5 is in Wales, CH1 in the North West). area_code is ""
    and region "not-given" for a postcode left out or not understood. Keyed on the count cell,
    not on (sector, organisation), because a NULL organisation cannot be part of a conflict
    target; and the count cell's row lock already orders the transactions that touch its areas.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    count_cell_id: Mapped[int] = mapped_column(ForeignKey("count_cell.id"))
    area_code: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)

    __table_args__ = (
        CheckConstraint("count >= 0", name="count_not_negative"),
        CheckConstraint("(area_code = '') = (region = 'not-given')", name="not_given_has_no_area"),
        UniqueConstraint("count_cell_id", "area_code", "region", name="uq_area_count_cell_place"),
    )


# The largest tally anyone may record; above PAPER_TALLY_ORGANISER_MAX it takes an admin.
PAPER_TALLY_MAX = 100_000


class PaperTally(db.Model):
    """People who signed a paper sheet at one event, as a number: no names, no emails.

    Counted apart from confirmed online signatures and never mixed into them. Corrected or
    withdrawn (never deleted) by an admin; every change is in the audit log with who and why.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_name: Mapped[str] = mapped_column(String(80))
    event_date: Mapped[date]
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    count: Mapped[int]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(Tz)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))

    sector: Mapped[Sector] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"count >= 1 AND count <= {PAPER_TALLY_MAX}", name="count_in_range"),
        CheckConstraint("(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)", name="withdrawn_has_reason"),
    )


class PaperImport(db.Model):
    """One upload of typed-up paper forms: who, for which event, and how far it has got.

    Holds no name or email: the rows go through the signing service as pending sign-ups and the
    file itself is never stored (the digest checks each batch is from the file previewed).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    event_name: Mapped[str] = mapped_column(String(80))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    total_rows: Mapped[int]
    processed_rows: Mapped[int] = mapped_column(default=0)
    queued_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(Tz)

    __table_args__ = (
        CheckConstraint("processed_rows >= 0 AND processed_rows <= total_rows", name="progress_in_range"),
        CheckConstraint("queued_count + duplicate_count + rejected_count = processed_rows", name="outcomes_add_up"),
        CheckConstraint("(finished_at IS NULL) = (processed_rows < total_rows)", name="finished_when_done"),
    )


class SignatureStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its owner to confirm by email
    CONFIRMED = "confirmed"  # counted
    HELD = "held"  # suspected abuse: never emailed or counted until an organiser releases it
    INVALID = "invalid"  # removed from the count by an organiser, kept for the record


class Signature(db.Model):
    """One person's signature. Name and email are encrypted; email_key is their blind index.

    Withdrawal deletes the row, so erasure is immediate and the address may sign again.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Keyed hash of the email's domain, so moderators can find sign-ups by domain.
    email_domain_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    # Both NULL once anonymised (after the campaign ends); the counts stay.
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    postcode_outward: Mapped[str | None] = mapped_column(String(4))
    sector_id: Mapped[int] = mapped_column(ForeignKey("sector.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    source: Mapped[str | None] = mapped_column(String(64))
    consent_updates: Mapped[bool] = mapped_column(default=False)
    consent_share_union: Mapped[bool] = mapped_column(default=False)
    wording_version: Mapped[str] = mapped_column(String(40))
    # The language the signer used (a code from LANGUAGES): every email to them is written in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    status: Mapped[SignatureStatus] = mapped_column(
        Enum(
            SignatureStatus,
            name="signature_status",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=SignatureStatus.PENDING,
    )
    # The count cell shard this signature is counted in, once confirmed (services/counts.py):
    # withdrawing takes it out of the same one. 0 for everything confirmed before shards.
    count_shard: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # Random per-signature value mixed into its link tokens; changing it revokes them.
    token_nonce: Mapped[bytes] = mapped_column(LargeBinary(16))
    emails_queued: Mapped[int] = mapped_column(default=0)
    held_reason: Mapped[str | None] = mapped_column(String(32))
    invalid_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    consents_updated_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(Tz)
    anonymised_at: Mapped[datetime | None] = mapped_column(Tz)
    # Verified with a work address (issue 12): only that, for which sector and when; never the
    # address or its domain. work_mailbox_key is the keyed hash of the canonical work mailbox
    # (cipher.work_mailbox_index), unique so one work mailbox verifies one signature.
    verified_sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    verified_at: Mapped[datetime | None] = mapped_column(Tz)
    work_mailbox_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    work_emails_queued: Mapped[int] = mapped_column(default=0, server_default="0")

    sector: Mapped[Sector] = relationship(foreign_keys=[sector_id])
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        CheckConstraint("status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"),
        CheckConstraint("(status = 'held') = (held_reason IS NOT NULL)", name="held_has_reason"),
        CheckConstraint("(status = 'invalid') = (invalid_reason IS NOT NULL)", name="invalid_has_reason"),
        CheckConstraint("NOT consent_share_union OR organisation_id IS NOT NULL", name="share_needs_union"),
        # Only the mailbox holder consents, on the confirmation page: until then both stay off.
        CheckConstraint(
            "status IN ('confirmed', 'invalid') OR NOT (consent_updates OR consent_share_union)",
            name="consent_on_confirmation",
        ),
        CheckConstraint(
            "(anonymised_at IS NULL) = (email_encrypted IS NOT NULL AND name_encrypted IS NOT NULL)",
            name="personal_data_until_anonymised",
        ),
        CheckConstraint("(verified_at IS NULL) = (verified_sector_id IS NULL)", name="verified_has_sector"),
        CheckConstraint("work_mailbox_key IS NULL OR verified_at IS NOT NULL", name="work_key_when_verified"),
        Index("ix_signature_status_created_at", "status", "created_at"),
    )


class OutboxMessage(db.Model):
    """An email waiting to be sent, to a signer or an organiser.

    It holds no personal data (but a work address to verify, encrypted, until it is sent): the
    worker renders it from the row it points to at send time.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"))
    # Set for an update to signers (and its test sends): the worker renders it from that row.
    update_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_update.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # Claim order: lower first, so confirmations never wait behind a mailing (MailPriority).
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(Tz)
    failed_at: Mapped[datetime | None] = mapped_column(Tz)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # A work address to verify (kind work_verification), encrypted: the one personal datum a
    # message holds, and only until it is sent, refused or skipped (outbox.record_outcomes).
    recipient_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)

    signature: Mapped[Signature | None] = relationship()
    organiser: Mapped[Organiser | None] = relationship()
    campaign_update: Mapped[CampaignUpdate | None] = relationship()

    __table_args__ = (
        CheckConstraint("(signature_id IS NULL) <> (organiser_id IS NULL)", name="one_recipient"),
        CheckConstraint("(update_id IS NOT NULL) = (kind IN ('update', 'update_test'))", name="update_has_update"),
        CheckConstraint(
            "recipient_encrypted IS NULL OR (kind = 'work_verification' AND sent_at IS NULL AND failed_at IS NULL)",
            name="recipient_until_done",
        ),
        # One message per recipient of a mailing, whatever presses Send twice (NULLs never clash).
        UniqueConstraint("update_id", "signature_id", name="uq_outbox_message_update_signature"),
        # The workers' claim reads only what is still to send, in claim order.
        Index(
            "ix_outbox_message_claim",
            "priority",
            "next_attempt_at",
            "id",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        Index("ix_outbox_message_signature_id", "signature_id"),
    )


class MailPriority(enum.IntEnum):
    TRANSACTIONAL = 0  # confirmations, reminders, password links, test sends: always first
    BULK = 1  # updates to signers, paced by MAIL_UPDATES_PER_SECOND


class UpdateStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; nothing queued
    SENDING = "sending"  # queued; the workers send it
    PAUSED = "paused"  # queued; the workers leave it until resumed
    CANCELLED = "cancelled"  # what had not gone out never will


class CampaignUpdate(db.Model):
    """An update written by campaign staff for signers who asked for updates.

    Holds the audience's filters, never its members: Send queues one outbox row per recipient,
    and the worker reads the signature (and its consent) at send time.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(db.Text)
    # Audience filters; NULL means everyone. Region and verified status come later (services/updates.py).
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sector.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[UpdateStatus] = mapped_column(
        Enum(
            UpdateStatus,
            name="update_status",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=UpdateStatus.DRAFT,
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(Tz)
    recipients: Mapped[int] = mapped_column(default=0)
    unsubscribed: Mapped[int] = mapped_column(default=0)

    sector: Mapped[Sector | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    # Its words in the site's other languages, each optional (services/updates.translation).
    texts: Mapped[list[CampaignUpdateText]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CampaignUpdateText.language"
    )

    __table_args__ = (
        CheckConstraint("(status = 'draft') = (queued_at IS NULL)", name="queued_unless_draft"),
        CheckConstraint("recipients >= 0 AND unsubscribed >= 0", name="counts_not_negative"),
    )


class BlockedDomain(db.Model):
    """An email domain whose sign-ups are held for review instead of being emailed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)

    __table_args__ = (CheckConstraint("domain = lower(domain)", name="domain_lower"),)


class SiteSetting(db.Model):
    """Switches organisers can flip at run time, shared by every app process (e.g. pausing signing)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(Tz, default=utcnow, onupdate=utcnow)


class ReachedMilestone(db.Model):
    """The moment a count (the total, or a sector's) first passed a step of its goal ladder."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))  # "total" or a sector slug
    step: Mapped[int]
    reached_at: Mapped[datetime] = mapped_column(Tz)

    __table_args__ = (
        CheckConstraint("step > 0", name="step_positive"),
        UniqueConstraint("scope", "step", name="uq_milestone_scope_step"),
    )


class OrganiserRole(enum.StrEnum):
    ADMIN = "admin"  # campaign staff: everything
    ORGANISER = "organiser"  # a union's organiser: that union's counts and consenting members only


class Organiser(db.Model):
    """A signed-in member of campaign or union staff."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[OrganiserRole] = mapped_column(
        Enum(
            OrganiserRole,
            name="organiser_role",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # Changing it voids the account's password links (sign-ins live in OrganiserSession).
    session_nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(Tz)
    disabled_at: Mapped[datetime | None] = mapped_column(Tz)
    # The TOTP time step (unix time // 30) of the last code accepted: each code works once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    organisation: Mapped[Organisation | None] = relationship()

    # What Flask-Login's current_user needs. The account is loaded from an OrganiserSession
    # row (app/organiser/auth.py), never from an id in the cookie.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.password_hash is not None

    @property
    def is_admin(self) -> bool:
        return self.role == OrganiserRole.ADMIN

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("role = 'admin' OR organisation_id IS NOT NULL", name="organiser_has_union"),
        CheckConstraint("NOT totp_enabled OR totp_secret_encrypted IS NOT NULL", name="totp_has_secret"),
    )


class OrganiserSession(db.Model):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored here,
    so signing out, disabling the account or reaching the time limits ends it on the server."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(Tz, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(Tz)

    organiser: Mapped[Organiser] = relationship()


class AuditEvent(db.Model):
    """Who did what to personal data or accounts, and when. Append-only (triggers refuse changes)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Tz, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))  # the account's email then, or "cli"/"anonymous"
    action: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[str] = mapped_column(db.Text, default="{}")  # JSON; never a signer's name or email


class CampaignUpdateText(db.Model):
    """An update's subject and body in a language other than the default one (which CampaignUpdate
    holds). A signer whose language has none gets the default's words inside their own language's
    greeting and footer. Any code in LANGUAGES may have one: a new language needs no new column."""

    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_update.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(db.Text)
