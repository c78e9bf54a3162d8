"""Smoothing a piece's per-frame fits over time, in the frame of each point's own neighbourhood, under the edge.

The per-frame fits carry the mask's jitter and the tracker's: a point slides a little along its outline or steps
across it from one frame to the next. Averaging each point's positions over nearby frames removes that, but a
plain average in image coordinates also averages away the motion itself: a part that speeds up, turns or is
shaken by the camera is pulled off its edge (DAVIS dev, ground truth: the Gaussian of the fits' absolute
positions failed the edge check on 68 % of parkour's piece-frames, which then kept their jitter). Here each
neighbouring frame is first laid onto the frame being smoothed by the similarity (turn, scale, shift) that best
carries the point's neighbourhood — the point and NEIGHBOURS points either side — from that frame to this one,
the measure qa.local_boil judges boil by. A rigid part then averages only its jitter, at any speed; a part that
bends keeps its motion to within the neighbourhood's.

Each piece-frame takes the smoothed fit where it holds its edge within ACCEPT_FRACTION of the tolerance;
else the fit with its points moved only along the outline (a point sliding on its edge changes almost no pixel of
the render, and the slide is half the boil: bench/RESULTS.md, eighteenth pass); else both again with half the
sigma (SIGMA_STEPS); else its own fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.model import LEFT, POINT, RIGHT, sample_outline, signed_area
from roto_core.shapes.upright import SAMPLES, TURNED_AREA

MAX_SMOOTHING_SIGMA_FRAMES = 2.0
NEIGHBOURS = 2
# Frames out to this many sigmas are averaged (their weight beyond is under 1 %).
REACH_SIGMAS = 3.0
# A smoothed fit is taken where it holds its edge within this fraction of the tolerance. With the whole
# tolerance, a segmenter's masks (tolerance 2.5 px) kept smoothed frames up to 2.5 px off where the edge figure
# counts 2 px: DAVIS horsejump-high's matte edge within 2 px of the shapes 0.909 -> 0.894.
ACCEPT_FRACTION = 0.8
# Where the smoothing at its sigma fails (smoothed and slid), the same at these fractions of it is tried: a
# piece that jerks (frames dropped from a shot, a car drifting) holds a narrower average on more of its frames.
# Half the sigma after the whole one, DAVIS dev ground truth: boil on rigid parts drift-chicane 0.45 -> 0.42,
# dog 0.85 -> 0.83, paragliding-launch 0.70 -> 0.67; a quarter after that changed nothing
# (bench/RESULTS.md, nineteenth pass).
SIGMA_STEPS = (1.0, 0.5)


def smooth_local(ctrl: np.ndarray, smoothing: float) -> np.ndarray:
    """``(F, N, 3, 2)`` control points (handles relative to their point) smoothed over time: a Gaussian of
    ``MAX_SMOOTHING_SIGMA_FRAMES * smoothing`` frames over each point's positions on the frames around, each
    brought onto the frame by its neighbourhood's similarity (handles turned and scaled by it). Truncated at
    the ends, where fewer frames are averaged."""
    sigma = MAX_SMOOTHING_SIGMA_FRAMES * smoothing
    count, points = ctrl.shape[:2]
    if sigma <= 0 or count < 2 or points < 3:
        return ctrl.copy()
    side = min(NEIGHBOURS, (points - 1) // 2)
    around = (np.arange(points)[:, None] + np.arange(-side, side + 1)) % points
    z = ctrl[..., 0] + 1j * ctrl[..., 1]
    total = np.zeros((count, 1, 1))
    summed = np.zeros_like(z)
    for d in range(-int(np.ceil(REACH_SIGMAS * sigma)), int(np.ceil(REACH_SIGMAS * sigma)) + 1):
        lo, hi = max(0, -d), min(count, count - d)
        if hi <= lo:
            continue
        other, here = z[lo + d : hi + d], z[lo:hi]
        src, dst = other[:, around, POINT], here[:, around, POINT]
        src_mean, dst_mean = src.mean(axis=2), dst.mean(axis=2)
        src, dst = src - src_mean[..., None], dst - dst_mean[..., None]
        norm = np.sum(np.abs(src) ** 2, axis=2)
        turn = np.where(norm > 1e-12, np.sum(np.conj(src) * dst, axis=2) / np.maximum(norm, 1e-12), 1.0)
        carried = turn[..., None] * other
        carried[:, :, POINT] = turn * (other[:, :, POINT] - src_mean) + dst_mean
        weight = np.exp(-0.5 * (d / sigma) ** 2)
        summed[lo:hi] += weight * carried
        total[lo:hi] += weight
    summed /= total
    return np.stack((summed.real, summed.imag), axis=-1)


def slid_along(ctrl: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """``ctrl`` with each point moved towards its place in ``smooth`` only along the outline (its handles' line,
    or the chord between its neighbours where it has none); handles as in ``ctrl``."""
    point = ctrl[:, :, POINT]
    tangent = ctrl[:, :, RIGHT] - ctrl[:, :, LEFT]
    chord = np.roll(point, -1, axis=1) - np.roll(point, 1, axis=1)
    flat = np.linalg.norm(tangent, axis=2) < 1e-6
    tangent[flat] = chord[flat]
    tangent /= np.maximum(np.linalg.norm(tangent, axis=2, keepdims=True), 1e-9)
    out = ctrl.copy()
    out[:, :, POINT] = point + np.sum((smooth[:, :, POINT] - point) * tangent, axis=2, keepdims=True) * tangent
    return out


def _areas(ctrl: np.ndarray) -> np.ndarray:
    """Per frame, the signed area a piece's ``(F, N, 3, 2)`` controls enclose (negative: turned over)."""
    return np.array([signed_area(outline) for outline in sample_outline(ctrl, SAMPLES)])


