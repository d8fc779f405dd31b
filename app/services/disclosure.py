"""The disclosure rule: what may be shown of counts about people who have not agreed to be identified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

THRESHOLD = 10

RULE = (
    f"Figures about fewer than {THRESHOLD} people are not shown, and neither is what they are about: such rows "
    f"are added together under “other”, which is shown only if it comes to {THRESHOLD} or more. Where a hidden "
    "figure could still be worked out from the figures shown, the smallest shown rows are hidden with it."
)


@dataclass(frozen=True)
class Suppressed:
    """What may be shown of one group of counts.

    visible: (label, value) pairs, each value THRESHOLD or more, largest first (then by label).
    other: the hidden cells' sum when it is THRESHOLD or more; None when it is less, when nothing is
    hidden, or when the group's total is not published and every cell is hidden (the sum would be
    that total).
    hidden: the labels not shown. For the caller's bookkeeping only: never display them, since a
    hidden label ("member-4711") says as much as its value would.
    """

    visible: tuple[tuple[str, int], ...]
    other: int | None
    hidden: frozenset[str]

    def value(self, label: str) -> int | None:
        """The label's value if shown; None if hidden or not in the group (the two look the same)."""
        return dict(self.visible).get(label)


def suppress(cells: Mapping[str, int], *, total_known: bool = True) -> Suppressed:
    """Apply the rule to one group of counts (people by one attribute: source, day, region...).

    1. Every cell below THRESHOLD is hidden, zeros included: a 0 on show would tell the empty
       rows apart from the small ones. (Callers that list only non-empty cells, as a GROUP BY
       does, simply pass fewer labels.)
    2. If the hidden cells' sum is known, and that sum alone would give their values away (a
       single hidden cell, or every hidden cell 0, or every one THRESHOLD - 1), the smallest
       shown cells are hidden too: every cell of that smallest value, so that no tie is broken
       by label. The sum is known when the group's total is published or can be worked out
       (total_known, the default) or when it is shown as "other" (THRESHOLD or more).
    3. The hidden cells appear only as their sum, "other", and only when it is THRESHOLD or more
       (and, if the group's total is not published, only when some cell is shown).

    Labels play no part in what is hidden, so swapping two hidden values, or moving one person
    between two hidden cells below THRESHOLD, gives the same result; with step 2 that leaves every
    hidden value open to at least two possibilities, from this result alone, unless everything is
    hidden and the group has one cell or a total of 0. Raises ValueError for a negative count.
    """
    if any(value < 0 for value in cells.values()):
        raise ValueError("counts cannot be negative")
    hidden = {label for label, value in cells.items() if value < THRESHOLD}
    small = [cells[label] for label in hidden]
    sum_known = total_known or sum(small) >= THRESHOLD
    gives_away = len(small) == 1 or set(small) in ({0}, {THRESHOLD - 1})
    shown = [value for label, value in cells.items() if label not in hidden]
    if small and sum_known and gives_away and shown:
        smallest = min(shown)
        hidden |= {label for label, value in cells.items() if value == smallest}
    visible = sorted(((label, cells[label]) for label in cells.keys() - hidden), key=lambda cell: (-cell[1], cell[0]))
    other = sum(cells[label] for label in hidden)
    show_other = bool(hidden) and other >= THRESHOLD and (total_known or bool(visible))
    return Suppressed(visible=tuple(visible), other=other if show_other else None, hidden=frozenset(hidden))
