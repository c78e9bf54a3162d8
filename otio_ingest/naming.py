"""Shot names, sequence names, and the folder/plate path templates.

Names come from the editor's clip names, which are free text; the regexes pick out the part the pipeline uses,
and anything that still is not a valid name is an error naming the clip rather than a mangled folder.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from otio_ingest.bounds import search_bounded
from otio_ingest.errors import EditorialError

TEMPLATE_KEYS = ("shot", "sequence", "clip", "reel")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


_SAMPLE = {key: f"{key}010" for key in TEMPLATE_KEYS}
_MEDIA_EXTENSION = re.compile(
    r"\.(mov|mp4|m4v|mxf|avi|mkv|exr|dpx|tiff?|jpe?g|png|r3d|ari|braw|dng|cin|wav|aiff?)$", re.IGNORECASE
)


def check_template(template: str, option: str) -> None:
    """Fail before any shot is made when ``template`` names a key we do not fill, or cannot be filled at all
    (an index out of range, a bad format spec: ``{shot[9]}``, ``{shot:zz}``)."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise EditorialError(f"template {template!r} is malformed: {exc}", where=option) from None
    for field in fields:
        if "." in field:
            raise EditorialError(f"template field {{{field}}} reads an attribute; use the keys alone", where=option)
        key = re.split(r"[.\[]", field, maxsplit=1)[0]
        if key not in TEMPLATE_KEYS:
            known = ", ".join("{" + k + "}" for k in TEMPLATE_KEYS)
            shown = "{" + field + "}"
            raise EditorialError(f"template names unknown key {shown}; known keys: {known}", where=option)
    fill_template(template, _SAMPLE, option)


def fill_template(template: str, values: dict[str, str], option: str) -> str:
    """``template`` filled with ``values``; whatever str.format raises becomes an error naming ``option``."""
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
        raise EditorialError(f"template {template!r} cannot be filled ({reason})", where=option) from None


def pick(pattern: str, text: str, group: str, option: str) -> str | None:
    """The named ``group`` of the first match of ``pattern`` in ``text`` (the whole match if it has no such group).

    Runs time-bounded (:func:`otio_ingest.bounds.search_bounded`): the pattern may be a user's.
    """
    m = search_bounded(pattern, text, option)
    if m is None:
        return None
    return m.group(group) if group in m.re.groupindex else m.group(0)


def shot_name_from_clip(clip_name: str, fallback: str) -> str:
    """A folder-safe shot name from a free-text clip name: media extension dropped, other characters → ``_``."""
    return as_name(_MEDIA_EXTENSION.sub("", clip_name.strip())) or fallback


def is_name(text: str | None) -> bool:
    return bool(text) and _NAME.fullmatch(text or "") is not None


def as_name(text: str) -> str:
    """A free-text title as a folder-safe name (spaces and punctuation → ``_``)."""
    return _NOT_NAME.sub("_", text).strip("_")


def numbered_repeats(bases: Iterable[str]) -> list[str]:
    """Distinct names for clips used more than once: sh010, sh010_2, sh010_3 (skipping names already taken)."""
    bases = list(bases)
    taken = set(bases)
    used: set[str] = set()
    names = []
    for base in bases:
        name = base
        n = 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
            while name in taken:
                n += 1
                name = f"{base}_{n}"
        used.add(name)
        names.append(name)
    return names
