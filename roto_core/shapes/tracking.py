"""The frame-to-frame motion of an outline: a similarity transform plus a prior-damped stretch, by ICP, then the
local motion of the parts that move on their own.

outline_track.py uses it to lay one frame's markers onto the next frame's edge before matching them to the edge
samples. Point-to-plane ICP (linear least squares for this model) with a weak point-to-point pull and a prior
toward the last step's motion; edge pixels on the image border are ignored, so an object leaving the frame
does not drag the transform with the border. Where the whole outline's motion leaves a stretch of it off the new
edge (a leg swinging under a walking body), ``local_shift`` moves that stretch on its own.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

from roto_core.shapes.contours import Outline

ICP_ITERATIONS = 8
CONVERGED = np.array([1e-5, 1e-5, 1e-5, 1e-5, 1e-2, 1e-2])  # a, b, c, d (linear part), tx, ty (pixels)
SLIDE_WEIGHT = 0.05
MOTION_PRIOR = 0.3
STRETCH_PRIOR = 1.0
# Local motion (local_shift): window scales along the outline, coarse to fine, and the misfit (RMS distance to
# the edge over a window, after the whole outline's motion) below which a stretch keeps that motion and above
# which it takes its own in full.
LOCAL_SCALES_PX = (48.0, 24.0, 12.0)
LOCAL_ITERATIONS = 2
LOCAL_DAMPING = 0.05
LOCAL_CANDIDATES = 8
LOCAL_CONVERGED_PX = 0.05
MISFIT_PX = (1.0, 3.0)


def identity() -> np.ndarray:
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _transform(params: np.ndarray) -> np.ndarray:
    """(a, b, c, d, tx, ty) → 2×3 matrix: rotation-scale (a, b) plus a traceless stretch (c, d)."""
    a, b, c, d, tx, ty = params
    return np.array([[a + c, -b + d, tx], [b + d, a - c, ty]])


def _params(t: np.ndarray) -> np.ndarray:
    a = 0.5 * (t[0, 0] + t[1, 1])
    c = 0.5 * (t[0, 0] - t[1, 1])
    b = 0.5 * (t[1, 0] - t[0, 1])
    d = 0.5 * (t[1, 0] + t[0, 1])
    return np.array([a, b, c, d, t[0, 2], t[1, 2]])


class EdgeField:
    """The usable edge of one frame for one shape: sub-pixel points, their normals, a KD-tree, segments."""

    def __init__(self, outline: Outline) -> None:
        pts = outline.points
        keep = ~outline.on_border
        self.outline = pts
        self.index = np.nonzero(keep)[0]
        self.points = pts[keep]
        self.normals = outline.normals[keep]
        # A tree is built per frame and queried only ~10 times: the sliding-midpoint build without node
        # compaction costs less, and nearest-neighbour answers are exact either way.
        self.tree = cKDTree(self.points, balanced_tree=False, compact_nodes=False) if len(self.points) >= 3 else None
        self.seg_ok = keep & np.concatenate((keep[1:], keep[:1]))
        # Outline segment i as one row (x_i, y_i, x_i+1, y_i+1): normal_offsets gathers both ends at once.
        self.segments = np.concatenate((pts, np.concatenate((pts[1:], pts[:1]))), axis=1)

    @property
    def usable(self) -> bool:
        return self.tree is not None


# The Jacobian rows of the model are linear in (x, y, 1) of each sample: jx = [x, y, 1] @ _JX, jy = [x, y, 1] @ _JY
# for x' = (a + c) x + (d - b) y + tx, y' = (b + d) x + (a - c) y + ty. The normal equations are then assembled
# from a 3×3 moment matrix and a k×6 plane matrix instead of stacking a (3 k + 4) × 6 row matrix per iteration:
# sum(jx jxᵀ + jy jyᵀ) = _JXᵀ M _JX + _JYᵀ M _JY with M = sᵀ s, written as one product with _SLIDE_BASIS.
_JX = np.array([[1.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
_JY = np.array([[0.0, 1.0, 0.0, 1.0, 0.0, 0.0], [1.0, 0.0, -1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
_JXY = np.concatenate([_JX, _JY])
_SLIDE_BASIS = (np.einsum("ai,bj->abij", _JX, _JX) + np.einsum("ai,bj->abij", _JY, _JY)).reshape(9, 36)
# [sᵀs; qᵀs] (15 numbers) → the slide rows' share of the 6×7 system [normal matrix | right-hand side].
_SLIDE_SYSTEM = np.zeros((15, 6, 7))
_SLIDE_SYSTEM[:9, :, :6] = _SLIDE_BASIS.reshape(9, 6, 6)
_SLIDE_SYSTEM[9:, :, 6] = _JXY
_SLIDE_SYSTEM = _SLIDE_SYSTEM.reshape(15, 42)
_PRIOR_WEIGHTS = np.array([MOTION_PRIOR, MOTION_PRIOR, STRETCH_PRIOR, STRETCH_PRIOR])
_LINEAR = (np.arange(4), np.arange(4))


def icp(src: np.ndarray, field: EdgeField, init: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Transform (similarity plus a small stretch) that lays ``src`` samples onto the edge, from ``init``.

    Each iteration solves the least squares problem of the rows: point-to-plane residuals, a weak point-to-point
    pull (SLIDE_WEIGHT) and the prior on the linear part, via its normal equations. The loop runs a few hundred
    times per shape on ~100 samples, so it sticks to few numpy calls (ufunc reductions, not their wrappers).
    """
    h, w = size
    params = _params(init)
    prior = params[:4].copy()
    radius = float(np.sqrt(np.mean(np.sum((src - src.mean(axis=0)) ** 2, axis=1))))
    assert field.tree is not None
    homogeneous = np.ones((len(src), 3))
    homogeneous[:, :2] = src
    slide2 = SLIDE_WEIGHT * SLIDE_WEIGHT
    upper = np.array([w - 1.0, h - 1.0])
    for _ in range(ICP_ITERATIONS):
        moved = src @ _transform(params)[:, :2].T + params[4:]
        within = (moved > 1) & (moved < upper)
        inside = np.flatnonzero(within[:, 0] & within[:, 1])
        if len(inside) < 3:
            break
        dist, idx = field.tree.query(moved[inside])
        limit = max(3.0 * (float(np.add.reduce(dist)) / len(dist)), 2.0)
        ok = np.flatnonzero(dist <= limit)
        if len(ok) < 3:
            break
        s = homogeneous[inside[ok]]
        near = idx[ok]
        q = field.points[near]
        n = field.normals[near]
        # Plane rows n_x jx + n_y jy = [n_x s, n_y s] @ _JXY with their right-hand side n·q as a 7th column:
        # one product gives the plane rows' share of [normal matrix | right-hand side].
        rows = np.empty((len(s), 7))
        np.matmul((n[:, :, None] * s[:, None, :]).reshape(len(s), 6), _JXY, out=rows[:, :6])
        rows[:, 6] = n[:, 0] * q[:, 0] + n[:, 1] * q[:, 1]
        system = rows[:, :6].T @ rows
        moments = np.concatenate((s, q), axis=1).T @ s
        system += slide2 * (moments.reshape(15) @ _SLIDE_SYSTEM).reshape(6, 7)
        # Rotation, scale and stretch change only as much as the whole edge asks for: a prior toward the last
        # step's motion keeps a noisy mask edge from twisting a small shape a few degrees every frame.
        weight = np.sqrt(len(s)) * radius * _PRIOR_WEIGHTS
        system[_LINEAR] += weight * weight
        system[:4, 6] += weight * weight * prior
        new = np.linalg.solve(system[:, :6], system[:, 6])
        done = bool(np.logical_and.reduce(np.abs(new - params) < CONVERGED))
        params = new
        if done:
            break
    return _transform(params)


