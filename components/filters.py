"""The filter panel the Overview and Downloads pages share (its controls' values:
analysis/filter_controls.py; the callback keeping them in step with the address:
callbacks/filters.py)."""

from __future__ import annotations

from dash import dcc, html

from analysis.address import NOT_RECORDED_TOKEN, encode
from analysis.filter_controls import Control, controls, years_of
from components import ids
from data.codebook import NOT_RECORDED, Attribute, Codebook
from data.store import Filter
from i18n import _


def control_id(page: str, name) -> dict:
    return {"type": ids.FILTER, "page": page, "name": name}


def state_id(page: str, role="mapping") -> dict:
    """The dcc.Store holding the page's current filter mapping. Callbacks that may run while
    another page is shown address it with role=ALL, which then matches nothing."""
    return {"type": ids.FILTER_STATE, "page": page, "role": role}


def _value_options(attribute: Attribute) -> list[dict]:
    options = [{"label": label, "value": value} for value, label in zip(attribute.values, attribute.value_labels)]
    return options + [{"label": _(NOT_RECORDED), "value": NOT_RECORDED_TOKEN}]


def _control(page: str, c: Control, value):
    label_id = f"{page}-filter-{c.name.replace(':', '-').replace(' ', '-')}-label"
    if c.kind == "years":
        years = years_of(c.attributes[0])
        # the ends, and round decades not crowding them (the boxes beside the slider take any year)
        marks = {
            y: str(y)
            for y in years
            if y in (years[0], years[-1]) or (y % 10 == 0 and min(y - years[0], years[-1] - y) >= 4)
        }
        widget = dcc.RangeSlider(
            id=control_id(page, c.name),
            min=years[0],
            max=years[-1],
            step=1,
            value=value,
            allowCross=False,
            updatemode="mouseup",
            marks=marks,
            tooltip={"placement": "bottom", "always_visible": False},
        )
    elif c.kind == "values":
        widget = dcc.Dropdown(
            id=control_id(page, c.name),
            options=_value_options(c.attributes[0]),
            value=value,
            multi=True,
            placeholder=_("Any"),
            search_order="original",
        )
    else:
        widget = dcc.Dropdown(
            id=control_id(page, c.name),
            value=value,
            multi=False,
            placeholder=_("Any type"),
            options=[{"label": a.label, "value": a.name} for a in c.attributes]
            + [{"label": _("Type not recorded"), "value": NOT_RECORDED_TOKEN}],
        )
    # the range's two boxes are named "<filter>, from" and "<filter>, to" (assets/control_names.js)
    words = {"data-from": _("from"), "data-to": _("to")} if c.kind == "years" else {}
    return html.Div(
        className=f"filter filter-{c.kind}",
        role="group",
        **{"aria-labelledby": label_id},
        **words,
        children=[html.Span(_(c.label), id=label_id, className="filter-label"), widget],
    )


def panel(page: str, path: str, codebook: Codebook, values: dict, mapping: dict):
    """The filter panel showing `values` (from `from_query`), and the store of their `mapping`."""
    ctrls = controls(codebook)
    return html.Section(
        className="filters",
        **{"aria-label": _("Filters")},
        children=[
            html.Div(
                className="filters-head",
                children=[
                    html.H2(_("Filter the records"), className="filters-title"),
                    dcc.Link(_("Clear all filters"), href=path + encode(Filter()), className="filters-reset"),
                ],
            ),
            html.Div(className="filters-grid", children=[_control(page, c, values.get(c.name)) for c in ctrls]),
            dcc.Store(id=state_id(page), data=mapping),
        ],
    )
