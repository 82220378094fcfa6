"""Callbacks, as plain functions; `register(app, service)` wires every page's, each module's own
`register` its part."""

from __future__ import annotations

from callbacks import downloads, explore, overview, routing
from components.pages import all_pages


def register(app, service) -> None:
    routing.register(app, service, all_pages())
    overview.register(app, service)
    explore.register(app, service)
    downloads.register(app, service)