def _candidates(raw: np.ndarray, smoothing: float, turned: float) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """In the order they are tried: per sigma of SIGMA_STEPS, the smoothed controls and the raw ones slid
    towards them, each with the frames on which it is upright (or the raw fit is not) and whether it is a
    smoothed one (held to ACCEPT_FRACTION of the tolerance) or a slid one (held to the tolerance)."""
    upright = _areas(raw) >= turned
    out = []
    for step in SIGMA_STEPS:
        smooth = smooth_local(raw, smoothing * step)
        slid = slid_along(raw, smooth)
        out.append((smooth, (_areas(smooth) >= turned) | ~upright, True))
        out.append((slid, (_areas(slid) >= turned) | ~upright, False))
    return out


def smoothed_within(
    check: EdgeCheck, raw: Sequence[np.ndarray], smoothing: float, tolerance: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Each piece's per-frame controls smoothed over time where that holds the piece's edge (else slid along
    the outline only, else the same with half the sigma, else as fitted); and the error ``(F, pieces)`` of what
    is returned (the key fit's start). None turns a piece over where its own fit is upright (a hole of 20-30 px²
    traced with nine points: the neighbourhoods span half of it, DAVIS soapbox)."""
    out = [r.copy() for r in raw]
    errors = np.zeros((len(raw[0]), len(raw)))
    turned = -TURNED_AREA * tolerance**2
    for p, r in enumerate(raw):
        candidates = _candidates(r, smoothing, turned)
        for f in range(len(r)):
            errors[f, p] = np.inf
            for ctrl, upright, smoothed in candidates:
                limit = ACCEPT_FRACTION * tolerance if smoothed else tolerance
                # Exact up to the limit: beyond it the next candidate is measured.
                error = check.error(p, f, ctrl[f], limit) if upright[f] else np.inf
                if error <= limit:
                    out[p][f], errors[f, p] = ctrl[f], error
                    break
            if errors[f, p] == np.inf:
                errors[f, p] = check.error(p, f, r[f])
    return out, errors
