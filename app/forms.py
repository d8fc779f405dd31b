"""The base of every form on the site."""

from __future__ import annotations

from functools import cache

from flask_wtf import FlaskForm
from wtforms.i18n import get_translations

from app.i18n import current_language


@cache
def wtforms_messages(language: str):
    """WTForms' own messages ("Not a valid integer value.") in a language, read once per process."""
    return get_translations([language])


class Form(FlaskForm):
    """A Flask-WTF form (CSRF token) whose built-in messages are in the page's language.

    Flask-WTF reads WTForms' catalogue from disk again on every request that builds a form:
    6% of a confirm POST's samples in the surge (bench/README.md, "Confirmation load").
    """

    class Meta:
        def get_translations(self, form):
            return wtforms_messages(current_language())
