"""The one error every bad input becomes (defined at the bottom so every data module can raise it)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input, reported to the user as one line; nothing has been written."""
