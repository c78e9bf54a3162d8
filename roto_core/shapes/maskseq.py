"""Any mask sequence on disk as a MaskSource: ``####`` / ``%04d`` patterns of PNG, TIFF or EXR.

Rules (``rotofarm shapes`` documents them; roto_core.maskio.inside): float data (EXR, float TIFF) is inside from 0.5 up
and an 8- or 16-bit matte (most of its non-zero pixels at full scale) from half its full scale up, so a soft edge (the
chunk runner's masks linearly upscaled to the plate, an antialiased matte) is cut half way up its ramp, not at its outer
foot; other integer images (label images store 1) are inside where non-zero. PNG/TIFF: a single channel, or the alpha of
a two- or four-channel image, or the largest channel of a colour image; the sequence is one object. EXR: the per-object
channels ``<obj>.A`` of roto_core.maskio when present, else the single/``A`` channel as one object.
Every problem is a FrameError naming the file: no file at all, a missing frame, a size that differs from the
first frame, a file that cannot be decoded.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from roto_core.errors import FrameError
from roto_core.maskio import COMBINED, inside, read_mask_exr
from roto_core.sequences import (
    check_frame_count,
    check_frame_file,
    frame_path,
    has_frame_token,
    probe_size,
    sequence_frames,
)


class MaskSequence:
    """Masks ``first..last`` of ``pattern``; single-object files give the object ``default_object``."""

    def __init__(self, pattern: str | Path, first: int, last: int, default_object: str = "matte") -> None:
        if last < first:
            raise FrameError(f"empty frame range {first}-{last}", path=pattern)
        check_frame_count(first, last, where=str(pattern))
        self.pattern = str(pattern)
        self.default_object = default_object
        if not has_frame_token(self.pattern):
            raise FrameError("the mask sequence needs a frame token (#### or %04d)", path=self.pattern)
        # The folder is listed once: a huge --frames range costs nothing before the first missing frame is named.
        on_disk = {f for f in sequence_frames(self.pattern) if first <= f <= last and frame_path(pattern, f).is_file()}
        if not on_disk:
            raise FrameError(f"no mask files for frames {first}-{last} (empty sequence)", path=self.pattern)
        if len(on_disk) != last - first + 1:
            missing = next(f for f in range(first, last + 1) if f not in on_disk)
            gap = frame_path(pattern, missing)
            raise FrameError(f"mask frame is missing from the sequence {self.pattern}", path=gap)
        self.frames = list(range(first, last + 1))
        self.width, self.height = probe_size(self.pattern, first)

    def path(self, frame: int) -> Path:
        return frame_path(self.pattern, frame)

    def _decode(self, path: Path) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        """Object masks of one file and the file's image shape."""
        check_frame_file(path, "mask")
        if path.suffix.lower() == ".exr":
            channels = read_mask_exr(path, native=True)
            objects = {k: inside(v) for k, v in channels.items() if k != COMBINED}
            if objects:
                return objects, channels[COMBINED].shape
            combined = inside(channels[COMBINED])
            # The chunk runner writes a frame where no object was found as a lone all-zero A: no object there,
            # rather than an extra object named after the sequence.
            return ({self.default_object: combined} if combined.any() else {}), combined.shape
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise FrameError("cannot decode mask image (not a PNG/TIFF/EXR OpenCV can read)", path=path)
        if img.ndim == 3 and img.shape[2] in (2, 4):
            img = img[..., -1]
        elif img.ndim == 3:
            img = img.max(axis=2)
        return {self.default_object: inside(img)}, img.shape

    def read(self, frame: int) -> dict[str, np.ndarray]:
        path = self.path(frame)
        masks, shape = self._decode(path)
        if shape[:2] != (self.height, self.width):
            raise FrameError(f"mask is {shape[1]}x{shape[0]}, the sequence is {self.width}x{self.height}", path=path)
        return masks
