"""Masks for the frames before an object's first key, by propagating backwards from that key.

Editorial prompts sit on the first frame of the cut (a LOC marker on the record in), but a shot's range starts
``handles`` frames earlier, and a comp artist needs those handles rotoed too. Backends only track forwards
(roto_core.backends.base), so the runner hands them the chunk's frames from the key back to the chunk's first
frame in reverse order, seeded with the key mask. Objects already carried in from the previous chunk need no
backfill: they have masks from the start of the chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from roto_core.backends.base import Frame, ObjectMasks, SegmentationBackend
from roto_core.frames import FrameSource


class _Reversed(Sequence[Frame]):
    """``frames`` back to front, still read lazily one frame at a time (backends index frames, never slice)."""

    def __init__(self, frames: FrameSource) -> None:
        self._frames = frames

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> Frame:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._frames.read(self._frames.last - index)


def first_keys(seeds: Mapping[int, ObjectMasks], start: int, first: int, carried: set[str]) -> dict[str, int]:
    """Objects whose first mask in the chunk is a key after frame ``first`` and not carried in: object → key frame.

    ``seeds`` is indexed from frame ``start`` (the runner's first frame read, which may precede ``first`` when the
    previous chunk's overlap frames are replayed).
    """
    keys: dict[str, int] = {}
    for index in sorted(seeds):
        for obj in seeds[index]:
            keys.setdefault(obj, start + index)
    return {obj: frame for obj, frame in keys.items() if obj not in carried and frame > first}


def backfill(
    backend: SegmentationBackend,
    source: FrameSource,
    keys: Mapping[str, int],
    seeds: Mapping[int, ObjectMasks],
    start: int,
) -> dict[int, ObjectMasks]:
    """``{frame: {object: mask}}`` for every frame of ``source`` before each object's key in ``keys``.

    ``source`` spans the chunk's first frame to the latest key, at the working resolution. Masks are kept as half
    floats: at most one chunk of them per object is held, until the forward pass writes them.
    """
    if not keys:
        return {}
    reverse_seeds: dict[int, ObjectMasks] = {}
    for obj, frame in keys.items():
        reverse_seeds.setdefault(source.last - frame, {})[obj] = seeds[frame - start][obj]
    filled: dict[int, ObjectMasks] = {}
    for index, masks in backend.propagate(_Reversed(source), reverse_seeds):
        frame = source.last - index
        kept = {obj: np.asarray(m, np.float16) for obj, m in masks.items() if obj in keys and frame < keys[obj]}
        if kept:
            filled[frame] = kept
    return filled
