"""Request guards and error responses.

* Request bodies are capped (GSD_MAX_BODY_BYTES, 1 MiB by default).
* A POST to /_dash-update-component must be shaped as Dash's renderer shapes a call of a
  server-side callback the app registered: output, inputs and state as declared, wildcards
  expanded consistently, values of the types Dash's components can hold for the properties in
  PROPERTY_TYPES, JSON no deeper than MAX_DEPTH. Anything else is answered 400 before Dash
  parses it (a malformed call used to reach Dash's dispatcher and end as a 500).
* Errors are answered with a short plain-text message and never with internals: a bad filter is
  400, a callback result that does not fit the outputs the request listed 400, an unknown
  component-suite file 404, an unavailable store 503, and any other exception 500, logged with
  its traceback.
"""

from __future__ import annotations

import json
import logging
import os

from dash.exceptions import DependencyException, InvalidCallbackReturnValue
from flask import Response, request
from werkzeug.exceptions import HTTPException

from data.store import FilterError, StoreError
from i18n import _

log = logging.getLogger("gsd.errors")

MAX_DEPTH = 32

_SCALARS = (str, int, float, bool)


def _text(value) -> bool:
    return value is None or isinstance(value, str)


def _choice(value) -> bool:
    """What a dcc input's `value` holds: nothing, a scalar, or a flat list of scalars."""
    if value is None or isinstance(value, _SCALARS):
        return True
    return isinstance(value, list) and all(v is None or isinstance(v, _SCALARS) for v in value)


def _count(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


# The values Dash's own components can hold for these properties, whichever component has them:
# dcc.Location's address parts, the `value` of dcc's input components, click counters. A
# request carrying another type for one of them did not come from the renderer.
PROPERTY_TYPES = {
    "pathname": _text,
    "search": _text,
    "hash": _text,
    "href": _text,
    "value": _choice,
    "n_clicks": _count,
    "n_submit": _count,
    "n_blur": _count,
}


class BadCallback(ValueError):
    """The request is not a callback call of this app."""


def plain(message: str, status: int, headers=None) -> Response:
    """The serving layer's error answer: `message` as one line of plain text."""
    return Response(message + "\n", status=status, mimetype="text/plain", headers=headers)


# --- the shape of a callback request ----------------------------------------------------------


def _depth(value, limit: int) -> int:
    """Nesting depth of a JSON value, iteratively; stops counting past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _expected_id(text: str):
    """A declared component id: a string, or a pattern (dict) as in app.callback_map."""
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _is_pattern_of(value, pattern: dict) -> bool:
    if not isinstance(value, dict) or set(value) != set(pattern):
        return False
    for key, wanted in pattern.items():
        got = value[key]
        if isinstance(wanted, list):  # a wildcard: any scalar id value
            if not isinstance(got, (str, int, float, bool)) or got is None:
                return False
        elif got != wanted:
            return False
    return True


def _check_item(item, declared_id: str, declared_property: str, where: str, seen: dict) -> None:
    """One input, state or output entry against its declaration. Pattern-matching entries are
    noted in `seen` so that their expansions can be compared across the whole request."""
    expected = _expected_id(declared_id)
    is_pattern = isinstance(expected, dict)
    expands = is_pattern and any(v in (["ALL"], ["ALLSMALLER"]) for v in expected.values())
    if expands and not isinstance(item, list):
        raise BadCallback(f"{where}: a list was expected")
    items = item if expands else [item]
    for one in items:
        if not isinstance(one, dict) or one.get("property") != declared_property:
            raise BadCallback(f"{where}: not the declared property")
        if "value" in one:
            value = one["value"]
            typed = PROPERTY_TYPES.get(declared_property)
            if typed is not None and not typed(value):
                raise BadCallback(f"{where}: not a possible {declared_property}")
            if declared_property == "id" and value != one.get("id"):
                raise BadCallback(f"{where}: an id property is the component's id")
        if is_pattern:
            if not _is_pattern_of(one.get("id"), expected):
                raise BadCallback(f"{where}: not the declared id")
        elif one.get("id") != expected:
            raise BadCallback(f"{where}: not the declared id")
    if not is_pattern:
        return
    matched = [k for k, v in expected.items() if v == ["MATCH"]]
    for one in items:
        if matched:
            seen.setdefault("MATCH", set()).add(json.dumps([one["id"][k] for k in matched]))
    if ["ALL"] in expected.values():
        expansion = json.dumps([one["id"] for one in items], sort_keys=True)
        seen.setdefault(("ALL", declared_id), set()).add(expansion)


def _declared_outputs(output: str) -> list[tuple[str, str]]:
    """(id, property) of each output named in a callback_map key, as the renderer echoes them:
    "id.prop", or "..id1.prop1...id2.prop2.." for several; a property may carry "@hash" when
    the output allows duplicates."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(part.rsplit(".", 1)) if "." in part else (part, "") for part in parts]


def check_callback_body(body, callback_map: dict) -> None:
    """Raises BadCallback unless `body` is a call of a server-side callback in `callback_map`,
    shaped as the renderer shapes it: every entry the declared id and property, values of the
    types in PROPERTY_TYPES, ALL wildcards expanded to the same components wherever the same
    pattern appears, one MATCH value."""
    if not isinstance(body, dict):
        raise BadCallback("the body must be a JSON object")
    output = body.get("output")
    spec = callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:
        raise BadCallback("no such callback")
    if _depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise BadCallback("too deeply nested")
    seen: dict = {}
    for key, declared in (("inputs", spec.get("inputs", [])), ("state", spec.get("state", []))):
        items = body.get(key, [])
        if not isinstance(items, list) or len(items) != len(declared):
            raise BadCallback(f"{key} do not match the callback")
        for n, (item, dep) in enumerate(zip(items, declared)):
            _check_item(item, dep["id"], dep["property"], f"{key}[{n}]", seen)
    if not spec.get("no_output"):
        declared = _declared_outputs(output)
        outputs = body.get("outputs")
        if output.startswith(".."):
            if not isinstance(outputs, list) or len(outputs) != len(declared):
                raise BadCallback("outputs do not match the callback")
        else:
            outputs = [outputs]
        for n, (item, (dep_id, dep_property)) in enumerate(zip(outputs, declared)):
            _check_item(item, dep_id, dep_property, f"outputs[{n}]", seen)
    if any(len(values) > 1 for values in seen.values()):
        raise BadCallback("wildcards expanded inconsistently")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) and len(c) < 1000 for c in changed):
        raise BadCallback("changedPropIds must be a list of names")


