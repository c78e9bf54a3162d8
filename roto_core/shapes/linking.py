"""Which region on this frame is the same component as which region on the previous one.

A component keeps its shape (and its points) while it can be followed; one that appears, splits off or comes
back after leaving starts a new shape with its own lifetime. Matching is by predicted centroid (constant
velocity), normalised by the component's size, with a one-to-one assignment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_CENTROID_SHIFT = 0.6
MAX_AREA_RATIO = 3.0
# Where both regions touch the image border the object is crossing it: what is visible shrinks or grows by
# the object's speed against its width (a car leaving frame: 11,000 px one frame, 2,800 the next).
MAX_BORDER_AREA_RATIO = 25.0


@dataclass
class Blob:
    """What linking needs to know about a region: where it is and how big."""

    centroid: np.ndarray
    area: float
    at_border: bool = False

    @property
    def scale(self) -> float:
        """How far the centroid may move is measured in this length."""
        return float(np.sqrt(self.area))


@dataclass
class Track:
    """Frame → index of the region in that frame's list, over consecutive frames."""

    members: dict[int, int] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return min(self.members)

    @property
    def last(self) -> int:
        return max(self.members)


def _predict(track: Track, blobs: dict[int, list[Blob]], frame: int) -> Blob:
    last = blobs[frame][track.members[frame]]
    prev_index = track.members.get(frame - 1)
    if prev_index is None:
        return last
    prev = blobs[frame - 1][prev_index]
    return Blob(2 * last.centroid - prev.centroid, last.area, last.at_border)


def link(blobs: dict[int, list[Blob]], max_shift: float = MAX_CENTROID_SHIFT) -> list[Track]:
    """Chain blobs of consecutive frames into tracks; frames must be consecutive integers. A blob follows on
    when its centroid is within ``max_shift`` of its size from where it was predicted."""
    frames = sorted(blobs)
    tracks: list[Track] = []
    alive: list[Track] = []
    for i, frame in enumerate(frames):
        current = blobs[frame]
        if i > 0 and frames[i - 1] != frame - 1:
            alive = []
        assigned: set[int] = set()
        survivors: list[Track] = []
        if alive and current:
            cost = np.full((len(alive), len(current)), np.inf)
            for a, track in enumerate(alive):
                pred = _predict(track, blobs, frame - 1)
                for c, blob in enumerate(current):
                    ratio = max(blob.area, pred.area) / max(min(blob.area, pred.area), 1e-9)
                    scale = max(blob.scale, pred.scale)
                    shift = float(np.linalg.norm(blob.centroid - pred.centroid)) / scale
                    limit = MAX_BORDER_AREA_RATIO if blob.at_border and pred.at_border else MAX_AREA_RATIO
                    if ratio <= limit and shift <= max_shift:
                        cost[a, c] = shift + 0.1 * np.log(ratio)
            finite = np.where(np.isfinite(cost), cost, 1e6)
            rows, cols = linear_sum_assignment(finite)
            for a, c in zip(rows, cols, strict=True):
                if np.isfinite(cost[a, c]):
                    alive[a].members[frame] = int(c)
                    assigned.add(int(c))
                    survivors.append(alive[a])
        for c in range(len(current)):
            if c not in assigned:
                track = Track({frame: c})
                tracks.append(track)
                survivors.append(track)
        alive = survivors
    return tracks
