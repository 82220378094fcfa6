"""`python -m i18n extract|update|compile` (see i18n/catalog.py)."""

from __future__ import annotations

import sys

from i18n import catalog

COMMANDS = {
    "extract": lambda: print(len(catalog.extract()), "texts"),
    "update": catalog.update,
    "compile": catalog.compile_all,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: python -m i18n " + "|".join(COMMANDS))
    COMMANDS[sys.argv[1]]()
