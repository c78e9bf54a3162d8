"""The point selection of piece_fitter.py, compiled: one call chooses one piece's points over all frames.

The selection asks for the fits of tens of thousands of segments a shot, a few at a time, deciding after each few.
In Python its driving (laying pieces out, listing their segments, looking fits up, batching them across pieces so
each batch was worth a call) cost more than the fits themselves (bench/RESULTS.md, fifty-sixth pass). Here
piece_fitter's rule runs whole in one call per piece: each segment is fitted when it is first needed
(segment_kernel.span_fits with one segment, point_end_kernel.point_ends with one point) and kept in typed
dictionaries the fitter holds across calls. The decisions are the rule's, step for step (the same arithmetic in
the same order; tests/shapes/test_selection_kernel.py against the rule written out in Python).

A piece's points are three lists in the order they were added: the run each is on, its parameter ``u`` and its
kind (point_end_kernel's SMOOTH, START, END, CORNER). Run ends are not listed: they are the runs themselves.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from roto_core.shapes.point_end_kernel import CORNER, END, SMOOTH, START, point_ends
from roto_core.shapes.segment_kernel import span_fits
from roto_core.shapes.track_kernel import arc_at

# What ``select`` found: the piece holds; it strays at max_points (the segment returned); it is sure to fail.
HOLDS, FAILS, GIVEN_UP = 0, 1, 2


@njit(cache=True)
def _layout(runs: np.ndarray, closed: bool, run_of: list, u_of: list, kind_of: list) -> tuple:
    """piece_fitter.Piece.layout: the points' parameters in boundary order and their kinds."""
    total = len(u_of) + (0 if closed else 2 * runs.shape[0])
    us = np.empty(total)
    kinds = np.empty(total, np.int64)
    at = 0
    for r in range(runs.shape[0]):
        if not closed:
            us[at], kinds[at] = runs[r, 0], START
            at += 1
        mine = 0
        for i in range(len(u_of)):
            if run_of[i] == r:
                mine += 1
        mine_u = np.empty(mine)
        mine_kind = np.empty(mine, np.int64)
        c = 0
        for i in range(len(u_of)):
            if run_of[i] == r:
                mine_u[c], mine_kind[c] = u_of[i], kind_of[i]
                c += 1
        # A run holds each parameter once (``_insert``), so ordering by it is Python's sort of (u, role).
        for c in np.argsort(mine_u):
            us[at], kinds[at] = mine_u[c], mine_kind[c]
            at += 1
        if not closed:
            us[at], kinds[at] = runs[r, 1], END
            at += 1
    return us, kinds


@njit(cache=True)
def _segments(us: np.ndarray, kinds: np.ndarray, count: int) -> tuple:
    """piece_fitter.segments_of without the chords: per segment its start and end (parameter, kind)."""
    ua, ka, ub, kb = np.empty(len(us)), np.empty(len(us), np.int64), np.empty(len(us)), np.empty(len(us), np.int64)
    m = 0
    last = len(us) - 1
    for i in range(len(us)):
        if kinds[i] == END:
            continue
        ua[m], ka[m] = us[i], kinds[i]
        if i < last:
            ub[m], kb[m] = us[i + 1], kinds[i + 1]
        else:
            ub[m], kb[m] = us[0] + count, kinds[0]
        m += 1
    return ua[:m], ka[:m], ub[:m], kb[:m]


@njit(cache=True)
def _insert(
    runs: np.ndarray, closed: bool, run_of: list, u_of: list, kind_of: list, u: float, kind: int, lap: float
) -> bool:
    """piece_fitter.Piece.insert: a point at ``u`` (or ``u ± lap``) in the first run that has room for it."""
    for r in range(runs.shape[0]):
        start, end = runs[r, 0], runs[r, 1]
        for v in (u, u - lap, u + lap):
            inside = start <= v < end if closed else start < v < end
            if not inside:
                continue
            free = True
            for i in range(len(u_of)):
                if run_of[i] == r and u_of[i] == v:
                    free = False
                    break
            if free:
                run_of.append(r)
                u_of.append(v)
                kind_of.append(kind)
                return True
    return False


