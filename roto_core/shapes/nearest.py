"""Distances from points to a polyline through samples, as the edge check takes them thousands of times a shot.

Each point's nearest sample (the first of ties), and its distance to the polyline: to the pieces either side of
that sample where they exist, or to the sample itself. A nearest-sample distance alone overstates a point lying on
the line by up to half the sample spacing, which would eat a third of a 1.5 px tolerance.

Compiled (numba) because the measurement is loops over a few dozen to a few hundred samples, where numpy spent
its time on the cost of each of some sixty calls and a k-d tree on building and querying (bench/RESULTS.md,
twenty-sixth pass: "the 2 s target needs fewer measurements or compiled loops"). The arithmetic is numpy's, step
for step (squared distances as ``dx * dx + dy * dy``, ``hypot`` on the pieces, the same clamping), so the answers
are the same to the bit: on every measurement of DAVIS dog's first 30 frames and of the 1080p synthetic shot
(bench/RESULTS.md, forty-seventh pass). The samples are searched a block of BLOCK at a time, starting from the block
of the previous point's nearest, a block skipped when its bounding box is further than the nearest sample found so
far: the points come along a curve, so most are skipped on outlines of hundreds of samples (1080p). The boxes'
distances are taken for all blocks in one vectorised pass rather than box by box behind the search (and blocks of
blocks): 12 % less time per measurement on DAVIS dog, the same nearest samples (bench/RESULTS.md, fiftieth pass).
Of the sample and the two pieces either side, a root (``hypot``, a library call costlier than the rest of a point's
measure) is taken only for those that can be the nearest: the same distances, a tenth less time (fifty-seventh pass).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BLOCK = 16
# A piece shorter than this (a repeated sample) is measured as if it had this squared length.
MIN_PIECE_SQUARED = 1e-12
# Of a point's nearest sample and the pieces either side, one whose squared distance is more than this share above
# the least cannot be the nearest once the roots are taken (each within an ulp of exact): its root is not taken.
ROOT_SLACK = 1e-9


@njit(cache=True)
def block_boxes(samples: np.ndarray) -> tuple:
    """The bounding box of each BLOCK consecutive samples, as four arrays: left, top, right, bottom."""
    count = (samples.shape[0] + BLOCK - 1) // BLOCK
    left, top = np.full(count, np.inf), np.full(count, np.inf)
    right, bottom = np.full(count, -np.inf), np.full(count, -np.inf)
    for j in range(samples.shape[0]):
        b = j // BLOCK
        left[b], top[b] = min(left[b], samples[j, 0]), min(top[b], samples[j, 1])
        right[b], bottom[b] = max(right[b], samples[j, 0]), max(bottom[b], samples[j, 1])
    return left, top, right, bottom


@njit(cache=True, inline="always")
def box_gaps(x: float, y: float, boxes: tuple, gaps: np.ndarray) -> None:
    """The squared distance from (x, y) to each of ``boxes`` (``block_boxes``) into ``gaps``: one branch-free pass
    the compiler turns into vector instructions. A block whose gap is more than the best so far holds no nearer
    sample; one as far may hold an earlier sample at the same distance, so it is searched."""
    left, top, right, bottom = boxes
    for b in range(gaps.shape[0]):
        gx = max(left[b] - x, x - right[b], 0.0)
        gy = max(top[b] - y, y - bottom[b], 0.0)
        gaps[b] = gx * gx + gy * gy


@njit(cache=True)
def scan_block(x: float, y: float, line: np.ndarray, b: int, best: float, index: int) -> tuple:
    """The nearest of (``best``, ``index``) and the samples of block ``b`` (the first of ties)."""
    for j in range(b * BLOCK, min(line.shape[0], (b + 1) * BLOCK)):
        dx, dy = x - line[j, 0], y - line[j, 1]
        d = dx * dx + dy * dy
        if d < best or (d == best and j < index):
            best, index = d, j
    return best, index


@njit(cache=True)
def _nearest_sample(x: float, y: float, line: np.ndarray, boxes: tuple, start: int, gaps: np.ndarray) -> tuple:
    """The squared distance to the nearest sample of ``line`` and its index (the first of ties): the block of
    ``start`` first, then each block not beyond the best so far (``gaps``: reused room for ``box_gaps``)."""
    box_gaps(x, y, boxes, gaps)
    first = start // BLOCK
    best, index = scan_block(x, y, line, first, np.inf, line.shape[0])
    for b in range(gaps.shape[0]):
        if b != first and gaps[b] <= best:
            best, index = scan_block(x, y, line, b, best, index)
    return best, index


@njit(cache=True)
def _piece_offset(x: float, y: float, line: np.ndarray, a: int) -> tuple:
    """The offset from (x, y) to its nearest place on the piece from sample ``a`` to the next (wrapping), and the
    offset's square."""
    b = a + 1 if a + 1 < line.shape[0] else 0
    sx, sy = line[b, 0] - line[a, 0], line[b, 1] - line[a, 1]
    px, py = x - line[a, 0], y - line[a, 1]
    t = (px * sx + py * sy) / max(sx * sx + sy * sy, MIN_PIECE_SQUARED)
    t = min(max(t, 0.0), 1.0)
    ex, ey = px - t * sx, py - t * sy
    return ex, ey, ex * ex + ey * ey


