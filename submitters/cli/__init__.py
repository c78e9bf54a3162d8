"""The ``rotofarm`` command line."""

from submitters.cli.app import app, entry, main

__all__ = ["app", "entry", "main"]
