"""Factories that build the pages' components. No callbacks and no SQL here."""
