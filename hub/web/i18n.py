"""Languages of the web site: Vietnamese by default, English on request.

The language comes from `?lang=vi|en` (and is then kept in a `lang` cookie), else the cookie, else the
hub's `HUB_LANGUAGE`. Labels are gettext messages written in English in the templates and translated to
Vietnamese in hub/translations/vi/LC_MESSAGES/messages.po; the compiled .mo sits next to it in the
repository, so a fresh checkout serves Vietnamese without a build step (tests/web/test_translations.py keeps
the two in step and checks every label has a translation). Catalogue text (titles, descriptions, field
titles, enum labels) comes in {vi, en} pairs from catalog.yaml and the schemas: `pick()` chooses.

Recompile after editing the .po:  .venv/bin/pybabel compile -d hub/translations
Re-extract labels:  .venv/bin/pybabel extract -F hub/translations/babel.cfg -o /tmp/messages.pot hub
                    .venv/bin/pybabel update -i /tmp/messages.pot -d hub/translations --no-fuzzy-matching
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, get_locale

LANGUAGES = ("vi", "en")
COOKIE = "lang"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

__all__ = ["LANGUAGES", "current_lang", "pick", "setup_babel", "switch_url"]


def _default_lang() -> str:
    hub = current_app.extensions.get("hub")
    return hub.settings.language if hub is not None else "vi"


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(COOKIE)
    if kept in LANGUAGES:
        return kept
    return _default_lang()


def current_lang() -> str:
    if "web_lang" not in g:
        g.web_lang = str(get_locale() or _default_lang())
    return g.web_lang


def pick(value: Any, lang: str | None = None) -> str:
    """The text for the current language from a {vi, en} pair (Vietnamese when English is missing)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    lang = lang or current_lang()
    return value.get(lang) or value.get("vi") or next(iter(value.values()), "")


def switch_url(lang: str) -> str:
    """This page in another language: the same path and query with `lang` replaced."""
    args = [(k, v) for k, values in request.args.lists() if k != "lang" for v in values]
    args.append(("lang", lang))
    return request.path + "?" + urlencode(args)


def _keep_choice(response: Response) -> Response:
    if response.mimetype != "text/html":
        return response
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    response.vary.add("Cookie")
    return response


def setup_babel(app: Flask) -> None:
    """Flask-Babel for the whole app (the steward workspace shares it), once."""
    if "babel" in app.extensions:
        return
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    Babel(app, locale_selector=select_locale, default_locale="vi")
    app.after_request(_keep_choice)
    app.jinja_env.globals.update(pick=pick, current_lang=current_lang, switch_url=switch_url, languages=LANGUAGES)
