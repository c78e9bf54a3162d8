"""Whether segments of an outline cross, as untangle.py and necks.py ask it hundreds of times a shot.

The questions are pairs of short segments: a key's sub-segments against those of the next few segments (a curl
beside a point), a polyline against itself (a loop), a chord against every frame's outline (a neck that would
cut a sliver). numpy answered them by building every pair as an array, most of them far apart or after the
first crossing already found; on DAVIS dog's first 30 frames the crossing tests were a sixth of the trace's time
(profile, bench/RESULTS.md, forty-eighth pass). Here they are loops that stop at the first crossing where only
"any" is asked. They skip no pair by its bounding box except where numpy's caller did (necks): a pair whose boxes
are apart cannot cross, but rounding could still call it crossed, and the answers must stay numpy's.

The test itself is ``untangle.segments_cross``'s arithmetic, operation for operation (no fused multiply-adds,
numba's default; Python's float ``%``, which numba compiles as CPython does, is ``np.mod``), so every answer
is numpy's: tests/shapes/test_crossing_kernel.py compares them on random
segments and on every call the tracer makes on real DAVIS mattes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Ends closer than this share of a segment do not count as crossing (touching ends, untangle.segments_cross).
EPS = 1e-9


@njit(cache=True)
def cross(ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float) -> bool:
    """Whether segment a-b crosses c-d strictly (untangle.segments_cross for one pair)."""
    r0, r1 = bx - ax, by - ay
    s0, s1 = dx - cx, dy - cy
    q0, q1 = cx - ax, cy - ay
    denom = r0 * s1 - r1 * s0
    if denom == 0.0:
        return False
    t = (q0 * s1 - q1 * s0) / denom
    if not (t > EPS and t < 1 - EPS):
        return False
    u = (q0 * r1 - q1 * r0) / denom
    return u > EPS and u < 1 - EPS


@njit(cache=True)
def _segment_crossed(lines: np.ndarray, key: int, i: int, d: int) -> bool:
    """Whether segment ``i`` of key ``key`` of ``lines`` ``(K, N, S + 1, 2)`` crosses segment ``i + d`` (or itself,
    ``d`` 0), sub-segment by sub-segment, leaving out the sub-segments that share an end (untangle.knots)."""
    count, samples = lines.shape[1], lines.shape[2] - 1
    j = (i + d) % count
    a, b = lines[key, i], lines[key, j]
    for k in range(samples):
        ax, ay, bx, by = a[k, 0], a[k, 1], a[k + 1, 0], a[k + 1, 1]
        for m in range(samples):
            if d == 0 and m <= k + 1:
                continue
            if d == 1 and k == samples - 1 and m == 0:
                continue
            if d == count - 1 and k == 0 and m == samples - 1:
                continue
            if cross(ax, ay, bx, by, b[m, 0], b[m, 1], b[m + 1, 0], b[m + 1, 1]):
                return True
    return False


@njit(cache=True)
def knot_marks(lines: np.ndarray, reach: int) -> np.ndarray:
    """``untangle.knots`` on the sampled segments ``lines`` ``(K, N, S + 1, 2)``: per key and point whether the
    curve crosses itself within ``reach`` segments of it."""
    keys, count = lines.shape[0], lines.shape[1]
    marked = np.zeros((keys, count), np.bool_)
    for key in range(keys):
        for d in range(min(reach, count - 1) + 1):
            for i in range(count):
                if not _segment_crossed(lines, key, i, d):
                    continue
                if d == 0:
                    marked[key, i] = True
                    marked[key, (i + 1) % count] = True
                for j in range(1, d + 1):
                    marked[key, (i + j) % count] = True
    return marked


@njit(cache=True)
def self_crossings(poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pieces ``(i, j)``, ``j >= i + 2``, of the closed polyline ``poly`` ``(M, 2)`` that cross (all of them,
    in row order, as ``np.nonzero`` lists them), less the last piece against the first, which share a sample."""
    count = poly.shape[0]
    first, second = [0], [0]
    for i in range(count):
        ax, ay = poly[i, 0], poly[i, 1]
        bx, by = poly[(i + 1) % count, 0], poly[(i + 1) % count, 1]
        for j in range(i + 2, count):
            if i == 0 and j == count - 1:
                continue
            cx, cy = poly[j, 0], poly[j, 1]
            dx, dy = poly[(j + 1) % count, 0], poly[(j + 1) % count, 1]
            if cross(ax, ay, bx, by, cx, cy, dx, dy):
                first.append(i)
                second.append(j)
    return np.array(first[1:], np.int64), np.array(second[1:], np.int64)


