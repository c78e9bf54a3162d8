"""A thin line's strand geometry, compiled: arc lengths, points along the centre line, its ends and headings, and
distances to a centre line. line_strands.py asks them of every dash of a rigging line as it joins dashes into
lines, and ribbons.py of every pair of strands it may link from frame to frame.

numpy did each in a few whole-array steps (diff, hypot, cumsum, interp, stack, norm) on a few dozen points, where
the calls cost more than the arithmetic: DAVIS paragliding-launch's ground truth, 80 frames, spent 5 of its 12 s
of CPU on its lines, 21,000 strand ends and 9,000 distance tables among them (bench/RESULTS.md, fifty-first
pass). These loops do numpy's arithmetic in numpy's order, so the answers are numpy's to the bit
(tests/shapes/test_strand_kernel.py): steps by the C library's ``hypot`` and summed one after the other as
``cumsum`` does, and ``np.interp``'s linear interpolation: the last knot at or before x, its value where x falls
on a knot or on the last one, else ``slope * (x - x[j]) + y[j]`` with ``slope = (y[j+1] - y[j]) / (x[j+1] -
x[j])``, the ends held outside.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Pieces of a centre line searched together (polyline_gaps).
PIECE_BLOCK = 8
# More than any rounding of a distance in pixels on a plate (coordinates up to some 10,000 px).
ROUNDING_PX = 1e-6


@njit(cache=True)
def arc_lengths(centre: np.ndarray) -> np.ndarray:
    """The arc length at each point of a centre line ``(N, 2)``, from 0 at the first."""
    arc = np.empty(centre.shape[0])
    arc[0] = 0.0
    total = 0.0
    for i in range(1, centre.shape[0]):
        total += math.hypot(centre[i, 0] - centre[i - 1, 0], centre[i, 1] - centre[i - 1, 1])
        arc[i] = total
    return arc


@njit(cache=True, inline="always")
def _interp(x: float, xp: np.ndarray, fp: np.ndarray, column: int) -> float:
    """``np.interp(x, xp, fp[:, column])`` for ascending ``xp`` (NaN-free, as arc lengths are)."""
    last = xp.shape[0] - 1
    if x < xp[0]:
        return fp[0, column]
    if x > xp[last]:
        return fp[last, column]
    lo, hi = 0, last + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if x >= xp[mid]:
            lo = mid + 1
        else:
            hi = mid
    j = lo - 1
    if j == last or xp[j] == x:
        return fp[j, column]
    slope = (fp[j + 1, column] - fp[j, column]) / (xp[j + 1] - xp[j])
    value = slope * (x - xp[j]) + fp[j, column]
    if np.isnan(value):
        value = slope * (x - xp[j + 1]) + fp[j + 1, column]
        if np.isnan(value) and fp[j, column] == fp[j + 1, column]:
            value = fp[j, column]
    return value


@njit(cache=True)
def points_along(centre: np.ndarray, arc: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The points ``(M, 2)`` at arc lengths ``at`` along ``centre`` (``arc``: ``arc_lengths(centre)``)."""
    out = np.empty((at.shape[0], 2))
    for m in range(at.shape[0]):
        out[m, 0] = _interp(at[m], arc, centre, 0)
        out[m, 1] = _interp(at[m], arc, centre, 1)
    return out


@njit(cache=True)
def end_headings(centre: np.ndarray, arc: np.ndarray, reach_px: float) -> tuple[np.ndarray, np.ndarray]:
    """A centre line's two end points (first, last) and the unit headings out of them, each taken from the point
    ``reach_px`` in from its end (half way along, on a line shorter than that), as line_strands.Strand.ends."""
    length = arc[arc.shape[0] - 1]
    reach = min(reach_px / max(length, 1e-9), 1.0)
    inner = points_along(centre, arc, np.array([reach * length, (1.0 - reach) * length]))
    points = np.empty((2, 2))
    heads = np.empty((2, 2))
    for e in range(2):
        row = 0 if e == 0 else centre.shape[0] - 1
        points[e, 0], points[e, 1] = centre[row, 0], centre[row, 1]
        ox, oy = centre[row, 0] - inner[e, 0], centre[row, 1] - inner[e, 1]
        norm = max(math.sqrt(ox * ox + oy * oy), 1e-9)
        heads[e, 0], heads[e, 1] = ox / norm, oy / norm
    return points, heads


