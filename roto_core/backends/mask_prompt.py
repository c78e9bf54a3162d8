"""Mask prompts: a painted or exported matte file that keys an object on one frame.

Artists bring masks from everywhere (a Nuke write, a paint package, a dataset), so any of PNG, TIFF, JPEG or EXR at any
bit depth is read (roto_core.maskio.inside): float data (EXR, float TIFF) from 0.5 up and an 8- or 16-bit matte (mostly
at full scale) from half its full scale up, so a soft edge is cut where a matte's edge is; any other integer image
(label images store 1, not 255) wherever non-zero. An EXR takes the object's own ``<object>.A`` channel when it has one,
else the combined ``A`` (roto_core.maskio). A mask must be of the plate's size (a mask of another shot or resolution
would key the wrong place silently).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import Prompt
from roto_core.errors import InputError


def read_mask_prompt(path: str | Path, obj: str | None = None, where: str | None = None) -> np.ndarray:
    """The mask file as a bool H×W at its own size."""
    from roto_core.maskio import inside

    p = Path(path)
    if not p.is_file():
        raise InputError("mask file not found", path=p, where=where)
    if p.suffix.lower() == ".exr":
        from roto_core.errors import FrameError
        from roto_core.maskio import COMBINED, read_mask_exr

        try:
            channels = read_mask_exr(p)
        except FrameError as exc:
            raise InputError(f"cannot read mask: {exc.message}", path=p, where=where) from None
        return inside(channels.get(obj or "", channels[COMBINED]))
    img = _quiet_imread(p)
    if img is None:
        raise InputError("cannot read mask image (PNG, TIFF, JPEG or EXR)", path=p, where=where)
    if img.ndim == 3:
        img = img[..., :3].max(axis=2) if img.shape[2] >= 3 else img[..., 0]
    return inside(img)


def _quiet_imread(path: Path) -> np.ndarray | None:
    """``cv2.imread`` without OpenCV's own log lines: a broken file is reported once, as our one error line."""
    logging = cv2.utils.logging
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    finally:
        logging.setLogLevel(level)


def check_mask_prompt(prompt: Prompt, plate_size: tuple[int, int], where: str, *, allow_empty: bool = False) -> None:
    """Refuse a mask prompt that is missing, unreadable, not of the plate's size or (unless allowed) empty.

    A job's manifest may key an object with an empty mask on purpose (it has left the shot from that frame on);
    on the command line an empty file is almost always the wrong file.
    """
    assert prompt.mask is not None
    mask = read_mask_prompt(prompt.mask, prompt.object, where)
    w, h = plate_size
    if mask.shape != (h, w):
        raise InputError(
            f"mask is {mask.shape[1]}x{mask.shape[0]}, the plate is {w}x{h}", path=prompt.mask, where=where
        )
    if not allow_empty and not mask.any():
        raise InputError("mask is empty (no pixel inside)", path=prompt.mask, where=where)


def mask_at(prompt: Prompt, shape: tuple[int, int]) -> np.ndarray:
    """The prompt's mask as 0/1 float32 at ``shape`` (the working frame): area-averaged down, cut at half."""
    assert prompt.mask is not None
    mask = read_mask_prompt(prompt.mask, prompt.object, f"prompt {prompt.object}@{prompt.frame}")
    h, w = shape
    if mask.shape != (h, w):
        soft = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
        return (soft >= 0.5).astype(np.float32)
    return mask.astype(np.float32)
