"""Masks in and out of the model backends: mask prompts read from disk, seeds checked, logits made binary."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import Prompt
from roto_core.errors import InputError
from roto_core.maskio import read_mask_exr


def load_mask_prompt(prompt: Prompt, shape: tuple[int, int]) -> np.ndarray:
    """The mask file of a ``mask`` prompt as a 0/1 float32 H×W at ``shape`` (the frame's working resolution).

    An EXR mask takes its ``<object>.A`` channel, else the combined ``A`` (roto_core.maskio); an image takes its
    first channel. Painted masks come at plate resolution, so they are scaled to the frame (nearest).
    """
    path = Path(prompt.mask or "")
    where = f"prompt {prompt.object}@{prompt.frame}"
    if not path.is_file():
        raise InputError("mask prompt file not found", path=path, where=where)
    if path.suffix.lower() == ".exr":
        channels = read_mask_exr(path)
        data = channels.get(prompt.object, channels["A"])
    else:
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise InputError("cannot read mask prompt image", path=path, where=where)
        if img.ndim == 3:
            img = img[..., 0]
        scale = float(np.iinfo(img.dtype).max) if np.issubdtype(img.dtype, np.integer) else 1.0
        data = img.astype(np.float32) / scale
    h, w = shape
    if data.shape != (h, w):
        data = cv2.resize(data, (w, h), interpolation=cv2.INTER_NEAREST)
    return (data >= 0.5).astype(np.float32)


def check_prompt_inside(prompt: Prompt, shape: tuple[int, int]) -> None:
    """A click or box outside the frame is the user's mistake: name the prompt rather than segment garbage."""
    h, w = shape
    where = f"prompt {prompt.object}@{prompt.frame}"
    if prompt.points is not None:
        for x, y, _ in prompt.points:
            if not (0 <= x < w and 0 <= y < h):
                raise InputError(f"point ({x:g}, {y:g}) is outside the {w}×{h} frame", where=where)
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise InputError(f"box {list(prompt.box)} is outside the {w}×{h} frame", where=where)


def seed_mask(mask: np.ndarray, shape: tuple[int, int], obj: str, index: int) -> np.ndarray:
    """A seed as a 0/1 float32 mask, checked against the frame it seeds."""
    if mask.shape != shape:
        raise ValueError(f"seed mask of {obj!r} at index {index} is {mask.shape}, the frame is {shape}")
    return (np.asarray(mask) >= 0.5).astype(np.float32)