@njit(cache=True)
def measure_polyline(
    points: np.ndarray, line: np.ndarray, linked: np.ndarray, out: np.ndarray, nearest: np.ndarray
) -> None:
    """``polyline_distances`` into ``out`` and ``nearest``, for compiled callers."""
    boxes = block_boxes(line)
    gaps = np.empty(boxes[0].shape[0])
    count = line.shape[0]
    start = 0
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        squared, index = _nearest_sample(x, y, line, boxes, start, gaps)
        start = index
        before = index - 1 if index > 0 else count - 1
        ax, ay, after_squared = _piece_offset(x, y, line, index) if linked[index] else (0.0, 0.0, np.inf)
        bx, by, before_squared = _piece_offset(x, y, line, before) if linked[before] else (0.0, 0.0, np.inf)
        near = min(squared, after_squared, before_squared) * (1.0 + ROOT_SLACK)
        distance = math.sqrt(squared) if squared <= near else np.inf
        if after_squared <= near:
            distance = min(distance, math.hypot(ax, ay))
        if before_squared <= near:
            distance = min(distance, math.hypot(bx, by))
        out[p] = distance
        nearest[p] = index


def polyline_distances(points: np.ndarray, line: np.ndarray, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's distance to the polyline through ``line``'s samples (the piece from sample i to i + 1,
    wrapping, exists where ``linked[i]``), and the index of its nearest sample. ``line`` holds at least one
    sample."""
    out = np.empty(len(points))
    nearest = np.empty(len(points), np.int64)
    measure_polyline(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(line, dtype=np.float64),
        np.ascontiguousarray(linked, dtype=np.bool_),
        out,
        nearest,
    )
    return out, nearest


@njit(cache=True)
def _directed_squared(a: np.ndarray, b: np.ndarray) -> float:
    """The largest of ``a``'s squared distances to its nearest point of ``b``."""
    worst = 0.0
    for i in range(a.shape[0]):
        nearest = np.inf
        for j in range(b.shape[0]):
            dx, dy = a[i, 0] - b[j, 0], a[i, 1] - b[j, 1]
            d = dx * dx + dy * dy
            if d < worst:
                # Nearer than the worst so far: this point cannot raise it.
                nearest = d
                break
            nearest = min(nearest, d)
        worst = max(worst, nearest)
    return worst


@njit(cache=True)
def hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    """The symmetric Hausdorff distance between point sets ``a`` and ``b`` ``(N, 2)``: the larger of
    scipy.spatial.distance.directed_hausdorff both ways, to the bit (squared distances summed as its loop sums
    them, the root taken last), without its per-call cost (errstate, validation, a random shuffle that only speeds
    up its early exit) on the few thousand small sets pieces.py compares a shot."""
    return math.sqrt(max(_directed_squared(a, b), _directed_squared(b, a)))
