"""What a C library prints on stderr while it reads a file, caught and folded into our one-line error.

OpenEXR's core library reports what is wrong with a file by printing it on file descriptor 2 (its default error
handler, which the Python binding does not replace), e.g. ``plate.1004.exr: (EXR_ERR_BAD_CHUNK_LEADER)
Preparing to read scanline 16 (chunk 1), found corrupt leader ...``, and then raises an exception that says only
``Invalid part index '0': file has 0 parts.``. A farm log would show two lines, the useful one not ours.
``capture_about(path)`` points fd 2 at a temporary file for the length of one call: the lines that name ``path``
are handed to the caller (to become the detail of its error), every other line (another thread's output) is
written back to stderr unchanged. Captures are serialised by a lock, since fd 2 belongs to the whole process.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

_LOCK = threading.Lock()
# While a capture has fd 2 pointed at its file: the descriptor of the stderr it will put back. A Ctrl-C delivered
# as the swap's own call returns raises before the capture's ``try`` is entered, and stderr stays in the file; the
# CLI puts it back (``restore_stderr``) before it says what was kept (a fresh-clone CI run under load: exit 130 and
# an empty stderr, tests/cli/test_interrupt.py).
_SAVED: int | None = None


@contextmanager
def _sink() -> Iterator[IO[bytes] | None]:
    """A temporary file to catch stderr in, or None when there is none to be had (a full /tmp)."""
    with ExitStack() as stack:
        try:
            sink: IO[bytes] | None = stack.enter_context(tempfile.TemporaryFile())
        except OSError:
            sink = None
        yield sink


def _dup_stderr() -> int | None:
    try:
        return os.dup(2)
    except OSError:  # no stderr at all (closed by the parent): nothing to keep clean
        return None


@contextmanager
def capture_about(path: str | Path) -> Iterator[list[str]]:
    """Yield a list that, once the block has ended (normally or not), holds the stderr lines naming ``path``."""
    name = Path(path).name
    found: list[str] = []
    with _LOCK, _sink() as sink:
        saved = _dup_stderr() if sink is not None else None
        if sink is None or saved is None:  # read uncaptured rather than not at all
            yield found
            return
        global _SAVED
        sys.stderr.flush()
        _SAVED = saved
        os.dup2(sink.fileno(), 2)
        try:
            yield found
        finally:
            os.dup2(saved, 2)
            _SAVED = None
            os.close(saved)
            sink.seek(0)
            others = []
            for line in sink.read().splitlines(keepends=True):
                text = line.decode("utf-8", "replace")
                if name in text:
                    found.append(text.strip())
                else:
                    others.append(line)
            if others:  # written back byte for byte (a terminal progress bar's control codes included)
                os.write(2, b"".join(others))


def restore_stderr() -> None:
    """Point fd 2 back at the real stderr if a capture was cut off mid-swap (see ``_SAVED``); else nothing."""
    global _SAVED
    saved, _SAVED = _SAVED, None
    if saved is not None:
        os.dup2(saved, 2)
        os.close(saved)


def detail(found: list[str], exc: BaseException, path: str | Path) -> str:
    """The most telling account of a failed read: the library's own lines about ``path`` (without the path, which
    the error names anyway), else the exception's text; always one line."""
    lines = [line.replace(str(path), "").replace(Path(path).name, "").strip(" :") for line in found]
    text = "; ".join(line for line in lines if line) or str(exc)
    return " ".join(text.split())
