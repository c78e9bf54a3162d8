"""``python -m submitters.cli``: the same entry point as the ``rotofarm`` script (used by the hostile-input tests)."""

from submitters.cli import entry

entry()
