"""The area a track's shapes fill, checked against the component on every frame.

The fit holds each piece's outline to the matte's edge, which does not see a piece whose outline runs along
edges but encloses the wrong side of them: the gap between two legs, between two lines, filled as a wedge whose
sides all lie on edges. A frame range short enough that it may no longer be cut for an edge failure
(``trace.MIN_SHAPE_FRAMES``) still ends up with such wedges where the legs close and open within a few frames
(DAVIS camel, frames 63-69 and 83-84: IoU 0.86 on a body whose other frames score 0.97). Filled and compared
with the component's own outline, those frames show; the caller cuts the range there, down to a few frames.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.contours import Outline
from roto_core.shapes.model import Shape, fill_polygon, sample_outline

# A frame whose shapes cover the component with an IoU under this is a failure worth a cut.
GUARD_IOU = 0.9
# The parts left on either side of a cut have at least this many frames.
GUARD_MIN_FRAMES = 3


def frame_ious(shapes: list[Shape], outlines: dict[int, Outline]) -> dict[int, float]:
    """Per frame, the IoU of the union of ``shapes`` with the area inside that frame's outline (pixel centres,
    the exporters' rasteriser), over a box around both."""
    ious: dict[int, float] = {}
    for frame, outline in outlines.items():
        polys = [sample_outline(s.at(frame)) for s in shapes if s.alive(frame)]
        every = np.concatenate([outline.points, *polys])
        low = np.floor(every.min(axis=0)).astype(int) - 1
        high = np.ceil(every.max(axis=0)).astype(int) + 1
        size = (int(high[1] - low[1]), int(high[0] - low[0]))
        inside = np.zeros(size, bool)
        fill_polygon(inside, outline.points - low, True)
        drawn = np.zeros(size, bool)
        for poly in polys:
            piece = np.zeros(size, bool)
            fill_polygon(piece, poly - low, True)
            drawn |= piece
        ious[frame] = float((inside & drawn).sum()) / max(int((inside | drawn).sum()), 1)
    return ious


def guard_cut(shapes: list[Shape], outlines: dict[int, Outline]) -> int | None:
    """Index into the sorted frames where the range should be cut, or None when every frame's IoU holds or the
    range is too short to cut: at the start of the first run of failing frames, else just after that run, at
    least GUARD_MIN_FRAMES from either end."""
    frames = sorted(outlines)
    if len(frames) < 2 * GUARD_MIN_FRAMES:
        return None
    ious = frame_ious(shapes, outlines)
    failing = [i for i, f in enumerate(frames) if ious[f] < GUARD_IOU]
    if not failing:
        return None
    cut = failing[0]
    if cut < GUARD_MIN_FRAMES:
        while cut < len(frames) and ious[frames[cut]] < GUARD_IOU:
            cut += 1
    return min(max(cut, GUARD_MIN_FRAMES), len(frames) - GUARD_MIN_FRAMES)