@njit(cache=True)
def _point_end(u: float, kind: int, stage: int, rows: np.ndarray, track: tuple, ends: dict, fitting: tuple) -> tuple:
    """segment_fits.point_ends of one point on the stage's rows (cached): tip, incoming and outgoing direction."""
    key = (u, kind, stage)
    if key in ends:
        return ends[key]
    _, markers, packed, _ = track
    _, _, _, _, tangent, one_sided, search, offsets, tip_reach = fitting
    sides = np.empty((1, 2))
    sides[0, 0] = 0.0 if kind == START else (one_sided if kind == END else tangent)
    sides[0, 1] = one_sided if kind == START else (0.0 if kind == END else tangent)
    tips, t_in, t_out = point_ends(
        np.array([u]), np.array([kind]), sides, np.zeros((0, 2)), rows, markers, packed, search, offsets, tip_reach
    )
    found = (tips[0].copy(), t_in[0].copy(), t_out[0].copy())
    ends[key] = found
    return found


@njit(cache=True)
def _fit(
    ua: float,
    ka: int,
    ub: float,
    kb: int,
    stage: int,
    rows: np.ndarray,
    track: tuple,
    fits: dict,
    ends: dict,
    fitting: tuple,
    robust: tuple,
) -> tuple:
    """One segment fitted on the stage's frames (cached): its worst error over them, robustly (the
    FRAME_QUANTILE, or the peak over OUTLIER_FACTOR where more), and the parameter of the worst frame's worst
    sample (piece_fitter.py)."""
    key = (ua, ka, ub, kb, stage)
    if key in fits:
        return fits[key]
    _, markers, packed, _ = track
    step, most_samples, slack, newton, _, _, _, _, _ = fitting
    quantile, outlier = robust
    frames = rows.shape[0]
    start, extent = np.empty((frames, 1)), np.empty((frames, 1))
    for f in range(frames):
        a = arc_at(ua, rows[f], markers)
        start[f, 0], extent[f, 0] = a, arc_at(ub, rows[f], markers) - a
    longest = np.ceil(extent.max() / step)
    counts = np.array([int(min(max(longest, 1.0), most_samples)) + 1])
    end_a = _point_end(ua, ka, stage, rows, track, ends, fitting)
    end_b = _point_end(ub, kb, stage, rows, track, ends, fitting)
    tips = np.zeros((1, 2, frames, 2))
    tipped = np.zeros((1, 2), np.bool_)
    skips = np.zeros((1, 2), np.int64)
    if ka == CORNER:
        tips[0, 0], tipped[0, 0], skips[0, 0] = end_a[0], True, slack
    if kb == CORNER:
        tips[0, 1], tipped[0, 1], skips[0, 1] = end_b[0], True, slack
    span = (start, extent, counts, np.array([ua]), np.array([ub]), tips, tipped, end_a[2], end_b[1], skips)
    _, _, err, worst_u = span_fits(*span, rows, packed, newton)
    errors = err[0]
    worst = np.argmax(errors)
    peak = errors[worst]
    # np.quantile's arithmetic (its linear interpolation, from the nearer end), by one sort.
    ordered = np.sort(errors)
    virtual = (frames - 1) * quantile
    below = min(int(np.floor(virtual)), frames - 1)
    low, high = ordered[below], ordered[min(below + 1, frames - 1)]
    gamma = virtual - below
    at = high - (high - low) * (1 - gamma) if gamma >= 0.5 else low + (high - low) * gamma
    found = (max(at, peak / outlier), worst_u[0, worst])
    fits[key] = found
    return found


@njit(cache=True)
def _split_at(ua: float, ub: float, err: float, u: float, tolerance: float, shortest: float) -> tuple:
    """Whether the segment gets a new point, and where: not where it holds or is shorter than ``shortest``; at its
    worst place unless that is near an end (a segment whose end tangent is off peaks there), then in the middle."""
    if err <= tolerance or ub - ua < shortest:
        return False, 0.0
    return True, (u if ua + 0.1 * (ub - ua) < u < ub - 0.1 * (ub - ua) else 0.5 * (ua + ub))


