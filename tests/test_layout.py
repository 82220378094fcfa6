"""The project's layout rules that code can check: the layers import downwards only, packages are
found through the installed project or pytest's pythonpath (never a sys.path edit), and the
engine's console script is its command line."""

from __future__ import annotations

import ast
import importlib
import os
import tomllib

import pytest

from ops_support import ROOT

DASHBOARD = ("app.py", "analysis", "components", "callbacks", "serving")


def _python_files(*parts: str) -> list[str]:
    found = []
    for part in parts:
        path = os.path.join(ROOT, part)
        if path.endswith(".py"):
            found.append(path)
            continue
        for folder, _, names in os.walk(path):
            found += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    return found


def _imported_modules(path: str) -> set[str]:
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        (("data",), ("synth_engine", "analysis", "components", "callbacks", "serving", "app")),
        (DASHBOARD, ("synth_engine",)),
        (("i18n",), ("data", "synth_engine", "analysis", "components", "callbacks", "serving", "app")),
    ],
)
def test_layers_import_downwards_only(layer, forbidden):
    wrong = {
        os.path.relpath(path, ROOT): sorted(m for m in _imported_modules(path) if m.split(".")[0] in forbidden)
        for path in _python_files(*layer)
    }
    assert not {path: modules for path, modules in wrong.items() if modules}


def test_no_module_edits_sys_path():
    editing = []
    for path in _python_files(
        "app.py",
        "gunicorn.conf.py",
        "analysis",
        "data",
        "synth_engine",
        "components",
        "callbacks",
        "serving",
        "bench",
        "tests",
        "scripts",
    ):
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
                editing.append(f"{os.path.relpath(path, ROOT)}:{node.lineno}")
    assert not editing


def test_the_console_script_is_the_engine_command_line(tmp_path, capsys):
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    module, _, function = scripts["gsd-engine"].partition(":")
    entry = getattr(importlib.import_module(module), function)
    assert entry(["info", "--store", str(tmp_path / "missing.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
