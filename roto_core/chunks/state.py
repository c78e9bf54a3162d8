"""What one chunk leaves for the next: the masks of its last frames, at the working resolution.

A chunk that has no prompt of its own continues from here. The last ``overlap + 1`` frames are kept so that a
backend with temporal memory (Cutie, SAM 2) sees the same recent history it would have seen in one long run.
Files are mask EXRs (exact for 0/1) plus ``state.json`` written last: a state without its JSON is incomplete
and is not used. A ``state.json`` that is not one (garbage, another schema, a negative or absurd size, frames that
do not follow each other) is an ``InputError`` of one line naming the file, before any mask is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from roto_core.atomic import write_text
from roto_core.errors import InputError
from roto_core.maskio import COMBINED, read_mask_exr, write_mask_exr
from roto_core.sequences import MAX_FRAMES, MAX_IMAGE_EDGE

STATE_JSON = "state.json"
MAX_INDEX_BYTES = 16 << 20
"""Bytes of a ``state.json``: ours are a few hundred; a file beyond this is not one we wrote."""

_Edge = Annotated[int, Field(ge=1, le=MAX_IMAGE_EDGE)]


class ChunkState(BaseModel):
    """The index of a state folder."""

    model_config = ConfigDict(extra="forbid", strict=True)

    frames: list[int] = Field(min_length=1, max_length=MAX_FRAMES)
    objects: list[str]
    width: _Edge
    height: _Edge

    @model_validator(mode="after")
    def _consecutive(self) -> ChunkState:
        if self.frames != list(range(self.frames[0], self.frames[0] + len(self.frames))):
            raise ValueError(f"frames {self.frames} are not consecutive")
        return self


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
    state = _read_index(index)
    out: list[tuple[int, dict[str, np.ndarray]]] = []
    for frame in state.frames:
        path = _mask_file(folder, frame)
        masks = read_mask_exr(path)
        masks.pop(COMBINED, None)
        _check_state_masks(path, masks, state)
        resized = {}
        for obj, m in masks.items():
            if (m.shape[1], m.shape[0]) != size:
                m = cv2.resize(m, size, interpolation=cv2.INTER_LINEAR)
            resized[obj] = (m >= 0.5).astype(np.float32)
        out.append((frame, resized))
    return out


def _check_state_masks(path: Path, masks: dict[str, np.ndarray], state: ChunkState) -> None:
    """A state mask is of the size and objects its ``state.json`` says, or it is not the one that was saved."""
    unknown = sorted(set(masks) - set(state.objects))
    if unknown:
        raise InputError(f"state mask has objects the state does not list: {', '.join(unknown)}", path=path)
    for m in masks.values():
        if (m.shape[1], m.shape[0]) != (state.width, state.height):
            raise InputError(
                f"state mask is {m.shape[1]}x{m.shape[0]}, the state says {state.width}x{state.height}", path=path
            )


def _read_index(index: Path) -> ChunkState:
    """The validated ``state.json``; anything else is one line naming it and the first thing wrong."""
    try:
        if index.stat().st_size > MAX_INDEX_BYTES:
            raise InputError(f"chunk state index is above the bound of {MAX_INDEX_BYTES} bytes", path=index)
        return ChunkState.model_validate_json(index.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        what = f"{where}: {err['msg']}" if where else err["msg"]
        raise InputError(f"not a chunk state ({what}); rerun the chunk that wrote it", path=index) from None
    except OSError as exc:
        raise InputError(f"chunk state cannot be read ({exc.strerror})", path=index) from None
