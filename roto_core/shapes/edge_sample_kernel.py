"""A piece's stretch of edge sampled on every frame of its track, compiled: what keys.EdgeCheck measures against.

The edge check is built for every group of pieces the tracer keys, and it sampled each piece's runs frame by frame
in numpy (the runs' arc lengths, a linspace, the points, which samples lie inside the picture, which end a run):
about a dozen array operations on a few dozen samples per piece and frame, 12,570 piece-frames and 1.6 s over the
nine dev rows profiled in bench/RESULTS.md (fifty-fifth pass). Here one loop per frame does the same arithmetic
in the same order (``OutlineTrack.arc``'s, ``np.linspace``'s ``i * step + start`` with its last sample the end
itself, ``Loop.at``'s wrap and search along that frame's own arc lengths), so the samples are numpy's to the bit
(tests/shapes/test_edge_sample_kernel.py against the numpy code it replaces).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.track_kernel import _after, arc_at


@njit(cache=True, inline="always")
def _loop_point(s: float, r: int, loops: tuple) -> tuple:
    """``Loop.at`` of frame ``r`` for one arc length (OutlineTrack.loop_packed: each frame's length, its own arc
    lengths laid end to end, its first and last sample, the samples' lengths, steps and points)."""
    lengths, cum, first, last, seglen, step, points = loops
    g = s % lengths[r]
    i = min(max(_after(cum, g, first[r], last[r] + 1) - 1, first[r]), last[r])
    t = (g - cum[i]) / seglen[i]
    return step[i, 0] * t + points[i, 0], step[i, 1] * t + points[i, 1]


@njit(cache=True)
def edge_samples(
    runs: np.ndarray,
    rows: np.ndarray,
    markers: tuple,
    loops: tuple,
    spacing: float,
    low: np.ndarray,
    high: np.ndarray,
    closed: bool,
    end_min: int,
) -> tuple:
    """The samples of ``runs`` ``(R, 2)`` (track parameters) about ``spacing`` apart on each frame of ``rows``,
    laid end to end: ``(points (T, 2), linked (T,), starts (F + 1,), kept (K,), kept_points (K, 2), kept_starts
    (F + 1,))``. Frame f's samples are ``starts[f]:starts[f + 1]``; ``linked`` is False at each run's last sample
    unless the piece is ``closed``; ``kept`` (indices within the frame) are the samples strictly inside ``low`` ..
    ``high`` and, on an open piece, not the end of a run of more than ``end_min`` samples (keys._run_ends), or all
    of the frame's where fewer than two are."""
    frames, count = rows.shape[0], runs.shape[0]
    ends = np.empty((frames, count, 2))
    sizes = np.empty((frames, count), np.int64)
    total = 0
    for f in range(frames):
        for k in range(count):
            sa = arc_at(runs[k, 0], rows[f], markers)
            sb = arc_at(runs[k, 1], rows[f], markers)
            ends[f, k, 0], ends[f, k, 1] = sa, sb
            sizes[f, k] = max(math.ceil((sb - sa) / spacing), 1) + 1
            total += sizes[f, k]
    points = np.empty((total, 2))
    linked = np.ones(total, np.bool_)
    inside = np.empty(total, np.bool_)
    starts = np.empty(frames + 1, np.int64)
    kept = np.empty(total, np.int64)
    kept_starts = np.empty(frames + 1, np.int64)
    at = 0
    held = 0
    for f in range(frames):
        starts[f], kept_starts[f] = at, held
        for k in range(count):
            sa, sb, n = ends[f, k, 0], ends[f, k, 1], sizes[f, k]
            div = n - 1
            delta = sb - sa
            step = delta / div
            for i in range(n):
                s = sa + (i / div) * delta if step == 0.0 else i * step + sa
                if i == n - 1:
                    s = sb
                x, y = _loop_point(s, rows[f], loops)
                points[at + i, 0], points[at + i, 1] = x, y
                inside[at + i] = x > low[0] and y > low[1] and x < high[0] and y < high[1]
            if not closed:
                linked[at + n - 1] = False
                if n > end_min:
                    inside[at] = False
                    inside[at + n - 1] = False
            at += n
        inner = 0
        for j in range(starts[f], at):
            inner += inside[j]
        for j in range(starts[f], at):
            if inside[j] or inner < 2:
                kept[held] = j - starts[f]
                held += 1
    starts[frames], kept_starts[frames] = at, held
    kept = kept[:held].copy()
    kept_points = np.empty((held, 2))
    for f in range(frames):
        for j in range(kept_starts[f], kept_starts[f + 1]):
            kept_points[j, 0] = points[starts[f] + kept[j], 0]
            kept_points[j, 1] = points[starts[f] + kept[j], 1]
    return points, linked, starts, kept, kept_points, kept_starts
