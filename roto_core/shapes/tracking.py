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

from roto_core.shapes.contours import Outline
from roto_core.shapes.tracking_kernel import icp_params, local_shifts, sample_boxes

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
    """The usable edge of one frame for one shape: its sub-pixel points off the image border, their normals, and
    the blocks a nearest-sample search skips by (tracking_kernel.sample_boxes)."""

    def __init__(self, outline: Outline) -> None:
        keep = ~outline.on_border
        self.points = np.ascontiguousarray(outline.points[keep], dtype=np.float64)
        self.normals = np.ascontiguousarray(outline.normals[keep], dtype=np.float64)
        self.boxes = sample_boxes(self.points) if len(self.points) >= 3 else None

    @property
    def usable(self) -> bool:
        return self.boxes is not None


_PRIOR_WEIGHTS = np.array([MOTION_PRIOR, MOTION_PRIOR, STRETCH_PRIOR, STRETCH_PRIOR])
_LOCAL_SCALES = np.array(LOCAL_SCALES_PX)
_MISFIT = np.array(MISFIT_PX)


def icp(src: np.ndarray, field: EdgeField, init: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Transform (similarity plus a small stretch) that lays ``src`` samples onto the edge, from ``init``.

    Each iteration solves the least squares problem of the rows: point-to-plane residuals, a weak point-to-point
    pull (SLIDE_WEIGHT) and the prior on the linear part, via its normal equations (tracking_kernel.icp_params:
    the loop runs a few hundred times per shape on ~100 samples, where numpy's calls cost more than their sums).
    """
    assert field.boxes is not None
    h, w = size
    upper = np.array([w - 1.0, h - 1.0])
    src = np.ascontiguousarray(src, dtype=np.float64)
    params = icp_params(
        src,
        _params(init),
        field.points,
        field.normals,
        field.boxes,
        upper,
        ICP_ITERATIONS,
        CONVERGED,
        SLIDE_WEIGHT * SLIDE_WEIGHT,
        _PRIOR_WEIGHTS,
    )
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
    assert field.boxes is not None
    return local_shifts(
        np.ascontiguousarray(points, dtype=np.float64),
        np.ascontiguousarray(normals, dtype=np.float64),
        field.points,
        field.normals,
        field.boxes,
        spacing,
        np.array([size[1] - 1.0, size[0] - 1.0]),
        _LOCAL_SCALES,
        LOCAL_ITERATIONS,
        min(LOCAL_CANDIDATES, len(field.points)),
        _MISFIT,
        SLIDE_WEIGHT * SLIDE_WEIGHT,
        LOCAL_DAMPING,
        LOCAL_CONVERGED_PX,
    )
