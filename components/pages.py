"""The pages, registered explicitly: path, name in the navigation, and layout factory."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    layout: Callable                    # (service, query: dict[str, list[str]]) -> component
    register: Callable | None = None    # (app, service) -> None: wires the page's callbacks


def all_pages() -> list[Page]:
    from callbacks import downloads as downloads_callbacks
    from callbacks import explore as explore_callbacks
    from callbacks import overview as overview_callbacks
    from components import about, downloads, explore, overview

    return [
        Page("/", "Overview", overview.layout, overview_callbacks.register),
        Page("/explore", "Explore", explore.layout, explore_callbacks.register),
        Page("/downloads", "Downloads", downloads.layout, downloads_callbacks.register),
        Page("/about", "About the data", about.layout),
    ]


def normal_path(path: str | None) -> str:
    return (path or "/").rstrip("/") or "/"


def page_for(path: str | None, pages: list[Page]) -> Page | None:
    path = normal_path(path)
    return next((p for p in pages if p.path == path), None)
