"""Reference data the sign-up path reads on every request, held in each process for a few seconds.

Sectors, organisations, the pause switch and the blocked domains change when someone runs
`flask seed`, pauses signing or blocks a domain: rarely. Reading them on every sign-up was a
third of its database round trips (bench/README.md). A Snapshot is read in one transaction and
kept for `lifetime` seconds, so a change reaches every process within that lifetime; the
process that made the change forgets its snapshot at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import BlockedDomain, Organisation, Sector, SiteSetting
from app.services.settings import SIGNING_PAUSED


@dataclass(frozen=True)
class SectorRef:
    id: int
    slug: str
    name: str
    position: int
    goal: int | None


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    slug: str
    name: str
    short_name: str
    position: int
    default_sector_id: int | None


@dataclass(frozen=True)
class Snapshot:
    sectors: tuple[SectorRef, ...]  # by position
    organisations: tuple[OrganisationRef, ...]  # by position
    signing_paused: bool
    blocked_domains: frozenset[str]

    def sector(self, slug: str) -> SectorRef | None:
        return next((s for s in self.sectors if s.slug == slug), None)

    def sector_by_id(self, sector_id: int | None) -> SectorRef | None:
        return next((s for s in self.sectors if s.id == sector_id), None)

    def organisation(self, slug: str) -> OrganisationRef | None:
        return next((o for o in self.organisations if o.slug == slug), None)


def is_blocked(domain: str, blocked: frozenset[str]) -> bool:
    """True if the domain, or a domain it is part of, is in blocked ("mail.evil.example" is in "evil.example")."""
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocked for i in range(len(parts) - 1))


def read_blocked_domains(session: Session) -> frozenset[str]:
    """The block list as the database has it now."""
    return frozenset(session.execute(select(BlockedDomain.domain)).scalars())


def read_snapshot(session: Session) -> Snapshot:
    """The reference data as the database has it now (four small selects, no writes, no commit)."""
    sectors = session.execute(select(Sector).order_by(Sector.position, Sector.id)).scalars()
    organisations = session.execute(select(Organisation).order_by(Organisation.position, Organisation.id)).scalars()
    snapshot = Snapshot(
        sectors=tuple(SectorRef(s.id, s.slug, s.name, s.position, s.goal) for s in sectors),
        organisations=tuple(
            OrganisationRef(o.id, o.slug, o.name, o.short_name, o.position, o.default_sector_id) for o in organisations
        ),
        signing_paused=session.execute(select(SiteSetting.value).where(SiteSetting.key == SIGNING_PAUSED)).scalar()
        == "1",
        blocked_domains=read_blocked_domains(session),
    )
    return snapshot


class ReferenceCache:
    """One process's snapshot and when it was read; thread-safe (a race only reads twice)."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._held: tuple[float, Snapshot] | None = None

    def snapshot(self, session: Session) -> Snapshot:
        held = self._held
        now = self._clock()
        if held is not None and now - held[0] < self.lifetime:
            return held[1]
        snapshot = read_snapshot(session)
        with self._lock:
            self._held = (now, snapshot)
        return snapshot

    def forget(self) -> None:
        """Read afresh next time: after a change made by this process."""
        with self._lock:
            self._held = None
