"""Checks every command makes on its arguments before it does any work.

An output folder that is an existing file, lies under a file, or sits on a pseudo file system (``/proc``, ``/sys``)
used to fail after minutes of compute with a chain of tracebacks; a project name with ``/`` or ``..`` used to make
nested job folders outside ``jobs_root``. Each check here raises an :class:`InputError` naming the option, so the
CLI prints one ``error:`` line and exits 2 before anything is computed or written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from roto_core.errors import InputError

# Pseudo file systems: writing there fails (or worse, succeeds with side effects) whatever the permissions say,
# and root passes os.access() everywhere, so these are refused by place.
_PSEUDO_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))

# AYON's rule for project names (ayon-backend, ayon_server/types.py: PROJECT_NAME_REGEX = r"^[a-zA-Z0-9_]*$"),
# non-empty; the local tracker and the job folders follow the same rule so a project moves between them unchanged.
_PROJECT = re.compile(r"[A-Za-z0-9_]{1,64}")


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path.expanduser()))


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_place(path: Path, option: str) -> None:
    for root in _PSEUDO_ROOTS:
        if path == root or path.is_relative_to(root):
            raise InputError(f"{path} is on the {root} pseudo file system: choose a real folder", where=option)
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise InputError(f"{existing} is a file, so nothing can be written under it", where=option)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"no permission to write in {existing}", where=option)


def output_dir(path: Path | str, option: str) -> Path:
    """``path`` as a folder this process can create or write into; else an InputError naming ``option``."""
    target = _absolute(Path(path))
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file, not a folder", where=option)
    if target.is_dir():
        _check_place(target / "x", option)
    else:
        _check_place(target, option)
    return target


def frame_pattern(pattern: str, option: str) -> str:
    """A per-frame file pattern: without ``####``/``%04d`` one file would be read (or written) for every frame."""
    from roto_core.sequences import has_frame_token

    if not has_frame_token(pattern):
        raise InputError(
            f"{pattern!r} has no frame token: write the frame number as #### or %04d (one file per frame)",
            where=option,
        )
    return pattern


def project_name(name: str) -> str:
    """A tracker project name that is also one safe folder name (no ``/``, ``..``, quotes or spaces)."""
    if not _PROJECT.fullmatch(name):
        raise InputError(
            f"project name {name!r} must be 1-64 letters, digits or '_' (the AYON rule)", where="--project"
        )
    return name
