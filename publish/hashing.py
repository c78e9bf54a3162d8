"""Size and sha256 of a file: recorded on each representation file and checked after every copy."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

HASH_TYPE = "sha256"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str


def digest(path: str | Path) -> Digest:
    p = Path(path)
    h = hashlib.sha256()
    size = 0
    with open(p, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return Digest(size, h.hexdigest())


def matches(path: str | Path, expected: Digest) -> bool:
    """True when ``path`` exists with exactly ``expected``'s size and hash (size first: cheap)."""
    p = Path(path)
    try:
        if p.stat().st_size != expected.size:
            return False
    except OSError:
        return False
    return digest(p) == expected