@njit(cache=True)
def chord_crosses_outline(
    a: np.ndarray,
    b: np.ndarray,
    ends_along: np.ndarray,
    row: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    along: np.ndarray,
    lengths: np.ndarray,
    seglen: np.ndarray,
    end_px: float,
) -> bool:
    """Whether the chord ``a[f]``-``b[f]`` crosses a segment of frame ``f``'s outline on some frame, away from the
    chord's ends (``necks.NeckSplitter._crosses``): segments ``start``-``end`` of frame ``row``, starting
    ``along`` their outline of length ``lengths[row]``; the chord's ends lie ``ends_along[f]`` along it; a
    segment within ``end_px`` of an end, either way round, or holding it, is beside it and does not count."""
    for n in range(row.shape[0]):
        f = row[n]
        sx, sy, ex, ey = start[n, 0], start[n, 1], end[n, 0], end[n, 1]
        ax, ay, bx, by = a[f, 0], a[f, 1], b[f, 0], b[f, 1]
        if max(sx, ex) < min(ax, bx) or min(sx, ex) > max(ax, bx):
            continue
        if max(sy, ey) < min(ay, by) or min(sy, ey) > max(ay, by):
            continue
        length, at = lengths[f], along[n]
        beside = False
        for e in range(ends_along.shape[1]):
            to = ends_along[f, e]
            ahead = (at - to) % length
            behind = (to - at - seglen[n]) % length
            if ahead < end_px or behind < end_px or (to - at) % length <= seglen[n]:
                beside = True
        if not beside and cross(ax, ay, bx, by, sx, sy, ex, ey):
            return True
    return False


@njit(cache=True)
def chord_crossed(a: np.ndarray, b: np.ndarray, lines: np.ndarray, chord: int) -> bool:
    """Whether the chord ``a``-``b`` crosses a sub-segment of any other segment of ``lines`` ``(N, S + 1, 2)`` (a
    key's sampled segments; ``chord`` is the chord's own): chords._bow's test, stopping at the first crossing."""
    count, samples = lines.shape[0], lines.shape[1] - 1
    ax, ay, bx, by = a[0], a[1], b[0], b[1]
    for i in range(count):
        if i == chord:
            continue
        for m in range(samples):
            if cross(ax, ay, bx, by, lines[i, m, 0], lines[i, m, 1], lines[i, m + 1, 0], lines[i, m + 1, 1]):
                return True
    return False


@njit(cache=True)
def near_crossings(lines: np.ndarray, d: int) -> np.ndarray:
    """``(i, k, m)`` for each sub-segment ``k`` of segment ``i`` of ``lines`` ``(N, S + 1, 2)`` that crosses
    sub-segment ``m`` of segment ``i + d`` (wrapping), in row order as ``np.nonzero`` lists them; for ``d`` 1, less
    the last sub-segment against the next's first, which share a sample (untangle._local_crossing)."""
    count, samples = lines.shape[0], lines.shape[1] - 1
    found = [(0, 0, 0)]
    for i in range(count):
        j = (i + d) % count
        for k in range(samples):
            ax, ay, bx, by = lines[i, k, 0], lines[i, k, 1], lines[i, k + 1, 0], lines[i, k + 1, 1]
            for m in range(samples):
                if d == 1 and k == samples - 1 and m == 0:
                    continue
                if cross(ax, ay, bx, by, lines[j, m, 0], lines[j, m, 1], lines[j, m + 1, 0], lines[j, m + 1, 1]):
                    found.append((i, k, m))
    out = np.empty((len(found) - 1, 3), np.int64)
    for n in range(1, len(found)):
        out[n - 1, 0], out[n - 1, 1], out[n - 1, 2] = found[n]
    return out
