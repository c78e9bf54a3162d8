"""Shot names, sequence names, and the folder/plate path templates.

Names come from the editor's clip names, which are free text; the regexes pick out the part the pipeline uses,
and anything that still is not a valid name is an error naming the clip rather than a mangled folder.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from otio_ingest.errors import EditorialError

TEMPLATE_KEYS = ("shot", "sequence", "clip", "reel")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def check_template(template: str, option: str) -> None:
    """Fail before any shot is made when ``template`` names a key we do not fill (``--plates``, ...)."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise EditorialError(f"template {template!r} is malformed: {exc}", where=option) from None
    for field in fields:
        key = re.split(r"[.\[]", field, maxsplit=1)[0]
        if key not in TEMPLATE_KEYS:
            known = ", ".join("{" + k + "}" for k in TEMPLATE_KEYS)
            shown = "{" + field + "}"
            raise EditorialError(f"template names unknown key {shown}; known keys: {known}", where=option)


def fill_template(template: str, values: dict[str, str]) -> str:
    return template.format_map(values)


def pick(regex: str, text: str, group: str) -> str | None:
    """The named ``group`` of the first match of ``regex`` in ``text`` (the whole match if it has no such group)."""
    m = re.search(regex, text)
    if m is None:
        return None
    return m.group(group) if group in m.re.groupindex else m.group(0)


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
