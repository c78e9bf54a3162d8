"""Articulated shapes: a component's outline split into overlapping simple pieces, each with few fixed points.

A piece is a list of runs of the outline (ranges of the track parameter ``u``, see outline_track.py) joined by
straight chords across the object; the whole outline is one closed run. A piece's points are fixed ``u`` values
(the ends of every run among them), so one point count holds on every frame. Points are chosen as a
constraint over all frames (piece_fitter.py): wherever a segment strays from that frame's edge by more than the
fit tolerance a point is added at the worst place, then points whose removal keeps every frame within tolerance
are dropped. When an outline needs more than ``max_points``, the piece is cut along its narrowest neck that
stays inside the matte on every frame (necks.py) into two pieces that share the chord — the way a roto artist
draws a limb as its own shape — and each piece is fitted again.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.model import LEFT, POINT, RIGHT, bernstein, bezier_points
from roto_core.shapes.nearest import hausdorff
from roto_core.shapes.necks import NeckFinder
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import HOPELESS, Piece, PieceFitter, segments_of
from roto_core.shapes.segment_fits import (
    CORNER,
    CORNER_SLACK_PX,
    END,
    FIT_STEP_PX,
    SMOOTH,
    START,
    End,
    Fit,
    Segment,
    corner_arc,
    fit_runs,
    point_end,
    point_ends,
    tangents,
)

# The names this module had before the selection and the fits moved out (keys.py and others import them here).
__all__ = [
    "CORNER",
    "CORNER_SLACK_PX",
    "END",
    "FIT_STEP_PX",
    "SMOOTH",
    "START",
    "End",
    "Fit",
    "Piece",
    "PieceFitter",
    "Segment",
    "build_pieces",
    "chord_mask",
    "corner_arc",
    "corner_flags",
    "fit_runs",
    "piece_controls",
    "point_end",
    "tangents",
]


def build_pieces(
    track: OutlineTrack,
    tolerance: float,
    max_points: int,
    max_pieces: int,
    size: tuple[int, int],
    starts: list[Piece] | None = None,
    can_cut: bool = False,
    by_thickness: bool = False,
) -> list[tuple[Piece, bool, int]]:
    """Pieces that together cover ``starts`` (by default the whole outline), each with at most ``max_points``
    points, and for each whether it holds within ``tolerance`` on every frame and which of ``starts`` it is part of.

    Pieces are taken one at a time (a piece that fails is cut in two, up to ``max_pieces``). A piece sure to fail
    is given up early (selection_kernel._hopeless); one that is then not cut is selected again in full, unless
    ``can_cut``: the caller fits a piece that does not hold again over parts of the frames (trace._placed), so its
    points need not be chosen in full. A piece is cut only along a neck inside the matte on every frame
    (NeckFinder). ``by_thickness``: a clean matte's track (PieceFitter)."""
    fitter = PieceFitter(track, tolerance, max_points, by_thickness)
    necks = NeckFinder(track, max_points, size)
    pending = list(starts or [Piece([(0.0, float(track.count))], True)])
    origin = {id(p): k for k, p in enumerate(pending)}
    done: list[tuple[Piece, bool, int]] = []
    while pending:
        piece = pending.pop()
        failed = fitter.select(piece)
        if failed is None:
            done.append((piece, True, origin[id(piece)]))
            continue
        halves = None
        if len(done) + len(pending) + 2 <= max_pieces:
            halves = necks.split(Piece(list(piece.runs), piece.closed))
        if halves is None:
            if failed is HOPELESS and not can_cut:
                # Kept after all: its points are chosen in full.
                kept = Piece(list(piece.runs), piece.closed)
                origin[id(kept)] = origin[id(piece)]
                piece = kept
                failed = fitter.select(piece, exact=True)
            done.append((piece, failed is None, origin[id(piece)]))
        else:
            origin.update({id(h): origin[id(piece)] for h in halves})
            pending.extend(halves)
    return done


