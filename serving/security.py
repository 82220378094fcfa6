"""Response headers, the Content-Security-Policy, CSRF protection and the secret key.

CSP: everything from the app's own origin; inline scripts only by the sha256 hashes of exactly
the inline scripts in the index page Dash renders (computed once, at install); inline styles
(see STYLE_SOURCES); data: and blob: images for plotly's PNG export; no plugins, no <base>, no
framing.

CSRF: Dash's renderer copies the cookie named `csrf_token_name` into the header named
`csrf_header_name` on every request it makes (Dash itself checks nothing on the server). The
app issues that cookie with the index page, signed with the secret key, and rejects any unsafe
request (POST, ...) whose header does not carry the same, validly signed token, or which the
browser marks as coming from another site (Sec-Fetch-Site).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from html.parser import HTMLParser

from flask import Response, request

from serving.guard import plain

log = logging.getLogger("gsd.security")

SECRET_ENV = "GSD_SECRET_KEY"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JS_TYPES = frozenset({"", "text/javascript", "application/javascript", "module"})

# Styles: Dash's component bundles (dcc, dash_table, the renderer) and plotly.js insert about twenty
# <style> elements at run time (their CSS with an embedded source map, varying with the components
# on the page) and plotly sets style="" attributes on every redraw, so inline styles cannot be
# listed by hash; they are allowed. Scripts, where injection would matter, stay hash-only.
STYLE_SOURCES = ("'self'", "'unsafe-inline'")

_generated_secret: str | None = None


def secret_key() -> str:
    """GSD_SECRET_KEY, or a random key for this process (logged once: set it in production, the
    same on every worker and host, or CSRF tokens issued by one are refused by another)."""
    global _generated_secret
    key = os.environ.get(SECRET_ENV)
    if key:
        return key
    if _generated_secret is None:
        _generated_secret = secrets.token_urlsafe(32)
        log.warning("%s is not set; using a random secret key for this process", SECRET_ENV)
    return _generated_secret


# --- Content-Security-Policy --------------------------------------------------------------


class _InlineScripts(HTMLParser):
    """Collects the text of every executable inline <script> (no src, a JavaScript type).
    Data blocks such as Dash's `application/json` config are not executed, so need no hash;
    HTML comments (the index's IE conditional comment) are skipped by the parser."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            attrs = dict(attrs)
            kind = (attrs.get("type") or "").strip().lower()
            self._text = [] if "src" not in attrs and kind in JS_TYPES else None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._text is not None:
            self.scripts.append("".join(self._text))
            self._text = None


def inline_scripts(html: str) -> list[str]:
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


def script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def rendered_index(app) -> str:
    """The index page exactly as Dash renders it for a browser."""
    with app.server.test_request_context(app.config.requests_pathname_prefix or "/"):
        return app.index()


def content_security_policy(script_hashes) -> str:
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", *sorted(set(script_hashes))]),
        ("style-src", list(STYLE_SOURCES)),
        # plotly's PNG export draws the chart as an SVG data: image and a blob: of this page.
        ("img-src", ["'self'", "data:", "blob:"]),
        ("font-src", ["'self'"]),
        ("connect-src", ["'self'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
    ]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives)


# --- CSRF tokens --------------------------------------------------------------------------


class CsrfTokens:
    """Signed double-submit tokens: `nonce.signature`, signature = HMAC-SHA256(secret, nonce)."""

    def __init__(self, secret: str):
        self._secret = secret.encode("utf-8")

    def _signature(self, nonce: str) -> str:
        mac = hmac.new(self._secret, b"gsd-csrf:" + nonce.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._signature(nonce)}"

    def valid(self, token) -> bool:
        if not isinstance(token, str) or len(token) > 200 or not token.isascii():
            return False
        nonce, _, signature = token.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._signature(nonce))

    def matches(self, cookie, header) -> bool:
        """The header repeats the cookie, and the cookie is one this app signed."""
        if not isinstance(cookie, str) or not isinstance(header, str) or not header.isascii():
            return False
        return self.valid(cookie) and hmac.compare_digest(cookie.encode("ascii"), header.encode("ascii"))


# --- installation -------------------------------------------------------------------------


def install(app) -> None:
    server = app.server
    server.secret_key = secret_key()
    secure_cookies = os.environ.get("GSD_SECURE_COOKIES", "0") == "1"
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure_cookies
    )

    # The front end's config carries the server's Python version string; it is not needed there.
    dash_config = app._config

    def _config():
        config = dash_config()
        config.pop("python_version", None)
        return config

    app._config = _config

    hashes = [script_hash(text) for text in inline_scripts(rendered_index(app))]
    policy = content_security_policy(hashes)
    server.config["GSD_CSP"] = policy

    prefix = app.config.routes_pathname_prefix
    static_prefixes = (
        prefix + "_dash-component-suites/",
        prefix + "_favicon.ico",
        prefix + app.config.assets_url_path.strip("/") + "/",
    )

    tokens = CsrfTokens(server.secret_key)
    cookie_name = app.config.csrf_token_name
    header_name = app.config.csrf_header_name

    @server.before_request
    def _check_csrf():
        if request.method in SAFE_METHODS:
            return None
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            return plain("Cross-site requests are not accepted.", 403)
        if not tokens.matches(request.cookies.get(cookie_name), request.headers.get(header_name)):
            return plain("Missing or invalid CSRF token: reload the page.", 403)
        return None

    @server.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        if "Cache-Control" not in headers and not request.path.startswith(static_prefixes):
            headers["Cache-Control"] = "no-store"  # pages and data; files keep their own caching
        headers.pop("Server", None)
        if response.mimetype == "text/html" and not tokens.valid(request.cookies.get(cookie_name)):
            # Readable by the renderer's script (not HttpOnly), sent to this site only.
            response.set_cookie(
                cookie_name, tokens.issue(), path="/", samesite="Strict", secure=secure_cookies, httponly=False
            )
        return response
