"""Limits on what ingest will read, so that hostile or broken input ends in one error line, not a hang or a crash.

Each bound names itself in its error ("… over the 64 MiB limit for .edl files"): a coordinator who hits one with a
real cut knows which limit to raise. The numbers are far above any real cut: a 100,000-event EDL is about 10 MiB,
OTIO nests a timeline → stack → track → clip → reference a handful of levels deep, and editors cap clip names at
a few hundred characters.

- File: a regular file (a FIFO or a device behind a symlink would block or never end) of bounded size.
- Nesting of OTIO JSON: checked on the text before OpenTimelineIO's C++ reader sees it (deep nesting crashed it).
- Clip name length: names go through regexes and into folder paths.
- Regex time: user regexes run with the ``regex`` package's timeout (Python's ``re`` cannot be interrupted).
"""

from __future__ import annotations

import re
import stat
import zipfile
from itertools import accumulate
from pathlib import Path

import regex

from otio_ingest.errors import ClipError, EditorialError

MiB = 1024 * 1024
MAX_BYTES = {".aaf": 2048 * MiB, ".otioz": 512 * MiB}
MAX_TEXT_BYTES = 64 * MiB
MAX_NESTING = 200
MAX_NAME_CHARS = 1024
REGEX_TIMEOUT_S = 1.0

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def check_cut_file(path: Path, what: str = "the cut file") -> None:
    """``path`` is a regular file within the size limit of its format (symlinks are followed, then checked).

    ``what`` names the file in the error (the cut, or the prompts sidecar that rides along with it).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise EditorialError("file not found", path=path) from None
    except OSError as exc:
        raise EditorialError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if not stat.S_ISREG(info.st_mode) and not (path.suffix.lower() == ".otiod" and stat.S_ISDIR(info.st_mode)):
        raise EditorialError(f"is not a regular file ({_kind(info.st_mode)}); give {what} itself", path=path)
    limit = MAX_BYTES.get(path.suffix.lower(), MAX_TEXT_BYTES)
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise EditorialError(
            f"is {info.st_size / MiB:.0f} MiB, over the {limit // MiB} MiB limit for {path.suffix} files", path=path
        )


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a plain file"


def read_bounded(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of ``path``, failing past ``limit`` even if the file grows while it is read."""
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise EditorialError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if len(data) > limit:
        raise EditorialError(f"is over the {limit // MiB} MiB limit for {path.suffix} files", path=path)
    return data


def check_otio_nesting(path: Path) -> None:
    """Fail on OTIO JSON nested deeper than :data:`MAX_NESTING` before OpenTimelineIO parses it."""
    suffix = path.suffix.lower()
    if suffix == ".otio":
        text = read_bounded(path).decode("utf-8", errors="replace")
    elif suffix in (".otioz", ".otiod"):
        text = _bundle_content(path)
    else:
        return
    depth = json_depth(text)
    if depth > MAX_NESTING:
        raise EditorialError(f"nests {depth} levels deep, over the limit of {MAX_NESTING}", path=path)


def _bundle_content(path: Path) -> str:
    """``content.otio`` of an otioz (zip) or otiod (folder) bundle, size-bounded; empty when it is not there."""
    if path.is_dir():
        content = path / "content.otio"
        return read_bounded(content).decode("utf-8", errors="replace") if content.is_file() else ""
    try:
        with zipfile.ZipFile(path) as bundle:
            info = bundle.getinfo("content.otio")
            if info.file_size > MAX_TEXT_BYTES:
                raise EditorialError(f"content.otio is over the {MAX_TEXT_BYTES // MiB} MiB limit", path=path)
            return bundle.read(info).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return ""  # the adapter says what is wrong with the bundle


def json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON ``text`` (strings ignored); linear in the text."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(1 if c in "[{" else -1 for c in brackets))


def check_name_length(name: str, what: str, path: Path) -> None:
    """A clip error (an EDL then points at the event's line) when ``name`` is over :data:`MAX_NAME_CHARS`."""
    if len(name) > MAX_NAME_CHARS:
        raise ClipError(
            f"name is {len(name)} characters long, over the limit of {MAX_NAME_CHARS}: {name[:40]!r}...",
            path=path,
            where=what,
        )


def compile_user_regex(pattern: str) -> regex.Pattern[str]:
    """A user's pattern, compiled by the ``regex`` package (``re`` syntax; named groups as ``(?P<name>...)``)."""
    return regex.compile(pattern)


def search_bounded(pattern: str, text: str, option: str) -> regex.Match[str] | None:
    """``pattern`` searched in ``text``, stopped after :data:`REGEX_TIMEOUT_S` (catastrophic backtracking)."""
    try:
        return compile_user_regex(pattern).search(text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        raise EditorialError(
            f"pattern {pattern!r} ran over the {REGEX_TIMEOUT_S:g} s limit on {text[:60]!r}; "
            "it backtracks catastrophically (nested quantifiers?): simplify it",
            where=option,
        ) from None
