"""Masks in and out of the model backends: mask prompts read from disk, seeds checked, logits made binary."""

from __future__ import annotations

import numpy as np

from roto_core.backends.mask_prompt import mask_at
from roto_core.contracts import Prompt
from roto_core.errors import InputError


def load_mask_prompt(prompt: Prompt, shape: tuple[int, int]) -> np.ndarray:
    """The mask file of a ``mask`` prompt as a 0/1 float32 H×W at ``shape`` (roto_core.backends.mask_prompt)."""
    return mask_at(prompt, shape)


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
