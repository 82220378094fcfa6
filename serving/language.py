"""The language of each request, and the page's `<html lang dir>`.

Pages: the address's `lang` key, else the language chosen before (a cookie), else the browser's
Accept-Language, else English. The layout Dash fetches after the page (`_dash-layout`) carries
no address, so it reads the cookie a page with a `lang` key sets (or Accept-Language again).
Callbacks: the renderer adds the page's language to every callback body (a `request_pre` hook),
so a callback answers in the language of the page that asked, and the callback-answer cache
(serving/answers.py), keyed by the body, keeps languages apart.
"""

from __future__ import annotations

import re

from flask import g, request

import i18n
from analysis.address import LANGUAGE_KEY

COOKIE = "gsd_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# The renderer's hook: the page's language travels in each callback's JSON body.
REQUEST_PRE = "function (payload) { payload.lang = document.documentElement.lang; }"
BODY_LANGUAGE = re.compile(rb'"lang"\s*:\s*"([A-Za-z-]{2,12})"')


def request_language() -> str:
    """The language the current request asks for (see the module's docstring)."""
    if request.method == "POST":
        # Found without parsing a body the request guard (serving/guard.py) has yet to check; a
        # body that names a language elsewhere only chooses its own answer's language.
        found = BODY_LANGUAGE.search(request.get_data(cache=True))
        chosen = i18n.supported(found.group(1).decode("ascii")) if found else None
    else:
        chosen = i18n.supported(request.args.get(LANGUAGE_KEY))
    return (
        chosen
        or i18n.supported(request.cookies.get(COOKIE))
        or request.accept_languages.best_match(i18n.LANGUAGES)
        or i18n.DEFAULT
    )


def html_attributes(language: str) -> str:
    with i18n.language(language):
        direction = "rtl" if i18n.is_rtl() else "ltr"
    return f'<html lang="{language}" dir="{direction}">'


def install(app) -> None:
    """Before any other hook: the request's language; Dash's index gets `lang` and `dir`."""
    server = app.server
    app.renderer = f"var renderer = new DashRenderer({{request_pre: {REQUEST_PRE}}});"
    secure = server.config.get("SESSION_COOKIE_SECURE", False)

    @server.before_request
    def _language():
        g.gsd_language_token = i18n.activate(request_language())

    @server.teardown_request
    def _forget(_exc=None):
        token = g.pop("gsd_language_token", None)
        if token is not None:
            i18n.deactivate(token)

    @server.after_request
    def _remember(response):
        # Only an explicit choice (the address's lang key) is remembered; the browser's
        # Accept-Language is asked again on each visit until then.
        if request.method == "GET" and i18n.supported(request.args.get(LANGUAGE_KEY)):
            response.set_cookie(
                COOKIE, i18n.current(), max_age=COOKIE_MAX_AGE, path="/", samesite="Lax", secure=secure, httponly=True
            )
        return response

    # Dash shows a title while callbacks run; in the page's language (a data block, not a script:
    # the CSP's hashes do not cover it).
    config = app._config

    def _config():
        return {**config(), "update_title": i18n.gettext("Updating…")}

    app._config = _config

    interpolate = app.interpolate_index

    def interpolate_index(**parts):
        return interpolate(**parts).replace("<html>", html_attributes(i18n.current()), 1)

    app.interpolate_index = interpolate_index
