"""What a Ctrl-C leaves behind, told to the user.

A command that writes results registers, for as long as it works, a function that describes what is on disk at
that moment (``kept_on_interrupt``). On KeyboardInterrupt the CLI boundary ends every child process, then prints
those descriptions, so the user knows what was kept and what a rerun will redo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

Describe = Callable[[], list[str]]
_LEFT: list[str] = []


@contextmanager
def kept_on_interrupt(describe: Describe) -> Iterator[None]:
    """If the block is interrupted, ``describe()`` (called then, after its children ended) says what is on disk."""
    try:
        yield
    except KeyboardInterrupt:
        with suppress(OSError):
            _LEFT[:0] = describe()
        raise


def kept_lines() -> list[str]:
    """What the interrupted blocks described, outermost first (and forgets them)."""
    lines = list(_LEFT)
    _LEFT.clear()
    return lines
