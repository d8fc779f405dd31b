"""Reading what a page's forms carry, as a browser would before posting them."""

from __future__ import annotations

import re


def csrf_token(html: str) -> str:
    """The CSRF token in the page's form; fails the test if there is none."""
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html)
    assert tag, "no CSRF token in the page"
    return re.search(r'value="([^"]+)"', tag.group(0)).group(1)
