"""Paper forms typed up into a CSV file: checked row by row like the web form, then signed up
through the normal signing service, so each person gets the usual confirmation email and counts
only once they confirm.

The file is never stored. The preview is rebuilt from the same text at every step, and a
paper_import row keeps only who, which event, a digest of the text and how far the import got.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from app.models import Organisation, PaperImport, Sector, utcnow
from app.pledge.forms import SignForm
from app.services import audit
from app.services.keys import Keys
from app.services.normalise import InvalidInput, canonical_email, clean_text, normalise_postcode
from app.services.reference import read_blocked_domains
from app.services.signing import SignUp, sign_pledge

log = logging.getLogger(__name__)

COLUMNS = ("name", "email", "sector", "union", "postcode")
REQUIRED_COLUMNS = ("name", "email", "sector")
MAX_ROWS = 500  # people per file; split a bigger pile of forms into several files
MAX_BYTES = 256 * 1024
BATCH_ROWS = 25  # rows per request while the page's progress bar moves
EVENT_NAME_MAX = 80
SOURCE_PREFIX = "paper:"
SHOWN_CHARS = 60  # of each cell in the preview
# A cell a spreadsheet would run as a formula (also after spaces), as the export neutralises.
FORMULA_START = re.compile(r"^[\s\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]")


class ImportRefused(ValueError):
    """The file (or the event name) as a whole cannot be imported; the message says why."""


class RowOutcome(enum.StrEnum):
    EMAIL = "email"  # will be signed up and sent the confirmation email (or "already signed")
    DUPLICATE = "duplicate"  # the same mailbox as an earlier row of this file: skipped
    ERROR = "error"  # skipped; errors say what to correct


@dataclass(frozen=True)
class RowCheck:
    """One data row of the file and what importing it will do."""

    line: int  # in the file, the header being line 1
    cells: dict[str, str]  # as shown in the preview: trimmed and shortened
    outcome: RowOutcome
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    duplicate_of: int | None = None
    signup: SignUp | None = None


@dataclass(frozen=True)
class Preview:
    event_name: str
    source: str
    rows: list[RowCheck]

    def count(self, outcome: RowOutcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


def source_for(event_name: str) -> str:
    """The signatures' source: "paper:" and the event's name as a slug (64 characters at most)."""
    slug = re.sub(r"[^a-z0-9]+", "-", event_name.casefold()).strip("-")
    return SOURCE_PREFIX + (slug[: 64 - len(SOURCE_PREFIX)].strip("-") or "event")


def clean_event_name(value: str | None) -> str:
    try:
        name = clean_text(value or "", max_length=EVENT_NAME_MAX)
    except InvalidInput as error:
        raise ImportRefused(_l("Event name: %(error)s", error=str(error))) from None
    if not name:
        raise ImportRefused(_l("Enter the name of the event where the forms were filled in."))
    return name


def decode(data: bytes) -> str:
    """The file's text. Bytes that are not UTF-8 become U+FFFD, so their rows are refused one by one."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            _l("The file is larger than %(size)s KB: split it into several files.", size=MAX_BYTES // 1024)
        )
    if not data.strip():
        raise ImportRefused(_l("The file is empty."))
    return normalised(data.decode("utf-8-sig", errors="replace"))


def normalised(text: str) -> str:
    """Line ends as "\n": browsers send a form's text back with "\r\n", and the digest must match."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and each non-blank data row with its line number; raises ImportRefused."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRefused(_l("The file is empty."))
        rows = []
        for values in reader:
            if any(v.strip() for v in values):
                rows.append((reader.line_num, values))
            if len(rows) > MAX_ROWS:
                raise ImportRefused(
                    _l(
                        "The file has more than %(most)s people: import at most %(most)s at a time, in several files.",
                        most=MAX_ROWS,
                    )
                )
    except csv.Error as error:
        raise ImportRefused(
            _l("Line %(line)s is not valid CSV (%(error)s). Save the file as CSV.", line=reader.line_num, error=error)
        ) from None
    columns = [c.strip().casefold() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportRefused(
            _l(
                "The first row must name the columns %(columns)s (union and postcode may be left out). "
                "Missing: %(missing)s.",
                columns=", ".join(COLUMNS),
                missing=", ".join(missing),
            )
        )
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or len(set(columns)) != len(columns):
        raise ImportRefused(_l("Use only the columns %(columns)s, each once.", columns=", ".join(COLUMNS)))
    if not rows:
        raise ImportRefused(_l("The file has no rows after the header."))
    return columns, rows


def _shown(value: str) -> str:
    value = value.strip()
    return value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"


class _Lookup:
    """Sectors and unions by slug or name, and the union a union organiser's rows must belong to."""

    def __init__(self, session: Session, scope_org_id: int | None) -> None:
        sectors = session.execute(select(Sector).order_by(Sector.position, Sector.id)).scalars().all()
        organisations = session.execute(select(Organisation).order_by(Organisation.position)).scalars().all()
        self.sector_slugs = [s.slug for s in sectors]
        self.sectors = {key.casefold(): s for s in sectors for key in (s.slug, s.name)}
        self.organisations = {key.casefold(): o for o in organisations for key in (o.slug, o.name, o.short_name)}
        self.organisation_list = organisations
        self.scope = next((o for o in organisations if o.id == scope_org_id), None) if scope_org_id else None