@njit(cache=True)
def _seed(runs: np.ndarray, closed: bool, run_of: list, u_of: list, kind_of: list, track: tuple, most: int) -> None:
    """The points a piece starts with: corners up to half the points left after the runs' ends and one point per
    run, which it needs anyway (four points round a closed piece at least), then one point in every run still
    empty."""
    count, _, _, corners = track
    ends = 0 if closed else 2 * runs.shape[0]
    base = 0 if closed else 3 * runs.shape[0]
    budget = max((most - base) // 2, 0)
    for u in corners:
        if len(u_of) >= budget:
            break
        if closed:
            _insert(runs, closed, run_of, u_of, kind_of, u, CORNER, float(count))
            continue
        for shift in (0.0, float(count)):
            for r in range(runs.shape[0]):
                if runs[r, 0] + 1.0 < u + shift < runs[r, 1] - 1.0:
                    _insert(runs, closed, run_of, u_of, kind_of, u + shift, CORNER, 0.0)
    if closed and len(u_of) + ends < 4:
        start = runs[0, 0]
        taken = [u_of[i] for i in range(len(u_of)) if run_of[i] == 0]
        for k in range(4):
            u = start + (k + 0.5) * count / 4
            far = True
            for t in taken:
                if not abs(u - t) > 2.0:
                    far = False
            if far:
                _insert(runs, closed, run_of, u_of, kind_of, u, SMOOTH, 0.0)
    for r in range(runs.shape[0]):
        empty = True
        for i in range(len(u_of)):
            if run_of[i] == r:
                empty = False
        if empty:
            run_of.append(r)
            u_of.append(0.5 * (runs[r, 0] + runs[r, 1]))
            kind_of.append(SMOOTH)


@njit(cache=True)
def _hopeless(
    runs: np.ndarray,
    closed: bool,
    run_of: list,
    u_of: list,
    kind_of: list,
    stage: int,
    rows: np.ndarray,
    track: tuple,
    fits: dict,
    ends: dict,
    fitting: tuple,
    limits: tuple,
) -> bool:
    """Whether the piece is sure to fail at this stage: on a copy of it, every segment that strays is split at once,
    a level at a time (the selection splits them one by one, worst first, but each split depends on its own segment
    only); sure to fail when a level's splits are more than max_points leaves room for, and none of its stray
    segments is too short to split. (A stray segment too short to split could still turn up deeper and become the
    worst: the selection would stop there and keep the piece. That rare piece is given up instead.)"""
    tolerance, most, shortest, _, robust = limits
    count = track[0]
    ends_points = 0 if closed else 2 * runs.shape[0]
    trial_run, trial_u, trial_kind = list(run_of), list(u_of), list(kind_of)
    short = False
    while True:
        us, kinds = _layout(runs, closed, trial_run, trial_u, trial_kind)
        ua, ka, ub, kb = _segments(us, kinds, count)
        splits = []
        for s in range(len(ua)):
            err, u = _fit(ua[s], ka[s], ub[s], kb[s], stage, rows, track, fits, ends, fitting, robust)
            split, where = _split_at(ua[s], ub[s], err, u, tolerance, shortest)
            if split:
                splits.append(where)
            short = short or (err > tolerance and ub[s] - ua[s] < shortest)
        points = len(trial_u) + ends_points
        if points + len(splits) > most and len(splits) and not short:
            return True
        if not len(splits) or points >= most:
            return False
        for u in splits:
            if not _insert(runs, closed, trial_run, trial_u, trial_kind, u, SMOOTH, float(count)):
                return False


@njit(cache=True)
def _merged(runs: np.ndarray, closed: bool, run_of: list, u_of: list, kind_of: list, u: float, count: int) -> tuple:
    """Whether smooth point ``u`` lies between two segments (not a run's end), and the one replacing them."""
    us, kinds = _layout(runs, closed, run_of, u_of, kind_of)
    i = 0
    while us[i] != u:
        i += 1
    n = len(us)
    before, after = (i - 1) % n, (i + 1) % n
    if kinds[before] == END or kinds[i] == END:
        return False, 0.0, 0, 0.0, 0
    ua = us[before] - (count if before > i else 0.0)
    ub = us[after] + (count if after < i else 0.0)
    return True, ua, kinds[before], ub, kinds[after]


@njit(cache=True)
def select(
    runs: np.ndarray,
    closed: bool,
    given: tuple,
    exact: bool,
    stages: tuple,
    track: tuple,
    fits: dict,
    ends: dict,
    fitting: tuple,
    limits: tuple,
) -> tuple:
    """PieceFitter's selection of one piece (piece_fitter.py): its runs ``(R, 2)`` and the points it has
    (``given``: run, ``u`` and kind arrays). Seeded, then stage by stage (``stages``: the rows of each) the worst
    segment is split until every segment holds, then smooth points whose two segments hold as one are dropped.
    Unless ``exact``, a piece sure to fail at a stage (``_hopeless``) stops there. Returns HOLDS, FAILS or
    GIVEN_UP, the failing segment's ends, and the points (run, ``u``, kind arrays, in the order they were added).

    ``track``: the outline track's marker count, OutlineTrack.markers_packed and .packed, its corners.
    ``fitting``: segment_fits' sample step, most samples, corner slack (samples), Newton steps, tangent and
    one-sided chords, corner search, corner offsets and tip reach. ``limits``: the tolerance, max_points, the
    shortest segment split, MERGE_FRACTION, and (FRAME_QUANTILE, OUTLIER_FACTOR)."""
    tolerance, most, shortest, merge, robust = limits
    count = track[0]
    run_of = [int(r) for r in given[0]]
    u_of = [float(u) for u in given[1]]
    kind_of = [int(k) for k in given[2]]
    ends_points = 0 if closed else 2 * runs.shape[0]
    _seed(runs, closed, run_of, u_of, kind_of, track, most)
    for stage in range(len(stages)):
        rows = stages[stage]
        piece = (runs, closed, run_of, u_of, kind_of)
        if not exact and _hopeless(*piece, stage, rows, track, fits, ends, fitting, limits):
            return GIVEN_UP, np.nan, np.nan, np.array(run_of), np.array(u_of), np.array(kind_of)
        while True:
            us, kinds = _layout(runs, closed, run_of, u_of, kind_of)
            ua, ka, ub, kb = _segments(us, kinds, count)
            worst, worst_err, worst_u = -1, 0.0, 0.0
            for s in range(len(ua)):
                err, u = _fit(ua[s], ka[s], ub[s], kb[s], stage, rows, track, fits, ends, fitting, robust)
                if err > worst_err:
                    worst, worst_err, worst_u = s, err, u
            if worst < 0:
                break
            split, where = _split_at(ua[worst], ub[worst], worst_err, worst_u, tolerance, shortest)
            if not split:
                break
            if len(u_of) + ends_points >= most:
                return FAILS, ua[worst], ub[worst], np.array(run_of), np.array(u_of), np.array(kind_of)
            if not _insert(runs, closed, run_of, u_of, kind_of, where, SMOOTH, float(count)):
                break
    last = len(stages) - 1
    smooth = np.sort(np.array([u_of[i] for i in range(len(u_of)) if kind_of[i] == SMOOTH]))
    for u in smooth:
        if len(u_of) + ends_points <= 3:
            continue
        between, ua_, ka_, ub_, kb_ = _merged(runs, closed, run_of, u_of, kind_of, u, count)
        if not between:
            continue
        err, _ = _fit(ua_, ka_, ub_, kb_, last, stages[last], track, fits, ends, fitting, robust)
        if err <= merge * tolerance:
            keep = [i for i in range(len(u_of)) if u_of[i] != u]
            run_of = [run_of[i] for i in keep]
            u_of = [u_of[i] for i in keep]
            kind_of = [kind_of[i] for i in keep]
    return HOLDS, 0.0, 0.0, np.array(run_of), np.array(u_of), np.array(kind_of)
