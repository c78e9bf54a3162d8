"""The area a track's shapes fill, checked against the component on every frame.

The fit holds each piece's outline to the matte's edge, which does not see a piece whose outline runs along
edges but encloses the wrong side of them: the gap between two legs, between two lines, filled as a wedge whose
sides all lie on edges. A frame range short enough that it may no longer be cut for an edge failure
(``trace.MIN_SHAPE_FRAMES``) still ends up with such wedges where the legs close and open within a few frames
(DAVIS camel, frames 63-69 and 83-84: IoU 0.86 on a body whose other frames score 0.97). Filled and compared
with the component's own outline, those frames show; the caller cuts the range there, down to a few frames.

A frame fails when the pixels wrongly filled or left out, spread along the outline, make a band wider than the
edge tolerance: the same measure for a body and for a hoof, where an IoU threshold would cut small parts for a
few pixels and let a wedge on a large body through.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.contours import Outline
from roto_core.shapes.model import Shape, fill_polygon, sample_outline

# The parts left on either side of a cut have at least this many frames.
GUARD_MIN_FRAMES = 3


def frame_bands(shapes: list[Shape], outlines: dict[int, Outline]) -> dict[int, float]:
    """Per frame, the pixels where the union of ``shapes`` and the area inside that frame's outline differ
    (pixel centres, the exporters' rasteriser), divided by the outline's length: the mean width of the error
    band along the edge, in pixels."""
    bands: dict[int, float] = {}
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
        length = float(np.hypot(*np.diff(outline.points, axis=0, append=outline.points[:1]).T).sum())
        bands[frame] = float((inside ^ drawn).sum()) / max(length, 1.0)
    return bands


def guard_cut(shapes: list[Shape], outlines: dict[int, Outline], tolerance: float) -> int | None:
    """Index into the sorted frames where the range should be cut, or None when every frame's error band is
    within ``tolerance`` or the range is too short to cut: at the start of the first run of failing frames,
    else just after that run, at least GUARD_MIN_FRAMES from either end."""
    frames = sorted(outlines)
    if len(frames) < 2 * GUARD_MIN_FRAMES:
        return None
    bands = frame_bands(shapes, outlines)
    failing = [i for i, f in enumerate(frames) if bands[f] > tolerance]
    if not failing:
        return None
    cut = failing[0]
    if cut < GUARD_MIN_FRAMES:
        while cut < len(frames) and bands[frames[cut]] > tolerance:
            cut += 1
    return min(max(cut, GUARD_MIN_FRAMES), len(frames) - GUARD_MIN_FRAMES)
