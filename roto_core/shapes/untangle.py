"""Curls taken out of keyed beziers: handles shortened where a curve crosses itself beside a point.

A point's handles are fitted to its stretch of edge on each side; where that stretch turns back on itself (a
run's end meeting its chord at a sharp angle, a corner whose tip was re-found past the rounded edge, a segment
a few pixels long between two close points) the fitted handles can overshoot, and the curve crosses itself
in a small curl beside the point. An artist sees a knot at the point and a shape the renderer fills twice
there. On the DAVIS dev set's ground-truth mattes (whole sequences) 20-42 % of the shape-frames crossed
themselves in a loop of a pixel or more before this step, most of them in a curl beside one point; 1-20 %
after it (bench/RESULTS.md, sixth pass).

``untangle`` finds, on each key, a segment crossing its neighbour or itself and halves the handles at that
point (both of them, so a smooth point stays smooth), a few times, then drops them: a point with no handles
meets its segments at an angle and cannot curl. Where the curve still crosses itself within a few segments, the
points themselves are out of order across a spike a pixel or two wide (a horn's tip, a corner tip re-found past
its neighbour), and the points inside the smaller loop are moved onto the crossing (DAVIS dev set, whole
sequences: shape-frames crossing themselves 1.3-12.5 % -> 0-6.9 % on the ground-truth mattes, 0.6-13.0 % ->
0.6-5.3 % on the segmenter's; the matte edge within 2 px 0.001-0.002 lower on five sequences; bench/RESULTS.md,
fourteenth pass). Crossings between segments further apart (a chord through a sliver of a piece, the two sides
of a strand a pixel wide) are not curls and are left to the measures.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.crossing_kernel import knot_marks, near_crossings, self_crossings
from roto_core.shapes.model import (
    LEFT,
    POINT,
    RIGHT,
    sample_outline,
    segment_samples,
    signed_area,
)

# Samples per segment for the crossing test: a curl beside a point spans a few of them.
SAMPLES = 8
# Segments apart that a curl may join: a segment a few pixels long between two close points is jumped over.
REACH = 3
# Halvings of a curling point's handles before they are dropped.
HALVINGS = 3
# Points out of order across a spike: loops over at most REACH segments are collapsed, a loop at most this share
# of the shape's area (the smaller of the two a crossing makes), at most COLLAPSES loops per key. A collapsed
# spike's tip is no longer drawn (a figure eight fills both its lobes): over 4 segments, DAVIS horsejump-high's
# matte edge within 2 px fell 0.9016 -> 0.8998 (0.9002 over 3); over 6, whole stretches of keys moved that their
# neighbouring keys kept (cows' boil 0.72 -> 0.89 px).
COLLAPSE_SHARE = 0.5
COLLAPSES = 4
# A loop smaller than this changes no pixel of the render (qa.CURL_MIN_PX2, at SAMPLES per segment as there).
LOOP_MIN_PX2 = 1.0


def segments_cross(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Whether segments ``a0-a1`` and ``b0-b1`` cross (strictly: touching ends do not count)."""
    r, s, q = a1 - a0, b1 - b0, b0 - a0
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    safe = np.where(denom == 0.0, 1.0, denom)
    t = (q[..., 0] * s[..., 1] - q[..., 1] * s[..., 0]) / safe
    u = (q[..., 0] * r[..., 1] - q[..., 1] * r[..., 0]) / safe
    eps = 1e-9
    return (denom != 0.0) & (t > eps) & (t < 1 - eps) & (u > eps) & (u < 1 - eps)


def segment_polylines(ctrl: np.ndarray) -> np.ndarray:
    """Each segment sampled with both ends, ``(..., N, SAMPLES + 1, 2)``."""
    return segment_samples(ctrl, SAMPLES)


def knots(ctrl: np.ndarray) -> np.ndarray:
    """For control points ``(..., N, 3, 2)``, per point whether the curve crosses itself within REACH segments
    of it: a segment crossing itself, or one of the next REACH crossing it (the points between them are
    marked; a segment crossing itself marks both its ends). Sub-segments that share an end do not cross: within
    a segment, its neighbours; the point between two segments; and, all the way round a small shape, the point
    before the first (crossing_kernel.knot_marks)."""
    lines = segment_polylines(ctrl)
    flat = np.ascontiguousarray(lines.reshape(-1, *lines.shape[-3:]))
    return knot_marks(flat, REACH).reshape(ctrl.shape[:-2])


