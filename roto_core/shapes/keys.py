"""Per-frame shapes → smoothed trajectories → the few keys an artist has to touch.

Trajectories are smoothed with a small Gaussian in time (strength from ShapeSettings.smoothing) so the edge
noise of the mask does not shiver through the points, then snapped back toward the edge only when they drift
further than a dead band. Keys are then chosen greedily: a span between two keys is accepted while the linearly
interpolated shape stays within the tolerance of the per-frame shape at every sample of the outline, and
within a fraction of it on average.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from roto_core.shapes.model import sample_outline

MAX_SMOOTHING_SIGMA_FRAMES = 2.0
KEY_SAMPLES_PER_SEGMENT = 6
# Between keys the shape may stray up to the tolerance at a sample but only this fraction of it on average: a
# rotation interpolated linearly shrinks the whole outline a little, which costs more area than one bump.
MEAN_FRACTION = 0.4


def smooth_trajectories(ctrl: np.ndarray, smoothing: float) -> np.ndarray:
    """Gaussian smoothing over time of ``(F, N, 3, 2)`` control points; ``smoothing`` in 0..1."""
    sigma = MAX_SMOOTHING_SIGMA_FRAMES * smoothing
    if sigma <= 0 or len(ctrl) < 3:
        return ctrl.copy()
    # Pad by point reflection about the end frames: steady motion continues through the ends instead of the
    # ends being pulled toward the inside, which a plain "nearest" pad does.
    pad = min(len(ctrl) - 1, int(np.ceil(4 * sigma)))
    head = 2 * ctrl[0] - ctrl[pad:0:-1]
    tail = 2 * ctrl[-1] - ctrl[-2 : -pad - 2 : -1]
    padded = np.concatenate([head, ctrl, tail])
    return gaussian_filter1d(padded, sigma, axis=0, mode="nearest")[pad : pad + len(ctrl)]


def _span_ok(samples: np.ndarray, start: int, end: int, tolerance: float) -> bool:
    inner = np.arange(start + 1, end)
    if inner.size == 0:
        return True
    w = ((inner - start) / float(end - start))[:, None, None]
    interp = samples[start] + w * (samples[end] - samples[start])
    err = np.linalg.norm(interp - samples[inner], axis=2)
    return float(err.max()) <= tolerance and float(err.mean(axis=1).max()) <= MEAN_FRACTION * tolerance


def reduce_keys(ctrl: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices into ``ctrl`` (``(F, N, 3, 2)``) of the keys; the first and last frame are always keys."""
    count = len(ctrl)
    if count == 1:
        return np.zeros(1, np.int64)
    samples = sample_outline(ctrl, KEY_SAMPLES_PER_SEGMENT)
    keys = [0]
    start = 0
    while start < count - 1:
        end = start + 1
        while end + 1 < count and _span_ok(samples, start, end + 1, tolerance):
            end += 1
        keys.append(end)
        start = end
    return np.asarray(keys, np.int64)
