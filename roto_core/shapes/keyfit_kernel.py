"""The key fit's least squares, compiled (keyfit.fitted says what it solves and why).

The fit ran as numpy over 0/1 frame-to-key matrices (matmuls), a LAPACK banded solve through scipy and a few
dozen small numpy calls, twice per fit for the robust reweighting, some ten thousand fits a shot: 8 % of a DAVIS
trace, nearly all of it the calls' own cost (bench/RESULTS.md, fifty-third pass). Here one compiled call sums each
frame into the two keys around it, solves each point's banded system by the Cholesky steps of LAPACK's ``dpbtf2``
and ``dpbtrs`` (square root, column scaled, rank-one update of the band; forward then backward substitution,
dividing by the diagonal), and reweighs.

The sums run over the frames in order, where the BLAS matmul's kernels summed in an order of their own (column
tiles and unrolling that vary with the matrix's shape and the CPU), so the key values differ from the numpy
code's in the last bits (tests/shapes/test_keyfit.py compares both).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# The position channels of a control point's six values (left handle, point, right handle).
_X, _Y = 2, 3


@njit(cache=True)
def spline_tables(knots: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame ``0 .. count-1``: the key before it (``span``), the key after (``nxt``) and how far it is from
    the first towards the second (``late``, 0 to 1; held at the ends, 0 with one key)."""
    span = np.zeros(count, np.int64)
    nxt = np.zeros(count, np.int64)
    late = np.zeros(count)
    keys = knots.shape[0]
    if keys == 1:
        return span, nxt, late
    k = 0
    for f in range(count):
        while k < keys - 2 and knots[k + 1] <= f:
            k += 1
        span[f] = k
        nxt[f] = k + 1
        t = (f - knots[k]) / (knots[k + 1] - knots[k])
        late[f] = min(max(t, 0.0), 1.0)
    return span, nxt, late


@njit(cache=True)
def pop_bands(knots: np.ndarray, factor: np.ndarray, weight: float) -> np.ndarray:
    """The key-pop penalty's normal matrix as three bands ``(3, K)`` (diagonal, first and second off-diagonal;
    the last one or two entries of the off-diagonals unused): the sum over inner keys of the squared change of
    velocity across the key (pixels per frame), each term scaled by the smallest ``factor`` of its three keys."""
    keys = knots.shape[0]
    bands = np.zeros((3, keys))
    for k in range(1, keys - 1):
        before = 1.0 / (knots[k] - knots[k - 1])
        after = 1.0 / (knots[k + 1] - knots[k])
        scale = math.sqrt(weight * min(min(factor[k - 1], factor[k]), factor[k + 1]))
        a, b, c = before * scale, -(before + after) * scale, after * scale
        bands[0, k - 1] += a * a
        bands[0, k] += b * b
        bands[0, k + 1] += c * c
        bands[1, k - 1] += a * b
        bands[1, k] += b * c
        bands[2, k - 1] += a * c
    return bands


