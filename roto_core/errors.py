"""Typed errors that carry *where* the problem is.

Every user-facing failure in rotofarm is one of these. The CLI prints ``error: WHERE: what`` and exits 2, so a
coordinator reading a farm log or a terminal sees the file, line, event or frame at fault instead of a traceback.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(text: str) -> str:
    """``text`` with its line breaks folded into single spaces: libraries (OpenEXR, FFmpeg, pydantic) write
    multi-line messages, and a farm log or a terminal must show each error as one line."""
    return _LINE_BREAKS.sub(" ", text).strip()


class RotofarmError(Exception):
    """Base of every error we raise on purpose.

    ``path`` and ``line`` locate the problem in a file; ``where`` adds any other locator (an EDL event, a frame,
    a URL) that helps the reader find it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.where = where
        self.hint = hint
        super().__init__(self.format())

    def location(self) -> str:
        parts: list[str] = []
        if self.path is not None:
            parts.append(self.path if self.line is None else f"{self.path}:{self.line}")
        if self.where:
            parts.append(self.where)
        return ": ".join(parts)

    def format(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text = f"{text} (hint: {self.hint})"
        return one_line(text)


class InputError(RotofarmError):
    """A file or argument the user gave us is missing, malformed or inconsistent."""


class ConfigError(RotofarmError):
    """A configuration file or value is invalid."""


class FrameError(RotofarmError):
    """A plate or mask frame is missing, unreadable or of the wrong size."""


class ModelError(RotofarmError):
    """A model cannot be built: missing checkpoint, wrong hash, missing package, absent device."""


class LimitError(InputError):
    """An input is beyond a bound we keep so that hostile input cannot hang or exhaust a farm node (frame count,
    image size, file size, file type); the message names the bound that was hit and its value."""


class StorageError(RotofarmError):
    """A folder we must write to cannot take the file: full, read-only, not writable, or over a size limit."""


class ChunkBusyError(RotofarmError):
    """Another process holds the lock of the chunk this one was asked to render (roto_core.chunks.lock)."""


_STORAGE_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EFBIG: "the file is larger than this process may write (file size limit)",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "the folder is not writable (permission denied)",
    errno.EPERM: "the folder is not writable (operation not permitted)",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file stands where its folder should be",
    errno.EISDIR: "the path is a folder, not a file",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "the storage reported an I/O error",
}


def storage_error(exc: OSError, path: str | Path) -> StorageError:
    """The typed, one-line form of an ``OSError`` met while writing ``path``: which folder, and why (full,
    read-only, …), without the errno dump a traceback would show."""
    folder = Path(path).parent
    reason = _STORAGE_REASONS.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    return StorageError(f"cannot write {Path(path).name}: {reason}", path=folder)
