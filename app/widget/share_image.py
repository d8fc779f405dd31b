"""The share card: a 1200x630 PNG with the pledge's headline and a count, drawn with Pillow from local fonts."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import astuple, dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630  # what Facebook, LinkedIn, Bluesky and X show large
# Debian's fonts-dejavu-core (.ci/run installs it); without it the card falls back to Pillow's own font.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
DESIGN_VERSION = "1"  # change it with the drawing, so that every card's ETag changes too
MARGIN = 72
LEADING = 1.18  # line height, in font sizes
CAP_HEIGHT = 0.73  # DejaVu Sans capitals and digits, in font sizes
RAMP_STEPS = 17  # shades from the background to each text colour, for the edges of letters
# The site's colours (static/css/site.css): white and its yellow on its purple.
PURPLE, WHITE, LILAC, YELLOW = "#5a2a82", "#ffffff", "#dccbef", "#ffdd00"


@dataclass(frozen=True)
class ShareCard:
    """Everything a card says; two equal cards draw the same bytes."""

    campaign: str  # "Care Don't Share"
    site: str  # "caredontshare.example"
    headline: str  # the pledge's title
    number: str  # "1,234"
    who: str  # "NEU members have signed the pledge"

    def fingerprint(self) -> str:
        """An ETag for the card: it changes when anything drawn (or the way it is drawn) changes."""
        parts = (DESIGN_VERSION, font_family(), *astuple(self))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def missing_fonts() -> list[Path]:
    return [path for path in (FONT_DIR / name for name in FONT_FILES.values()) if not path.is_file()]


def font_family() -> str:
    return "dejavu" if not missing_fonts() else "pillow-default"


def warn_if_fonts_missing() -> None:
    """Log, once at start-up, that cards will be drawn in Pillow's fallback font."""
    if missing := missing_fonts():
        log.warning(
            "share cards: %s missing; drawing them in Pillow's default font (apt-get install fonts-dejavu-core)",
            ", ".join(str(path) for path in missing),
        )


@cache
def _palette() -> Image.Image:
    """A fixed palette: the background, each text colour and the shades between, for smooth letters.

    Fixed, so that a pixel comes out the same whatever else is on the card (only the number's pixels
    change with the count), and small, so that the PNG stays far under 100 KB.
    """
    background = ImageColor.getrgb(PURPLE)
    colours: list[tuple[int, ...]] = []
    for ink in map(ImageColor.getrgb, (WHITE, LILAC, YELLOW)):
        for step in range(RAMP_STEPS):
            shade = tuple(round(b + (i - b) * step / (RAMP_STEPS - 1)) for b, i in zip(background, ink, strict=True))
            if shade not in colours:
                colours.append(shade)
    flat = [value for colour in colours for value in colour]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + flat[:3] * (256 - len(colours)))
    return palette


@cache
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / FONT_FILES[weight]
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _wrap(text: str, weight: str, size: int, width: int, max_lines: int, min_size: int) -> tuple[int, list[str]]:
    """The largest size from size down to min_size at which text wraps into max_lines lines of width."""
    while True:
        font, lines, line = _font(weight, size), [], ""
        for word in text.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
        fits = len(lines) <= max_lines and all(font.getlength(each) <= width for each in lines)
        if fits or size <= min_size:
            return size, lines[:max_lines]
        size -= 2


def _draw_lines(draw: ImageDraw.ImageDraw, baseline: int, lines: list[str], weight: str, size: int, fill: str) -> int:
    """Draw lines, the first on baseline; returns the last line's baseline."""
    font = _font(weight, size)
    for index, line in enumerate(lines):
        if index:
            baseline += round(size * LEADING)
        draw.text((MARGIN, baseline), line, font=font, fill=fill, anchor="ls")
    return baseline


@lru_cache(maxsize=128)
def render_png(card: ShareCard) -> bytes:
    """The card as PNG bytes (kept per process: one drawing per card and count)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PURPLE)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle((0, HEIGHT - 14, WIDTH, HEIGHT), fill=YELLOW)

    draw.text((MARGIN, 96), card.campaign.upper(), font=_font("bold", 30), fill=LILAC, anchor="ls")
    draw.text((WIDTH - MARGIN, 96), card.site, font=_font("regular", 28), fill=LILAC, anchor="rs")

    size, lines = _wrap(card.headline, "bold", 60, inner, max_lines=2, min_size=40)
    baseline = _draw_lines(draw, 96 + 36 + size, lines, "bold", size, WHITE)

    size, _ = _wrap(card.number, "bold", 150, inner, max_lines=1, min_size=80)
    baseline = _draw_lines(draw, baseline + 44 + round(size * CAP_HEIGHT), [card.number], "bold", size, YELLOW)

    size, lines = _wrap(card.who, "regular", 42, inner, max_lines=2, min_size=30)
    _draw_lines(draw, baseline + 44 + round(size * CAP_HEIGHT), lines, "regular", size, WHITE)

    out = io.BytesIO()
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(out, format="PNG")
    return out.getvalue()
