"""Frame sequence paths: ``####`` / ``%04d`` patterns → files, presence checks, plate size probing, and the
bounds every frame input is held to.

Used by ingest (size of the first plate frame), the chunk runner (which frames exist) and the shapes tool (any
mask sequence). Movies are a single file addressed by frame index, so they have no pattern.

Bounds: a farm node must not hang or run out of memory on a hostile or broken input, so before anything is
allocated a frame range is held to ``MAX_FRAMES``, a frame file must be a regular, non-empty file of at most
``MAX_FRAME_BYTES`` (a FIFO would block the reader forever, ``/dev/zero`` would fill memory), and an image's
size is read from its header (OpenEXR header-only read, Pillow's lazy open, the DPX file header) and held to
``MAX_IMAGE_EDGE`` and ``MAX_IMAGE_PIXELS`` before the pixels are decoded. Each refusal is a ``LimitError``
naming the bound and its value.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import warnings
from pathlib import Path

from roto_core.errors import FrameError, InputError, LimitError, one_line
from roto_core.native_stderr import capture_about, detail

MAX_FRAMES = 100_000
"""Frames in one range: over an hour at 24 fps, far beyond any shot, and small enough to list."""
MAX_FRAME_BYTES = 4 << 30
"""Bytes of one frame file: a 16K float RGBA uncompressed EXR; an 8K one is about 0.6 GiB."""
MAX_IMAGE_EDGE = 16_384
"""Pixels on either axis of an image (or of an EXR's display or data window)."""
MAX_IMAGE_PIXELS = 8_192 * 8_192
"""Pixels of one image: 67 Mpx, twice an 8K DCI plate; three float32 planes of it are 0.75 GiB."""

_FILE_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}

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


def check_frame_count(first: int, last: int, where: str | None = None) -> int:
    """The number of frames of ``first..last``; a ``LimitError`` beyond ``MAX_FRAMES`` (before anything lists
    them: ``--frames 1-99999999999`` would otherwise hang or exhaust memory)."""
    count = last - first + 1
    if count > MAX_FRAMES:
        raise LimitError(
            f"frame range {first}-{last} has {count} frames, above the bound of {MAX_FRAMES} frames per range",
            where=where,
        )
    return count


