"""The disclosure rule: small counts hidden with their labels, grouped as "other", never recoverable
by subtraction, whatever the counts; examples first, then properties (Hypothesis) and an
exhaustive check over small groups, both against a reader who knows the rule."""

from __future__ import annotations

import itertools
from collections import defaultdict
from math import comb

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from app.services.disclosure import RULE, THRESHOLD, Suppressed, suppress

PROPERTIES = settings(max_examples=400, deadline=None, database=None)


def published(result: Suppressed) -> tuple:
    """Everything a reader could learn from one result, taking the hidden labels as known too
    (for days they are: the ones not shown), which only makes the reader stronger."""
    return result.visible, result.other, result.hidden


# ---- examples


def test_counts_of_10_or_more_are_shown_exactly_largest_first():
    result = suppress({"leaflet": 12, "newsletter": 40, "stall": 12})
    assert result == Suppressed(
        visible=(("newsletter", 40), ("leaflet", 12), ("stall", 12)), other=None, hidden=frozenset()
    )


def test_small_counts_are_hidden_with_their_labels_and_grouped_as_other():
    result = suppress({"member-4711": 4, "member-4712": 7, "newsletter": 50})
    assert result.visible == (("newsletter", 50),)
    assert result.hidden == {"member-4711", "member-4712"}
    assert result.other == 11
    assert result.value("member-4711") is None and result.value("newsletter") == 50


def test_other_itself_is_shown_only_from_10_up():
    result = suppress({"member-4711": 4, "member-4712": 3, "newsletter": 50, "stall": 60})
    assert result.hidden == {"member-4711", "member-4712"} and result.other is None


def test_one_hidden_cell_takes_the_next_smallest_with_it():
    # Otherwise the total (known) minus 40 and 12 would give member-4711's 1.
    result = suppress({"member-4711": 1, "newsletter": 40, "leaflet": 12})
    assert result.visible == (("newsletter", 40),)
    assert result.hidden == {"member-4711", "leaflet"} and result.other == 13


def test_a_tie_for_next_smallest_hides_every_cell_of_that_value():
    # Choosing one of the two by label would let the choice say which was smaller.
    result = suppress({"member-4711": 3, "leaflet": 12, "stall": 12, "newsletter": 30})
    assert result.visible == (("newsletter", 30),)
    assert result.other == 27


@pytest.mark.parametrize("small", [0, THRESHOLD - 1])
def test_hidden_cells_all_empty_or_all_at_9_take_the_next_smallest_too(small):
    # Two hidden cells summing to 0 (or 18) can only be 0 and 0 (or 9 and 9).
    result = suppress({"a": small, "b": small, "leaflet": 25, "newsletter": 30})
    assert result.visible == (("newsletter", 30),)
    assert result.hidden == {"a", "b", "leaflet"}


def test_zero_is_hidden_like_any_small_count():
    # A 0 on show would tell empty days from days with 1 to 9.
    result = suppress({"monday": 0, "tuesday": 3, "wednesday": 25, "thursday": 30})
    assert result.hidden == {"monday", "tuesday"} and result.other is None


def test_with_the_total_unpublished_a_lone_small_cell_needs_no_partner():
    result = suppress({"member-4711": 3, "newsletter": 40}, total_known=False)
    assert result.visible == (("newsletter", 40),) and result.other is None


def test_with_the_total_unpublished_an_all_hidden_group_shows_no_sum():
    assert suppress({"a": 6, "b": 7}, total_known=False).other is None
    assert suppress({"a": 6, "b": 7}).other == 13  # its total is public anyway


def test_empty_and_negative_groups():
    assert suppress({}) == Suppressed(visible=(), other=None, hidden=frozenset())
    with pytest.raises(ValueError):
        suppress({"a": -1})


def test_the_rule_in_plain_words_names_the_threshold():
    assert f"fewer than {THRESHOLD} people are not shown" in RULE and "other" in RULE


# ---- properties

labels = st.sampled_from(["member-4711", "member-4712", "leaflet", "newsletter", "stall", "mon", "tue", "(none)"])
counts = st.one_of(st.integers(0, 12), st.sampled_from([0, 9, 10, 11]), st.integers(0, 60))
groups = st.dictionaries(labels, counts, max_size=7)


def _compositions(total: int, parts: int):
    """Every way of writing total as an ordered sum of parts non-negative integers."""
    for cuts in itertools.combinations(range(total + parts - 1), parts - 1):
        bounds = (-1, *cuts, total + parts - 1)
        yield [bounds[i + 1] - bounds[i] - 1 for i in range(parts)]


