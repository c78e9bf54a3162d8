"""Arithmetic whose bits do not depend on the CPU the farm worker runs on.

numpy picks SIMD code for ``exp``, ``log``, ``arccos``, complex ``abs`` and complex products when it starts (AVX-512,
AVX2 or neither), and those give results a unit in the last place apart; OpenBLAS picks a kernel for the CPU for every
matrix product (with fused multiply-adds or without); and glibc picks a build of ``exp``, ``log``, ``acos`` and
``pow`` with fused multiply-adds where the CPU has them. Tracing is a chain of decisions on thresholds, so such a
unit moved DAVIS goat's first 30 frames from 93 shapes to 108 with OpenBLAS told to use another kernel
(``OPENBLAS_CORETYPE``), and paragliding-launch's rigging lines with numpy's AVX-512 code switched off
(``NPY_DISABLE_CPU_FEATURES``) or glibc's FMA builds (``GLIBC_TUNABLES``): a chunk re-queued on another worker would
publish other shapes. The tracer keeps its products in elementwise numpy or compiled loops (model.bezier_points,
outline_track.linear, qa.local_residuals, tracking_kernel.solved, smoothing_kernel.steady_trial) and takes its few
exponentials, logarithms and arc cosines from here: plain IEEE double arithmetic (a Cody-Waite range reduction and
the classic minimax polynomials of Sun's fdlibm, whose coefficients are published facts), with no fused
multiply-add, neither in numpy (one operation per call) nor compiled (numba does not contract without fastmath: on
this AVX-512 machine a compiled complex product matched the plain formula on 1,000 of 1,000 random pairs, where
numpy's fused one differed on 419).
Within an ulp or two of the C library's (tests/shapes/test_cpu_independence.py, which also traces real mattes under
the other code paths).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.ndimage import correlate1d

# ln 2 split so that k * LN2_HI is exact for |k| < 2**11, and its remainder.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
# exp(r) = 1 + r + r * c / (2 - c) with c = r - r^2 R(r^2), |r| <= ln2 / 2.
EXP_P = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
    -1.65339022054652515390e-06,
    4.13813679705723846039e-08,
)
# log(1 + f) = 2s + s R(s^2), s = f / (2 + f), 1 + f in [sqrt(2)/2, sqrt(2)).
LOG_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
SQRT_HALF = 0.70710678118654752440
# asin(s) = s + s R(s^2) for |s| <= 0.5, R = P / Q.
ASIN_P = (
    1.66666666666666657415e-01,
    -3.25565818622400915405e-01,
    2.01212532134862925881e-01,
    -4.00555345006794114027e-02,
    7.91534994289814532176e-04,
    3.47933107596021167570e-05,
)
ASIN_Q = (
    -2.40339491173441421878e00,
    2.02094576023350569471e00,
    -6.88283971605453293030e-01,
    7.70381505559019352791e-02,
)
PIO2_HI = 1.57079632679489655800e00
PIO2_LO = 6.12323399573676603587e-17
PI_HI = 3.14159265358979311600e00
PI_LO = 1.22464679914735317720e-16


@njit(cache=True)
def exp(x: float) -> float:
    """e**x for finite ``x`` above -700 (the tracer's Gaussian weights: exponents of a few units, all negative)."""
    k = math.floor(x * INV_LN2 + 0.5)
    hi = x - k * LN2_HI
    lo = k * LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (EXP_P[0] + t * (EXP_P[1] + t * (EXP_P[2] + t * (EXP_P[3] + t * EXP_P[4]))))
    return math.ldexp(1.0 - ((lo - (r * c) / (2.0 - c)) - hi), k)


@njit(cache=True)
def log(x: float) -> float:
    """The natural logarithm of a positive finite ``x``."""
    m, e = math.frexp(x)
    if m < SQRT_HALF:
        m += m
        e -= 1
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (LOG_LG[1] + w * (LOG_LG[3] + w * LOG_LG[5]))
    t2 = z * (LOG_LG[0] + w * (LOG_LG[2] + w * (LOG_LG[4] + w * LOG_LG[6])))
    half = 0.5 * f * f
    return e * LN2_HI - ((half - (s * (half + t1 + t2) + e * LN2_LO)) - f)


def length(v: np.ndarray) -> float:
    """A 2-vector's length, its squares summed in a fixed order (``np.linalg.norm`` of a vector goes to BLAS)."""
    x, y = float(v[0]), float(v[1])
    return math.sqrt(x * x + y * y)


def _asin_ratio(z: np.ndarray) -> np.ndarray:
    """R(z) of asin(s) = s + s R(s^2), elementwise."""
    p = z * (ASIN_P[0] + z * (ASIN_P[1] + z * (ASIN_P[2] + z * (ASIN_P[3] + z * (ASIN_P[4] + z * ASIN_P[5])))))
    q = 1.0 + z * (ASIN_Q[0] + z * (ASIN_Q[1] + z * (ASIN_Q[2] + z * ASIN_Q[3])))
    return p / q


def arccos(values: np.ndarray) -> np.ndarray:
    """``np.arccos`` of values in [-1, 1]: near 0 as pi/2 - asin(x), towards either end through the half angle,
    acos(x) = 2 asin(sqrt((1 - x) / 2)) (or pi minus that of -x)."""
    x = np.asarray(values, np.float64)
    middle = PIO2_HI - (x - (PIO2_LO - x * _asin_ratio(x * x)))
    z = (1.0 - np.abs(x)) * 0.5
    s = np.sqrt(z)
    half = s + s * _asin_ratio(z)
    ends = np.where(x > 0.0, 2.0 * half, PI_HI - (2.0 * half - PI_LO))
    return np.where(np.abs(x) <= 0.5, middle, ends)


def gaussian_filtered(values: np.ndarray, sigma: float, mode: str, truncate: float = 4.0) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter1d(values, sigma, axis=0, mode=mode, truncate=truncate)``: scipy's weights
    (its ``_gaussian_kernel1d``: the same exponents and normalisation) with the exponentials taken here, where scipy
    takes them with numpy's SIMD ``exp``; then scipy's own correlation."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    exponent = -0.5 / (sigma * sigma) * x**2
    weights = np.array([exp(e) for e in exponent.tolist()])
    weights = weights / weights.sum()
    return correlate1d(values, weights[::-1], axis=0, mode=mode)
