"""QR codes for posters: inline SVG for the page, and SVG and PNG files to download. Drawn here, never fetched."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup, escape

# Error correction "Q" survives about a quarter of the code being torn, scuffed or written on.
ERROR_CORRECTION = "q"
QUIET_ZONE = 4  # modules of white around the code, as the standard asks
PNG_TARGET_PIXELS = 1200  # about 10 cm at 300 dots per inch
SVG_MODULE_MM = 2  # the downloaded SVG opens about 9 cm wide, and scales without loss


def _code(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR_CORRECTION)


def inline_svg(url: str, label: str) -> Markup:
    """The code as an <svg> element for an HTML page, sized by CSS, named by label for screen readers."""
    svg = _code(url).svg_inline(omitsize=True, border=QUIET_ZONE, svgclass="qr", lineclass=None, title=label)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


def svg_file(url: str, label: str) -> bytes:
    """A standalone SVG file of the code, sized in millimetres."""
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=SVG_MODULE_MM, unit="mm", border=QUIET_ZONE, title=label, xmldecl=True)
    return out.getvalue()


def png_file(url: str) -> bytes:
    """A black-and-white PNG of the code, about PNG_TARGET_PIXELS wide (sharp enough to print large)."""
    code = _code(url)
    modules = code.symbol_size(scale=1, border=QUIET_ZONE)[0]
    out = io.BytesIO()
    code.save(out, kind="png", scale=max(4, PNG_TARGET_PIXELS // modules), border=QUIET_ZONE)
    return out.getvalue()
