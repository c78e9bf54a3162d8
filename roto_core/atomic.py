"""Write-then-rename helpers.

A farm task can be killed at any moment. Every file we produce is first written under a hidden temporary name in
the destination folder (same filesystem, so the rename is atomic) and renamed into place only when complete: a
reader never sees half a file, and a rerun overwrites cleanly.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TMP_MARK = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """A unique temporary sibling of ``path`` that keeps its suffix (some writers pick the format from it)."""
    return path.with_name(f".{path.stem}{TMP_MARK}{uuid.uuid4().hex[:8]}{path.suffix}")


def is_temp_name(path: Path) -> bool:
    return path.name.startswith(".") and TMP_MARK in path.name


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write to; on success rename it to ``path``, on failure remove it."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer produced nothing at {tmp}")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
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
