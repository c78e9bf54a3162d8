"""Running an OpenTimelineIO adapter quietly, and the facts an adapter leaves out.

Adapters talk: the AAF adapter ``print``s when a file holds several top-level mobs and pyaaf2 logs
``WARNING:root:Fraction(0,0) not mathematically plausible`` through the root logger (whose first use installs a
handler on stderr). Under ``--json`` stdout must be only JSON, so every adapter call runs with stdout, stderr and
logging captured; what they said comes back as warnings that ingest shows as its own, once per distinct line.

The AAF adapter (otio-aaf-adapter 2.0) drops the ``Drop`` flag of the composition's Timecode segment, so 29.97
timecode would be written drop-frame for every AAF. :func:`aaf_drop_frame` reads the flag with pyaaf2 (the
library the adapter itself uses): ``Timecode.Drop`` on the top-level composition mob's timecode slot.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


@contextlib.contextmanager
def _captured(lines: list[str]) -> Iterator[None]:
    root = logging.getLogger()
    handler = _ListHandler()
    saved = root.handlers[:]
    root.handlers = [handler]  # also keeps logging.warning() from installing a stderr handler
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        root.handlers = saved
        said = out.getvalue().splitlines() + err.getvalue().splitlines() + handler.lines
        lines.extend(" ".join(line.split()) for line in said if line.strip())


def quietly(call: Callable[[], T], adapter: str, warnings: list[str]) -> T:
    """``call()`` with the adapter's output captured into ``warnings`` (as "the X adapter says: ...")."""
    said: list[str] = []
    try:
        with _captured(said):
            return call()
    finally:
        for line, count in Counter(said).items():
            times = f" ({count} times)" if count > 1 else ""
            warnings.append(f"the {adapter} adapter says: {line}{times}")


def aaf_drop_frame(path: Path) -> bool | None:
    """The ``Drop`` flag of the first top-level composition's timecode; None when the file has no timecode."""
    import aaf2

    try:
        with _captured([]), aaf2.open(str(path), "r") as f:
            for mob in f.content.toplevel():
                for slot in mob.slots:
                    segment = slot.segment
                    parts = [segment] if type(segment).__name__ == "Timecode" else getattr(segment, "components", [])
                    for part in parts:
                        if type(part).__name__ == "Timecode":
                            return bool(part["Drop"].value)
    except Exception:
        return None
    return None
