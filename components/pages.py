"""The pages, registered explicitly: path, name in the navigation, and layout factory. Their
callbacks are wired by callbacks/ (`callbacks.register`), which imports this module, never the
other way round."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analysis.address import normal_path
from analysis.explore_state import PATH as EXPLORE_PATH
from components import about, downloads, explore, overview


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    layout: Callable                    # (service, search: the address's query string) -> component


def all_pages() -> list[Page]:
    return [
        Page(overview.PATH, "Overview", overview.layout),
        Page(EXPLORE_PATH, "Explore", explore.layout),
        Page(downloads.PATH, "Downloads", downloads.layout),
        Page("/about", "About the data", about.layout),
    ]


def page_for(path: str | None, pages: list[Page]) -> Page | None:
    path = normal_path(path)
    return next((p for p in pages if p.path == path), None)
