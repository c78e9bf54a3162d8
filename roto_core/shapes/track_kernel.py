"""Points at arc lengths along every frame's outline of a track, compiled: the lookup OutlineTrack.at_all makes
thousands of times a shot (segment fits, neck ratios, corner directions), and Loop.at's along one frame's (each
tracking step, each marker put back).

numpy did it in a dozen whole-array steps (wrap, offset, binary search, clamp, interpolate), each of which cost
more to call than to run on the few dozen arc lengths a lookup holds. This is one loop doing the same arithmetic
in the same order, so the points are numpy's to the bit (tests/shapes/test_track_kernel.py): ``%`` on floats is
``np.mod`` in numba as in CPython, and the binary search finds the index ``searchsorted(side="right")`` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _after(cum: np.ndarray, g: float, lo: int, hi: int) -> int:
    """The first index from ``lo`` to ``hi`` of the ascending ``cum`` whose value is above ``g`` (``hi`` for none,
    and for NaN): ``cum[lo:hi].searchsorted(g, side="right") + lo``."""
    while lo < hi:
        mid = (lo + hi) // 2
        if g < cum[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def points_at(
    s: np.ndarray,
    rows: np.ndarray,
    lengths: np.ndarray,
    base: np.ndarray,
    cum: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    seglen: np.ndarray,
    step: np.ndarray,
    points: np.ndarray,
) -> np.ndarray:
    """Points ``(M, F, k, 2)`` at arc lengths ``s`` ``(M, F, k)``, those of row f on frame ``rows[f]`` (see
    OutlineTrack._pack for the packed outlines: each frame's samples ``first`` to ``last``, where each starts
    along all outlines laid end to end, its length and step). The search for a sample runs over its frame's
    samples only: an arc length wrapped onto a frame's outline lies from its first sample's start to the next
    frame's, which the whole search would find between the same two, and clamp to the frame as well."""
    out = np.empty((*s.shape, 2))
    packed = (lengths, base, cum, first, last, seglen, step, points)
    for f in range(s.shape[1]):
        r = rows[f]
        for m in range(s.shape[0]):
            for j in range(s.shape[2]):
                out[m, f, j, 0], out[m, f, j, 1] = point_at(s[m, f, j], r, packed)
    return out


@njit(cache=True, inline="always")
def point_at(s: float, r: int, packed: tuple) -> tuple:
    """The point at arc length ``s`` on frame ``r`` of the packed outlines (OutlineTrack.packed: ``points_at``'s
    arrays from ``lengths`` to ``points``), for compiled callers that look up one point at a time."""
    lengths, base, cum, first, last, seglen, step, points = packed
    g = base[r] + s % lengths[r]
    i = min(max(_after(cum, g, first[r], last[r] + 1) - 1, first[r]), last[r])
    t = (g - cum[i]) / seglen[i]
    return step[i, 0] * t + points[i, 0], step[i, 1] * t + points[i, 1]


@njit(cache=True)
def loop_points(
    s: np.ndarray, points: np.ndarray, step: np.ndarray, seglen: np.ndarray, cum: np.ndarray, length: float
) -> np.ndarray:
    """Points ``(N, 2)`` at arc lengths ``s`` ``(N,)`` along one closed outline (outline_track.Loop.at: its
    samples, steps to the next, their lengths, the arc length at each sample and one more at the end)."""
    out = np.empty((s.shape[0], 2))
    last = points.shape[0] - 1
    for j in range(s.shape[0]):
        g = s[j] % length
        i = min(max(_after(cum, g, 0, cum.shape[0]) - 1, 0), last)
        t = (g - cum[i]) / seglen[i]
        out[j, 0] = step[i, 0] * t + points[i, 0]
        out[j, 1] = step[i, 1] * t + points[i, 1]
    return out


@njit(cache=True)
def arcs_at(
    u: np.ndarray, rows: np.ndarray, count: int, lengths: np.ndarray, marks: np.ndarray, marks_next: np.ndarray
) -> np.ndarray:
    """Arc lengths ``(R, U)`` of parameters ``u`` ``(U,)`` on frames ``rows``: between the markers either side of
    each (``marks``, and ``marks_next`` the marker after each, a loop on for the last), laps of the loop added
    (OutlineTrack.arc_all, in numpy's order of operations)."""
    out = np.empty((rows.shape[0], u.shape[0]))
    markers = (count, lengths, marks, marks_next)
    for j in range(u.shape[0]):
        for a in range(rows.shape[0]):
            out[a, j] = arc_at(u[j], rows[a], markers)
    return out


@njit(cache=True, inline="always")
def arc_at(u: float, r: int, markers: tuple) -> float:
    """The arc length of parameter ``u`` on frame ``r`` (OutlineTrack.markers_packed: ``arcs_at``'s marker
    count, lengths and markers), for compiled callers that look up one at a time."""
    count, lengths, marks, marks_next = markers
    whole = np.floor(u)
    k = int(whole)
    laps = k // count
    k = k - laps * count
    start = marks[r, k]
    return start + (u - whole) * (marks_next[r, k] - start) + laps * lengths[r]
