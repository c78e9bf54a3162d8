"""Distances from points to a polyline through samples, as the edge check takes them thousands of times a shot.

Each point's nearest sample (the first of ties), and its distance to the polyline: to the pieces either side of
that sample where they exist, or to the sample itself. A nearest-sample distance alone overstates a point lying on
the line by up to half the sample spacing, which would eat a third of a 1.5 px tolerance.

Compiled (numba) because the measurement is loops over a few dozen to a few hundred samples, where numpy spent
its time on the cost of each of some sixty calls and a k-d tree on building and querying (bench/RESULTS.md,
twenty-sixth pass: "the 2 s target needs fewer measurements or compiled loops"). The arithmetic is numpy's, step
for step (squared distances as ``dx * dx + dy * dy``, ``hypot`` on the pieces, the same clamping), so the answers
are the same to the bit: on every measurement of DAVIS dog's first 30 frames and of the 1080p synthetic shot
(bench/RESULTS.md, forty-seventh pass). The samples are searched a block of BLOCK at a time, and the blocks BLOCK at
a time, a block or group skipped when its bounding box is further than the nearest sample found so far, starting
from the block of the previous point's nearest: the points come along a curve, so most are skipped on outlines of
hundreds of samples (1080p).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BLOCK = 16
# A piece shorter than this (a repeated sample) is measured as if it had this squared length.
MIN_PIECE_SQUARED = 1e-12


@njit(cache=True)
def block_boxes(low: np.ndarray, high: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The bounding boxes (low, high corners) of each ``size`` consecutive boxes ``low``/``high`` (samples are boxes
    of their own)."""
    count = (low.shape[0] + size - 1) // size
    out_low = np.full((count, 2), np.inf)
    out_high = np.full((count, 2), -np.inf)
    for j in range(low.shape[0]):
        b = j // size
        for c in range(2):
            out_low[b, c] = min(out_low[b, c], low[j, c])
            out_high[b, c] = max(out_high[b, c], high[j, c])
    return out_low, out_high


@njit(cache=True)
def box_beyond(x: float, y: float, low: np.ndarray, high: np.ndarray, b: int, best: float) -> bool:
    """Whether box ``b`` lies further than ``best`` (squared) from (x, y). Not "as far": a box as far as the best
    may hold an earlier sample at the same distance."""
    gx = low[b, 0] - x if x < low[b, 0] else (x - high[b, 0] if x > high[b, 0] else 0.0)
    gy = low[b, 1] - y if y < low[b, 1] else (y - high[b, 1] if y > high[b, 1] else 0.0)
    return gx * gx + gy * gy > best


@njit(cache=True)
def _scan(x: float, y: float, line: np.ndarray, b: int, best: float, index: int) -> tuple:
    """The nearest of (``best``, ``index``) and the samples of block ``b`` (the first of ties)."""
    for j in range(b * BLOCK, min(line.shape[0], (b + 1) * BLOCK)):
        dx, dy = x - line[j, 0], y - line[j, 1]
        d = dx * dx + dy * dy
        if d < best or (d == best and j < index):
            best, index = d, j
    return best, index


@njit(cache=True)
def _nearest_sample(x: float, y: float, line: np.ndarray, boxes: tuple, start: int) -> tuple:
    """The squared distance to the nearest sample of ``line`` and its index (the first of ties): the block of
    ``start`` first, then each group of blocks, and each block in it, not beyond the best so far."""
    low, high, group_low, group_high = boxes
    first = start // BLOCK
    best, index = _scan(x, y, line, first, np.inf, line.shape[0])
    for g in range(group_low.shape[0]):
        if box_beyond(x, y, group_low, group_high, g, best):
            continue
        for b in range(g * BLOCK, min(low.shape[0], (g + 1) * BLOCK)):
            if b != first and not box_beyond(x, y, low, high, b, best):
                best, index = _scan(x, y, line, b, best, index)
    return best, index


@njit(cache=True)
def _to_piece(x: float, y: float, line: np.ndarray, a: int) -> float:
    """Distance from (x, y) to the piece from sample ``a`` to the next (wrapping)."""
    b = a + 1 if a + 1 < line.shape[0] else 0
    sx, sy = line[b, 0] - line[a, 0], line[b, 1] - line[a, 1]
    px, py = x - line[a, 0], y - line[a, 1]
    t = (px * sx + py * sy) / max(sx * sx + sy * sy, MIN_PIECE_SQUARED)
    t = min(max(t, 0.0), 1.0)
    return math.hypot(px - t * sx, py - t * sy)


@njit(cache=True)
def measure_polyline(
    points: np.ndarray, line: np.ndarray, linked: np.ndarray, out: np.ndarray, nearest: np.ndarray
) -> None:
    """``polyline_distances`` into ``out`` and ``nearest``, for compiled callers."""
    low, high = block_boxes(line, line, BLOCK)
    boxes = (low, high, *block_boxes(low, high, BLOCK))
    count = line.shape[0]
    start = 0
    for p in range(points.shape[0]):
        x, y = points[p, 0], points[p, 1]
        squared, index = _nearest_sample(x, y, line, boxes, start)
        start = index
        distance = math.sqrt(squared)
        before = index - 1 if index > 0 else count - 1
        if linked[index]:
            distance = min(distance, _to_piece(x, y, line, index))
        if linked[before]:
            distance = min(distance, _to_piece(x, y, line, before))
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
