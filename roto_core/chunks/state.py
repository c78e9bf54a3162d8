"""What one chunk leaves for the next: the masks of its last frames, at the working resolution.

A chunk that has no prompt of its own continues from here. The last ``overlap + 1`` frames are kept so that a
backend with temporal memory (Cutie, SAM 2) sees the same recent history it would have seen in one long run.
Files are mask EXRs (exact for 0/1) plus ``state.json`` written last: a state without its JSON is incomplete
and is not used.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel

from roto_core.atomic import write_text
from roto_core.errors import InputError
from roto_core.maskio import COMBINED, read_mask_exr, write_mask_exr

STATE_JSON = "state.json"


class ChunkState(BaseModel):
    """The index of a state folder."""

    frames: list[int]
    objects: list[str]
    width: int
    height: int


def _mask_file(folder: Path, frame: int) -> Path:
    return folder / f"masks.{frame:04d}.exr"


def save_state(
    folder: Path, history: list[tuple[int, dict[str, np.ndarray]]], objects: list[str], size: tuple[int, int]
) -> Path:
    """Write the masks of ``history`` (frame, {object: mask at working size ``size`` (w, h)}), then the index."""
    w, h = size
    for frame, masks in history:
        write_mask_exr(_mask_file(folder, frame), {o: masks[o] >= 0.5 for o in masks}, shape=(h, w))
    state = ChunkState(frames=[f for f, _ in history], objects=objects, width=w, height=h)
    return write_text(folder / STATE_JSON, state.model_dump_json(indent=2) + "\n")


def load_state(folder: Path, size: tuple[int, int]) -> list[tuple[int, dict[str, np.ndarray]]]:
    """The saved masks, resized to ``size`` (w, h) when the working resolution changed since they were saved."""
    index = folder / STATE_JSON
    if not index.is_file():
        raise InputError("the previous chunk left no state; run it (or give prompts in this chunk) first", path=index)
    state = ChunkState.model_validate_json(index.read_bytes())
    out: list[tuple[int, dict[str, np.ndarray]]] = []
    for frame in state.frames:
        masks = read_mask_exr(_mask_file(folder, frame))
        masks.pop(COMBINED, None)
        resized = {}
        for obj, m in masks.items():
            if (m.shape[1], m.shape[0]) != size:
                m = cv2.resize(m, size, interpolation=cv2.INTER_LINEAR)
            resized[obj] = (m >= 0.5).astype(np.float32)
        out.append((frame, resized))
    return out