# --- installation -----------------------------------------------------------------------------


def install(app) -> None:
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("GSD_MAX_BODY_BYTES", str(1 << 20)))
    update_path = app.config.routes_pathname_prefix + "_dash-update-component"

    @server.before_request
    def _check_callback_request():
        if request.path != update_path or request.method != "POST":
            return None
        if not request.is_json:
            return plain("A callback request is JSON.", 415)
        try:
            body = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError):  # invalid UTF-8 or JSON; absurd nesting
            return plain("The body is not valid JSON.", 400)
        try:
            check_callback_body(body, app.callback_map)
        except BadCallback as err:
            return plain(f"Not a callback of this app ({err}).", 400)
        return None

    @server.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        response = err.get_response()  # keeps Location, Allow, ... ; the body becomes one line
        if response.status_code >= 400:
            response.set_data(f"{err.code} {err.name}\n")
            response.mimetype = "text/plain"
        return response

    @server.errorhandler(DependencyException)
    def _no_such_resource(err: DependencyException):
        # Dash's answer to a /_dash-component-suites/ path it did not register.
        return plain("404 Not Found", 404)

    @server.errorhandler(InvalidCallbackReturnValue)
    def _mismatched_outputs(err: InvalidCallbackReturnValue):
        # A callback's result does not fit the outputs the request listed: with ALL wildcards,
        # the request's expansion of a page the server did not render. Logged, in case the
        # callback is at fault rather than the request.
        log.warning("callback result does not fit the request's outputs: %s", " ".join(str(err).split())[:300])
        return plain(_("The request's outputs do not match this page."), 400)

    @server.errorhandler(FilterError)
    def _bad_filter(err: FilterError):
        return plain(_("The filter names an attribute or value this release does not have."), 400)

    @server.errorhandler(StoreError)
    def _no_store(err: StoreError):
        return plain(_("The data store is not available."), 503)

    @server.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return plain(_("Internal server error."), 500)