def _alternatives(cells: dict[str, int], hidden: list[str], total_known: bool):
    """Other values for the hidden cells (the shown ones stay as they are): swaps, one person
    moved between two cells, everything in one cell, every split of their sum when there are
    few, and (total unpublished) one more or one fewer in a cell. Each is only a candidate:
    the caller keeps those that publish exactly the same."""
    if not hidden:
        return
    values = [cells[label] for label in hidden]
    total = sum(values)
    for i, j in itertools.permutations(range(len(hidden)), 2):
        swapped = list(values)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        yield swapped
        if values[j] > 0:
            moved = list(values)
            moved[i] += 1
            moved[j] -= 1
            yield moved
    for i in range(len(hidden)):
        yield [total if k == i else 0 for k in range(len(hidden))]
    if comb(total + len(hidden) - 1, len(hidden) - 1) <= 3000:
        yield from _compositions(total, len(hidden))
    if not total_known:
        for i in range(len(hidden)):
            for step in (-1, 1):
                if values[i] + step >= 0:
                    yield [v + step if k == i else v for k, v in enumerate(values)]


def _undetermined(cells: dict[str, int], total_known: bool) -> dict[str, set[int]]:
    """For each hidden label, the values it takes among the groups (same labels) that publish
    exactly what this one does, with the same total if that is known. Every value found is
    truly possible; the search may miss some, so two or more found is a proof, fewer is not."""
    result = suppress(cells, total_known=total_known)
    hidden = sorted(result.hidden)
    possible = {label: {cells[label]} for label in hidden}
    for values in _alternatives(cells, hidden, total_known):
        other = {**cells, **dict(zip(hidden, values, strict=True))}
        if published(suppress(other, total_known=total_known)) == published(result):
            assert not total_known or sum(other.values()) == sum(cells.values())
            for label in hidden:
                possible[label].add(other[label])
    return possible


def _inherent(cells: dict[str, int], result: Suppressed, total_known: bool) -> bool:
    """No rule can protect a group whose every cell is hidden if its known total gives them
    away: one cell (it is the total) or a total of 0."""
    return total_known and len(result.hidden) == len(cells) and (len(cells) == 1 or sum(cells.values()) == 0)


@PROPERTIES
@given(cells=groups, total_known=st.booleans())
def test_shown_cells_are_exact_and_at_least_10_and_hidden_ones_leave_no_label(cells, total_known):
    result = suppress(cells, total_known=total_known)
    shown = dict(result.visible)
    assert shown.keys().isdisjoint(result.hidden) and shown.keys() | result.hidden == cells.keys()
    assert all(value >= THRESHOLD and cells[label] == value for label, value in shown.items())
    assert {label for label, value in cells.items() if value < THRESHOLD} <= result.hidden
    assert [value for _, value in result.visible] == sorted(shown.values(), reverse=True)
    hidden_sum = sum(cells[label] for label in result.hidden)
    if result.other is not None:
        assert result.other == hidden_sum >= THRESHOLD and result.hidden
    else:
        assert hidden_sum < THRESHOLD or (not total_known and not shown)


@PROPERTIES
@given(cells=groups, total_known=st.booleans())
@example(cells={"member-4711": 1, "newsletter": 40, "leaflet": 12}, total_known=True)
@example(cells={"a": 0, "b": 0, "c": 10}, total_known=True)  # the textbook rule gives away a = b = 0
@example(cells={"a": 9, "b": 9, "c": 10}, total_known=True)
@example(cells={"a": 9, "b": 9, "c": 9}, total_known=False)
@example(cells={"p": 9, "s": 20, "c": 20}, total_known=True)  # textbook: c = 20 bounds s, so p = 9
def test_no_hidden_cell_can_be_worked_out_from_one_result(cells, total_known):
    """Knowing the rule, the cells shown, "other" if shown and the group's total (when known),
    every hidden cell could still hold at least two different values."""
    result = suppress(cells, total_known=total_known)
    if _inherent(cells, result, total_known):
        return
    possible = _undetermined(cells, total_known)
    note(f"published {published(result)}; possible values {possible}")
    assert all(len(values) >= 2 for values in possible.values())


@pytest.mark.parametrize(("size", "largest"), [(2, 30), (3, 22)])
@pytest.mark.parametrize("total_known", [True, False])
def test_no_hidden_cell_can_be_worked_out_in_any_small_group(size, largest, total_known):
    """Exhaustively, every group of `size` cells from 0 to `largest`: among all the groups that
    publish the same (and have the same total, when it is known), each hidden cell takes two or
    more values."""
    names = [f"cell-{i}" for i in range(size)]
    alike = defaultdict(list)
    for values in itertools.product(range(largest + 1), repeat=size):
        cells = dict(zip(names, values, strict=True))
        result = suppress(cells, total_known=total_known)
        alike[(published(result), sum(values) if total_known else None)].append((cells, result))
    for group in alike.values():
        cells, result = group[0]
        if _inherent(cells, result, total_known):
            continue
        for label in result.hidden:
            assert len({other[label] for other, _ in group}) >= 2, (cells, label)
