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
else the smoothed fit with the points beside the segments that stray moved back towards their slid places (below),
held to the same, so a limb that bends or a lump that grows does not cost the rest of its piece the smoothing;
else the fit with its points moved only along the outline (a point sliding on its edge changes almost no pixel of
the render, and the slide is half the boil: bench/RESULTS.md, eighteenth pass); else all three again with half
the sigma (SIGMA_STEPS); else its own fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roto_core.shapes.budgets import CLEAN_MATTE_TOLERANCE_PX
from roto_core.shapes.curve_kernel import outline_areas
from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.model import bernstein
from roto_core.shapes.smoothing_kernel import similarities, slid_points, smoothed_controls
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
# Where the smoothed fit as a whole strays, the points at either end of each segment further than the accepted
# limit (and never further than a clean matte's tolerance, MIX_PX) from the edge are moved back towards their
# slid places, MIX_STEP of the way at a time for MIX_ROUNDS rounds, the segments measured again each round. DAVIS
# dev set, whole sequences: boil on rigid parts lower on 21 of the 24 rows, the same on three (ground truth:
# parkour 0.56 -> 0.53, dog 0.83 -> 0.80, drift-straight 0.48 -> 0.45; segmenter masks: goat 0.56 -> 0.51,
# horsejump-high 1.05 -> 0.97), IoU and edge within 0.002. Held to the whole tolerance instead of the accepted
# limit, parkour reached 0.51 but horsejump-high's IoU median fell under 0.95; moved back at once (no half way),
# 0.535; without the MIX_PX bound the segmenter's horsejump-high kept its shapes 2 px off and its edge fell to
# 0.900 (bench/RESULTS.md, twenty-first pass).
MIX_ROUNDS = 3
MIX_PX = CLEAN_MATTE_TOLERANCE_PX
MIX_STEP = 0.5


def neighbourhood_similarity(
    source: np.ndarray, target: np.ndarray, around: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point of ``source`` and ``target`` (complex, ``(..., N)``): the similarity that best carries its
    neighbourhood (``around``, per point its neighbours' indices) from the one onto the other, as the turn and
    scale ``t`` and the two neighbourhoods' means ``a``, ``b``: a point ``p`` is carried to ``t * (p - a) + b``."""
    source, target = np.asarray(source, np.complex128), np.asarray(target, np.complex128)
    points = source.shape[-1]
    rows = (np.ascontiguousarray(source.reshape(-1, points)), np.ascontiguousarray(target.reshape(-1, points)))
    turn, src_mean, dst_mean = similarities(*rows, np.ascontiguousarray(around, np.int64))
    return turn.reshape(source.shape), src_mean.reshape(source.shape), dst_mean.reshape(source.shape)


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
    z = np.ascontiguousarray(ctrl[..., 0] + 1j * ctrl[..., 1])
    summed = smoothed_controls(z, around, sigma, int(np.ceil(REACH_SIGMAS * sigma)))
    return np.stack((summed.real, summed.imag), axis=-1)


def slid_along(ctrl: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """``ctrl`` with each point moved towards its place in ``smooth`` only along the outline (its handles' line,
    or the chord between its neighbours where it has none); handles as in ``ctrl``."""
    return slid_points(np.ascontiguousarray(ctrl, np.float64), np.ascontiguousarray(smooth, np.float64))


def _areas(ctrl: np.ndarray) -> np.ndarray:
    """Per frame, the signed area a piece's ``(F, N, 3, 2)`` controls enclose (negative: turned over)."""
    return outline_areas(np.ascontiguousarray(ctrl, np.float64), bernstein(SAMPLES))


@dataclass
class _Step:
    """One sigma of SIGMA_STEPS: the smoothed controls and the raw ones slid towards them, each with the frames
    on which it is upright (or the raw fit is not)."""

    smooth: np.ndarray
    slid: np.ndarray
    smooth_upright: np.ndarray
    slid_upright: np.ndarray


def _steps(raw: np.ndarray, smoothing: float, turned: float, upright: np.ndarray) -> list[_Step]:
    """The steps of ``raw`` ``(F, N, 3, 2)``, whose frames ``upright`` are the ones it is upright on."""
    out = []
    for step in SIGMA_STEPS:
        smooth = smooth_local(raw, smoothing * step)
        slid = slid_along(raw, smooth)
        out.append(_Step(smooth, slid, (_areas(smooth) >= turned) | ~upright, (_areas(slid) >= turned) | ~upright))
    return out


def mixed_back(
    check: EdgeCheck, piece: int, frame: int, smooth: np.ndarray, slid: np.ndarray, limit: float
) -> np.ndarray | None:
    """One frame's ``smooth`` controls with the points at either end of a segment that strays from the edge beyond
    ``limit`` (or MIX_PX) moved back towards ``slid``, MIX_STEP of the way a round, for MIX_ROUNDS rounds; None
    where no point moves (``smooth`` itself, already measured and failed) or every point moves all the way."""
    weight = check.mixed_weights(piece, frame, smooth, slid, min(limit, MIX_PX), MIX_ROUNDS, MIX_STEP)
    if not weight.any() or (weight == 1.0).all():
        return None
    return slid + weight[:, None, None] * (smooth - slid)


def _held(
    check: EdgeCheck, piece: int, frame: int, steps: list[_Step], tolerance: float, turned: float, upright: bool
) -> tuple[np.ndarray, float] | None:
    """The first of the frame's candidates that holds its edge, and its error: per step, the smoothed fit; the
    smoothed fit mixed back towards the slid one beside where it strays (both within ACCEPT_FRACTION of the
    tolerance); the slid fit (within the tolerance). None where none does. ``upright``: whether the raw fit is."""
    accept = ACCEPT_FRACTION * tolerance
    for step in steps:
        smooth, slid = step.smooth[frame], step.slid[frame]
        if step.smooth_upright[frame]:
            # Exact up to the limit: beyond it the next candidate is measured.
            error = check.error(piece, frame, smooth, accept)
            if error <= accept:
                return smooth, error
            mixed = mixed_back(check, piece, frame, smooth, slid, accept)
            if mixed is not None and (_areas(mixed[None])[0] >= turned or not upright):
                error = check.error(piece, frame, mixed, accept)
                if error <= accept:
                    return mixed, error
        if step.slid_upright[frame]:
            error = check.error(piece, frame, slid, tolerance)
            if error <= tolerance:
                return slid, error
    return None


def smoothed_within(
    check: EdgeCheck, raw: Sequence[np.ndarray], smoothing: float, tolerance: float
) -> tuple[list[np.ndarray], np.ndarray]:
    """Each piece's per-frame controls smoothed over time where that holds the piece's edge (else smoothed beside
    where that strays no further than MIX_PX, else slid along the outline only, else the same with half the
    sigma, else as fitted); and the error ``(F, pieces)`` of what is returned (the key fit's start). None turns a
    piece over where its own fit is upright (a hole of 20-30 px² traced with nine points: the neighbourhoods span
    half of it, DAVIS soapbox)."""
    out = [r.copy() for r in raw]
    errors = np.zeros((len(raw[0]), len(raw)))
    turned = -TURNED_AREA * tolerance**2
    for p, r in enumerate(raw):
        upright = _areas(r) >= turned
        steps = _steps(r, smoothing, turned, upright)
        for f in range(len(r)):
            held = _held(check, p, f, steps, tolerance, turned, bool(upright[f]))
            if held is None:
                errors[f, p] = check.error(p, f, r[f])
            else:
                out[p][f], errors[f, p] = held
    return out, errors
