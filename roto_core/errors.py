"""Typed errors that carry *where* the problem is.

Every user-facing failure in rotofarm is one of these. The CLI prints ``error: WHERE: what`` and exits 2, so a
coordinator reading a farm log or a terminal sees the file, line, event or frame at fault instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


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
        return text


class InputError(RotofarmError):
    """A file or argument the user gave us is missing, malformed or inconsistent."""


class ConfigError(RotofarmError):
    """A configuration file or value is invalid."""


class FrameError(RotofarmError):
    """A plate or mask frame is missing, unreadable or of the wrong size."""


class ModelError(RotofarmError):
    """A model cannot be built: missing checkpoint, wrong hash, missing package, absent device."""
