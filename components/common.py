"""Small pieces several pages share: headline figures and the notice of address parts left out."""

from __future__ import annotations

from dash import html

from i18n import _


def headline(label: str, value: str, note: str = ""):
    return html.Div(
        className="headline",
        children=[
            html.Div(value, className="headline-value"),
            html.Div(label, className="headline-label"),
            html.Div(note, className="headline-note") if note else None,
        ],
    )


def notice(messages, className: str | None = None):
    """The notice naming the parts of the address that were not understood (None if none)."""
    if not messages:
        return None
    return html.Div(
        [
            html.P(_("Part of the address was not understood and was left out:")),
            html.Ul([html.Li(m) for m in messages]),
        ],
        **({"className": className} if className else {}),
    )
