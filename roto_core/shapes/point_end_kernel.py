"""segment_fits.point_ends and corner_arc, compiled: where each point of a piece sits and points on every frame.

The point selection asks for the ends of a few new points at a time, thousands of times a shot; in numpy each
request cost some forty array operations on a few dozen values (bench/RESULTS.md, fifty-fourth pass). Here one
loop per point and frame does the same arithmetic in the same order (lengths as ``sqrt(x * x + y * y)``, as
np.linalg.norm takes them, unit vectors by ``hypot``, the first of equal cosines), so the ends are numpy's to the
bit (tests/shapes/test_point_end_kernel.py against the numpy code it replaces).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.track_kernel import arc_at, point_at

# Point kinds, as segment_fits' roles: a smooth point reads its tangent both sides, a run's start only after it,
# a run's end only before it; a corner's tip is re-found on every frame.
SMOOTH, START, END, CORNER = 0, 1, 2, 3
# The smallest |sin| between a corner's two tangents at which they are crossed to find its tip.
SHARP_SINE = 0.2
# A point's tangent chords reach at most this share of its loop's length either side of it (a corner's, and the
# reach of its tip, shrink by the same factor): on a loop shorter than eight chords (a 17-30 px hole) the 16 px chord
# reached round past the far side and came back reversed, and the segment fits bent their handles the wrong way (a
# 30 px hole in the segmenter's drift-chicane drawn with a spike 8 px out into the car; bench/RESULTS.md,
# sixty-third pass). A loop of 128 px or more is read as before.
TANGENT_SHARE = 0.125
# A vector shorter than this has no direction (its unit vector is zero).
NO_LENGTH = 1e-12


@njit(cache=True, inline="always")
def _unit(x: float, y: float) -> tuple:
    """(x, y) over its length (``hypot``), or zero where it has none."""
    n = math.hypot(x, y)
    if n > NO_LENGTH:
        return x / n, y / n
    return 0.0, 0.0


@njit(cache=True, inline="always")
def _sharpest(u: float, beside: np.ndarray, c: int, r: int, markers: tuple, packed: tuple, search: tuple) -> float:
    """The arc length on frame ``r`` of the sharpest turn within ``search`` (its offsets, the chord span either
    side, the margin) of corner parameter ``u``: the least cosine between the chords before and after, the first
    of equals; with ``beside`` (``(C, 2)``, empty for none), not past the middle to row ``c``'s points before and
    after, less the margin."""
    offsets, span, margin = search
    base = arc_at(u, r, markers)
    low, high = -np.inf, np.inf
    if beside.shape[0]:
        low = 0.5 * (arc_at(beside[c, 0], r, markers) - base) + margin
        high = 0.5 * (arc_at(beside[c, 1], r, markers) - base) - margin
    best, best_cosine = 0, np.inf
    for j in range(offsets.shape[0]):
        cosine = np.inf
        if (low <= offsets[j] and high >= offsets[j]) or offsets[j] == 0.0:
            s = base + offsets[j]
            bx, by = point_at(s - span, r, packed)
            hx, hy = point_at(s, r, packed)
            ax, ay = point_at(s + span, r, packed)
            a0, a1, b0, b1 = hx - bx, hy - by, ax - hx, ay - hy
            lengths = math.sqrt(a0 * a0 + a1 * a1) * math.sqrt(b0 * b0 + b1 * b1)
            cosine = (a0 * b0 + a1 * b1) / max(lengths, 1e-9)
        if j == 0 or cosine < best_cosine or (math.isnan(cosine) and not math.isnan(best_cosine)):
            best, best_cosine = j, cosine
    return base + offsets[best]


@njit(cache=True)
def corner_arcs(
    u: np.ndarray, beside: np.ndarray, rows: np.ndarray, markers: tuple, packed: tuple, search: tuple
) -> np.ndarray:
    """segment_fits.corner_arc: arc lengths ``(F, C)`` of the sharpest turn (``_sharpest``) near each corner
    parameter ``u (C,)`` on each frame ``rows``."""
    out = np.empty((rows.shape[0], u.shape[0]))
    for f in range(rows.shape[0]):
        for c in range(u.shape[0]):
            out[f, c] = _sharpest(u[c], beside, c, rows[f], markers, packed, search)
    return out


@njit(cache=True)
def point_ends(
    u: np.ndarray,
    kinds: np.ndarray,
    sides: np.ndarray,
    beside: np.ndarray,
    rows: np.ndarray,
    markers: tuple,
    packed: tuple,
    search: tuple,
    offsets: np.ndarray,
    tip_reach: float,
) -> tuple:
    """segment_fits.point_ends of points ``u (P,)`` of ``kinds``: tips, incoming and outgoing unit directions
    ``(P, F, 2)`` (tips of corners only). A point that is no corner: the chord from ``sides[p, 0]`` before its
    place to ``sides[p, 1]`` after. A corner, at its sharpest turn (``_sharpest``; ``beside``, per point): its
    tangents are the chords ``offsets[1]`` to ``offsets[2]`` and ``offsets[3]`` to ``offsets[4]`` from it, its tip
    where they cross when they cross at ``SHARP_SINE`` or more and within ``tip_reach`` of the turn, else the
    turn. On a short loop each reach is held to TANGENT_SHARE of the loop's length on that frame."""
    frames, count = rows.shape[0], u.shape[0]
    tips, t_in, t_out = np.zeros((count, frames, 2)), np.empty((count, frames, 2)), np.empty((count, frames, 2))
    for p in range(count):
        for f in range(frames):
            r = rows[f]
            if kinds[p] != CORNER:
                s = arc_at(u[p], r, markers)
                reach = TANGENT_SHARE * packed[0][r]
                x0, y0 = point_at(s - min(sides[p, 0], reach), r, packed)
                x1, y1 = point_at(s + min(sides[p, 1], reach), r, packed)
                cx, cy = x1 - x0, y1 - y0
                n = math.sqrt(cx * cx + cy * cy)
                tx, ty = (cx / n, cy / n) if n > NO_LENGTH else (0.0, 0.0)
                t_in[p, f, 0], t_in[p, f, 1], t_out[p, f, 0], t_out[p, f, 1] = tx, ty, tx, ty
                continue
            s = _sharpest(u[p], beside, p, r, markers, packed, search)
            scale = min(1.0, TANGENT_SHARE * packed[0][r] / offsets[4])
            px, py = point_at(s + offsets[0], r, packed)
            ox, oy = point_at(s + scale * offsets[1], r, packed)
            ax, ay = point_at(s + scale * offsets[2], r, packed)
            bx, by = point_at(s + scale * offsets[3], r, packed)
            ex, ey = point_at(s + scale * offsets[4], r, packed)
            ix, iy = _unit(ax - ox, ay - oy)
            jx, jy = _unit(ex - bx, ey - by)
            cross = ix * jy - iy * jx
            dx, dy = bx - ax, by - ay
            along = (dx * jy - dy * jx) / (1.0 if abs(cross) < SHARP_SINE else cross)
            tx, ty = ax + along * ix, ay + along * iy
            gx, gy = tx - px, ty - py
            if not (abs(cross) >= SHARP_SINE and math.sqrt(gx * gx + gy * gy) <= scale * tip_reach):
                tx, ty = px, py
            tips[p, f, 0], tips[p, f, 1] = tx, ty
            t_in[p, f, 0], t_in[p, f, 1], t_out[p, f, 0], t_out[p, f, 1] = ix, iy, jx, jy
    return tips, t_in, t_out
