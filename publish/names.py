"""Names that become path parts of a publish, checked where they enter, and the root rule for every path.

The project, folder path, product and task names fill the anatomy template, so a ``../`` or an absolute part
in any of them would put published files outside the tracker root. They are checked against AYON's own entity
name rules (ayon-backend ``ayon_server/types.py``: ``NAME_REGEX`` for entity names, ``PROJECT_NAME_REGEX`` for
projects), which admit no ``/``, no leading dot and no empty name; and every filled path is checked once more to
resolve inside its root (``inside_root``), whatever template a studio configured.
"""

from __future__ import annotations

import re
from pathlib import Path

from publish.errors import PublishError
from roto_core.errors import ConfigError, InputError

ENTITY_NAME = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_\.\-]*[a-zA-Z0-9_])?$")
PROJECT_NAME = re.compile(r"^[a-zA-Z0-9_]+$")
MAX_NAME = 64


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_name(value: str, what: str, *, where: str, config: bool = False) -> str:
    """An AYON entity name (folder, product, task, variant): letters, digits, ``_ . -``, no path separators."""
    if not isinstance(value, str) or len(value) > MAX_NAME or not ENTITY_NAME.match(value):
        error = ConfigError if config else InputError
        raise error(
            f"{what} {_shown(value)} is not a valid name (letters, digits, _ . -; at most {MAX_NAME} characters)",
            where=where,
        )
    return value


def check_project(value: str, *, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME or not PROJECT_NAME.match(value):
        raise InputError(f"project {_shown(value)} is not a valid project name (letters, digits, _)", where=where)
    return value


def check_folder_path(value: str, *, where: str) -> str:
    """An absolute folder path ``/seq/shot`` of valid names (``..``, ``.`` and empty parts refused)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError("folder_path is empty: it must be the shot's tracker path, e.g. /sq010/sh010", where=where)
    if not value.startswith("/"):
        raise InputError(f"folder_path {_shown(value)} must start with '/' (e.g. /sq010/sh010)", where=where)
    for part in value[1:].split("/"):
        check_name(part, "folder_path part", where=where)
    return value


def inside_root(path: Path, root: Path, *, what: str) -> Path:
    """``path`` resolved, refused unless it lies below ``root`` (symlinks and ``..`` resolved first)."""
    resolved, base = path.resolve(), root.resolve()
    if not resolved.is_relative_to(base) or resolved == base:
        raise PublishError(f"{what} would be written outside the tracker root {base}", path=path)
    return resolved
