"""Plate frames as the models want them: float32 H×W×3, display-referred (sRGB) in 0..1.

Plates arrive as linear EXR (OpenEXR), DPX (PyAV's image decoder: OpenCV has no DPX reader), TIFF/PNG/JPEG
in 8 or 16 bit (OpenCV) or movies (PyAV, addressed by frame index). Linear EXR goes through the sRGB transfer
curve and is clamped, because every model we run was trained on display-referred pictures. ``FrameSource``
loads one frame at a time so a chunk of 4K frames never sits in memory whole.

Hostile or broken files end as one-line ``FrameError``/``LimitError`` naming the file: every frame file is
checked (regular, non-empty, bounded: roto_core.sequences) and its header's image size bounded before pixels are
decoded. libjpeg and libpng print their complaints on stderr and hand OpenCV a grey-filled picture (a truncated
JPEG) or nothing, so files are checked before OpenCV sees them: a JPEG must start with its start-of-image marker
and end with its end-of-image marker (entropy-coded data never holds ``FF D9``, so a truncated file cannot end
with it; plate writers end the file there — all 893 DAVIS JPEGs do), and a PNG is verified by Pillow (chunk CRCs
through IEND). OpenCV's own log is silenced: its failures reach us as ``None`` and are reported here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import overload

import cv2
import numpy as np

from roto_core.errors import FrameError, one_line
from roto_core.native_stderr import capture_about, detail
from roto_core.sequences import (
    check_exr_header,
    check_frame_count,
    check_frame_file,
    frame_path,
    image_size,
    is_movie,
    probe_size,
    require_frames,
)

_JPEG_SUFFIXES = {".jpg", ".jpeg"}
_OPENCV_SUFFIXES = {".tif", ".tiff", ".png", *_JPEG_SUFFIXES}
_PYAV_IMAGE_SUFFIXES = {".dpx"}

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """The IEC 61966-2-1 transfer curve, clamped to 0..1 (super-whites and negatives carry no roto signal; NaN,
    which a broken render leaves in a float plate, is black rather than a NaN that spreads through a model)."""
    x = np.clip(np.nan_to_num(linear, nan=0.0), 0.0, 1.0).astype(np.float32, copy=False)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)


@functools.cache
def _half_to_srgb_table() -> np.ndarray:
    """sRGB of every half-float bit pattern: a 65536-entry lookup replaces the power curve on whole plates."""
    values = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)
    return linear_to_srgb(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0))


def fit_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    """(w, h) scaled so the long edge is at most ``max_size``; never upscales."""
    if max_size is None or max(width, height) <= max_size:
        return width, height
    scale = max_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(img: np.ndarray, max_size: int | None) -> np.ndarray:
    h, w = img.shape[:2]
    tw, th = fit_size(w, h, max_size)
    if (tw, th) == (w, h):
        return img
    return cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)


def _pick_exr_planes(channels: dict[str, np.ndarray], path: Path) -> list[np.ndarray]:
    """R,G,B (bare or of the first layer that has all three), else luminance Y, else a lone channel."""
    for prefix in ["", *sorted({n.rsplit(".", 1)[0] + "." for n in channels if "." in n})]:
        names = [f"{prefix}{c}" for c in "RGB"]
        if all(n in channels for n in names):
            return [channels[n] for n in names]
    if "Y" in channels:
        return [channels["Y"]] * 3
    if len(channels) == 1:
        return [next(iter(channels.values()))] * 3
    raise FrameError(f"EXR has no R,G,B or Y channels (channels: {', '.join(sorted(channels))})", path=path)


def _to_srgb_plane(plane: np.ndarray) -> np.ndarray:
    if plane.dtype == np.float16:
        return _half_to_srgb_table()[plane.view(np.uint16)]
    return linear_to_srgb(plane.astype(np.float32, copy=False))


def _exr_planes(path: Path) -> list[np.ndarray]:
    """The three display-referred float32 planes of an EXR, each the size of its display window.

    Kept as planes, not an interleaved image, so a reader that scales down can do so before interleaving.
    """
    import OpenEXR

    check_exr_header(path)
    try:
        with capture_about(path) as printed, OpenEXR.File(str(path), separate_channels=True) as exr:
            header = exr.header()
            display, data_window = header["displayWindow"], header["dataWindow"]
            channels = {name: np.asarray(ch.pixels) for name, ch in exr.channels().items()}
    except Exception as exc:  # OpenEXR raises bare RuntimeError/OSError and prints the reason on stderr
        raise FrameError(f"unreadable or truncated EXR ({detail(printed, exc, path)})", path=path) from None
    converted: dict[int, np.ndarray] = {}  # a Y channel stands for all three: convert it once
    planes = [converted.setdefault(id(p), _to_srgb_plane(p)) for p in _pick_exr_planes(channels, path)]
    (dx0, dy0), (dx1, dy1) = display
    (ax0, ay0), _ = data_window
    shape = (int(dy1 - dy0 + 1), int(dx1 - dx0 + 1))
    ox, oy = int(ax0 - dx0), int(ay0 - dy0)
    if (ox, oy) == (0, 0) and planes[0].shape == shape:
        return planes
    # Place the data window inside the display window; pixels outside the display are dropped.
    h, w = planes[0].shape
    sx0, sy0 = max(0, -ox), max(0, -oy)
    tx0, ty0 = max(0, ox), max(0, oy)
    tx1, ty1 = min(shape[1], ox + w), min(shape[0], oy + h)
    placed = []
    for plane in planes:
        out = np.zeros(shape, np.float32)
        if tx1 > tx0 and ty1 > ty0:
            out[ty0:ty1, tx0:tx1] = plane[sy0 : sy0 + ty1 - ty0, sx0 : sx0 + tx1 - tx0]
        placed.append(out)
    return placed


def _normalise_integer(img: np.ndarray, path: Path) -> np.ndarray:
    if np.issubdtype(img.dtype, np.integer):
        return img.astype(np.float32) / float(np.iinfo(img.dtype).max)
    if np.issubdtype(img.dtype, np.floating):
        return np.clip(img.astype(np.float32), 0.0, 1.0)
    raise FrameError(f"unsupported pixel type {img.dtype}", path=path)


def _check_jpeg_complete(path: Path) -> None:
    """SOI at the start, EOI at the end (after any zero padding): else libjpeg would decode a grey-filled frame."""
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(max(0, fh.seek(0, 2) - 4096))
        tail = fh.read().rstrip(b"\0")
    if head != b"\xff\xd8":
        raise FrameError("not a JPEG (no start-of-image marker)", path=path)
    if not tail.endswith(b"\xff\xd9"):
        raise FrameError("truncated JPEG (the file does not end with the end-of-image marker)", path=path)


def _verify_png(path: Path) -> None:
    """Pillow reads every PNG chunk and checks its CRC through IEND, so OpenCV only sees complete files."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.verify()
    except (OSError, ValueError, SyntaxError) as exc:
        raise FrameError(f"unreadable or truncated PNG ({one_line(str(exc))})", path=path) from None


