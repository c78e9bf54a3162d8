"""The compiled point selection (selection_kernel.py) takes the decisions of the rule written out here in Python —
one piece at a time, one point at a time, worst segment first — to the bit: the same pieces, points, roles and
verdicts (holds, strays at max_points, or sure to fail).

On a star whose arms bend differently on every frame, with point budgets small enough that pieces fail and are cut
several times and piece limits that stop the cutting; and on every selection the tracer makes on a real DAVIS
camel's matte (closed pieces and pieces of several runs, corners, all three verdicts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numba import types
from numba.typed import List

from roto_core.contracts import ShapeSettings
from roto_core.shapes import piece_fitter, point_end_kernel, selection_kernel
from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import fill_polygon
from roto_core.shapes.necks import NeckFinder
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import (
    FRAME_QUANTILE,
    HOPELESS,
    MERGE_FRACTION,
    OUTLIER_FACTOR,
    Failure,
    Piece,
    PieceFitter,
    segments_of,
)
from roto_core.shapes.pieces import build_pieces
from roto_core.shapes.segment_fits import CORNER, END, SMOOTH, Segment, fit_runs
from roto_core.shapes.synthetic import transform
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
SIZE = (240, 320)
FRAMES = range(12)
TOLERANCE = 1.05


class _PlainRule:
    """PieceFitter's selection as Python (before selection_kernel.py), without its batching: each segment
    fitted alone when first needed (segment_fits.fit_runs), the pieces selected one after another."""

    def __init__(self, fitter: PieceFitter) -> None:
        self.track = fitter.track
        self.tolerance = fitter.tolerance
        self.max_points = fitter.max_points
        self.min_segment_u = fitter.min_segment_u
        self.stages = fitter.stages
        self.cache: dict[tuple, tuple[float, float]] = {}

    def error(self, segment: Segment, stage: int) -> tuple[float, float]:
        if (*segment, stage) not in self.cache:
            _, _, err, worst_u = fit_runs(self.track, [segment], self.stages[stage])[0]
            worst = int(np.argmax(err))
            ordered = np.sort(err)
            virtual = (len(err) - 1) * FRAME_QUANTILE
            below = min(int(np.floor(virtual)), len(err) - 1)
            a, b = ordered[below], ordered[min(below + 1, len(err) - 1)]
            gamma = virtual - below
            quantile = b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma
            self.cache[(*segment, stage)] = (float(max(quantile, err[worst] / OUTLIER_FACTOR)), float(worst_u[worst]))
        return self.cache[(*segment, stage)]

    def seed(self, piece: Piece) -> None:
        base = 0 if piece.closed else 3 * len(piece.runs)
        budget = max((self.max_points - base) // 2, 0)
        count = self.track.count
        for u in self.track.corners.tolist():
            if piece.point_count - (0 if piece.closed else 2 * len(piece.runs)) >= budget:
                break
            if piece.closed:
                piece.insert(u, CORNER, lap=count)
                continue
            for shift in (0.0, count):
                for start, end in piece.runs:
                    if start + 1.0 < u + shift < end - 1.0:
                        piece.insert(u + shift, CORNER)
        if piece.closed and piece.point_count < 4:
            start = piece.runs[0][0]
            taken = [u for u, _ in piece.inner[0]]
            for k in range(4):
                u = start + (k + 0.5) * count / 4
                if all(abs(u - t) > 2.0 for t in taken):
                    piece.insert(u)
        for (start, end), inner in zip(piece.runs, piece.inner, strict=True):
            if not inner:
                inner.append((0.5 * (start + end), SMOOTH))

    def split_at(self, segment: Segment, stage: int) -> float | None:
        (ua, _), (ub, _) = segment
        err, u = self.error(segment, stage)
        if err <= self.tolerance or ub - ua < self.min_segment_u:
            return None
        return u if ua + 0.1 * (ub - ua) < u < ub - 0.1 * (ub - ua) else 0.5 * (ua + ub)

    def hopeless(self, piece: Piece, stage: int) -> bool:
        trial = Piece(list(piece.runs), piece.closed, [list(inner) for inner in piece.inner])
        short = False
        while True:
            segments = [s for s in segments_of(trial, self.track) if s is not None]
            splits = [u for u in (self.split_at(s, stage) for s in segments) if u is not None]
            short = short or any(
                self.error(s, stage)[0] > self.tolerance and s[1][0] - s[0][0] < self.min_segment_u for s in segments
            )
            if trial.point_count + len(splits) > self.max_points and splits and not short:
                return True
            if not splits or trial.point_count >= self.max_points:
                return False
            if not all(trial.insert(u, lap=self.track.count) for u in splits):
                return False

    def select(self, piece: Piece, exact: bool) -> Failure:
        self.seed(piece)
        for stage in range(len(self.stages)):
            if not exact and self.hopeless(piece, stage):
                return HOPELESS
            while True:
                worst, worst_err = None, 0.0
                for seg in [s for s in segments_of(piece, self.track) if s is not None]:
                    if self.error(seg, stage)[0] > worst_err:
                        worst, worst_err = seg, self.error(seg, stage)[0]
                u = None if worst is None else self.split_at(worst, stage)
                if worst is None or u is None:
                    break
                if piece.point_count >= self.max_points:
                    return worst[0][0], worst[1][0]
                if not piece.insert(u, lap=self.track.count):
                    break
        self.merge(piece)
        return None

    def merged(self, piece: Piece, u: float) -> Segment | None:
        us, roles = piece.layout()
        i = us.index(u)
        n = len(us)
        before, after = (i - 1) % n, (i + 1) % n
        if roles[before] == END or roles[i] == END:
            return None
        ua = us[before] - (self.track.count if before > i else 0.0)
        ub = us[after] + (self.track.count if after < i else 0.0)
        return (ua, roles[before]), (ub, roles[after])

    def merge(self, piece: Piece) -> None:
        last = len(self.stages) - 1
        for u in sorted(u for inner in piece.inner for u, role in inner if role == SMOOTH):
            if piece.point_count <= 3:
                continue
            merged = self.merged(piece, u)
            if merged is not None and self.error(merged, last)[0] <= MERGE_FRACTION * self.tolerance:
                piece.remove(u)


def test_a_closed_piece_is_seeded_with_its_corners_and_quarter_points_clear_of_them() -> None:
    """Corners up to half the points; a closed piece then gets a point at each quarter of the loop that is more
    than 2 markers from the corners it had (12.5 lies 0.5 from the corner at 12 and is left out)."""
    runs = np.array([[0.0, 100.0]])
    run_of, u_of, kind_of = List.empty_list(types.int64), List.empty_list(types.float64), List.empty_list(types.int64)
    selection_kernel._seed(runs, True, run_of, u_of, kind_of, (100, 0, 0, np.array([12.0, 50.0, 80.0])), 2)
    assert list(u_of) == [12.0, 37.5, 62.5, 87.5]
    assert list(kind_of) == [point_end_kernel.CORNER] + 3 * [point_end_kernel.SMOOTH]
    open_runs = np.array([[10.0, 40.0], [60.0, 70.0]])
    run_of, u_of, kind_of = List.empty_list(types.int64), List.empty_list(types.float64), List.empty_list(types.int64)
    selection_kernel._seed(open_runs, False, run_of, u_of, kind_of, (100, 0, 0, np.array([10.5, 30.0, 90.0])), 12)
    # Open: corners more than one marker inside a run (10.5 is not, 90 is in none), then a point in each empty run.
    assert (list(run_of), list(u_of)) == ([0, 1], [30.0, 65.0])


def _outline(frame: int) -> np.ndarray:
    """A seven-armed star whose arm lengths and widths wobble from frame to frame (not a rigid motion)."""
    t = np.linspace(0.0, 2.0 * np.pi, 1400, endpoint=False)
    arms = 55.0 + 30.0 * np.cos(7 * t) ** 3 + 6.0 * np.sin(3 * t + 0.4 * frame)
    r = arms * (1.0 + 0.04 * np.sin(t + 0.3 * frame))
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _track() -> OutlineTrack:
    outlines = {}
    for f in FRAMES:
        mask = np.zeros(SIZE, bool)
        fill_polygon(mask, transform(_outline(f), (160.0 + 2.0 * f, 120.0 - f, 0.02 * f, 1.0)), True)
        outlines[f] = max(find_regions(mask, 20), key=lambda r: r.area).outer
    return OutlineTrack(outlines, 0, SIZE)


def _one_at_a_time(track: OutlineTrack, max_points: int, max_pieces: int) -> list[tuple[Piece, bool]]:
    """build_pieces' cutting with the plain rule's selection, every piece selected in full when its turn comes."""
    rule = _PlainRule(PieceFitter(track, TOLERANCE, max_points))
    necks = NeckFinder(track, max_points, SIZE)
    pending = [Piece([(0.0, float(track.count))], True)]
    done: list[tuple[Piece, bool]] = []
    while pending:
        piece = pending.pop()
        if rule.select(piece, exact=True) is None:
            done.append((piece, True))
            continue
        halves = None
        if len(done) + len(pending) + 2 <= max_pieces:
            halves = necks.split(Piece(list(piece.runs), piece.closed))
        if halves is None:
            done.append((piece, False))
        else:
            pending.extend(halves)
    return done


def _described(piece: Piece) -> tuple:
    us, roles = piece.layout()
    return piece.closed, tuple(piece.runs), tuple(us), tuple(roles), tuple(tuple(inner) for inner in piece.inner)


@pytest.mark.parametrize(("max_points", "max_pieces"), [(24, 16), (24, 4), (14, 16), (16, 6)])
def test_built_pieces_are_the_plain_rules(max_points: int, max_pieces: int) -> None:
    track = _track()
    built = build_pieces(track, TOLERANCE, max_points, max_pieces, SIZE)
    assert {origin for _, _, origin in built} == {0}
    got = [(_described(p), holds) for p, holds, _ in built]
    want = [(_described(p), holds) for p, holds in _one_at_a_time(track, max_points, max_pieces)]
    assert got == want
    assert all(p.point_count <= max_points for p, _, _ in built)
    # Pieces fail and are cut (the paths where a wrong verdict would show).
    assert len(built) > 1


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.parametrize(("sequence", "frames"), [("camel", 8), ("dog", 12)])
def test_every_selection_tracing_a_real_matte_is_the_plain_rules(
    sequence: str, frames: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DAVIS camel's and dog's real mattes: each piece the tracer selects, selected again by the plain rule from
    the same start, ends with the same points and verdict (dog: a piece whose stray segment is too short to split
    is kept, not given up)."""
    compiled = PieceFitter.select
    # Per fitter (kept alive here, so no later fitter takes its id), the plain rule with its own fits.
    rules: dict[int, tuple[PieceFitter, _PlainRule]] = {}
    verdicts = {"holds": 0, "strays": 0, "hopeless": 0, "runs > 1": 0, "exact": 0}

    def both_ways(self: PieceFitter, piece: Piece, exact: bool = False) -> Failure:
        start = Piece(list(piece.runs), piece.closed, [list(inner) for inner in piece.inner])
        got = compiled(self, piece, exact)
        _, rule = rules.setdefault(id(self), (self, _PlainRule(self)))
        want = rule.select(start, exact)
        assert got == want and (got is HOPELESS) == (want is HOPELESS)
        assert _described(piece) == _described(start)
        verdicts["holds" if got is None else "hopeless" if got is HOPELESS else "strays"] += 1
        verdicts["runs > 1"] += len(piece.runs) > 1
        verdicts["exact"] += exact
        return got

    monkeypatch.setattr(piece_fitter.PieceFitter, "select", both_ways)
    masks = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, frames - 1, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name=sequence)
    assert min(verdicts.values()) > 0, verdicts
