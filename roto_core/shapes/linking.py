"""Which region on this frame is the same component as which region on the previous one.

A component keeps its shape (and its points) while it can be followed; one that appears, splits off or comes
back after leaving starts a new shape with its own lifetime. Matching is by centroid, normalised by the
component's size, with a one-to-one assignment: near where constant velocity puts it, or near where it last was (a
camera shaking by whole pixels breaks the velocity, and the prediction from two shaken frames misses by twice the
shake); at the image border, where only a slice of the object shows, by area and box overlap as well
(MAX_BORDER_AREA_RATIO, BORDER_BOX_OVERLAP). An object that is one region on both frames may move further
(SOLE_MAX_SHIFT), and so may a region seen on one frame only, which has no velocity yet, to the region it and
only it is nearest (``_mutual_nearest``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from roto_core.shapes.portable import length, log

MAX_CENTROID_SHIFT = 0.6
MAX_AREA_RATIO = 3.0
# An object that is one region on the frame before and one on this is the same body where it moved by up to this
# many sizes: a small object in a shaking frame jumps by more than MAX_CENTROID_SHIFT (DAVIS drift-chicane's car,
# 49 px, its frames moved by up to 15 px each way: 0.61-0.81 of its size, and 4 of 30 frames had no shape); further
# it is a segmenter's mask jumping onto something else (drift-chicane's rotofarm roto masks, frame 37: 11 sizes).
SOLE_MAX_SHIFT = 2.0
# Where both regions touch the image border the object is crossing it: what is visible shrinks or grows by
# the object's speed against its width (a car leaving frame: 11,000 px one frame, 2,800 the next).
MAX_BORDER_AREA_RATIO = 25.0
# There, too, the visible slice's centroid moves along the border as the slice grows or shrinks, by more than its
# size allows (DAVIS paragliding-launch slid in through the right border: the pilot's visible part 845 px on one
# frame and 3,123 px the next, its centroid 52 px up, 0.93 of its size): two such regions also follow on where
# their boxes overlap by at least this share of the smaller box.
BORDER_BOX_OVERLAP = 0.5


@dataclass
class Blob:
    """What linking needs to know about a region: where it is and how big."""

    centroid: np.ndarray
    area: float
    at_border: bool = False
    box: np.ndarray | None = None  # (x0, y0, x1, y1), where known

    def overlap(self, other: Blob) -> float:
        """How much of the smaller of the two boxes the other covers (0 where either box is unknown)."""
        if self.box is None or other.box is None:
            return 0.0
        low, high = np.maximum(self.box[:2], other.box[:2]), np.minimum(self.box[2:], other.box[2:])
        shared = float(np.prod(np.clip(high - low, 0.0, None)))
        smaller = min(float(np.prod(b[2:] - b[:2])) for b in (self.box, other.box))
        return shared / smaller if smaller > 0 else 0.0

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
    return Blob(2 * last.centroid - prev.centroid, last.area, last.at_border, last.box)


def _mutual_nearest(index: int, before: list[Blob], current: list[Blob], reach: float) -> tuple[int, float] | None:
    """Where a track seen on one frame (its region ``before[index]``) follows on when it has no velocity yet: the
    region of ``current`` nearest it, where that region's nearest of ``before`` is it, within ``reach`` of their
    size and MAX_AREA_RATIO of its area; and the cost of that link. None where there is none.

    Held to MAX_CENTROID_SHIFT of its size from where it last was, a small part moving further than that a frame (a
    juggler's balls, 12 px across at 8 px a frame; a bird in a flock) began a new track on every frame, each too
    brief for a shape, and had none (tests/shapes/test_fast_small_parts.py)."""
    last = before[index]
    gaps = np.linalg.norm(np.array([b.centroid for b in current]) - last.centroid, axis=1)
    nearest = int(np.argmin(gaps))
    blob = current[nearest]
    back = int(np.argmin(np.linalg.norm(np.array([b.centroid for b in before]) - blob.centroid, axis=1)))
    ratio = max(blob.area, last.area) / max(min(blob.area, last.area), 1e-9)
    shift = float(gaps[nearest]) / max(blob.scale, last.scale)
    if back != index or shift > reach or ratio > MAX_AREA_RATIO:
        return None
    return nearest, shift + 0.1 * log(ratio)


def link(
    blobs: dict[int, list[Blob]], max_shift: float = MAX_CENTROID_SHIFT, sole_shift: float = SOLE_MAX_SHIFT
) -> list[Track]:
    """Chain blobs of consecutive frames into tracks; frames must be consecutive integers. A blob follows on
    when its centroid is within ``max_shift`` of its size from where it was predicted or last was, within
    ``sole_shift`` where it is the only blob on both frames or where a track seen on one frame and it are each
    other's nearest."""
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
            sole = len(alive) == 1 and len(current) == 1 and len(blobs[frame - 1]) == 1
            reach = max(sole_shift, max_shift) if sole else max_shift
            for a, track in enumerate(alive):
                pred = _predict(track, blobs, frame - 1)
                last = blobs[frame - 1][track.members[frame - 1]]
                for c, blob in enumerate(current):
                    ratio = max(blob.area, pred.area) / max(min(blob.area, pred.area), 1e-9)
                    scale = max(blob.scale, pred.scale)
                    gap = min(length(blob.centroid - pred.centroid), length(blob.centroid - last.centroid))
                    shift = float(gap) / scale
                    border = blob.at_border and pred.at_border
                    limit = MAX_BORDER_AREA_RATIO if border else MAX_AREA_RATIO
                    near = shift <= reach or (border and pred.overlap(blob) >= BORDER_BOX_OVERLAP)
                    if ratio <= limit and near:
                        cost[a, c] = shift + 0.1 * log(ratio)
                if len(track.members) == 1:
                    first_step = _mutual_nearest(track.members[frame - 1], blobs[frame - 1], current, sole_shift)
                    if first_step is not None and not np.isfinite(cost[a, first_step[0]]):
                        cost[a, first_step[0]] = first_step[1]
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
