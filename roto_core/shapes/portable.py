"""Arithmetic whose bits do not depend on the CPU the farm worker runs on.

numpy picks SIMD code for ``exp``, ``log``, ``arccos``, complex ``abs`` and complex products when it starts (AVX-512,
AVX2 or neither), and those give results a unit in the last place apart; OpenBLAS picks a kernel for the CPU for every
matrix product (with fused multiply-adds or without). Tracing is a chain of decisions on thresholds, so such a unit
moved DAVIS goat's first 30 frames from 93 shapes to 108 with OpenBLAS told to use another kernel
(``OPENBLAS_CORETYPE``), and paragliding-launch's rigging lines with numpy's AVX-512 code switched off
(``NPY_DISABLE_CPU_FEATURES``): a chunk re-queued on another worker would publish other shapes. The tracer keeps its
products in elementwise numpy or compiled loops (model.bezier_points, outline_track.linear, qa.local_residuals,
tracking_kernel.solved) and takes these functions from the C library one value at a time. The C library's own
``exp`` and ``acos`` still come in two builds (glibc uses the one with fused multiply-adds where the CPU has them);
tests/shapes/test_cpu_independence.py runs the tracer under other numpy and OpenBLAS code paths.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import correlate1d


def gaussian_filtered(values: np.ndarray, sigma: float, mode: str, truncate: float = 4.0) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter1d(values, sigma, axis=0, mode=mode, truncate=truncate)``: scipy's weights
    (its ``_gaussian_kernel1d``, the same exponents and normalisation) with each exponential taken by the C library,
    where scipy takes them with numpy's SIMD ``exp``; then scipy's own correlation."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    exponent = -0.5 / (sigma * sigma) * x**2
    weights = np.array([math.exp(e) for e in exponent.tolist()])
    weights = weights / weights.sum()
    return correlate1d(values, weights[::-1], axis=0, mode=mode)


def arccos(values: np.ndarray) -> np.ndarray:
    """``np.arccos`` of each value (in [-1, 1]) by the C library."""
    return np.array([math.acos(v) for v in np.asarray(values, np.float64).ravel().tolist()]).reshape(np.shape(values))