def piece_controls(piece: Piece, track: OutlineTrack, straight_beyond: float) -> np.ndarray:
    """Control points ``(F, N, 3, 2)`` of ``piece`` fitted on every frame.

    On a frame where a segment cannot follow its stretch of edge (a piece that could not hold: more edge than
    points), a curve with the edge's end tangents can loop far outside the object; there (error beyond
    ``straight_beyond`` pixels) the segment is a straight line between its two points on the edge instead, where
    that line is the closer to the edge.
    """
    us, roles = piece.layout()
    n = len(us)
    points = [(float(u), role) for u, role in zip(us, roles, strict=True)]
    # A corner's tip stays between its neighbours on every frame (the selection fitted corners on their own).
    beside = [
        (
            float(us[i - 1]) - (track.count if i == 0 else 0.0),
            float(us[(i + 1) % n]) + (track.count if i == n - 1 else 0.0),
        )
        for i in range(n)
    ]
    ends = point_ends(track, points, None, beside)
    table = {p: e for p, e in zip(points, ends, strict=True)}
    table.update({(u + track.count, role): e for (u, role), e in zip(points, ends, strict=True)})
    ctrl = np.zeros((len(track.frames), n, 3, 2))
    # A point on the edge sits where its marker parameter falls on each frame (all such points in one lookup).
    edge_points = [i for i, (tip, _, _) in enumerate(ends) if tip is None]
    if edge_points:
        ctrl[:, edge_points, POINT] = track.at_all(track.arc_all(np.asarray(us, dtype=np.float64)[edge_points]))
    for i, (tip, _, _) in enumerate(ends):
        if tip is not None:
            ctrl[:, i, POINT] = tip
    segments = segments_of(piece, track)
    on_edge = [s for s in segments if s is not None]
    fits = iter(fit_runs(track, on_edge, ends=lambda wanted: [table[p] for p in wanted]) if on_edge else [])
    for i, seg in enumerate(segments):
        j = (i + 1) % n
        if seg is None:
            chord = ctrl[:, j, POINT] - ctrl[:, i, POINT]
            ctrl[:, i, RIGHT], ctrl[:, j, LEFT] = chord / 3.0, -chord / 3.0
        else:
            out_handle, in_handle, err, _ = next(fits)
            chord = (ctrl[:, j, POINT] - ctrl[:, i, POINT]) / 3.0
            lost = err > straight_beyond
            for f in np.flatnonzero(lost):
                a, b = ctrl[f, i, POINT], ctrl[f, j, POINT]
                lost[f] = _straight_is_closer(track, seg, f, np.stack([a, a + out_handle[f], b + in_handle[f], b]))
            ctrl[:, i, RIGHT] = np.where(lost[:, None], chord, out_handle)
            ctrl[:, j, LEFT] = np.where(lost[:, None], -chord, in_handle)
    return ctrl


def _straight_is_closer(track: OutlineTrack, segment: Segment, row: int, curve: np.ndarray) -> bool:
    """Whether the straight line between the segment's ends is closer to its edge on frame ``row`` than the
    curve ``(4, 2)`` that cannot follow it, both ways round (the edge's furthest place from the line or curve,
    the line's or curve's furthest place from the edge): the line is the fallback for a curve that loops outside
    the object, not for one that follows a bulge the line would cut off (DAVIS paragliding-launch: a body
    piece's curve that missed the head by a few pixels was replaced by a line across the neck)."""
    frame = track.frames[row]
    (ua, _), (ub, _) = segment
    s0, s1 = (float(x) for x in track.arc(frame, np.array([ua, ub])))
    edge = track.loops[frame].samples(s0, max(s1, s0 + 1e-6), FIT_STEP_PX)
    a, b = curve[0], curve[3]
    line = np.stack([a, a + (b - a) / 3.0, b - (b - a) / 3.0, b])
    weights = bernstein(max(len(edge), 2))
    drawn = [np.vstack((bezier_points(weights, c), c[3])) for c in (line, curve)]
    line_off, curve_off = (hausdorff(edge, d) for d in drawn)
    return line_off < curve_off


def corner_flags(piece: Piece) -> np.ndarray:
    _, roles = piece.layout()
    return np.array([r != SMOOTH for r in roles])


def chord_mask(piece: Piece) -> np.ndarray:
    """Per segment (starting at each point): True where the segment is a chord, not on the outline."""
    _, roles = piece.layout()
    return np.array([r == END for r in roles])
