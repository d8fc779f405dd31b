"""The embeddable card's layout: which text colour reads on a partner's accent, and how tall the card is."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.embed import Size

# The label has about 17.8em of line at every size: some 28 characters in a wide sans-serif.
LABEL_CHARS_PER_LINE = 28
# The small lines under it (.cds-goal, .85em) fit about 33; the big number (2.2em, bold) about 11.
SMALL_CHARS_PER_LINE = 33
NUMBER_CHARS_PER_LINE = 11


def _luminance(hex6: str) -> float:
    """WCAG relative luminance of an sRGB colour given as six hex digits."""
    channels = []
    for i in (0, 2, 4):
        c = int(hex6[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def text_colour_on(hex6: str) -> str:
    """Near-black or white, whichever contrasts more with the background colour.

    0.179 is the luminance at which both contrast ratios are equal; widget.js uses the same.
    """
    return "#111111" if _luminance(hex6) > 0.179 else "#ffffff"


def label_lines(who: str) -> list[str]:
    """The card's label as it will probably wrap (browsers' fonts differ; the iframe reports its real height)."""
    return textwrap.wrap(who, LABEL_CHARS_PER_LINE) or [""]


def small_lines(line: str) -> list[str]:
    """A small line under the label (e.g. the verified line) as it will probably wrap."""
    return textwrap.wrap(line, SMALL_CHARS_PER_LINE) or [""]


def number_lines(number: str) -> int:
    """How many lines the big number takes: one for a figure, two for "Fewer than 10"."""
    return len(textwrap.wrap(number, NUMBER_CHARS_PER_LINE)) or 1


def frame_height(size: Size, lines: int, has_goal: bool, numbers: int = 1) -> int:
    """The iframe's height in CSS px for the card's CSS (static/css/widget.css), in ems.

    padding 1 + eyebrow 1.01 + number 2.57 + label 1.35 a line + button 3.15 + padding 1.1,
    plus 2.65 for the goal bar and its line, plus 2.42 for each further line of the number,
    plus 5px of borders and a little slack.
    """
    ems = 8.83 + 1.35 * lines + (2.65 if has_goal else 0) + 2.42 * (numbers - 1)
    return math.ceil(ems * size.font_px) + 5 + 6
