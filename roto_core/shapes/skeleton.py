"""A one-pixel-wide skeleton of a bool image and its pixel chains: what ribbons.py draws a matte's thin lines from.

Zhang & Suen's two-pass thinning, worked on the set pixels only; junctions are skeleton pixels with three or more
runs of set pixels around them; a chain is walked from one of its ends, so its pixel centres come in order along
it.

Compiled (numba): a frame of rigging lines is a few thousand skeleton pixels in a few hundred chains, which numpy
and scipy's graph search took as dozens of whole-image steps and a distance table of every chain's start against
every pixel (DAVIS paragliding-launch, ground truth: 0.75 of its 10 s on its skeletons, bench/RESULTS.md
fifty-first pass). The loops decide as the array steps did: a thinning pass drops the pixels its test picks on the
image as the pass began; components are numbered in the order of their first pixel (row by row), as scipy's
``connected_components`` numbers them; the walk's start is the first of the pixels furthest in steps from the
component's first; pixels the same number of steps along are summed in pixel order, as ``np.add.at`` sums them. So
the chains are the same to the bit (tests/shapes/test_skeleton.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The eight neighbours, clockwise from north: rows, columns.
_DY = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
_DX = np.array([0, 1, 1, 1, 0, -1, -1, -1])


@njit(cache=True, inline="always")
def _ring(padded: np.ndarray, y: int, x: int, ring: np.ndarray) -> tuple[int, int]:
    """Pixel (y, x)'s eight neighbours of a padded 0/1 image into ``ring``, clockwise from north; how many are set
    and how many runs of set pixels lie around it (one for a line's inner pixel or a staircase step, three at a
    junction)."""
    count = 0
    for k in range(8):
        ring[k] = padded[y + _DY[k], x + _DX[k]]
        count += ring[k]
    runs = 0
    for k in range(8):
        if ring[k] == 0 and ring[(k + 1) % 8] == 1:
            runs += 1
    return count, runs


@njit(cache=True)
def _thin(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> None:
    """Zhang & Suen thinning of the padded 0/1 image in place, over its set pixels ``(ys, xs)``."""
    alive = np.ones(ys.shape[0], np.bool_)
    drop = np.zeros(ys.shape[0], np.bool_)
    ring = np.empty(8, np.int64)
    changed = True
    while changed:
        changed = False
        for step in range(2):
            dropping = False
            for i in range(ys.shape[0]):
                drop[i] = False
                if not alive[i]:
                    continue
                count, runs = _ring(padded, ys[i], xs[i], ring)
                north, east, south, west = ring[0], ring[2], ring[4], ring[6]
                if step == 0:
                    side = north * east * south == 0 and east * south * west == 0
                else:
                    side = north * east * west == 0 and north * south * west == 0
                if 2 <= count <= 6 and runs == 1 and side:
                    drop[i] = True
                    dropping = True
            if dropping:
                for i in range(ys.shape[0]):
                    if drop[i]:
                        padded[ys[i], xs[i]] = 0
                        alive[i] = False
                changed = True


def skeleton(binary: np.ndarray) -> np.ndarray:
    """Zhang & Suen thinning of a bool image to one-pixel-wide, 8-connected lines; worked on the set pixels
    only (a frame's lines are a few thousand pixels of a large box)."""
    s = np.pad(binary.astype(np.uint8), 1)
    ys, xs = np.nonzero(s)
    _thin(s, ys, xs)
    return s[1:-1, 1:-1].astype(bool)


@njit(cache=True)
def _junctions(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Which of the set pixels ``(ys, xs)`` of the padded 0/1 image have three or more runs around them."""
    out = np.zeros(ys.shape[0], np.bool_)
    ring = np.empty(8, np.int64)
    for i in range(ys.shape[0]):
        out[i] = _ring(padded, ys[i], xs[i], ring)[1] >= 3
    return out


def junctions(skel: np.ndarray) -> np.ndarray:
    """Skeleton pixels where three or more lines meet: three or more runs of set pixels around them (a
    staircase step has three neighbours in one run and is not a junction)."""
    s = np.pad(skel.astype(np.uint8), 1)
    ys, xs = np.nonzero(s)
    found = _junctions(s, ys, xs)
    out = np.zeros_like(skel)
    out[ys[found] - 1, xs[found] - 1] = True
    return out


@njit(cache=True)
def _steps(neighbours: np.ndarray, cut: np.ndarray, start: int, steps: np.ndarray, queue: np.ndarray) -> int:
    """Steps from ``start`` to each pixel of its component into ``steps`` (-1 elsewhere beforehand, as they are
    left); how many pixels were reached, listed in ``queue`` in the order reached."""
    steps[start] = 0
    queue[0] = start
    head, tail = 0, 1
    while head < tail:
        v = queue[head]
        head += 1
        if cut[v]:
            continue
        for k in range(8):
            w = neighbours[v, k]
            if w >= 0 and not cut[w] and steps[w] < 0:
                steps[w] = steps[v] + 1
                queue[tail] = w
                tail += 1
    return tail


@njit(cache=True)
def _components(neighbours: np.ndarray, cut: np.ndarray, queue: np.ndarray) -> tuple[np.ndarray, int]:
    """Each pixel's component (``neighbours``: per pixel, its neighbours' indices, -1 for none; a pixel ``cut`` is
    joined to none), numbered in the order of their first pixels."""
    label = np.full(neighbours.shape[0], -1, np.int64)
    seen = np.full(neighbours.shape[0], -1, np.int64)
    count = 0
    for seed in range(neighbours.shape[0]):
        if label[seed] < 0:
            label[queue[: _steps(neighbours, cut, seed, seen, queue)]] = count
            count += 1
    return label, count


@njit(cache=True)
def _chains(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int], min_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """``chains`` over the skeleton pixels ``(ys, xs)`` (row by row) of an image of ``shape``: every chain's points
    laid end to end, and where each chain ends."""
    n = ys.shape[0]
    index = np.full((shape[0] + 2, shape[1] + 2), -1, np.int64)
    for i in range(n):
        index[ys[i] + 1, xs[i] + 1] = i
    neighbours = np.empty((n, 8), np.int64)
    for i in range(n):
        for k in range(8):
            neighbours[i, k] = index[ys[i] + 1 + _DY[k], xs[i] + 1 + _DX[k]]
    cut = np.zeros(n, np.bool_)
    queue = np.empty(max(n, 1), np.int64)
    label, count = _components(neighbours, cut, queue)
    # A closed loop (a ring of wire) has no end to walk from: walked from any pixel, its two halves would be
    # averaged into a line across it. It is opened at its first pixel.
    has_end = np.zeros(count, np.bool_)
    first = np.full(count, -1, np.int64)
    for i in range(n):
        if first[label[i]] < 0:
            first[label[i]] = i
        if (neighbours[i] >= 0).sum() <= 1:
            has_end[label[i]] = True
    if not has_end.all():
        for c in range(count):
            if not has_end[c]:
                cut[first[c]] = True
        label, count = _components(neighbours, cut, queue)
    size = np.bincount(label, minlength=count)
    steps = np.full(n, -1, np.int64)
    depth = np.full(n, -1, np.int64)
    points = np.empty((n, 2))
    ends = np.empty(count, np.int64)
    chains, written = 0, 0
    done = np.zeros(count, np.bool_)
    for seed in range(n):
        c = label[seed]
        if done[c]:
            continue
        done[c] = True
        if size[c] < min_pixels:
            continue
        reached = _steps(neighbours, cut, seed, steps, queue)
        start = seed
        for q in range(reached):
            v = queue[q]
            if steps[v] > steps[start] or (steps[v] == steps[start] and v < start):
                start = v
        reached = _steps(neighbours, cut, start, depth, queue)
        longest = 0
        for q in range(reached):
            longest = max(longest, depth[queue[q]])
        sums = np.zeros((longest + 1, 2))
        counts = np.zeros(longest + 1, np.int64)
        # Summed in pixel order, as np.add.at over the component's pixels sums them.
        members = np.sort(queue[:reached])
        for v in members:
            sums[depth[v], 0] += xs[v] + 0.5
            sums[depth[v], 1] += ys[v] + 0.5
            counts[depth[v]] += 1
        for d in range(longest + 1):
            points[written + d, 0] = sums[d, 0] / counts[d]
            points[written + d, 1] = sums[d, 1] / counts[d]
        written += longest + 1
        ends[chains] = written
        chains += 1
    return points[:written], ends[:chains]


def chains(skel: np.ndarray, min_pixels: int) -> list[np.ndarray]:
    """The pixel chains of a skeleton without junctions, each as its pixel centres in order along it: by steps
    from the pixel furthest (in steps) from its first pixel, so the walk starts at an end; pixels the same number
    of steps along are averaged; chains of fewer than ``min_pixels`` pixels are left out. In the order of their
    first pixels, row by row."""
    ys, xs = np.nonzero(skel)
    if len(ys) == 0:
        return []
    points, ends = _chains(ys.astype(np.int64), xs.astype(np.int64), skel.shape, min_pixels)
    return np.split(points, ends[:-1]) if len(ends) else []