def local_shift(
    points: np.ndarray, normals: np.ndarray, field: EdgeField, spacing: float, size: tuple[int, int]
) -> np.ndarray:
    """Per-point shifts ``(M, 2)`` that lay ``points`` (one loop's markers in order, ``spacing`` pixels apart,
    already moved by ``icp``) onto the edge where a part of the outline moved on its own.

    One similarity for the whole outline follows the body; a swinging leg or a turning head is left off its
    edge, and the nearest-edge match then crowds that stretch's markers onto a few places and spreads others over
    the rest (DAVIS camel: hind legs moving 10-40 px a frame under a body moving 3-4). Here each window of the loop
    (a Gaussian of each scale in LOCAL_SCALES_PX, coarse to fine) gets its own translation: point-to-plane least
    squares over the window, each point matched to its nearest edge sample whose normal agrees, damped like a
    Levenberg-Marquardt step. A stretch the whole outline's motion already lays on the edge (a rigid car) keeps
    it: the shift is weighed by the window's misfit before it, from nothing at MISFIT_PX[0] to all of it at
    MISFIT_PX[1]. Points outside the image count for nothing (an object leaving frame: pulled to the edge left
    inside, a leaving ellipse's shapes fell to IoU 0.93). Measured on the DAVIS dev set's real mattes
    (bench/outline_tracking.py, bench/RESULTS.md seventh pass), at 2-3 times the tracking's cost: markers' boil
    on camel's first 20 frames 0.65 -> 0.33 px, spans between markers off their reference length by 3 times or
    more on 60 -> 48 % of camel's, 81 -> 65 % of parkour's, 6.4 -> 6.6 % of car-roundabout's (whole sequences).
    """
    assert field.tree is not None
    count = len(points)
    rows = np.arange(count)
    shift = np.zeros_like(points)
    slide = SLIDE_WEIGHT * SLIDE_WEIGHT * np.eye(2)
    k = min(LOCAL_CANDIDATES, len(field.points))
    weight_of: np.ndarray | None = None
    upper = np.array([size[1] - 1.0, size[0] - 1.0])
    for scale in LOCAL_SCALES_PX:
        sigma = scale / spacing
        for _ in range(LOCAL_ITERATIONS):
            moved = points + shift
            dist, idx = field.tree.query(moved, k=k)
            dist, idx = dist.reshape(count, k), idx.reshape(count, k)
            agree = np.einsum("mkd,md->mk", field.normals[idx], normals) > 0.0
            pick = np.argmin(np.where(agree, dist, np.inf), axis=1)
            best, gap = idx[rows, pick], dist[rows, pick]
            # Points outside the image have no edge to meet (an object leaving frame), as in ``icp``.
            within = (moved > 1) & (moved < upper)
            found = agree.any(axis=1) & within[:, 0] & within[:, 1]
            if weight_of is None:
                off = np.where(found, np.minimum(gap, scale), 0.0)
                counted = gaussian_filter1d(found.astype(np.float64), sigma, mode="wrap")
                misfit = np.sqrt(gaussian_filter1d(off * off, sigma, mode="wrap") / np.maximum(counted, 1e-9))
                weight_of = np.clip((misfit - MISFIT_PX[0]) / (MISFIT_PX[1] - MISFIT_PX[0]), 0.0, 1.0)
                if not weight_of.any():
                    return shift
            limit = max(3.0 * float(np.median(gap[found])) if found.any() else 0.0, 2.0, scale)
            used = (found & (gap <= limit)).astype(np.float64)
            n = field.normals[best]
            info = used[:, None, None] * (n[:, :, None] * n[:, None, :] + slide)
            pull = np.einsum("mij,mj->mi", info, field.points[best] - moved)
            terms = np.concatenate((info.reshape(count, 4), pull), axis=1)
            window = gaussian_filter1d(terms, sigma, axis=0, mode="wrap")
            # Each window's 2x2 system [[a, b], [b, d]] step = (p, q), solved in closed form.
            a, b, d = window[:, 0] + LOCAL_DAMPING, window[:, 1], window[:, 3] + LOCAL_DAMPING
            p, q = window[:, 4], window[:, 5]
            det = a * d - b * b
            step = np.stack(((d * p - b * q) / det, (a * q - b * p) / det), axis=1)
            shift += step
            if float(np.abs(step).max()) < LOCAL_CONVERGED_PX:
                break
    return shift if weight_of is None else shift * weight_of[:, None]
