"""The neck finder's inner loops, compiled (necks.py): how narrow each candidate chord is over the frames, and
which of its samples' pixels the matte fills on every frame.

necks.py measures thousands of marker pairs a piece, chord over outline on every frame, and checks up to sixty
candidate chords, nine samples each, on every frame of a track: whether each sample's pixel is one the matte's
outline fills as the exporters' rasteriser fills it (model.fill_polygon: pixel centres, even-odd rule). numpy
answered the second per frame, the outline's crossings per scan row found and sorted, then each pixel's row
compared whole; on DAVIS ground truth the two were 6 % of a trace's time (goat, soapbox, camel and six other rows:
3.2 s of 49 under the profiler; bench/RESULTS.md, fifty-second pass).

Here every frame's crossings are tabled once per track, per scan row in one flat array, and a question is one
compiled pass over all frames. A pixel is inside where an odd number of its row's crossings start at or left of it;
the count does not depend on their order, so the rows are not sorted. Each crossing's x is model._crossings'
arithmetic in its order (no fused multiply-adds, numba's default) and its fill start ``ceil(x - 0.5)`` as
fill_polygon rounds it, so the answers are the filled matte's exactly; the ratios are numpy's to the bit
(tests/shapes/test_neck_kernel.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _edge_rows(poly: np.ndarray, i: int, first: int, last: int) -> tuple[int, int, float, float]:
    """The scan rows ``[k0, k1)`` edge ``i`` of ``poly`` may cross (over-estimated by one either side, clipped to
    ``first..last``) and its lower and upper y, as model._crossings takes them."""
    j = i + 1 if i + 1 < poly.shape[0] else 0
    y0, y1 = poly[i, 1], poly[j, 1]
    lo, hi = min(y0, y1), max(y0, y1)
    k0 = min(max(math.floor(lo - 0.5), first), last + 1)
    k1 = min(max(math.ceil(hi - 0.5) + 1, first), last + 1)
    return k0, k1, lo, hi


@njit(cache=True)
def scan_tables(points: np.ndarray, bounds: np.ndarray) -> tuple:
    """Per loop ``points[bounds[k]:bounds[k + 1]]``: its first scan row and row count (model._scan_rows), where its
    rows begin in the row table, and per row of the table where its fill starts begin in ``starts``."""
    loops = bounds.shape[0] - 1
    firsts = np.empty(loops, np.int64)
    counts = np.empty(loops, np.int64)
    row_base = np.zeros(loops + 1, np.int64)
    for k in range(loops):
        poly = points[bounds[k] : bounds[k + 1]]
        low, high = np.inf, -np.inf
        for i in range(poly.shape[0]):
            low = min(low, poly[i, 1])
            high = max(high, poly[i, 1])
        firsts[k] = math.ceil(low - 0.5)
        counts[k] = max(math.floor(high - 0.5) - firsts[k] + 1, 0)
        row_base[k + 1] = row_base[k] + counts[k]
    per_row = np.zeros(row_base[loops] + 1, np.int64)
    for k in range(loops):
        poly = points[bounds[k] : bounds[k + 1]]
        first, last = firsts[k], firsts[k] + counts[k] - 1
        for i in range(poly.shape[0]):
            k0, k1, lo, hi = _edge_rows(poly, i, first, last)
            for row in range(k0, k1):
                yc = row + 0.5
                if lo <= yc < hi:
                    per_row[row_base[k] + row - first + 1] += 1
    offsets = np.cumsum(per_row)
    filled = offsets[:-1].copy()
    starts = np.empty(offsets[-1])
    for k in range(loops):
        poly = points[bounds[k] : bounds[k + 1]]
        first, last = firsts[k], firsts[k] + counts[k] - 1
        for i in range(poly.shape[0]):
            j = i + 1 if i + 1 < poly.shape[0] else 0
            k0, k1, lo, hi = _edge_rows(poly, i, first, last)
            x0, y0, x1, y1 = poly[i, 0], poly[i, 1], poly[j, 0], poly[j, 1]
            for row in range(k0, k1):
                yc = row + 0.5
                if lo <= yc < hi:
                    x = x0 + (yc - y0) / (y1 - y0) * (x1 - x0)
                    at = row_base[k] + row - first
                    starts[filled[at]] = math.ceil(x - 0.5)
                    filled[at] += 1
    return firsts, counts, row_base, offsets, starts


@njit(cache=True)
def fewest_inside(x: np.ndarray, y: np.ndarray, tables: tuple) -> np.ndarray:
    """Per chord, the fewest of its samples inside the matte over the frames: ``x``, ``y`` ``(F, C, S)`` are the
    samples' pixels on each frame (loop ``k`` of ``scan_tables`` is frame ``k``)."""
    firsts, counts, row_base, offsets, starts = tables
    frames, chords, samples = x.shape
    out = np.full(chords, samples, np.int64)
    for k in range(frames):
        for c in range(chords):
            hits = 0
            for s in range(samples):
                line = y[k, c, s] - firsts[k]
                if line < 0 or line >= counts[k]:
                    continue
                row = row_base[k] + line
                left = 0
                for at in range(offsets[row], offsets[row + 1]):
                    if starts[at] <= x[k, c, s]:
                        left += 1
                hits += left % 2
            out[c] = min(out[c], hits)
    return out


@njit(cache=True)
def pair_ratios(
    s: np.ndarray, p: np.ndarray, around: np.ndarray, first_row: int, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Per marker pair ``(a[k], b[k])``, its chord over the shorter way round its outline at worst over the rows
    from ``first_row`` on: ``s`` ``(F, M)`` the markers' arc lengths, ``p`` ``(F, M, 2)`` their points, ``around``
    ``(F, 1)`` the way round; a part shorter than 1e-9 counts as that."""
    out = np.empty(a.shape[0])
    for k in range(a.shape[0]):
        i, j = a[k], b[k]
        worst = -np.inf
        for r in range(first_row, s.shape[0]):
            along = s[r, j] - s[r, i]
            part = min(along, around[r, 0] - along)
            chord = math.hypot(p[r, j, 0] - p[r, i, 0], p[r, j, 1] - p[r, i, 1])
            worst = max(worst, chord / max(part, 1e-9))
        out[k] = worst
    return out


@njit(cache=True)
def chord_pixels(ends: np.ndarray, fractions: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels ``x``, ``y`` ``(F, C, S)`` of each chord's samples on each frame for ``fewest_inside``: chord ``c``
    runs from ``ends[f, c, 0]`` to ``ends[f, c, 1]``, its samples at ``fractions`` of the way, each coordinate
    truncated to a whole pixel and kept in the picture. numpy's arithmetic (``a + t * (b - a)``, the cast, the
    clip) in one call where numpy took a dozen."""
    frames, chords, samples = ends.shape[0], ends.shape[1], fractions.shape[0]
    x = np.empty((frames, chords, samples), np.int64)
    y = np.empty((frames, chords, samples), np.int64)
    for f in range(frames):
        for c in range(chords):
            ax, ay, bx, by = ends[f, c, 0, 0], ends[f, c, 0, 1], ends[f, c, 1, 0], ends[f, c, 1, 1]
            for s in range(samples):
                t = fractions[s]
                x[f, c, s] = min(max(int(ax + t * (bx - ax)), 0), width - 1)
                y[f, c, s] = min(max(int(ay + t * (by - ay)), 0), height - 1)
    return x, y
