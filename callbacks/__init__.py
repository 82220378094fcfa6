"""Callbacks, as plain functions; each module's `register(app, service)` wires its own."""
