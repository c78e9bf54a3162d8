"""Frame sequence paths: ``####`` / ``%04d`` patterns → files, presence checks, and plate size probing.

Used by ingest (size of the first plate frame), the chunk runner (which frames exist) and the shapes tool (any
mask sequence). Movies are a single file addressed by frame index, so they have no pattern.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from roto_core.errors import FrameError, InputError

_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%(0?)(\d*)d")
MOVIE_SUFFIXES = {".mov", ".mp4", ".m4v", ".mkv", ".avi", ".mxf"}


def is_movie(pattern: str | Path) -> bool:
    return Path(str(pattern)).suffix.lower() in MOVIE_SUFFIXES


def has_frame_token(pattern: str | Path) -> bool:
    s = str(pattern)
    return bool(_HASHES.search(s) or _PRINTF.search(s))


def _last_token(pattern: str) -> re.Match[str] | None:
    """The frame token a path expands: the last ``####`` or ``%0Nd`` of the pattern."""
    return max([*_HASHES.finditer(pattern), *_PRINTF.finditer(pattern)], key=lambda m: m.start(), default=None)


def frame_path(pattern: str | Path, frame: int) -> Path:
    """Expand the last frame token of ``pattern``; ``####`` pads to 4, ``%06d`` to 6, ``%d`` not at all."""
    s = str(pattern)
    last = _last_token(s)
    if last is None:
        return Path(s)
    if last.re is _HASHES:
        text = f"{frame:0{len(last.group(0))}d}"
    else:
        width = int(last.group(2) or 0)
        text = f"{frame:0{width}d}" if last.group(1) else f"{frame:{width}d}".strip()
    return Path(s[: last.start()] + text + s[last.end() :])


def sequence_frames(pattern: str | Path) -> list[int]:
    """The frame numbers present on disk for a ``####``/``%04d`` pattern, sorted."""
    text = str(pattern)
    last = _last_token(text)
    if last is None:
        raise InputError("not a frame sequence pattern (use #### or %04d)", path=text)
    folder_text, stem = os.path.split(text[: last.start()])
    folder, tail = Path(folder_text or "."), text[last.end() :]
    rx = re.compile(re.escape(stem) + r"(-?\d+)" + re.escape(tail) + "$")
    found = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = rx.match(p.name)
            if m and frame_path(text, int(m.group(1))) == p:
                found.append(int(m.group(1)))
    return sorted(found)


def first_missing(pattern: str | Path, first: int, last: int) -> Path | None:
    """The first frame file of ``first..last`` that does not exist, or None."""
    if is_movie(pattern) or not has_frame_token(pattern):
        p = Path(str(pattern))
        return None if p.is_file() else p
    for frame in range(first, last + 1):
        p = frame_path(pattern, frame)
        if not p.is_file():
            return p
    return None


def require_frames(pattern: str | Path, first: int, last: int) -> None:
    missing = first_missing(pattern, first, last)
    if missing is not None:
        raise FrameError(f"frame file is missing (sequence {pattern}, frames {first}-{last})", path=missing)


def probe_size(pattern: str | Path, frame: int) -> tuple[int, int]:
    """(width, height) of one frame, read from the header where the format has one. EXR: the display window."""
    path = Path(str(pattern)) if is_movie(pattern) else frame_path(pattern, frame)
    if not path.is_file():
        raise FrameError("frame file is missing", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".exr":
            import OpenEXR

            with OpenEXR.File(str(path), header_only=True) as exr:
                (x0, y0), (x1, y1) = exr.header()["displayWindow"]
            return int(x1 - x0 + 1), int(y1 - y0 + 1)
        if suffix in MOVIE_SUFFIXES:
            import av

            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                return int(stream.codec_context.width), int(stream.codec_context.height)
        import cv2

        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise ValueError("OpenCV could not decode it")
        return int(img.shape[1]), int(img.shape[0])
    except FrameError:
        raise
    except Exception as exc:
        raise FrameError(f"cannot read frame size ({exc})", path=path) from None
