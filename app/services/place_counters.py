"""Rebuilding the place counters (area_count_cell) from the confirmed signatures, after postcode_areas.yaml changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import AreaCountCell, CountCell, Signature, SignatureStatus
from app.services import geography

Place = tuple[int, str, str]  # (count cell id, area code, region)


class CannotRebuild(RuntimeError):
    """The signatures no longer say where everyone counted lives, so a rebuild would lose places."""


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild changed (or would change, on a dry run)."""

    added: int  # place cells that did not exist
    changed: int  # place cells whose count was wrong (a region moved, or drift)
    removed: int  # place cells no signature is in any more
    # Count cells whose own count differs from their confirmed signatures: not the place
    # counters' business, so left alone and reported.
    mismatched_count_cells: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.added + self.changed + self.removed


def rebuild_place_counters(session: Session, now: datetime, *, dry_run: bool = False) -> Rebuilt:
    """Recount every place cell from the confirmed signatures with today's geography, and commit.

    Run it after editing app/content/postcode_areas.yaml (a district moved to another region, an
    area added): the counters were kept with the old mapping. Every count cell is locked first,
    in the same order as a confirmation locks its own, so confirmations and withdrawals wait and
    nothing is counted twice or lost. dry_run rolls back instead of committing. Raises
    CannotRebuild once any confirmed signature is anonymised (its postcode is gone, but it is
    still counted in its place).
    """
    session.execute(update(CountCell).values(count=CountCell.count))  # lock the count cells
    confirmed = Signature.status == SignatureStatus.CONFIRMED
    anonymised = session.execute(
        select(func.count()).select_from(Signature).where(confirmed, Signature.anonymised_at.is_not(None))
    ).scalar_one()
    if anonymised:
        session.rollback()
        raise CannotRebuild(
            f"{anonymised} confirmed signatures are anonymised and no longer hold a postcode; "
            "rebuilding would move them to 'not given'."
        )
    rows = session.execute(
        select(CountCell.id, Signature.postcode_outward, func.count())
        .join(
            CountCell,
            (CountCell.sector_id == Signature.sector_id)
            & CountCell.organisation_id.is_not_distinct_from(Signature.organisation_id)
            & (CountCell.shard == Signature.count_shard),
        )
        .where(confirmed)
        .group_by(CountCell.id, Signature.postcode_outward)
    ).all()
    fresh: Counter[Place] = Counter()
    for cell_id, outward, how_many in rows:
        fresh[(cell_id, geography.area_code(outward) or "", geography.region_of(outward))] += how_many
    kept = {
        (cell_id, area, region): (row_id, count)
        for row_id, cell_id, area, region, count in session.execute(
            select(
                AreaCountCell.id,
                AreaCountCell.count_cell_id,
                AreaCountCell.area_code,
                AreaCountCell.region,
                AreaCountCell.count,
            )
        )
    }
    added = [place for place in fresh if place not in kept]
    changed = [(kept[p][0], n) for p, n in fresh.items() if p in kept and kept[p][1] != n]
    removed = [row_id for place, (row_id, count) in kept.items() if place not in fresh and count]
    if added:
        session.execute(
            insert(AreaCountCell),
            [
                {"count_cell_id": c, "area_code": a, "region": r, "count": fresh[(c, a, r)], "updated_at": now}
                for c, a, r in added
            ],
        )
    for row_id, count in changed:
        session.execute(update(AreaCountCell).where(AreaCountCell.id == row_id).values(count=count, updated_at=now))
    if removed:
        session.execute(delete(AreaCountCell).where(AreaCountCell.id.in_(removed)))

    by_cell: Counter[int] = Counter()
    for (cell_id, _, _), count in fresh.items():
        by_cell[cell_id] += count
    mismatched = tuple(
        cell_id
        for cell_id, count in session.execute(select(CountCell.id, CountCell.count)).all()
        if count != by_cell[cell_id]
    )
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return Rebuilt(len(added), len(changed), len(removed), mismatched)
