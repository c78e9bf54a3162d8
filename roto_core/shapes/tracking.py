"""Carry one shape's points from frame to frame: same points, same order, moved with the mask.

Each step estimates the transform that lays the previous shape onto the new edge — rotation, uniform scale and
translation, plus a stretch held back by a prior — by point-to-plane ICP (linear least squares for this
model), applies it to every point and handle, slides each point along its own normal onto the edge, and re-fits
the handle lengths of segments that still miss it. Motion along the outline comes only from the global
transform, so points do not boil along the contour; the normal snap absorbs deformation. Edge pixels on the
image border are ignored: a shape leaving the frame keeps its form outside it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.contours import Outline
from roto_core.shapes.fitting import corner_near, fit_segment, thinned_run
from roto_core.shapes.model import LEFT, POINT, RIGHT, sample_outline

ICP_ITERATIONS = 8
CONVERGED = np.array([1e-5, 1e-5, 1e-5, 1e-5, 1e-2, 1e-2])  # a, b, c, d (linear part), tx, ty (pixels)
SLIDE_WEIGHT = 0.05
MOTION_PRIOR = 0.3
STRETCH_PRIOR = 1.0
SAMPLES_PER_SEGMENT = 6
NEIGHBOURS = 24
# The transform already brought a corner close; a tip further than this is another bump of a noisy mask edge.
CORNER_SNAP_PX = 2.0
REFIT_SAMPLES = 6


def identity() -> np.ndarray:
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def apply_transform(t: np.ndarray, ctrl: np.ndarray) -> np.ndarray:
    """Transform control points ``(N, 3, 2)``: positions fully, tangent offsets by the linear part only."""
    lin = t[:, :2]
    out = ctrl @ lin.T
    out[:, POINT] += t[:, 2]
    return out


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


def _unit_rows(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (x, y) scaled to unit length; zero where shorter than 1e-9. Columns, not np.linalg.norm: these
    arrays hold a dozen points and the call overhead would dominate."""
    n = np.sqrt(x * x + y * y)
    ok = n > 1e-9
    return np.divide(x, n, out=np.zeros_like(x), where=ok), np.divide(y, n, out=np.zeros_like(y), where=ok)


def point_normals(ctrl: np.ndarray) -> np.ndarray:
    """Outward unit normal at each point (bisector of both handle directions at a cusp)."""
    ox, oy = _unit_rows(ctrl[:, RIGHT, 0], ctrl[:, RIGHT, 1])
    ix, iy = _unit_rows(-ctrl[:, LEFT, 0], -ctrl[:, LEFT, 1])
    tx, ty = _unit_rows(ox + ix, oy + iy)
    out = np.empty((len(ctrl), 2))
    out[:, 0] = ty
    out[:, 1] = -tx
    return out


def normal_offsets(points: np.ndarray, normals: np.ndarray, field: EdgeField, limit: float) -> np.ndarray:
    """Signed distance along each normal to the nearest edge crossing within ``limit``; NaN where none.

    Only the outline segments around each point's nearest edge samples are tried: a crossing within ``limit``
    has its ends within about ``limit`` of the point, so the ``NEIGHBOURS`` nearest samples cover it.
    """
    if not field.usable:
        return np.full(len(points), np.nan)
    assert field.tree is not None
    k = min(NEIGHBOURS, len(field.points))
    _, near = field.tree.query(points, k=k)
    near = field.index[np.atleast_2d(near).reshape(len(points), -1)]
    m = len(field.outline)
    seg = np.concatenate([near, (near - 1) % m], axis=1)
    # Segment ends relative to the point: columns (ax, ay, bx, by). Arithmetic on the columns, because numpy
    # reductions over an axis of length two cost far more than the products themselves.
    ends = field.segments[seg] - np.concatenate((points, points), axis=1)[:, None, :]
    ax, ay, bx, by = ends[..., 0], ends[..., 1], ends[..., 2], ends[..., 3]
    nx, ny = normals[:, :1], normals[:, 1:]
    across_a = ax * -ny + ay * nx
    across_b = bx * -ny + by * nx
    differs = across_a != across_b
    crosses = (across_a * across_b <= 0) & differs & field.seg_ok[seg]
    u = np.divide(across_a, across_a - across_b, out=np.zeros_like(across_a), where=differs)
    along = (ax + u * (bx - ax)) * nx + (ay + u * (by - ay)) * ny
    along = np.where(crosses & (np.abs(along) <= limit), along, np.inf)
    best = np.argmin(np.abs(along), axis=1)
    found = along[np.arange(len(points)), best]
    return np.where(np.isfinite(found), found, np.nan)


