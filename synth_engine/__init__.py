"""The offline engine that builds a GSD Explorer store: load → validate → aggregate →
synthesize → evaluate → write."""

__version__ = "0.1.0"
