"""A small stand-in for Dash's browser renderer, for load tests: it loads a page as a browser
does (index, layout, dependencies), keeps the component tree, fires the callbacks the renderer
would fire (on load, on new components, on changed properties, following chains) and applies
their answers. It reads everything from the app's own /_dash-layout and /_dash-dependencies,
so it follows the pages as they change.

Simplifications: no clientside callbacks (they run in the browser), no ALLSMALLER, a callback
is fired when one of its inputs is in an answer (or changed by the user), never by its own
outputs, and at most MAX_CALLS callbacks follow one user action.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

MAX_CALLS = 40


def stringify(component_id) -> str:
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def parse_id(text: str):
    if text.startswith("{"):
        return json.loads(text)
    return text


def split_output(key: str) -> list[tuple[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(part.rsplit(".", 1)) for part in parts]


def is_wildcard(value) -> bool:
    return isinstance(value, list) and len(value) == 1 and value[0] in ("ALL", "MATCH", "ALLSMALLER")


@dataclass
class Callback:
    key: str
    inputs: list
    state: list
    outputs: list[tuple[str, str]]
    prevent_initial_call: bool

    def input_props(self) -> list[tuple[str, str]]:
        return [(d["id"], d["property"]) for d in self.inputs]


@dataclass
class Page:
    """The component tree of one loaded page: props of every component with an id."""

    components: dict = field(default_factory=dict)  # stringified id -> props dict

    def index(self, node) -> list[str]:
        """Record every component with an id under `node`; the new ids."""
        added = []
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict) and "props" in item and "type" in item:
                props = item["props"]
                if "id" in props:
                    key = stringify(props["id"])
                    added.append(key)
                    self.components[key] = props
                stack.append(props.get("children"))
        return added

    def matches(self, pattern: dict, bound: dict | None = None) -> list[dict]:
        found = []
        for props in self.components.values():
            component_id = props.get("id")
            if not isinstance(component_id, dict) or set(component_id) != set(pattern):
                continue
            if all(
                is_wildcard(v)
                and (v != ["MATCH"] or bound is None or component_id[k] == bound.get(k))
                or component_id[k] == v
                for k, v in pattern.items()
            ):
                found.append(component_id)
        return found


class Renderer:
    def __init__(self, http, rng: random.Random):
        self.http = http  # a function (method, path, json=None) -> parsed JSON or None
        self.rng = rng
        self.callbacks: list[Callback] = []
        self.page = Page()

    # --- loading -----------------------------------------------------------------------------

    def load(self, path: str) -> None:
        """What a browser does on opening `path`: index, layout, dependencies, then the
        callbacks that fire on load, and those the new components fire in turn."""
        self.http("GET", path)
        layout = self.http("GET", "/_dash-layout")
        dependencies = self.http("GET", "/_dash-dependencies")
        self.callbacks = [
            Callback(
                d["output"],
                d["inputs"],
                d.get("state", []),
                split_output(d["output"]),
                bool(d.get("prevent_initial_call")),
            )
            for d in dependencies or []
            if not d.get("clientside_function")
        ]
        self.page = Page()
        url = {"id": "url", "pathname": path.split("?")[0], "search": _search(path), "hash": ""}
        added = self.page.index(layout)
        for key in list(self.page.components):
            if self.page.components[key].get("id") == "url":
                self.page.components[key].update({k: v for k, v in url.items() if k != "id"})
        self._run(initial=set(added))

    # --- user actions --------------------------------------------------------------------------

    def controls(self) -> list[str]:
        """Components a visitor can change: those with options and a value."""
        return [
            key
            for key, props in self.page.components.items()
            if isinstance(props.get("options"), list)
            and props["options"]
            and "value" in props
            and not props.get("disabled")
        ]

    def change_a_control(self) -> bool:
        candidates = self.controls()
        if not candidates:
            return False
        key = self.rng.choice(candidates)
        props = self.page.components[key]
        values = [o.get("value") if isinstance(o, dict) else o for o in props["options"]]
        values = [v for v in values if v is not None and not isinstance(v, (dict, list))]
        if not values:
            return False
        if isinstance(props.get("value"), list) or props.get("multi"):
            new = self.rng.sample(values, k=self.rng.randint(0, min(3, len(values))))
        else:
            new = self.rng.choice(values)
        if new == props.get("value"):
            return False
        props["value"] = new
        self._run(changed={(key, "value")})
        return True

    def links(self, prefix: str) -> list[str]:
        """Every href starting with `prefix` in the page (links with or without an id)."""
        found, stack = [], list(self.page.components.values())
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                href = item.get("href")
                if isinstance(href, str) and href.startswith(prefix):
                    found.append(href)
                stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
            elif isinstance(item, list):
                stack.extend(item)
        return sorted(set(found))

    # --- the callback loop -----------------------------------------------------------------------

    def _run(self, initial: set[str] = frozenset(), changed: set[tuple[str, str]] = frozenset()) -> None:
        queue = []
        for callback in self.callbacks:
            if initial and not callback.prevent_initial_call and self._touches(callback, initial):
                queue.append((callback, None))
            elif changed and self._triggered_by(callback, changed):
                queue.append((callback, changed))
        calls = 0
        while queue and calls < MAX_CALLS:
            callback, why = queue.pop(0)
            for body in self._bodies(callback, why):
                calls += 1
                answer = self.http("POST", "/_dash-update-component", json=body)
                new, updated = self._apply(answer)
                for other in self.callbacks:
                    if other is callback:
                        continue
                    if new and not other.prevent_initial_call and self._touches(other, new):
                        queue.append((other, None))
                    elif updated and self._triggered_by(other, updated):
                        queue.append((other, updated))

    def _touches(self, callback: Callback, keys: set[str]) -> bool:
        """An input of `callback` is among the components `keys`, and its outputs exist."""
        hit = False
        for dep_id, _ in callback.input_props():
            target = parse_id(dep_id)
            if isinstance(target, dict):
                hit = hit or any(stringify(m) in keys for m in self.page.matches(target))
            else:
                hit = hit or dep_id in keys
        return hit and self._outputs_exist(callback)

    def _triggered_by(self, callback: Callback, changed: set[tuple[str, str]]) -> bool:
        for dep_id, prop in callback.input_props():
            target = parse_id(dep_id)
            if isinstance(target, dict):
                if any((stringify(m), prop) in changed for m in self.page.matches(target)):
                    return self._outputs_exist(callback)
            elif (dep_id, prop) in changed:
                return self._outputs_exist(callback)
        return False

    def _outputs_exist(self, callback: Callback) -> bool:
        for dep_id, _ in callback.outputs:
            target = parse_id(dep_id)
            if isinstance(target, dict):
                if any(is_wildcard(v) and v != ["MATCH"] for v in target.values()) or self.page.matches(target):
                    return True
            elif dep_id in self.page.components:
                return True
        return False

    def _entries(self, dep_id: str, prop: str, with_value: bool, bound: dict | None):
        target = parse_id(dep_id)
        base_prop = prop.split("@")[0]

        def entry(component_id):
            item = {"id": component_id, "property": prop}
            if with_value:
                item["value"] = self.page.components.get(stringify(component_id), {}).get(base_prop)
            return item

        if not isinstance(target, dict):
            return entry(target)
        found = self.page.matches(target, bound)
        if any(v in (["ALL"], ["ALLSMALLER"]) for v in target.values()):
            return [entry(m) for m in found]
        return entry(found[0]) if found else None

    def _bodies(self, callback: Callback, changed) -> list[dict]:
        # One call, or one per MATCH binding (the first MATCH input's components).
        bindings = [None]
        for dep_id, _ in callback.input_props():
            target = parse_id(dep_id)
            if isinstance(target, dict) and ["MATCH"] in target.values():
                keys = [k for k, v in target.items() if v == ["MATCH"]]
                bindings = [{k: m[k] for k in keys} for m in self.page.matches(target)]
                if changed:
                    bindings = [
                        b for b in bindings if any(stringify({**target, **b}) == c for c, _ in changed)
                    ] or bindings[:1]
                break
        bodies = []
        for bound in bindings:
            inputs = [self._entries(d["id"], d["property"], True, bound) for d in callback.inputs]
            state = [self._entries(d["id"], d["property"], True, bound) for d in callback.state]
            outputs = [self._entries(i, p, False, bound) for i, p in callback.outputs]
            if any(x is None for x in inputs + state + outputs):
                continue
            changed_ids = sorted(f"{c}.{p}" for c, p in (changed or []))
            bodies.append(
                {
                    "output": callback.key,
                    "outputs": outputs if callback.key.startswith("..") else outputs[0],
                    "inputs": inputs,
                    "state": state,
                    "changedPropIds": changed_ids
                    or [f"{stringify(parse_id(callback.inputs[0]['id']))}.{callback.inputs[0]['property']}"],
                }
            )
        return bodies

    def _apply(self, answer) -> tuple[set[str], set[tuple[str, str]]]:
        """Apply a callback's answer; (new component ids, changed (id, property))."""
        new, updated = set(), set()
        if not isinstance(answer, dict):
            return new, updated
        for component_key, props in (answer.get("response") or {}).items():
            target = self.page.components.get(component_key)
            if target is None:
                continue
            for prop, value in props.items():
                prop = prop.split("@")[0]
                target[prop] = value
                updated.add((component_key, prop))  # as the renderer: in the answer, so changed
                if prop == "children" or isinstance(value, (dict, list)):
                    new.update(self.page.index(value))
        return new, updated


def _search(path: str) -> str:
    return "?" + path.split("?", 1)[1] if "?" in path else ""
