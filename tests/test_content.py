"""Campaign copy: Markdown from app/content/ renders, and raw HTML in it comes out as text."""

from app.content_loader import page, render_markdown


def test_markdown_escapes_raw_html_inline_and_in_blocks():
    html = render_markdown('Hi <script>alert(1)</script> **there**\n\n<div onclick="x()">block</div>')
    assert "<script>" not in html and "<div" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;div" in html
    assert "<strong>there</strong>" in html


def test_markdown_keeps_links_and_tables():
    html = render_markdown("[About](/about) <https://example.org>\n\n| a | b |\n|---|---|\n| 1 | <b>2</b> |")
    assert '<a href="/about">About</a>' in html and '<a href="https://example.org">' in html
    assert "<table>" in html and "&lt;b&gt;2&lt;/b&gt;" in html


def test_content_pages_still_render():
    title, body = page("privacy")
    assert title and "<h2>" in body and "&lt;" not in body
