"""The smoothing's per-point arithmetic, compiled: each point's neighbourhood similarity between two frames, the
Gaussian of a piece's controls over time in those neighbourhoods' frames, and a point's slide along its outline
(smoothing.py says what each is for).

numpy gathered every neighbourhood into arrays for each frame offset and each key steadied: thousands of calls a
shot on arrays of a few dozen points, whose cost was the calls' own (bench/RESULTS.md, forty-ninth pass). The
loops do the same sums point by point; sums over a neighbourhood are taken in order, where numpy's reductions may
pair them differently, so the figures agree with numpy's to rounding (tests/shapes/test_smoothing_kernel.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.portable import exp

# A neighbourhood spread less than this (squared, summed) has no turn: it is carried by its shift alone.
FLAT = 1e-12


@njit(cache=True)
def _similarity(source: np.ndarray, target: np.ndarray, around: np.ndarray) -> tuple[complex, complex, complex]:
    """The turn-and-scale and the two means that carry the points ``around`` (indices) of ``source`` onto
    ``target`` (complex) best in least squares."""
    count = around.shape[0]
    src_mean, dst_mean = 0j, 0j
    for k in range(count):
        src_mean += source[around[k]]
        dst_mean += target[around[k]]
    src_mean /= count
    dst_mean /= count
    norm = 0.0
    cross = 0j
    for k in range(count):
        s = source[around[k]] - src_mean
        norm += s.real * s.real + s.imag * s.imag
        cross += s.conjugate() * (target[around[k]] - dst_mean)
    turn = cross / norm if norm > FLAT else 1.0 + 0j
    return turn, src_mean, dst_mean


@njit(cache=True)
def similarities(
    source: np.ndarray, target: np.ndarray, around: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row and point of ``source`` and ``target`` ``(R, N)`` (complex), ``_similarity`` of its neighbourhood
    (``around[i]``, the neighbours' indices of point i): turns, source means, target means, each ``(R, N)``."""
    rows, points = source.shape
    turn = np.empty((rows, points), np.complex128)
    src_mean = np.empty((rows, points), np.complex128)
    dst_mean = np.empty((rows, points), np.complex128)
    for r in range(rows):
        for i in range(points):
            turn[r, i], src_mean[r, i], dst_mean[r, i] = _similarity(source[r], target[r], around[i])
    return turn, src_mean, dst_mean


@njit(cache=True)
def smoothed_controls(z: np.ndarray, around: np.ndarray, sigma: float, reach: int) -> np.ndarray:
    """``z`` ``(F, N, 3)`` (complex controls, handles relative to their point) averaged over the frames within
    ``reach`` of each with Gaussian weights of ``sigma`` frames, each frame's controls carried onto the frame by
    the similarity of each point's neighbourhood (handles turned and scaled by it); fewer frames at the ends."""
    count, points = z.shape[0], z.shape[1]
    summed = np.zeros_like(z)
    total = np.zeros(count)
    for d in range(-reach, reach + 1):
        weight = exp(-0.5 * (d / sigma) ** 2)
        for f in range(max(0, -d), min(count, count - d)):
            other, here = z[f + d], z[f]
            for i in range(points):
                turn, src_mean, dst_mean = _similarity(other[:, POINT], here[:, POINT], around[i])
                summed[f, i, LEFT] += weight * (turn * other[i, LEFT])
                summed[f, i, POINT] += weight * (turn * (other[i, POINT] - src_mean) + dst_mean)
                summed[f, i, RIGHT] += weight * (turn * other[i, RIGHT])
            total[f] += weight
    for f in range(count):
        summed[f] /= total[f]
    return summed


@njit(cache=True)
def slid_points(ctrl: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """``ctrl`` ``(F, N, 3, 2)`` with each point moved towards its place in ``smooth`` along its handles' line (the
    chord between its neighbours where its handles are at the point)."""
    out = ctrl.copy()
    count, points = ctrl.shape[0], ctrl.shape[1]
    for f in range(count):
        for i in range(points):
            tx = ctrl[f, i, RIGHT, 0] - ctrl[f, i, LEFT, 0]
            ty = ctrl[f, i, RIGHT, 1] - ctrl[f, i, LEFT, 1]
            if math.sqrt(tx * tx + ty * ty) < 1e-6:
                after, before = (i + 1) % points, (i - 1) % points
                tx = ctrl[f, after, POINT, 0] - ctrl[f, before, POINT, 0]
                ty = ctrl[f, after, POINT, 1] - ctrl[f, before, POINT, 1]
            length = max(math.sqrt(tx * tx + ty * ty), 1e-9)
            tx, ty = tx / length, ty / length
            px, py = ctrl[f, i, POINT, 0], ctrl[f, i, POINT, 1]
            along = (smooth[f, i, POINT, 0] - px) * tx + (smooth[f, i, POINT, 1] - py) * ty
            out[f, i, POINT, 0] = px + along * tx
            out[f, i, POINT, 1] = py + along * ty
    return out


@njit(cache=True)
def steady_trial(values: np.ndarray, j: int, a: int, b: int, around: np.ndarray, step: float) -> np.ndarray:
    """Key ``j`` of ``values`` ``(K, N, 3, 2)`` with its points moved ``step`` of the way towards where the steady
    motion of each point's neighbourhood (``around``) puts them: the middle of keys ``a`` and ``b`` on the frames
    either side, or, for an end key, ``a`` and ``b`` the next two, the place the motion from ``b`` to ``a`` carries
    on to; laid onto the key by the neighbourhood's similarity (``_similarity``); handles as they were.

    Compiled, the complex products are the plain ``(ac - bd) + (ad + bc)i``; numpy's complex multiply fuses them
    (FMA) on CPUs that have it and not on others, so one shot steadied a unit in the last place apart on two farm
    workers, enough to trace other shapes (tests/shapes/test_cpu_independence.py)."""
    points = values.shape[1]
    steady = np.empty((1, points), np.complex128)
    here = np.empty((1, points), np.complex128)
    between = a < j < b
    for i in range(points):
        z1 = complex(values[a, i, POINT, 0], values[a, i, POINT, 1])
        z2 = complex(values[b, i, POINT, 0], values[b, i, POINT, 1])
        steady[0, i] = 0.5 * (z1 + z2) if between else 2.0 * z1 - z2
        here[0, i] = complex(values[j, i, POINT, 0], values[j, i, POINT, 1])
    turn, steady_mean, here_mean = similarities(steady, here, around)
    trial = values[j].copy()
    for i in range(points):
        z0 = here[0, i]
        moved = z0 + step * (turn[0, i] * (steady[0, i] - steady_mean[0, i]) + here_mean[0, i] - z0)
        trial[i, POINT, 0] = moved.real
        trial[i, POINT, 1] = moved.imag
    return trial
