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


def test_a_warmed_server_reads_no_file_on_its_requests(app, client, sign_via_form, mailbox, confirm_via_page):
    """wsgi.py warms the caches before gunicorn takes requests: signing, confirming and the public
    pages in both languages then parse no content file or catalogue."""
    from app import content_loader, warm_caches
    from app.forms import wtforms_messages
    from app.pledge.work_email import work_rules_in
    from app.services import geography

    caches = [
        content_loader._read_yaml,
        content_loader._localised_yaml,
        geography.areas,
        work_rules_in,
        wtforms_messages,
    ]
    for cached in caches:
        cached.cache_clear()
    warm_caches(app)
    misses = [cached.cache_info().misses for cached in caches]
    assert all(misses)
    for prefix in ("", "/cy"):
        assert client.get(f"{prefix}/").status_code == 200
        assert client.get(f"{prefix}/sign/education").status_code == 200
        assert client.get(f"{prefix}/api/v1/regions").status_code == 200
    response = sign_via_form("education", email="warm@example.com", postcode="SW1A 1AA")
    assert response.status_code == 303
    [message] = mailbox.messages()
    assert confirm_via_page(mailbox.link(message, "confirm")).status_code == 303
    assert [cached.cache_info().misses for cached in caches] == misses