@njit(cache=True)
def _piece_gap(x: float, y: float, line: np.ndarray, s: int) -> float:
    """Distance from (x, y) to the piece from point ``s`` of ``line`` to the next, in ribbons' arithmetic."""
    ax, ay = line[s, 0], line[s, 1]
    sx, sy = line[s + 1, 0] - ax, line[s + 1, 1] - ay
    t = max((x * sx + y * sy) - (ax * sx + ay * sy), 0.0)
    t = min(t / max(sx * sx + sy * sy, 1e-12), 1.0)
    dx = x - (ax + t * sx)
    dy = y - (ay + t * sy)
    return math.sqrt(dx * dx + dy * dy)


@njit(cache=True)
def polyline_gaps(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Each point's distance to the open polyline ``line`` (at least two points): the nearest of its pieces, the
    position along a piece clamped to it, a piece of no length measured as if its squared length were 1e-12.

    The pieces are searched PIECE_BLOCK at a time, from the block of the previous point's nearest (the points come
    along a strand), a block skipped where its box is further than the nearest piece found by more than any
    rounding: the least of the distances is the same whichever order they are taken in."""
    pieces = line.shape[0] - 1
    blocks = (pieces + PIECE_BLOCK - 1) // PIECE_BLOCK
    left, top = np.full(blocks, np.inf), np.full(blocks, np.inf)
    right, bottom = np.full(blocks, -np.inf), np.full(blocks, -np.inf)
    for b in range(blocks):
        for i in range(b * PIECE_BLOCK, min((b + 1) * PIECE_BLOCK, pieces) + 1):
            left[b], top[b] = min(left[b], line[i, 0]), min(top[b], line[i, 1])
            right[b], bottom[b] = max(right[b], line[i, 0]), max(bottom[b], line[i, 1])
    out = np.empty(points.shape[0])
    start = 0
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        best, nearest = np.inf, start
        for k in range(blocks):
            b = (start + k) % blocks
            gx = max(left[b] - x, x - right[b], 0.0)
            gy = max(top[b] - y, y - bottom[b], 0.0)
            if k > 0 and math.sqrt(gx * gx + gy * gy) > best + ROUNDING_PX:
                continue
            for s in range(b * PIECE_BLOCK, min((b + 1) * PIECE_BLOCK, pieces)):
                d = _piece_gap(x, y, line, s)
                if d < best:
                    best, nearest = d, b
        out[p] = best
        start = nearest
    return out


@njit(cache=True)
def nearest_within(samples: np.ndarray, points: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``points``, its nearest of ``samples`` (at least one) nearer than ``reach`` and the distance:
    the first of the samples at the same distance (a pixel centre is often as far from two samples of a line
    drawn along a row), ``len(samples)`` and infinity where none is that near (scipy's k-d tree query with
    ``distance_upper_bound`` gives the same distances; which of tied samples it gives depends on its tree). The
    samples are binned in cells a little over ``reach`` wide, so only the nine around a point can hold one."""
    cell = reach * (1.0 + 1e-6)
    x0, y0 = samples[:, 0].min(), samples[:, 1].min()
    columns = int((samples[:, 0].max() - x0) / cell) + 1
    rows = int((samples[:, 1].max() - y0) / cell) + 1
    count = samples.shape[0]
    home = np.empty(count, np.int64)
    starts = np.zeros(columns * rows + 1, np.int64)
    for i in range(count):
        home[i] = int((samples[i, 1] - y0) / cell) * columns + int((samples[i, 0] - x0) / cell)
        starts[home[i] + 1] += 1
    for c in range(columns * rows):
        starts[c + 1] += starts[c]
    binned = np.empty(count, np.int64)
    fill = starts[:-1].copy()
    for i in range(count):
        binned[fill[home[i]]] = i
        fill[home[i]] += 1
    distance = np.full(points.shape[0], np.inf)
    nearest = np.full(points.shape[0], count, np.int64)
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        cx, cy = math.floor((x - x0) / cell), math.floor((y - y0) / cell)
        best, index = reach * reach, count
        for gy in range(max(cy - 1, 0), min(cy + 2, rows)):
            for gx in range(max(cx - 1, 0), min(cx + 2, columns)):
                c = gy * columns + gx
                for q in range(starts[c], starts[c + 1]):
                    i = binned[q]
                    dx, dy = x - samples[i, 0], y - samples[i, 1]
                    d = dx * dx + dy * dy
                    if d < best or (d == best and index < count and i < index):
                        best, index = d, i
        if index < count:
            distance[p], nearest[p] = math.sqrt(best), index
    return distance, nearest
