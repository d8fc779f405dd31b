"""The SVG badge's geometry: the card drawn on a 320-unit-wide canvas, then scaled to the chosen size."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from app.services.embed import SIZES, CardText, Options

VIEW_WIDTH = 320
PAD = 18
LABEL_CHARS = 30  # characters of 15-unit text that fit in 284 units, in a wide sans-serif
SMALL_CHARS = 38  # and of 12-unit text
# Keep in step with the custom properties in static/css/widget.css.
PALETTES = {
    "light": {"ink": "#1b1b1b", "muted": "#4a4a4a", "paper": "#ffffff", "line": "#b1b4b6", "track": "#e3e3e3"},
    "dark": {"ink": "#f3f2f1", "muted": "#cfcfcf", "paper": "#1d1d1f", "line": "#5c5c5c", "track": "#474747"},
}


@dataclass(frozen=True)
class BadgeLayout:
    width: int  # CSS px
    height: int
    view_height: int  # canvas units
    label: list[tuple[int, str]]  # (baseline, line)
    paper_y: int | None  # the "N online and M on paper" line's baseline, if there is one
    verified: list[tuple[int, str]]  # (baseline, line) of "including N verified ...", if shown
    bar_y: int | None
    bar_fill: float
    goal_y: int | None
    button_y: int
    button_width: int
    colours: dict[str, str]


def layout(card: CardText, options: Options, sign: str) -> BadgeLayout:
    """Where each part of the badge goes; the label wraps at about LABEL_CHARS characters."""
    lines = textwrap.wrap(card.who, LABEL_CHARS) or [""]
    label = [(100 + 20 * i, line) for i, line in enumerate(lines)]
    cursor = label[-1][0]
    verified = []
    for line in textwrap.wrap(card.verified_line or "", SMALL_CHARS):
        cursor += 17
        verified.append((cursor, line))
    paper_y = None
    if card.paper_line:
        paper_y = cursor = cursor + 18
    bar_y = goal_y = None
    if card.goal:
        bar_y = cursor + 14
        goal_y = bar_y + 8 + 17
        cursor = goal_y
    button_y = cursor + 16
    view_height = button_y + 34 + PAD
    size = SIZES[options.size]
    scale = size.width / VIEW_WIDTH
    return BadgeLayout(
        width=size.width,
        height=math.ceil(view_height * scale),
        view_height=view_height,
        label=label,
        paper_y=paper_y,
        verified=verified,
        bar_y=bar_y,
        bar_fill=round((VIEW_WIDTH - 2 * PAD) * (card.percent or 0) / 100, 1),
        goal_y=goal_y,
        button_y=button_y,
        button_width=math.ceil(len(sign) * 8.6) + 28,
        colours={**PALETTES[options.theme], "accent": options.accent_colour, "on_accent": options.text_on_accent},
    )
