"""The pages, registered explicitly: path, name in the navigation, and layout factory. Their
callbacks are wired by callbacks/ (`callbacks.register`), which imports this module, never the
other way round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analysis.address import normal_path
from analysis.explore_state import PATH as EXPLORE_PATH
from components import about, downloads, explore, overview
from i18n import N_


@dataclass(frozen=True)
class Page:
    path: str
    name: str  # English; shown through gettext
    layout: Callable  # (service, search: the address's query string) -> component


def all_pages() -> list[Page]:
    return [
        Page(overview.PATH, N_("Overview"), overview.layout),
        Page(EXPLORE_PATH, N_("Explore"), explore.layout),
        Page(downloads.PATH, N_("Downloads"), downloads.layout),
        Page("/about", N_("About the data"), about.layout),
    ]


def page_for(path: str | None, pages: list[Page]) -> Page | None:
    path = normal_path(path)
    return next((p for p in pages if p.path == path), None)
