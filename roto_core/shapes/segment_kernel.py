"""fitting.fit_segments' loops, compiled (numba): one cubic bezier per run of samples, its handles along the
given end tangents by least squares, the samples' curve parameters refined by Newton steps.

The tracer fits each segment on every frame of a shot, hundreds of batches of short runs; in numpy each batch cost
some eighty array operations of a few hundred values. The arithmetic here is numpy's, operation for operation and
in the same order (the row sums as numpy's pairwise summation, edge_measure.pairwise_sum), so the fits are the
same to the bit (tests/shapes/test_segment_kernel.py against the numpy code it replaces).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.edge_measure import pairwise_sum
from roto_core.shapes.track_kernel import point_at

DEGENERATE = 1e-12


@njit(cache=True)
def _handles(
    u: np.ndarray, along_out: np.ndarray, along_in: np.ndarray, j_out: float, j_in: float, cos_io: float, total: float
) -> tuple:
    """The handle lengths along the out and in tangents that fit the samples at parameters ``u`` best (a third of
    the run's length each where the fit is degenerate or out of bounds)."""
    width = len(u)
    t00, t11, t01, t0, t1 = np.empty(width), np.empty(width), np.empty(width), np.empty(width), np.empty(width)
    for k in range(width):
        v = 1.0 - u[k]
        uu, vv = u[k] * u[k], v * v
        b1, b2 = 3.0 * (vv * u[k]), 3.0 * (v * uu)
        e3 = b2 + uu * u[k]
        t00[k], t11[k], t01[k] = b1 * b1, b2 * b2, b1 * b2
        t0[k] = b1 * (along_out[k] - e3 * j_out)
        t1[k] = b2 * (along_in[k] - e3 * j_in)
    c00, c11 = pairwise_sum(t00), pairwise_sum(t11)
    c01 = -pairwise_sum(t01) * cos_io
    x0, x1 = pairwise_sum(t0), -pairwise_sum(t1)
    det = c00 * c11 - c01 * c01
    if abs(det) > DEGENERATE:
        a_out, a_in = (c11 * x0 - c01 * x1) / det, (c00 * x1 - c01 * x0) / det
    else:
        a_out, a_in = -1.0, -1.0
    if min(a_out, a_in) < 1e-3 * total or max(a_out, a_in) > 2.0 * total:
        a_out, a_in = total / 3.0, total / 3.0
    return a_out, a_in


@njit(cache=True)
def fit_rows(
    samples: np.ndarray, t_out: np.ndarray, t_in: np.ndarray, skips: np.ndarray, counts: np.ndarray, steps: int
) -> tuple:
    """fitting.fit_segments for rows padded to one width (``counts`` real samples each, ``skips`` per row). Each
    row is fitted on its own samples only, so a fit is the same to the bit whatever batch it is padded in: the
    padding sits at curve parameter 1 and adds nothing, but it moved the row's sums into other blocks of the
    pairwise summation (a few last bits, and a fit then hung on which segments were asked for together)."""
    rows, width = samples.shape[0], samples.shape[1]
    ctrl = np.empty((rows, 4, 2))
    worst_error = np.empty(rows)
    worst = np.empty(rows, np.int64)
    u = np.empty(width)
    seglen = np.empty(max(width - 1, 0))
    along_out, along_in = np.empty(width), np.empty(width)
    rx, ry, dx, dy = np.empty(width), np.empty(width), np.empty(width), np.empty(width)
    for r in range(rows):
        count = counts[r]
        p0x, p0y = samples[r, 0, 0], samples[r, 0, 1]
        p3x, p3y = samples[r, count - 1, 0], samples[r, count - 1, 1]
        tox, toy, tix, tiy = t_out[r, 0], t_out[r, 1], t_in[r, 0], t_in[r, 1]
        for k in range(count - 1):
            seglen[k] = math.hypot(samples[r, k + 1, 0] - samples[r, k, 0], samples[r, k + 1, 1] - samples[r, k, 1])
        total = pairwise_sum(seglen[: count - 1])
        u[0] = 0.0
        running = 0.0
        for k in range(count - 1):
            running += seglen[k]
            u[k + 1] = running
        scale = max(total, 1e-9)
        last = count - 1
        for k in range(count):
            u[k] = 1.0 if k >= last else u[k] / scale
            rx[k], ry[k] = samples[r, k, 0] - p0x, samples[r, k, 1] - p0y
            along_out[k], along_in[k] = rx[k] * tox + ry[k] * toy, rx[k] * tix + ry[k] * tiy
        cos_io = tox * tix + toy * tiy
        jx, jy = p3x - p0x, p3y - p0y
        j_out, j_in = jx * tox + jy * toy, jx * tix + jy * tiy
        for iteration in range(steps + 1):
            a_out, a_in = _handles(u[:count], along_out[:count], along_in[:count], j_out, j_in, cos_io, total)
            q0x, q0y, q2x, q2y = a_out * tox, a_out * toy, a_in * tix, a_in * tiy
            q1x, q1y = jx - q0x - q2x, jy - q0y - q2y
            for k in range(count):
                v = 1.0 - u[k]
                uu, vv = u[k] * u[k], v * v
                b1, b2 = 3.0 * (vv * u[k]), 3.0 * (v * uu)
                e3 = b2 + uu * u[k]
                dx[k] = e3 * jx + b1 * q0x - b2 * q2x - rx[k]
                dy[k] = e3 * jy + b1 * q0y - b2 * q2y - ry[k]
                if iteration == steps:
                    continue
                uv2 = 2.0 * (v * u[k])
                d1x = 3.0 * (vv * q0x + uv2 * q1x + uu * q2x)
                d1y = 3.0 * (vv * q0y + uv2 * q1y + uu * q2y)
                d2x = v * (6.0 * (q1x - q0x)) + u[k] * (6.0 * (q2x - q1x))
                d2y = v * (6.0 * (q1y - q0y)) + u[k] * (6.0 * (q2y - q1y))
                num = dx[k] * d1x + dy[k] * d1y
                den = d1x * d1x + d1y * d1y + dx[k] * d2x + dy[k] * d2y
                step = num / den if abs(den) > DEGENERATE else 0.0
                u[k] = 1.0 if k >= last else (0.0 if k == 0 else min(max(u[k] - step, 0.0), 1.0))
        ctrl[r, 0, 0], ctrl[r, 0, 1] = p0x, p0y
        ctrl[r, 1, 0], ctrl[r, 1, 1] = p0x + q0x, p0y + q0y
        ctrl[r, 2, 0], ctrl[r, 2, 1] = p3x - q2x, p3y - q2y
        ctrl[r, 3, 0], ctrl[r, 3, 1] = p3x, p3y
        held = skips[r, 0] + skips[r, 1] < count
        best, at = -1.0, 0
        for k in range(count):
            error = math.hypot(dx[k], dy[k])
            if held and (k < skips[r, 0] or k >= count - skips[r, 1]):
                error = 0.0
            if error > best:
                best, at = error, k
        worst_error[r], worst[r] = best, at
    return ctrl, worst_error, worst


@njit(cache=True)
def span_fits(
    start: np.ndarray,
    extent: np.ndarray,
    counts: np.ndarray,
    ua: np.ndarray,
    ub: np.ndarray,
    tips: np.ndarray,
    tipped: np.ndarray,
    t_out: np.ndarray,
    t_in: np.ndarray,
    skips: np.ndarray,
    rows: np.ndarray,
    packed: tuple,
    steps: int,
) -> tuple:
    """segment_fits' batch of segments fitted on every frame, in one call: per segment k (parameters ``ua`` to
    ``ub``, ``counts`` samples, ``skips``) and frame f (``rows[f]`` of the packed outlines), its samples along
    the edge from arc length ``start[f, k]`` over ``extent[f, k]``, the first and last replaced by the end's
    tip where ``tipped[k, end]`` (``tips (k, end, f, 2)``), each row padded to the longest by its last sample;
    then ``fit_rows`` with the ends' tangents ``t_out``/``t_in`` ``(k * F + f, 2)``. Out and in handles ``(n, F,
    2)``, worst distances ``(n, F)`` and the parameter of each worst sample ``(n, F)``, as segment_fits computed
    them in numpy (its arc lengths ``start + extent * min(j / (count - 1), 1)``, the same to the bit)."""
    frames, n = start.shape
    width = counts.max()
    batch = np.empty((n * frames, width, 2))
    row_counts = np.empty(n * frames, np.int64)
    row_skips = np.empty((n * frames, 2), np.int64)
    for k in range(n):
        count = counts[k]
        reciprocal = 1.0 / (count - 1)
        for f in range(frames):
            b = k * frames + f
            row_counts[b] = count
            row_skips[b, 0], row_skips[b, 1] = skips[k, 0], skips[k, 1]
            for j in range(width):
                fraction = 1.0 if j >= count - 1 else min(j * reciprocal, 1.0)
                batch[b, j, 0], batch[b, j, 1] = point_at(start[f, k] + extent[f, k] * fraction, rows[f], packed)
            if tipped[k, 0]:
                batch[b, 0, 0], batch[b, 0, 1] = tips[k, 0, f, 0], tips[k, 0, f, 1]
            if tipped[k, 1]:
                for j in range(count - 1, width):
                    batch[b, j, 0], batch[b, j, 1] = tips[k, 1, f, 0], tips[k, 1, f, 1]
    ctrl, error, worst = fit_rows(batch, t_out, t_in, row_skips, row_counts, steps)
    out_handle, in_handle = np.empty((n, frames, 2)), np.empty((n, frames, 2))
    worst_u = np.empty((n, frames))
    for k in range(n):
        for f in range(frames):
            b = k * frames + f
            for c in range(2):
                out_handle[k, f, c] = ctrl[b, 1, c] - ctrl[b, 0, c]
                in_handle[k, f, c] = ctrl[b, 2, c] - ctrl[b, 3, c]
            worst_u[k, f] = ua[k] + (ub[k] - ua[k]) * worst[b] / (counts[k] - 1)
    return out_handle, in_handle, error.reshape(n, frames), worst_u