def _read_opencv(path: Path) -> np.ndarray:
    image_size(path)
    if path.suffix.lower() == ".png":
        _verify_png(path)
    elif path.suffix.lower() in _JPEG_SUFFIXES:
        _check_jpeg_complete(path)
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FrameError("unreadable image (OpenCV could not decode it)", path=path)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return _normalise_integer(img, path)


def _pyav_rgb(frame) -> np.ndarray:
    """A decoded PyAV frame as float RGB, keeping 16-bit precision for deep formats (DPX 10/12/16 bit)."""
    deep = frame.format.name not in {"rgb24", "rgba", "bgr24", "bgra", "gray", "yuv420p", "yuvj420p", "nv12"}
    arr = frame.to_ndarray(format="rgb48le" if deep else "rgb24")
    return _normalise_integer(arr, Path("."))


def _read_pyav_image(path: Path) -> np.ndarray:
    import av

    image_size(path)
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return _pyav_rgb(frame)
    except (av.error.FFmpegError, StopIteration, ValueError) as exc:
        raise FrameError(f"unreadable image ({one_line(str(exc)) or 'no picture in it'})", path=path) from None


class _MovieReader:
    """Sequential decoding with one open container; a backwards or far jump reopens and decodes forward."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._container = None
        self._frames = None
        self._next_index = 0

    def _open(self) -> None:
        import av

        self.close()
        probe_size(self.path, 0)
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as exc:
            raise FrameError(f"unreadable movie ({one_line(str(exc))})", path=self.path) from None
        self._frames = self._container.decode(video=0)
        self._next_index = 0

    def read(self, index: int) -> np.ndarray:
        import av

        if index < 0:
            raise FrameError(f"movie frame index {index} is negative", path=self.path)
        if self._frames is None or index < self._next_index:
            self._open()
        try:
            while True:
                frame = next(self._frames)
                self._next_index += 1
                if self._next_index - 1 == index:
                    return _pyav_rgb(frame)
        except StopIteration:
            raise FrameError(
                f"movie has no frame index {index} (it ends after {self._next_index} frames)", path=self.path
            ) from None
        except av.error.FFmpegError as exc:
            raise FrameError(
                f"movie decoding failed at frame index {index} ({one_line(str(exc))})", path=self.path
            ) from None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._frames = None


def _read_still(path: Path, size: tuple[int, int] | None) -> tuple[np.ndarray, tuple[int, int]]:
    """A still frame scaled to ``size`` (w, h; None: as stored), and the size it was stored at."""
    check_frame_file(path)
    suffix = path.suffix.lower()
    if suffix == ".exr":
        planes = _exr_planes(path)
        stored = (planes[0].shape[1], planes[0].shape[0])
        if size is not None and size != stored:
            planes = [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in planes]
        return cv2.merge(planes), stored
    if suffix in _PYAV_IMAGE_SUFFIXES:
        img = _read_pyav_image(path)
    elif suffix in _OPENCV_SUFFIXES:
        img = _read_opencv(path)
    else:
        raise FrameError(f"unsupported plate format {suffix or '(no suffix)'}", path=path)
    stored = (img.shape[1], img.shape[0])
    if size is not None and size != stored:
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return img, stored


def read_frame(pattern: str | Path, frame: int, max_size: int | None = None) -> np.ndarray:
    """One frame as float32 H×W×3 sRGB in 0..1, its long edge scaled down to ``max_size`` when given.

    ``pattern`` is a ``####``/``%04d`` sequence or a movie; for a movie ``frame`` is the 0-based frame index.
    """
    if is_movie(pattern):
        path = Path(str(pattern))
        reader = _MovieReader(path)
        try:
            img = reader.read(frame)
        finally:
            reader.close()
        img = _resize(img, max_size)
    else:
        path = frame_path(pattern, frame)
        if max_size is None:
            img, _ = _read_still(path, None)
        else:
            img, _ = _read_still(path, fit_size(*probe_size(pattern, frame), max_size))
    return np.ascontiguousarray(img, dtype=np.float32)


class FrameSource(Sequence[np.ndarray]):
    """Frames ``first..last`` of a plate, read on access (index 0 is ``first``) at the working resolution.

    Checks up front that every file exists so a chunk fails before any work with the first missing file named.
    Only the most recently read frame is kept; with ``prefetch`` the next one is decoded on a background thread
    meanwhile (EXR and PyAV decoding release the GIL), so decoding overlaps the model's work.
    ``movie_first_frame`` is the frame number of a movie's first picture (a shot's ``first_frame``), so frame
    numbers mean the same for movies as for sequences.
    """

    def __init__(
        self,
        pattern: str | Path,
        first: int,
        last: int,
        *,
        max_size: int | None = None,
        movie_first_frame: int | None = None,
        prefetch: bool = False,
    ) -> None:
        if last < first:
            raise FrameError(f"empty frame range {first}-{last}", path=pattern)
        check_frame_count(first, last, where=str(pattern))
        self.pattern = str(pattern)
        self.first = first
        self.last = last
        self.max_size = max_size
        self._movie = _MovieReader(Path(self.pattern)) if is_movie(self.pattern) else None
        self._movie_first = first if movie_first_frame is None else movie_first_frame
        require_frames(self.pattern, first, last)
        self.plate_size: tuple[int, int] = probe_size(self.pattern, first)
        self.size: tuple[int, int] = fit_size(*self.plate_size, max_size)
        self._cached: tuple[int, np.ndarray] | None = None
        self.decode_seconds = 0.0
        # One loader thread does every decode, so a movie's decoder is never used from two threads at once.
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frames") if prefetch else None
        self._ahead: tuple[int, Future[np.ndarray]] | None = None

    @property
    def frames(self) -> range:
        return range(self.first, self.last + 1)

    @property
    def scale(self) -> float:
        """Working pixels per plate pixel (≤ 1)."""
        return self.size[0] / self.plate_size[0]

    def __len__(self) -> int:
        return self.last - self.first + 1

    def read(self, frame: int) -> np.ndarray:
        """The frame numbered ``frame`` (not an index) at the working resolution."""
        if not self.first <= frame <= self.last:
            raise FrameError(f"frame {frame} is outside {self.first}-{self.last}", path=self.pattern)
        if self._cached is not None and self._cached[0] == frame:
            return self._cached[1]
        if self._loader is None:
            img = self._load(frame)
        else:
            ahead = self._ahead
            future = ahead[1] if ahead is not None and ahead[0] == frame else self._loader.submit(self._load, frame)
            self._ahead = None
            img = future.result()
            if frame < self.last:
                self._ahead = (frame + 1, self._loader.submit(self._load, frame + 1))
        self._cached = (frame, img)
        return img

    def _load(self, frame: int) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._decode(frame)
        finally:
            self.decode_seconds += time.perf_counter() - started

    def _decode(self, frame: int) -> np.ndarray:
        if self._movie is not None:
            img = self._movie.read(frame - self._movie_first)
            stored = (img.shape[1], img.shape[0])
            if stored == self.plate_size and self.size != stored:
                img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
        else:
            img, stored = _read_still(frame_path(self.pattern, frame), self.size)
        if stored != self.plate_size:
            raise FrameError(
                f"frame is {stored[0]}x{stored[1]}, the plate is {self.plate_size[0]}x{self.plate_size[1]}",
                path=frame_path(self.pattern, frame),
            )
        return np.ascontiguousarray(img, dtype=np.float32)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> list[np.ndarray]: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.read(self.first + index)

    def close(self) -> None:
        if self._loader is not None:
            self._loader.shutdown(wait=True, cancel_futures=True)
            self._loader = None
            self._ahead = None
        if self._movie is not None:
            self._movie.close()
        self._cached = None
