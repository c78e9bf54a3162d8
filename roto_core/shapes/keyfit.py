"""Keys for a piece: the fewest key frames whose linear in-betweens stay on every frame's edge.

Nuke and Silhouette draw a shape between two linear keys as the straight blend of the keys' control points.
The key values are therefore not copied from single frames: they are the least-squares fit of that blend to the
per-frame fits of all frames (a hat-function spline in time per point, solved as a banded system), so the
in-betweens lie on the edge as well as the keys, and one frame's mask noise is not keyed. The fit is re-weighted
per point and frame (Huber): a point that slipped along the outline on some frames (a corner re-found on a
neighbouring bump, a marker caught on a passing edge) does not drag its neighbours' in-betweens. A small penalty
on each key's change of velocity keeps keys from popping; it is relaxed at a key that stays off its edge with
keys on both neighbouring frames, the edge being the constraint.

Keys start where the per-frame fits' points stray from a straight blend (at most START_SPAN_FRAMES apart); every
span holding a frame off its edge (keys included: a key fails when its spans are too long for one value to serve
both) is halved until all frames hold or every frame is keyed; then each key whose removal keeps every frame on
its edge is removed (an end key too: the shape holds its first and last keys beyond them). trace.py keys each
piece on its own; pieces given together share their keys, and as the fit is linear in the per-frame fits, the
chord ends they share stay together.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from scipy.ndimage import maximum_filter1d

from roto_core.shapes.keyfit_kernel import blend_strays, control_shifts, first_knots, fitted_keys
from roto_core.shapes.keys import EdgeCheck

START_SPAN_FRAMES = 24
# A frame is checked again after a refit only where its shape moved by more than this, and where its error could
# have crossed its limit: errors move by at most EdgeCheck.lipschitz times the control points' shift, kept under
# SAFE_EXCESS for the sampling's sake.
RECHECK_PX = 0.05
SAFE_EXCESS = 0.9
# A key whose neighbours' blend misses its frame's own fit by this many tolerances is not tried for removal.
PLAINLY_OFF = 4.0
# Where a piece's own per-frame fit is off its edge by more than the tolerance (an outline its points cannot
# follow there), its in-between may be off by that much plus this many tolerances: keying every frame would
# not bring it closer.
FIT_SLACK = 0.5
# Edge samples either side (2 px apart) over which a sample's allowance is spread: the in-between's curve finds
# its nearest edge sample a little way from where the own fit found it.
ALLOWANCE_SPREAD = 2
ROBUST_PX = 1.5
ROBUST_ROUNDS = 2
# Weight of a key's pop (its change of velocity, px/frame, squared) against a frame's fit error (px, squared).
KEY_POP_WEIGHT = 0.15
RELAX_STEP = 0.25
STUCK_EXCESS = 1.0
RELAX_FLOOR = 0.01


def fitted(knots: np.ndarray, target: np.ndarray, relaxed: Mapping[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Key values ``(K, points, 6)`` at ``knots`` best fitting ``target`` ``(F, points, 6)``, and the per-frame
    values of their blend: linear between keys, held before the first and after the last (as the shape model and
    both comp packages do). Robust per point, with the change of velocity at each key (the pop a linear key makes)
    penalised by KEY_POP_WEIGHT, scaled down next to the key frames in ``relaxed`` (where smoothing would keep a
    frame off its edge). One compiled call (keyfit_kernel.fitted_keys)."""
    factor = np.array([relaxed.get(int(k), 1.0) for k in knots])
    return fitted_keys(knots, factor, np.ascontiguousarray(target), KEY_POP_WEIGHT, ROBUST_PX, ROBUST_ROUNDS)