def _check_row(
    lookup: _Lookup, line: int, cells: dict[str, str], seen: dict[str, int], source: str, wording_version: str
) -> RowCheck:
    """One row through the web form's own fields and messages (app/pledge/forms.py), plus the
    sector and union the web form takes from its address."""
    errors: list[tuple[str, str]] = []
    shown = {c: _shown(cells.get(c, "")) for c in COLUMNS}
    if any("\ufffd" in value for value in cells.values()):
        errors.append(("", _l("This row has characters that are not UTF-8 text: save the file as “CSV UTF-8”.")))
    sector = lookup.sectors.get(cells.get("sector", "").strip().casefold())
    if sector is None:
        errors.append(("sector", _l("Choose a sector: %(sectors)s.", sectors=", ".join(lookup.sector_slugs))))
    union_given = cells.get("union", "").strip()
    organisation = lookup.organisations.get(union_given.casefold()) if union_given else None
    if lookup.scope is not None:
        if union_given and organisation is not lookup.scope:
            only = lookup.scope.short_name
            errors.append(("union", _l("You can import only %(union)s members: leave union blank.", union=only)))
        organisation = lookup.scope
    elif union_given and organisation is None:
        errors.append(("union", _l("Choose your union from the list.")))
    if FORMULA_START.match(cells.get("name", "")):
        errors.append(("name", _l("Enter the name as written on the form, not a spreadsheet formula.")))

    form = SignForm(
        formdata=MultiDict(
            {
                "name": cells.get("name", ""),
                "email": cells.get("email", "").strip(),
                "postcode": cells.get("postcode", ""),
                "organisation": organisation.slug if organisation else "",
            }
        ),
        meta={"csrf": False},
    )
    form.set_organisations(lookup.organisation_list)
    form.validate()
    for column, name in (("name", "name"), ("email", "email"), ("postcode", "postcode"), ("union", "organisation")):
        errors.extend((column, message) for message in getattr(form, name).errors)
    if errors or sector is None:
        return RowCheck(line, shown, RowOutcome.ERROR, errors)

    key = canonical_email(form.email.data)
    if key in seen:
        return RowCheck(line, shown, RowOutcome.DUPLICATE, duplicate_of=seen[key])
    seen[key] = line
    postcode = (form.postcode.data or "").strip()
    signup = SignUp(
        name=form.name.data,
        email=form.email.data,
        sector_id=sector.id,
        organisation_id=organisation.id if organisation else None,
        postcode_outward=normalise_postcode(postcode)[1] if postcode else None,
        source=source,
        wording_version=wording_version,
    )
    return RowCheck(line, shown, RowOutcome.EMAIL, signup=signup)


def preview(
    session: Session,
    text: str,
    event_name: str,
    *,
    scope_org_id: int | None,
    wording_version: str,
    up_to: int | None = None,
) -> Preview:
    """What importing text would do, row by row (the first up_to rows only, if given).

    Reads no signatures, so it says nothing about who has signed already: that stays between the
    signing service and each mailbox, as on the web. Raises ImportRefused for the file as a whole.
    """
    event = clean_event_name(event_name)
    source = source_for(event)
    columns, records = _records(normalised(text))
    lookup = _Lookup(session, scope_org_id)
    seen: dict[str, int] = {}
    rows = []
    for line, values in records[:up_to]:
        cells = dict(zip(columns, values, strict=False))
        if len(values) > len(columns):
            shown = {c: _shown(cells.get(c, "")) for c in COLUMNS}
            rows.append(RowCheck(line, shown, RowOutcome.ERROR, [("", _l("This row has more cells than the header."))]))
            continue
        rows.append(_check_row(lookup, line, cells, seen, source, wording_version))
    return Preview(event, source, rows)


def digest(text: str) -> bytes:
    return hashlib.sha256(normalised(text).encode("utf-8", errors="surrogatepass")).digest()