@njit(cache=True)
def band_solve(diag: np.ndarray, first: np.ndarray, second: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``x`` with ``A x = right`` (columns of ``right (K, C)``) for the symmetric positive definite ``A`` of
    bandwidth 2 with bands ``diag (K)``, ``first`` and ``second`` (entry i: row i+1 or i+2, column i)."""
    keys = diag.shape[0]
    d = diag.copy()
    e1 = first[:keys].copy()
    e2 = second[:keys].copy()
    for j in range(keys):
        root = math.sqrt(d[j])
        d[j] = root
        scale = 1.0 / root
        if j + 1 < keys:
            e1[j] *= scale
            d[j + 1] -= e1[j] * e1[j]
            if j + 2 < keys:
                e2[j] *= scale
                e1[j + 1] -= e1[j] * e2[j]
                d[j + 2] -= e2[j] * e2[j]
    x = right.copy()
    for c in range(x.shape[1]):
        for i in range(keys):
            x[i, c] /= d[i]
            if i + 1 < keys:
                x[i + 1, c] -= x[i, c] * e1[i]
            if i + 2 < keys:
                x[i + 2, c] -= x[i, c] * e2[i]
        for i in range(keys - 1, -1, -1):
            if i + 1 < keys:
                dot = e1[i] * x[i + 1, c]
                if i + 2 < keys:
                    dot += e2[i] * x[i + 2, c]
                x[i, c] -= dot
            x[i, c] /= d[i]
    return x


@njit(cache=True)
def _at(values: np.ndarray, span: np.ndarray, nxt: np.ndarray, late: np.ndarray) -> np.ndarray:
    """Per-frame values ``(F, P, C)`` of key values ``(K, P, C)``: the straight blend of the keys around."""
    count = span.shape[0]
    out = np.empty((count, values.shape[1], values.shape[2]))
    for f in range(count):
        early, late_f = 1.0 - late[f], late[f]
        for p in range(values.shape[1]):
            for c in range(values.shape[2]):
                out[f, p, c] = early * values[span[f], p, c] + late_f * values[nxt[f], p, c]
    return out


@njit(cache=True)
def fitted_keys(
    knots: np.ndarray, factor: np.ndarray, target: np.ndarray, pop_weight: float, robust_px: float, rounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Key values ``(K, P, C)`` at ``knots`` best fitting ``target (F, P, C)`` (keyfit.fitted: per point, the
    least squares of the blend plus the key-pop penalty, reweighed ``rounds`` times by how far each frame's point
    is off, Huber at ``robust_px``), and the blend they give on every frame."""
    count, points, channels = target.shape
    keys = knots.shape[0]
    span, nxt, late = spline_tables(knots, count)
    pop = pop_bands(knots, factor, pop_weight)
    weights = np.ones((count, points))
    values = np.empty((keys, points, channels))
    on_span = np.zeros(keys)
    on_next = np.zeros(keys)
    cross = np.zeros(keys)
    right_span = np.zeros((keys, channels))
    right_next = np.zeros((keys, channels))
    for r in range(rounds):
        for p in range(points):
            on_span[:] = 0.0
            on_next[:] = 0.0
            cross[:] = 0.0
            right_span[:] = 0.0
            right_next[:] = 0.0
            for f in range(count):
                early, late_f = 1.0 - late[f], late[f]
                k, m = span[f], nxt[f]
                early_w, late_w = weights[f, p] * early, weights[f, p] * late_f
                on_span[k] += early_w * early
                on_next[m] += late_w * late_f
                cross[k] += early_w * late_f
                for c in range(channels):
                    right_span[k, c] += early_w * target[f, p, c]
                    right_next[m, c] += late_w * target[f, p, c]
            diag = pop[0] + on_span + on_next
            first = pop[1] + cross
            values[:, p, :] = band_solve(diag, first, pop[2], right_span + right_next)
        if r + 1 < rounds:
            now = _at(values, span, nxt, late)
            for f in range(count):
                for p in range(points):
                    dx, dy = now[f, p, _X] - target[f, p, _X], now[f, p, _Y] - target[f, p, _Y]
                    weights[f, p] = robust_px / max(math.sqrt(dx * dx + dy * dy), robust_px)
    return values, _at(values, span, nxt, late)


@njit(cache=True)
def control_shifts(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per frame of ``before`` and ``after`` ``(F, points, 6)`` (a point's left handle, position and right
    handle, handles relative to it), how far any absolute control point moved: the position, and the position
    plus either handle. The arithmetic is numpy's (``np.linalg.norm`` of each move's two coordinates, the
    square root of ``dx * dx + dy * dy``), so the shifts are the same to the bit; one call where numpy took a
    dozen per refit of the key fit."""
    out = np.zeros(before.shape[0])
    for f in range(before.shape[0]):
        worst = 0.0
        for p in range(before.shape[1]):
            px = after[f, p, 2] - before[f, p, 2]
            py = after[f, p, 3] - before[f, p, 3]
            for part in range(3):
                dx, dy = px, py
                if part == 1:
                    dx = px + (after[f, p, 0] - before[f, p, 0])
                    dy = py + (after[f, p, 1] - before[f, p, 1])
                elif part == 2:
                    dx = px + (after[f, p, 4] - before[f, p, 4])
                    dy = py + (after[f, p, 5] - before[f, p, 5])
                worst = max(worst, math.sqrt(dx * dx + dy * dy))
        out[f] = worst
    return out


@njit(cache=True)
def blend_strays(start_values: np.ndarray, end_values: np.ndarray, w: float, own: np.ndarray, limit: float) -> bool:
    """Whether the straight blend ``(1 - w) * start_values + w * end_values`` (each ``(points, 6)``) puts some
    point further than ``limit`` from its place in ``own``: numpy's ``np.linalg.norm`` of each point's miss (the
    root of ``dx * dx + dy * dy``) against the limit, the blend's products and sum taken as numpy takes them."""
    for p in range(own.shape[0]):
        dx = ((1.0 - w) * start_values[p, _X] + w * end_values[p, _X]) - own[p, _X]
        dy = ((1.0 - w) * start_values[p, _Y] + w * end_values[p, _Y]) - own[p, _Y]
        if math.sqrt(dx * dx + dy * dy) > limit:
            return True
    return False


@njit(cache=True)
def _blend_holds(target: np.ndarray, start: int, end: int, tolerance: float) -> bool:
    """Whether the straight blend of frames ``start`` and ``end`` of ``target`` keeps every frame between within
    ``tolerance`` (``blend_strays``)."""
    for f in range(start + 1, end):
        if blend_strays(target[start], target[end], (f - start) / (end - start), target[f], tolerance):
            return False
    return True


@njit(cache=True)
def first_knots(target: np.ndarray, tolerance: float, span: int) -> np.ndarray:
    """keyfit._first_knots's keys for the per-frame fits ``target`` ``(F, points, 6)``: from each key, the
    furthest frame at most ``span`` on whose straight blend with it keeps every in-between's points within
    ``tolerance`` of their own, one compiled call where numpy took a few per frame tried."""
    count = target.shape[0]
    knots = [0]
    while knots[-1] < count - 1:
        start = knots[-1]
        end = start + 1
        for candidate in range(start + 2, min(start + span, count - 1) + 1):
            if not _blend_holds(target, start, candidate, tolerance):
                break
            end = candidate
        knots.append(end)
    return np.array(knots, np.int64)
