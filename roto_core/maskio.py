"""Mask EXR files: one half-float channel per object (``<obj>.A``) plus the combined ``A``.

Shared by the chunk runner (writer), the finalize job and ``rotofarm eval`` (readers). Half floats are exact for
0/1 and plenty for soft mattes. The EXR is encoded in memory (OpenEXR writes to any stream with write/tell/seek)
and then written through a temporary name (roto_core.atomic): a full or read-only folder is then an ``OSError``
with its errno, typed by ``atomic``, instead of OpenEXR's bare ``RuntimeError: Failed to write pixel data``, and
a mask appears under its final name only when complete. Reads check the file (roto_core.sequences.check_frame_file)
and the header's image size (roto_core.sequences.check_exr_header) before OpenEXR allocates the pixels.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import OpenEXR

from roto_core.atomic import write_bytes
from roto_core.errors import FrameError
from roto_core.native_stderr import capture_about, detail
from roto_core.sequences import check_exr_header, check_frame_file

COMBINED = "A"
# Where a soft mask's edge is: half way up its ramp. A binary mask linearly upscaled to the plate (the chunk
# runner's _plate_masks) crosses 0.5 on the upscaled binary edge and is non-zero up to a working pixel beyond it;
# SAM 2 binarises its own mask logits at 0 (SAM2ImagePredictor's mask_threshold), probability 0.5; an antialiased
# render of a shape covers its edge pixels by half.
EDGE_LEVEL = 0.5
# Half floats from EDGE_LEVEL up to +inf, as bit patterns: a non-negative half's bits rise with its value, NaNs lie
# above +inf's and negative values (the sign bit set) above them all.
_HALF_FROM, _HALF_TO = (int(np.array(v, np.float16).view(np.uint16)) for v in (EDGE_LEVEL, np.inf))


def inside(mask: np.ndarray) -> np.ndarray:
    """A mask's pixels that are inside the object, bool H×W: float data from ``EDGE_LEVEL`` up, so a soft edge is
    cut where the matte's edge is; an 8- or 16-bit matte (``is_integer_matte``) from half its full scale up (128 of
    255, 32768 of 65535: the same cut as float data); any other integer data wherever non-zero (label images store
    1, not 255)."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    if arr.dtype == np.float16:
        # The same cut read off the bits: numpy compares half floats by converting each one, 0.82 ms a frame of the
        # segmenter's masks (DAVIS paragliding-launch, 854x480) against 0.06 ms for two integer comparisons.
        bits = arr.view(np.uint16)
        return (bits >= _HALF_FROM) & (bits <= _HALF_TO)
    if np.issubdtype(arr.dtype, np.integer):
        if is_integer_matte(arr):
            return arr > np.iinfo(arr.dtype).max // 2
        return arr > 0
    return arr >= EDGE_LEVEL


def is_integer_matte(arr: np.ndarray) -> bool:
    """Whether unsigned 8- or 16-bit data is a matte (full scale inside, a soft edge) rather than a label image.

    A matte written from a comp to PNG or TIFF (an antialiased render of shapes, a key, the farm's own upscaled mask
    saved at 8 or 16 bits) holds its object at full scale (255, 65535) with a rim of partial values a pixel or a few
    wide, so most of its non-zero pixels are at full scale. A label image stores small ids (1, 2, ...), and a palette
    image (DAVIS 2017's indexed PNGs, read as colours: PASCAL VOC's colour map, at most 224 in any channel) never
    reaches full scale. A binary 0/255 matte (DAVIS 2016's own reader, davis-matlab db_read_annot.m, asserts its
    annotations hold only 0 and 255) reads the same either way. A matte whose rim outnumbers its full-scale pixels (a
    line a pixel or two wide) is read wherever non-zero."""
    if arr.dtype not in (np.uint8, np.uint16):
        return False
    full = np.iinfo(arr.dtype).max
    solid = int(np.count_nonzero(arr == full))
    return solid > 0 and solid >= int(np.count_nonzero(arr)) - solid


def _as_half(mask: np.ndarray) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.dtype == bool:
        arr = arr.astype(np.float16)
    elif np.issubdtype(arr.dtype, np.integer):
        arr = (arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)).astype(np.float16)
    else:
        arr = np.clip(arr, 0.0, 1.0).astype(np.float16)
    return np.ascontiguousarray(arr)


def write_mask_exr(
    path: str | Path,
    masks: dict[str, np.ndarray],
    *,
    shape: tuple[int, int] | None = None,
    attributes: dict[str, str] | None = None,
) -> Path:
    """Write per-object masks (H×W; bool, uint or float in 0..1) and their maximum as ``A``.

    ``shape`` (H, W) is needed only when ``masks`` is empty: the frame then holds an all-zero ``A``.
    """
    if masks:
        shapes = {m.shape for m in masks.values()}
        if len(shapes) != 1:
            raise FrameError(f"object masks differ in size: {sorted(shapes)}", path=path)
        (h, w) = next(iter(shapes))
    elif shape is not None:
        h, w = shape
    else:
        raise FrameError("no masks and no frame size given", path=path)
    channels: dict[str, np.ndarray] = {}
    combined = np.zeros((h, w), np.float16)
    for name, mask in masks.items():
        half = _as_half(mask)
        channels[f"{name}.{COMBINED}"] = half
        combined = np.maximum(combined, half)
    channels[COMBINED] = np.ascontiguousarray(combined)
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    for key, value in (attributes or {}).items():
        header[key] = value
    encoded = io.BytesIO()
    OpenEXR.File(header, channels).write(encoded)
    return write_bytes(path, encoded.getvalue())


def read_mask_exr(path: str | Path, *, native: bool = False) -> dict[str, np.ndarray]:
    """Return ``{object: float32 H×W}`` plus ``"A"`` (combined). A single-channel matte gives only ``"A"``.

    ``native``: float channels in the file's own precision (half for the farm's masks) instead of float32, for a
    reader that only cuts them at ``EDGE_LEVEL`` (``inside``, exact on half data): the shapes tracer reads every
    frame, and a frame of the segmenter's masks (DAVIS drift-chicane, 854x480, an object and "A") took 7.2 ms to
    read and cut with the conversion, 4.0 without it and without cutting "A" where objects are named."""
    p = Path(path)
    check_frame_file(p, "mask")
    check_exr_header(p)
    try:
        with capture_about(p) as printed, OpenEXR.File(str(p), separate_channels=True) as exr:
            raw = {name: np.asarray(ch.pixels) for name, ch in exr.channels().items()}
    except Exception as exc:  # OpenEXR raises bare RuntimeError/OSError and prints the reason on stderr
        raise FrameError(f"unreadable EXR mask ({detail(printed, exc, p)})", path=p) from None
    shapes = {arr.shape for arr in raw.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise FrameError(f"mask channels are not one H×W size (shapes: {sorted(shapes)})", path=p)

    def converted(arr: np.ndarray) -> np.ndarray:
        return arr if native and np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float32)

    out: dict[str, np.ndarray] = {}
    for name, arr in raw.items():
        if name == COMBINED:
            out[COMBINED] = converted(arr)
        elif name.endswith(f".{COMBINED}"):
            out[name[: -len(COMBINED) - 1]] = converted(arr)
    if COMBINED not in out:
        if len(raw) == 1:
            out[COMBINED] = converted(next(iter(raw.values())))
        else:
            raise FrameError(f"no 'A' channel (channels: {', '.join(sorted(raw))})", path=p)
    return out