def start_import(
    session: Session,
    actor: audit.Actor,
    text: str,
    event_name: str,
    *,
    scope_org_id: int | None,
    wording_version: str,
) -> PaperImport:
    """Check the file again and record the import (who, event, how many rows; no names or emails),
    audited, in one transaction. Raises ImportRefused."""
    checked = preview(session, text, event_name, scope_org_id=scope_org_id, wording_version=wording_version)
    paper_import = PaperImport(
        event_name=checked.event_name,
        organiser_id=actor.organiser_id,
        organisation_id=scope_org_id,
        digest=digest(text),
        total_rows=len(checked.rows),
    )
    session.add(paper_import)
    session.flush()
    audit.record(
        session,
        actor,
        "paper.import_started",
        import_id=paper_import.id,
        event_name=checked.event_name,
        source=checked.source,
        organisation_id=scope_org_id,
        rows=len(checked.rows),
        to_email=checked.count(RowOutcome.EMAIL),
        duplicates=checked.count(RowOutcome.DUPLICATE),
        errors=checked.count(RowOutcome.ERROR),
    )
    session.commit()
    log.info("paper import started id=%s rows=%s", paper_import.id, paper_import.total_rows)
    return paper_import


def import_batch(
    session: Session,
    keys: Keys,
    actor: audit.Actor,
    paper_import: PaperImport,
    text: str,
    *,
    wording_version: str,
    max_emails: int,
    batch_rows: int | None = None,
) -> PaperImport:
    """Import the next batch_rows rows: each good row is one sign_pledge (a pending signature and
    its confirmation email in the outbox, never sent here; consents off; dedup as on the web).

    Each row is claimed before it is signed (a conditional update of the progress), so two
    requests for the same batch cannot both sign a row. The last row's claim writes the
    "paper.import_finished" audit event. Raises ImportRefused if text is not the file started.
    """
    if digest(text) != paper_import.digest:
        raise ImportRefused(_l("This is not the file that was previewed: upload it again."))
    start = paper_import.processed_rows
    if paper_import.finished_at is not None:
        return paper_import
    end = min(start + (batch_rows or BATCH_ROWS), paper_import.total_rows)
    checked = preview(
        session,
        text,
        paper_import.event_name,
        scope_org_id=paper_import.organisation_id,
        wording_version=wording_version,
        up_to=end,
    )
    blocked = read_blocked_domains(session)  # once for the batch, not once a row
    for index in range(start, end):
        row = checked.rows[index]
        if not _claim(session, actor, paper_import, index, row.outcome):
            break  # another request is importing this file: leave the rest to it
        if row.signup is not None:
            sign_pledge(session, keys, row.signup, max_emails, blocked_domains=blocked)
    session.refresh(paper_import)
    return paper_import


def _claim(session: Session, actor: audit.Actor, paper_import: PaperImport, index: int, outcome: RowOutcome) -> bool:
    """Count row index as done (and the import as finished after its last row); False if taken."""
    counter = {
        RowOutcome.EMAIL: PaperImport.queued_count,
        RowOutcome.DUPLICATE: PaperImport.duplicate_count,
        RowOutcome.ERROR: PaperImport.rejected_count,
    }[outcome]
    last = index + 1 == paper_import.total_rows
    now = utcnow()
    claimed = session.execute(
        update(PaperImport)
        .where(PaperImport.id == paper_import.id, PaperImport.processed_rows == index)
        .values(
            {
                PaperImport.processed_rows: PaperImport.processed_rows + 1,
                counter: counter + 1,
                PaperImport.finished_at: case((PaperImport.total_rows == index + 1, now), else_=None),
            }
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        session.rollback()
        return False
    if last:
        session.flush()
        done = session.execute(
            select(PaperImport.queued_count, PaperImport.duplicate_count, PaperImport.rejected_count).where(
                PaperImport.id == paper_import.id
            )
        ).one()
        audit.record(
            session,
            actor,
            "paper.import_finished",
            import_id=paper_import.id,
            queued=done.queued_count,
            duplicates=done.duplicate_count,
            errors=done.rejected_count,
        )
        log.info("paper import finished id=%s queued=%s", paper_import.id, done.queued_count)
    session.commit()
    return True


def imports(session: Session, organisation_id: int | None = None, limit: int = 50) -> Sequence[PaperImport]:
    """The latest imports; only one union's when organisation_id is given."""
    query = select(PaperImport).order_by(PaperImport.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(PaperImport.organisation_id == organisation_id)
    return session.execute(query).scalars().all()