def snap(ctrl: np.ndarray, corners: np.ndarray, field: EdgeField, limit: float, deadband: float = 0.0) -> np.ndarray:
    """Move each point onto the edge, leaving ``deadband`` pixels of slack.

    A smooth point slides along its normal. A corner goes to the sharpened tip of the nearby outline corner
    instead: the outline itself is rounded at a tip, and snapping a corner to it would blunt it every frame.
    """
    normals = point_normals(ctrl)
    off = normal_offsets(ctrl[:, POINT], normals, field, limit)
    off[np.isnan(off)] = 0.0
    if deadband:
        off = np.sign(off) * np.maximum(np.abs(off) - deadband, 0.0)
    out = ctrl.copy()
    out[:, POINT] += off[:, None] * normals
    if field.usable and corners.any():
        positions = ctrl[corners, POINT]
        dist, nearest = field.tree.query(positions)
        for i, d, j in zip(np.nonzero(corners)[0], dist, nearest, strict=True):
            if d > limit:
                continue
            tip = corner_near(field.outline, int(field.index[j]))
            move = tip - ctrl[i, POINT]
            length = float(np.linalg.norm(move))
            if deadband < length <= CORNER_SNAP_PX:
                out[i, POINT] = ctrl[i, POINT] + move * (1.0 - deadband / length)
            elif length <= deadband:
                out[i, POINT] = ctrl[i, POINT]
    return out


def refit_handles(ctrl: np.ndarray, field: EdgeField, tolerance: float, limit: float) -> np.ndarray:
    """Re-fit the handle lengths of segments that no longer follow the edge (the object changed shape).

    Handle directions stay as carried, so smooth points stay smooth and corners stay corners; only segments
    whose sampled curve strays beyond ``tolerance`` from the edge are touched, so rigid motion costs nothing.
    """
    if not field.usable:
        return ctrl
    assert field.tree is not None
    n = len(ctrl)
    samples = sample_outline(ctrl, REFIT_SAMPLES).reshape(n, REFIT_SAMPLES, 2)
    dist, _ = field.tree.query(samples.reshape(-1, 2))
    stray = dist.reshape(n, REFIT_SAMPLES).max(axis=1) > tolerance
    if not stray.any():
        return ctrl
    point_dist, nearest = field.tree.query(ctrl[:, POINT])
    anchor = field.index[nearest]
    m = len(field.outline)
    out = ctrl.copy()
    for i in np.nonzero(stray)[0]:
        j = (i + 1) % n
        if max(point_dist[i], point_dist[j]) > limit:
            continue
        count = (anchor[j] - anchor[i]) % m
        if not 3 <= count <= m // 2:
            continue
        run = thinned_run(field.outline, int(anchor[i]), int(count))
        run[0], run[-1] = ctrl[i, POINT], ctrl[j, POINT]
        t_out, t_in = ctrl[i, RIGHT], -ctrl[j, LEFT]
        len_out, len_in = float(np.linalg.norm(t_out)), float(np.linalg.norm(t_in))
        if len_out < 1e-6 or len_in < 1e-6:
            continue
        fitted, err, _ = fit_segment(run, t_out / len_out, t_in / len_in)
        if err < dist.reshape(n, REFIT_SAMPLES)[i].max():
            out[i, RIGHT] = fitted[1] - fitted[0]
            out[j, LEFT] = fitted[2] - fitted[3]
    return out


def carry(
    ctrl: np.ndarray,
    corners: np.ndarray,
    field: EdgeField,
    init: np.ndarray,
    size: tuple[int, int],
    snap_limit: float,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Shape on the previous frame → the same points on this frame, and the frame-to-frame transform."""
    if not field.usable:
        return apply_transform(init, ctrl), init
    src = sample_outline(ctrl, SAMPLES_PER_SEGMENT)
    t = icp(src, field, init, size)
    moved = snap(apply_transform(t, ctrl), corners, field, snap_limit)
    return refit_handles(moved, field, tolerance, snap_limit), t
