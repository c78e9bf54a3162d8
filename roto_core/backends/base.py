"""The segmentation backend protocol every model plugs into.

Kept deliberately small (after sam2's predictor API): a key mask from one prompt on one frame, and forward
propagation of seed masks through a chunk. The chunk runner owns everything else — reading frames, scaling to
the working resolution and back, writing files, state between chunks — so a backend is only the model.

Conventions: frames are float32 H×W×3, display-referred (sRGB) in 0..1, at the working resolution the runner
chose; masks are float32 H×W in 0..1 at the same resolution (binary backends give 0/1). Prompt coordinates are
in the same pixel space as the frame they go with (the runner scales them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from roto_core.contracts import Prompt

Frame = np.ndarray
Mask = np.ndarray
ObjectMasks = dict[str, Mask]


@runtime_checkable
class SegmentationBackend(Protocol):
    """A model that makes key masks and carries them through frames."""

    name: str

    def key_mask(self, frame: Frame, prompt: Prompt) -> Mask:
        """The mask of ``prompt.object`` on ``frame`` from a points, box or mask prompt (text is resolved to a
        box before it reaches a backend)."""
        ...

    def propagate(self, frames: Sequence[Frame], seeds: Mapping[int, ObjectMasks]) -> Iterator[tuple[int, ObjectMasks]]:
        """Yield ``(index, {object: mask})`` for every index of ``frames`` in order.

        ``seeds`` maps frame indices to known masks; an object is tracked from its first seed on, and a later seed
        of the same object replaces the tracked mask (a correction). Before its first seed an object is absent
        from the yielded dict. Frames are read lazily through ``frames[i]`` so a chunk never sits in memory whole.

        A backend that knows how far to trust its masks sets ``self.frame_confidence`` (object → 0..1) before each
        yield; the runner records it and lists frames to re-key (roto_core.backends.confidence). It is optional
        (read with ``getattr``), so a backend without a measure simply reports none.
        """
        ...

    def close(self) -> None:
        """Release model memory (GPU caches); the worker calls it when it exits."""
        ...


class TextBoxer(Protocol):
    """Open-vocabulary detection: a text prompt becomes boxes (then a box prompt for the backend)."""

    def boxes(self, frame: Frame, text: str) -> list[tuple[float, float, float, float, float]]:
        """``[(x0, y0, x1, y1, score), ...]`` best first, in frame pixels; empty when nothing matches."""
        ...


class Matter(Protocol):
    """Soft alpha from a hard mask, refined only in a band around the edge."""

    def matte(self, frame: Frame, mask: Mask) -> Mask:
        """Alpha in 0..1 at the resolution of ``frame`` (the plate's, for matting)."""
        ...
