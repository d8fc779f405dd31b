"""Reference data (sectors, organisations, counter cells) and demo signatures."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CountCell, Organisation, Sector, Signature, SignatureStatus, utcnow
from app.services.counts import COUNT_SHARDS, adjust_count
from app.services.keys import Keys


def seed_reference_data(session: Session, sectors: list[dict], organisations: list[dict]) -> None:
    """Insert or update sectors and organisations by slug and make every counter cell exist.

    Counts are never touched, so re-running it on a live database is safe.
    """
    by_slug = {s.slug: s for s in session.execute(select(Sector)).scalars()}
    for position, item in enumerate(sectors):
        row = by_slug.get(item["slug"]) or Sector(slug=item["slug"])
        # The ladder's top step; pages and the API show the current step (app/services/milestones.py).
        top = (item.get("goals") or [item.get("goal")])[-1]
        row.name, row.goal, row.position = item["name"], top, position
        session.add(row)
        by_slug[row.slug] = row
    session.flush()
    orgs = {o.slug: o for o in session.execute(select(Organisation)).scalars()}
    for position, item in enumerate(organisations):
        row = orgs.get(item["slug"]) or Organisation(slug=item["slug"])
        row.name, row.short_name, row.position = item["name"], item["short_name"], position
        default = by_slug.get(item.get("sector") or "")
        row.default_sector_id = default.id if default else None
        session.add(row)
        orgs[row.slug] = row
    session.flush()
    existing = set(session.execute(select(CountCell.sector_id, CountCell.organisation_id, CountCell.shard)).tuples())
    for sector in by_slug.values():
        for org_id in [None, *(o.id for o in orgs.values())]:
            for shard in range(COUNT_SHARDS):
                if (sector.id, org_id, shard) not in existing:
                    session.add(CountCell(sector_id=sector.id, organisation_id=org_id, shard=shard, count=0))
    session.commit()


# Postcode districts for demo signatures, so the counts by place have something to show. The
# smallest share, "not given", is unique: regions with no signatures are hidden under the
# disclosure rule, and then so is the smallest figure shown, so that it alone is hidden.
DEMO_POSTCODES = ("SW1A",) * 4 + ("M1", "B1") * 3 + ("LS1", "CF10", "EH1", "BT1", "NE1") * 2 + (None,)


def seed_demo_signatures(session: Session, keys: Keys, how_many: int, wording_version: str) -> int:
    """Add confirmed demo signatures (example.invalid addresses) if there are none yet."""
    if session.execute(select(Signature.id).limit(1)).first():
        return 0
    sectors = session.execute(select(Sector).order_by(Sector.position)).scalars().all()
    orgs = session.execute(select(Organisation).order_by(Organisation.position)).scalars().all()
    now = utcnow()
    for i in range(how_many):
        sector = sectors[(i * 7) % len(sectors)]
        org = orgs[i % len(orgs)] if i % 3 == 0 else None
        email = f"demo{i}@example.invalid"
        postcode = DEMO_POSTCODES[i % len(DEMO_POSTCODES)]
        confirmed_at = now - timedelta(hours=how_many - i)
        session.add(
            Signature(
                email_key=keys.cipher.blind_index(email),
                email_encrypted=keys.cipher.encrypt(email),
                name_encrypted=keys.cipher.encrypt(f"Demo Signer {i}"),
                sector_id=sector.id,
                organisation_id=org.id if org else None,
                postcode_outward=postcode,
                count_shard=i % COUNT_SHARDS,
                source="demo",
                wording_version=wording_version,
                status=SignatureStatus.CONFIRMED,
                token_nonce=secrets.token_bytes(16),
                created_at=confirmed_at,
                confirmed_at=confirmed_at,
            )
        )
        organisation_id = org.id if org else None
        adjust_count(session, sector.id, organisation_id, +1, now, postcode_outward=postcode, shard=i % COUNT_SHARDS)
    session.commit()
    return how_many