def untangle(ctrl: np.ndarray) -> np.ndarray:
    """A copy of ``ctrl`` ``(..., N, 3, 2)`` whose curls beside points are taken out (see the module)."""
    out = np.array(ctrl, dtype=np.float64, copy=True)
    if out.shape[-3] < 3:
        return out
    flat = out.reshape(-1, *out.shape[-3:])
    # Only the keys that curled are looked at again: most keys have no curl at all.
    todo = np.arange(len(flat))
    for halving in range(HALVINGS + 1):
        shorten = knots(flat[todo])
        curled = shorten.any(axis=1)
        if not curled.any():
            break
        todo, shorten = todo[curled], shorten[curled]
        factor = np.where(shorten, 0.0 if halving == HALVINGS else 0.5, 1.0)[..., None]
        flat[todo, :, LEFT] *= factor
        flat[todo, :, RIGHT] *= factor
    else:
        # Every halving found curls: those left once the handles are dropped are points out of order.
        for key in todo[knots(flat[todo]).any(axis=1)]:
            _collapse(flat[key])
    return out


def _collapse(ctrl: np.ndarray) -> None:
    """In place: where ``ctrl`` ``(N, 3, 2)`` still crosses itself within REACH segments once the handles
    there are shortened or dropped, its points are out of order across a spike a pixel or two wide (a horn's tip,
    a corner re-found past its neighbour: DAVIS goat, 85 of 1379 shape-frames): the points inside the smaller
    loop are moved onto the crossing, which takes out the loop and changes the render by no more than the loop's
    area (the spike's tip, which the figure eight still filled). The handles either side of them are dropped too:
    a long one (a run's end fitted along the spike's way out) bent the curve past the crossing into the way back
    again, and each further collapse found a smaller loop on the same two segments (DAVIS dev set, whole
    sequences: the share of shape-frames crossing themselves lower on 8 of 12 ground-truth rows and 7 of 12
    segmenter rows, higher on none; scooter-black's segmenter masks 7.0 -> 5.2 %; bench/RESULTS.md, thirty-eighth
    pass)."""
    count = len(ctrl)
    for _ in range(COLLAPSES):
        found = _local_crossing(ctrl)
        if found is None:
            return
        first, reach, at = found
        inside = (first + 1 + np.arange(reach)) % count
        ctrl[inside, POINT] = at
        ctrl[inside, LEFT] = 0.0
        ctrl[inside, RIGHT] = 0.0
        ctrl[first, RIGHT] = 0.0
        ctrl[(first + reach + 1) % count, LEFT] = 0.0


def _local_crossing(ctrl: np.ndarray) -> tuple[int, int, np.ndarray] | None:
    """The first crossing between segments ``i`` and ``i + d`` (1 <= d <= REACH, closest first) whose
    loop over the points between them is at most COLLAPSE_SHARE of the shape: ``(i, d, crossing point)``; None
    where there is none."""
    count = len(ctrl)
    lines = segment_polylines(ctrl)
    start, end = lines[:, :-1], lines[:, 1:]
    whole = None
    for d in range(1, min(REACH, count - 3) + 1):
        for i, ka, mb in near_crossings(lines, d).tolist():
            j = (i + d) % count
            a0, r = start[i, ka], end[i, ka] - start[i, ka]
            q, s = start[j, mb] - a0, end[j, mb] - start[j, mb]
            at = a0 + r * (q[0] * s[1] - q[1] * s[0]) / (r[0] * s[1] - r[1] * s[0])
            if whole is None:
                whole = signed_area(lines[:, :-1].reshape(-1, 2))
            loop = np.vstack(
                (
                    at,
                    lines[i, ka + 1 :].reshape(-1, 2),
                    *(lines[(i + e) % count, 1:] for e in range(1, d)),
                    lines[j, 1 : mb + 1],
                )
            )
            if abs(signed_area(loop)) <= COLLAPSE_SHARE * abs(whole):
                return int(i), d, at
    return None


def crossing_loops(poly: np.ndarray) -> np.ndarray:
    """Per crossing of the closed polyline ``poly`` ``(M, 2)`` with itself, the area (px²) of the smaller of the
    two loops it makes; empty where it does not cross itself."""
    start, end = poly, np.concatenate((poly[1:], poly[:1]))
    i, j = self_crossings(np.ascontiguousarray(poly, dtype=np.float64))
    # The two loops' signed areas add up to the whole's (a figure eight's lobes turn opposite ways).
    whole = signed_area(poly)
    areas = []
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        r, s = end[a] - start[a], end[b] - start[b]
        q = start[b] - start[a]
        t = (q[0] * s[1] - q[1] * s[0]) / (r[0] * s[1] - r[1] * s[0])
        loop = np.vstack((start[a] + t * r, poly[a + 1 : b + 1]))
        inner = signed_area(loop)
        areas.append(min(abs(inner), abs(whole - inner)))
    return np.asarray(areas, dtype=np.float64)


def crosses(ctrl: np.ndarray) -> bool:
    """Whether the key ``ctrl`` ``(N, 3, 2)``, once ``untangle`` has taken out its curls beside points, still
    crosses itself in a loop of a pixel or more (what ``qa.curl_frames`` counts on a frame)."""
    return bool((crossing_loops(sample_outline(untangle(ctrl), SAMPLES)) >= LOOP_MIN_PX2).any())