class KeyFit:
    """The per-frame fits of a component's pieces and the frames' edges, for trying sets of keys."""

    def __init__(
        self,
        check: EdgeCheck,
        per_frame: Sequence[np.ndarray],
        tolerance: float,
        indices: Sequence[int],
        own: np.ndarray | None = None,
    ) -> None:
        self.check = check
        self.indices = list(indices)
        self.count = len(per_frame[0])
        self.shapes = [p.shape[1:] for p in per_frame]
        # Each piece's columns of a frame's controls (``pieces``: slices, as np.split cost more to call than to cut).
        ends = np.cumsum([p.shape[1] for p in per_frame]).tolist()
        self.columns = list(zip([0, *ends[:-1]], ends, strict=True))
        if own is None:
            own = np.array(
                [[check.error(p, f, c[f]) for p, c in zip(indices, per_frame, strict=True)] for f in range(self.count)]
            )
        # A piece whose own fit is off its edge somewhere may be off there by that much plus FIT_SLACK; elsewhere
        # it holds the edge as any piece does (DAVIS paragliding-launch frame 0: a body piece whose own fit missed
        # where the rigging lines meet it was held 3-4 px off along its whole side, inside an allowance raised
        # for the lines).
        self.allowed = np.maximum(tolerance, np.minimum(own, tolerance) + FIT_SLACK * tolerance)
        self.along: dict[tuple[int, int], np.ndarray] = {}
        ratio = own / self.allowed
        for f, k in zip(*np.nonzero(own > tolerance), strict=True):
            p, ctrl = self.indices[k], per_frame[k][f]
            spread = maximum_filter1d(check.sample_errors(p, int(f), ctrl), 2 * ALLOWANCE_SPREAD + 1, mode="wrap")
            along = np.maximum(self.allowed[f, k], spread + FIT_SLACK * tolerance)
            self.along[int(f), int(k)] = along
            ratio[f, k] = check.error(p, int(f), ctrl, allowance=along)
        self.own_excess = ratio.max(axis=1)
        self.target = np.concatenate([p.reshape(self.count, p.shape[1], -1) for p in per_frame], axis=1)

    def pieces(self, controls: np.ndarray) -> Iterator[np.ndarray]:
        """One frame's ``(points, 6)`` controls → each piece's ``(N, 3, 2)``."""
        for (start, end), shape in zip(self.columns, self.shapes, strict=True):
            yield controls[start:end].reshape(shape)

    def excess(self, frame: int, controls: np.ndarray) -> float:
        """The worst ratio of a piece's error to what it is allowed on this frame; stops beyond 1."""
        worst = 0.0
        allowed = self.allowed[frame]
        for i, (p, ctrl) in enumerate(zip(self.indices, self.pieces(controls), strict=True)):
            along = self.along.get((frame, i))
            if along is None:
                worst = max(worst, self.check.error(p, frame, ctrl, allowed[i]) / allowed[i])
            else:
                worst = max(worst, self.check.error(p, frame, ctrl, 1.0, along))
            if worst > 1.0:
                break
        return worst

    def evaluate(self, knots: Sequence[int], relaxed: Mapping[int, float]) -> tuple[np.ndarray, np.ndarray]:
        return fitted(np.asarray(knots, np.int64), self.target, relaxed)

    def holds(self, frames: np.ndarray, controls: np.ndarray, excess: np.ndarray) -> bool:
        """Every frame of ``frames`` holds, their ``excess`` measured on the way (taken in order, so the most
        moved frames first and a failure ends early)."""
        for f in frames:
            excess[f] = self.excess(int(f), controls[f])
            if excess[f] > 1.0:
                return False
        return True


def _first_knots(target: np.ndarray, tolerance: float) -> list[int]:
    """Keys to start from, read off the per-frame fits alone (no edge measured): from each key, the furthest
    frame (at most START_SPAN_FRAMES on) whose straight blend with it keeps every in-between's points within the
    tolerance of their own fits (keyfit_kernel.first_knots). Fast motion starts dense, a still shape sparse, so the
    halving that follows measures few frames in vain."""
    return first_knots(np.ascontiguousarray(target, dtype=np.float64), tolerance, START_SPAN_FRAMES).tolist()


def _plainly_needed(target: np.ndarray, now: np.ndarray, fewer: Sequence[int], knot: int, tolerance: float) -> bool:
    """Whether removing ``knot`` would plainly leave its frame off the edge, without fitting or measuring: the
    straight blend of the neighbouring keys' current values misses the frame's own fit by more than
    PLAINLY_OFF tolerances somewhere (a fast limb keyed on every frame)."""
    before = max((k for k in fewer if k < knot), default=None)
    after = min((k for k in fewer if k > knot), default=None)
    if before is None or after is None:
        return False
    w = (knot - before) / (after - before)
    return blend_strays(now[before], now[after], w, target[knot], PLAINLY_OFF * tolerance)


