"""The pages, registered explicitly: path, name in the navigation, and layout factory."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    layout: Callable                    # (service, query: dict[str, list[str]]) -> component
    register: Callable | None = None    # (app, service) -> None: wires the page's callbacks


def all_pages() -> list[Page]:
    from components import overview

    return [
        Page("/", "Overview", overview.layout),
    ]


def page_for(path: str | None, pages: list[Page]) -> Page | None:
    path = (path or "/").rstrip("/") or "/"
    return next((p for p in pages if p.path == path), None)
