"""Write-then-rename helpers.

A farm task can be killed at any moment. Every file we produce is first written under a hidden temporary name in
the destination folder (same filesystem, so the rename is atomic) and renamed into place only when complete: a
reader never sees half a file, and a rerun overwrites cleanly. The data is fsynced before the rename, so after
a crash a final name holds either the complete file or the previous one, never a torn one (the folder itself is
not fsynced: losing a just-renamed file on power loss is a rerun, not a corrupt frame). A full, read-only or
unwritable folder is a typed ``StorageError`` naming the folder, and the temporary is removed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from roto_core.errors import storage_error

TMP_MARK = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """A unique temporary sibling of ``path`` that keeps its suffix (some writers pick the format from it)."""
    return path.with_name(f".{path.stem}{TMP_MARK}{uuid.uuid4().hex[:8]}{path.suffix}")


def is_temp_name(path: Path) -> bool:
    return path.name.startswith(".") and TMP_MARK in path.name


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write to; on success fsync it and rename it to ``path``, on failure remove it.

    The body's job is writing the temporary, so an ``OSError`` it raises (full disk, read-only folder) is turned
    into a ``StorageError`` like those of creating the folder and renaming.
    """
    final = Path(path)
    tmp = temp_path_for(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer produced nothing at {tmp}")
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise storage_error(exc, final) from None
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(tmp: Path) -> None:
    """Remove a failed write's temporary; a folder that refuses even that (read-only) has none to remove."""
    with suppress(OSError):
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def remove_stale_temps(folder: str | Path) -> int:
    """Delete temporaries left by a killed writer; returns how many were removed."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    count = 0
    for p in root.rglob(f".*{TMP_MARK}*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            count += 1
    return count