def _halved(knots: Sequence[int], excess: np.ndarray) -> set[int]:
    """The middle of each span holding a failing frame, its keys included."""
    return {(a + b) // 2 for a, b in itertools.pairwise(knots) if b - a > 1 and (excess[a : b + 1] > 1.0).any()}


def _recheck(fit: KeyFit, excess: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Frames to measure again after the controls moved from ``before`` to ``after``, the most moved first.

    The others cannot have crossed their limit: an error moves by at most ``EdgeCheck.lipschitz`` times the
    largest control point shift (``keyfit_kernel.control_shifts``: a point or either handle; no curve sample moves
    further, a bezier sample being a weighted mean of its segment's control points), so a frame whose old excess
    plus that stays under SAFE_EXCESS is kept, its excess raised to that bound. A successful key removal otherwise
    measures every frame of the shape again.
    """
    shift = control_shifts(np.ascontiguousarray(before), np.ascontiguousarray(after))
    bound = excess + fit.check.lipschitz * shift / fit.allowed.min(axis=1)
    safe = (bound <= SAFE_EXCESS) | (shift <= RECHECK_PX)
    excess[safe] = np.maximum(excess[safe], np.where(shift[safe] <= RECHECK_PX, excess[safe], bound[safe]))
    frames = np.nonzero(~safe)[0]
    return frames[np.argsort(-shift[frames])]


def fit_keys(
    check: EdgeCheck,
    per_frame: Sequence[np.ndarray],
    tolerance: float,
    indices: Sequence[int] | None = None,
    own: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Key frames and each piece's key values ``(K, N, 3, 2)`` for per-frame fits ``per_frame`` (one
    ``(F, N, 3, 2)`` array per piece, pieces ``indices`` of ``check``, by default all of them in order; ``own``,
    when known, their errors ``(F, pieces)`` as ``EdgeCheck.error`` measures them). The
    first and last frames are keyed unless holding the nearest key there stays on the edge (a hole that does
    not move over its few frames gets one key)."""
    count = len(per_frame[0])
    if count == 1:
        return np.zeros(1, np.int64), [p.copy() for p in per_frame]
    fit = KeyFit(check, per_frame, tolerance, range(len(per_frame)) if indices is None else indices, own)
    knots = _first_knots(fit.target, tolerance)
    relaxed: dict[int, float] = {}
    values, now = fit.evaluate(knots, relaxed)
    # The per-frame fits' own errors are known: only frames the first keys moved far from them are measured.
    excess = fit.own_excess.copy()
    for f in _recheck(fit, excess, fit.target, now):
        excess[f] = fit.excess(int(f), now[f])
    while True:
        added = _halved(knots, excess) - set(knots)
        # A failing key with keys on the frames either side cannot be helped by more keys: its pop penalty is
        # relaxed, a step at a time, until the key holds its edge.
        stuck = {k for k in knots if excess[k] > STUCK_EXCESS and {k - 1, k + 1} & set(range(count)) <= set(knots)}
        stuck = {k for k in stuck if relaxed.get(k, 1.0) > 0.0}
        if not added and not stuck:
            break
        knots = sorted({*knots, *added})
        for k in stuck:
            factor = RELAX_STEP * relaxed.get(k, 1.0)
            relaxed[k] = factor if factor >= RELAX_FLOOR else 0.0
        values, later = fit.evaluate(knots, relaxed)
        for f in _recheck(fit, excess, now, later):
            excess[f] = fit.excess(int(f), later[f])
        now = later
    for knot in list(knots):
        fewer = [k for k in knots if k != knot]
        if not fewer:
            break
        if _plainly_needed(fit.target, now, fewer, knot, tolerance):
            continue
        trial_values, trial = fit.evaluate(fewer, relaxed)
        trial_excess = excess.copy()
        if fit.holds(_recheck(fit, trial_excess, now, trial), trial, trial_excess):
            knots, values, now, excess = fewer, trial_values, trial, trial_excess
    return np.asarray(knots, np.int64), _split_values(fit, values)


def _split_values(fit: KeyFit, values: np.ndarray) -> list[np.ndarray]:
    """Key values ``(K, points, 6)`` → one ``(K, N, 3, 2)`` array per piece."""
    return [
        values[:, start:end].reshape(len(values), *shape)
        for (start, end), shape in zip(fit.columns, fit.shapes, strict=True)
    ]