def check_frame_file(path: str | Path, kind: str = "frame") -> int:
    """The size in bytes of a frame (or mask) file, after checking it is a regular, non-empty file within
    ``MAX_FRAME_BYTES``. Symlinks are followed: a link to ``/dev/zero`` is a character device."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FrameError(f"{kind} file is missing", path=p) from None
    except OSError as exc:
        raise FrameError(f"{kind} file cannot be examined ({exc.strerror})", path=p) from None
    if not stat.S_ISREG(st.st_mode):
        what = next((name for test, name in _FILE_KINDS.items() if test(st.st_mode)), "not a regular file")
        raise LimitError(f"{kind} path is {what}; a {kind} must be a regular file", path=p)
    if st.st_size == 0:
        raise FrameError(f"{kind} file is empty (0 bytes)", path=p)
    if st.st_size > MAX_FRAME_BYTES:
        raise LimitError(
            f"{kind} file is {st.st_size / 2**30:.1f} GiB, above the bound of {MAX_FRAME_BYTES >> 30} GiB per file",
            path=p,
        )
    return st.st_size


def check_image_size(width: int, height: int, path: str | Path, what: str = "image") -> tuple[int, int]:
    """``(width, height)`` after holding it to ``MAX_IMAGE_EDGE`` and ``MAX_IMAGE_PIXELS``."""
    if width < 1 or height < 1:
        raise FrameError(f"{what} is {width}x{height}: empty", path=path)
    if max(width, height) > MAX_IMAGE_EDGE:
        raise LimitError(f"{what} is {width}x{height}, above the bound of {MAX_IMAGE_EDGE} px per side", path=path)
    if width * height > MAX_IMAGE_PIXELS:
        raise LimitError(
            f"{what} is {width}x{height} ({width * height / 1e6:.0f} Mpx), above the bound of "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} Mpx",
            path=path,
        )
    return width, height


def _window_size(window) -> tuple[int, int]:
    (x0, y0), (x1, y1) = window
    return int(x1) - int(x0) + 1, int(y1) - int(y0) + 1


def _exr_header(path: str | Path) -> dict:
    """The header of an EXR, read without its pixels; a broken file is one typed error."""
    import OpenEXR

    try:
        with capture_about(path) as printed, OpenEXR.File(str(path), header_only=True) as exr:
            header = dict(exr.header())  # a copy: OpenEXR empties the file's header dict when the file closes
        if not {"displayWindow", "dataWindow"} <= header.keys():
            raise KeyError("the header has no display or data window")
    except Exception as exc:  # OpenEXR raises bare RuntimeError/OSError and prints the reason on stderr
        raise FrameError(f"unreadable or truncated EXR ({detail(printed, exc, path)})", path=path) from None
    return header


def check_exr_header(path: str | Path) -> tuple[int, int]:
    """The display window size (w, h) of an EXR, read from its header only; both windows are held to the image
    bounds, because OpenEXR allocates the data window and we allocate the display window."""
    header = _exr_header(path)
    display, data = header["displayWindow"], header["dataWindow"]
    check_image_size(*_window_size(data), path, "EXR data window")
    return check_image_size(*_window_size(display), path, "EXR display window")


def _dpx_size(path: Path) -> tuple[int, int]:
    """Pixels per line and lines per element from the DPX header (SMPTE 268M: magic ``SDPX`` big-endian or
    ``XPDS`` little-endian at 0; the image information header's two uint32 at bytes 772 and 776, where FFmpeg's
    libavcodec/dpx.c reads them too, at ``0x304``)."""
    with open(path, "rb") as fh:
        head = fh.read(780)
    order = {b"SDPX": ">", b"XPDS": "<"}.get(head[:4])
    if order is None or len(head) < 780:
        raise FrameError("not a DPX file (no SDPX/XPDS magic or a header shorter than 780 bytes)", path=path)
    width, height = struct.unpack(f"{order}II", head[772:780])
    return width, height


def _pillow_size(path: Path) -> tuple[int, int]:
    """(w, h) from a PNG/JPEG/TIFF header: Pillow's ``open`` is lazy and reads no pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings(action="ignore"), Image.open(path) as img:  # e.g. "Corrupt EXIF data"
            return img.size
    except Image.DecompressionBombError as exc:  # Pillow's own bound is above ours: ours is hit too
        raise LimitError(
            f"image is above the bound of {MAX_IMAGE_PIXELS / 1e6:.0f} Mpx ({one_line(str(exc))})", path=path
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise FrameError(f"unreadable or corrupt image ({one_line(str(exc))})", path=path) from None


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of one still frame from its header, after the file and image bounds are checked."""
    p = Path(path)
    check_frame_file(p)
    suffix = p.suffix.lower()
    if suffix == ".exr":
        return check_exr_header(p)
    if suffix == ".dpx":
        return check_image_size(*_dpx_size(p), p)
    return check_image_size(*_pillow_size(p), p)


def first_missing(pattern: str | Path, first: int, last: int) -> Path | None:
    """The first frame path of ``first..last`` where nothing exists, or None (what does exist is checked when
    read: a FIFO there is reported as a FIFO, not as missing)."""
    if is_movie(pattern) or not has_frame_token(pattern):
        p = Path(str(pattern))
        return None if p.exists() else p
    check_frame_count(first, last, where=str(pattern))
    for frame in range(first, last + 1):
        p = frame_path(pattern, frame)
        if not p.exists():
            return p
    return None


def require_frames(pattern: str | Path, first: int, last: int) -> None:
    missing = first_missing(pattern, first, last)
    if missing is not None:
        raise FrameError(f"frame file is missing (sequence {pattern}, frames {first}-{last})", path=missing)


def probe_pixel_aspect(pattern: str | Path, frame: int) -> float:
    """The plate's pixel aspect: an EXR's ``pixelAspectRatio`` header attribute (anamorphic plates carry 2.0 or
    1.33 there), 1.0 for other formats, whose headers the plates we read do not use for it."""
    path = Path(str(pattern)) if is_movie(pattern) else frame_path(pattern, frame)
    if path.suffix.lower() != ".exr":
        return 1.0
    check_frame_file(path)
    aspect = _exr_header(path).get("pixelAspectRatio", 1.0)
    if not isinstance(aspect, int | float) or not 0.1 <= float(aspect) <= 10.0:
        raise FrameError(f"pixelAspectRatio {aspect!r} in the EXR header is outside 0.1-10", path=path)
    return float(aspect)


def probe_size(pattern: str | Path, frame: int) -> tuple[int, int]:
    """(width, height) of one frame, read from the header and held to the bounds. EXR: the display window."""
    path = Path(str(pattern)) if is_movie(pattern) else frame_path(pattern, frame)
    if not is_movie(pattern):
        return image_size(path)
    check_frame_file(path, "movie")
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            size = int(stream.codec_context.width), int(stream.codec_context.height)
    except (av.error.FFmpegError, IndexError, ValueError) as exc:
        raise FrameError(
            f"cannot read the movie's frame size ({one_line(str(exc)) or 'no video stream'})", path=path
        ) from None
    return check_image_size(*size, path, "movie frame")
