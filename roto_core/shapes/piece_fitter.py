"""Choosing a piece's points over all frames of a track: the fit is a constraint, not a report after it.

A piece is a list of runs of the outline (ranges of the track parameter ``u``) joined by straight chords; its
points are fixed ``u`` values, so one point count holds on every frame. Points are chosen on the reference frame,
then on every few frames, then on all: wherever a segment strays from that frame's edge by more than the fit
tolerance a point is added at the worst place (the worst segment first), then smooth points whose two segments
hold as one are dropped. The rule runs compiled, one call per piece (selection_kernel.py); this module holds the
pieces, the stages and the fits kept across pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import types
from numba.typed import Dict

from roto_core.shapes.fitting import NEWTON_STEPS
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.segment_fits import (
    CORNER_OFFSETS,
    CORNER_SEARCH_ARGS,
    CORNER_SLACK_PX,
    CORNER_SPAN_PX,
    END,
    FIT_STEP_PX,
    KINDS,
    MAX_RUN_SAMPLES,
    ONE_SIDED_PX,
    SMOOTH,
    START,
    TANGENT_PX,
    Segment,
)
from roto_core.shapes.selection_kernel import GIVEN_UP, HOLDS, select

MERGE_FRACTION = 0.8
SAMPLED_STRIDE = 4
# No segment shorter than MIN_SEGMENT_U marker spacings is split. On a clean matte (PieceFitter's ``by_thickness``),
# none shorter than this share of the object's thickness either (area over outline length on the track's reference
# frame), up to MAX_SEGMENT_U spacings: points closer together than that change a few pixels of the object's area,
# and where a segment still strays at that length its frames cannot hold however many points it gets. Split down to
# MIN_SEGMENT_U everywhere, a piece that could not hold over frames it may no longer be cut on spent its points on one
# place: DAVIS car-roundabout's ground truth, frames 37-45, 14 of a piece's 20 points within 60 px of each other (two
# on one spot) while one segment of 61 px spanned the bottom of a wheel, which the area guard then cut down to a
# shape of one frame. On a segmenter's jittery masks the same rule raised boil on rigid parts on 7 of 12 dev rows
# (scooter-black 0.83 -> 1.02 px) and lowered edge recall on 9 (camel 0.962 -> 0.933), so there it is not applied
# (bench/RESULTS.md, fortieth pass).
MIN_SEGMENT_THICKNESS = 0.05
MIN_SEGMENT_U = 0.05
MAX_SEGMENT_U = 0.4
# A segment's error over frames is its FRAME_QUANTILE, or its peak over OUTLIER_FACTOR where that is more: a few
# frames whose pixel staircase tilts the edge tangents by a few degrees would each cost a point that does not fix
# them; they may stray up to OUTLIER_FACTOR times the tolerance.
FRAME_QUANTILE = 0.9
OUTLIER_FACTOR = 1.4

# A failed selection's segment (None: the piece holds).
Failure = tuple[float, float] | None
# A selection given up early: the piece cannot hold (selection_kernel._hopeless).
HOPELESS: Failure = (float("nan"), float("nan"))
_ROLES = {kind: role for role, kind in KINDS.items()}
# The typed dictionaries of fits (segment and stage: robust error, worst place) and of point ends (parameter, kind
# and stage: tips, incoming and outgoing directions).
_FIT_KEY = types.Tuple((types.float64, types.int64, types.float64, types.int64, types.int64))
_FIT = types.UniTuple(types.float64, 2)
_END_KEY = types.Tuple((types.float64, types.int64, types.int64))
_END = types.UniTuple(types.float64[:, ::1], 3)


@dataclass(eq=False)
class Piece:
    """Runs ``(u_start, u_end)`` (unwrapped, end > start) joined by chords; ``closed`` is one run round the loop.
    Pieces compare and hash by identity: the selection keeps its outcomes per piece object."""

    runs: list[tuple[float, float]]
    closed: bool
    inner: list[list[tuple[float, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.inner:
            self.inner = [[] for _ in self.runs]

    def layout(self) -> tuple[list[float], list[str]]:
        """Point parameters in boundary order and their roles (plain lists: the selection lays a piece out tens
        of thousands of times a shot, a few points each)."""
        us: list[float] = []
        roles: list[str] = []
        for (start, end), inner in zip(self.runs, self.inner, strict=True):
            if not self.closed:
                us.append(float(start))
                roles.append(START)
            for u, role in sorted(inner):
                us.append(float(u))
                roles.append(role)
            if not self.closed:
                us.append(float(end))
                roles.append(END)
        return us, roles

    def insert(self, u: float, role: str = SMOOTH, lap: float = 0.0) -> bool:
        """Add a point at ``u`` (or ``u ± lap``, the same place one loop round) inside a run."""
        for (start, end), inner in zip(self.runs, self.inner, strict=True):
            for v in (u, u - lap, u + lap):
                inside = start <= v < end if self.closed else start < v < end
                if inside and all(v != w for w, _ in inner):
                    inner.append((v, role))
                    return True
        return False

    def remove(self, u: float) -> None:
        for inner in self.inner:
            inner[:] = [p for p in inner if p[0] != u]

    @property
    def point_count(self) -> int:
        return sum(len(i) for i in self.inner) + (0 if self.closed else 2 * len(self.runs))


def segments_of(piece: Piece, track: OutlineTrack) -> list[Segment | None]:
    """Per point, the outline segment it starts (None for a chord)."""
    us, roles = piece.layout()
    last = len(us) - 1
    out: list[Segment | None] = []
    for i, (u, role) in enumerate(zip(us, roles, strict=True)):
        if role == END:
            out.append(None)
        elif i < last:
            out.append(((u, role), (us[i + 1], roles[i + 1])))
        else:
            out.append(((u, role), (us[0] + track.count, roles[0])))
    return out


class PieceFitter:
    """Chooses the points of pieces over all frames of one track, caching each segment's worst error."""

    def __init__(self, track: OutlineTrack, tolerance: float, max_points: int, by_thickness: bool = False) -> None:
        """``by_thickness``: a clean matte's track, whose shortest segment split grows with the object's thickness
        (see MIN_SEGMENT_THICKNESS)."""
        self.track = track
        self.tolerance = tolerance
        self.max_points = max_points
        self.min_segment_u = MIN_SEGMENT_U
        if by_thickness:
            reference = track.loops[track.ref]
            thickness = reference.outline.area / max(reference.outline.length, 1e-9)
            shortest = MIN_SEGMENT_THICKNESS * thickness / (reference.length / track.count)
            self.min_segment_u = float(np.clip(shortest, MIN_SEGMENT_U, MAX_SEGMENT_U))
        frames = len(track.frames)
        ref_row = np.array([track.frames.index(track.ref)])
        sampled = np.unique(np.append(np.arange(0, frames, SAMPLED_STRIDE), [frames - 1, ref_row[0]]))
        # Points are first chosen on the reference frame, then on every few frames, then on all: most points
        # are settled by the cheap passes, and a piece that needs cutting is found on the first.
        self.stages = (track.every_row[ref_row], track.every_row[sampled], track.every_row)
        # Each segment's robust worst error and its place, and each point's ends, per stage: a segment is tried
        # in many pieces, a point ends two segments (selection_kernel.py).
        self.fits = Dict.empty(_FIT_KEY, _FIT)
        self.ends = Dict.empty(_END_KEY, _END)
        self._track = (track.count, track.markers_packed, track.packed, np.ascontiguousarray(track.corners, np.float64))
        slack = int(np.ceil(CORNER_SLACK_PX / FIT_STEP_PX)) + 1
        self._fitting = (
            FIT_STEP_PX,
            MAX_RUN_SAMPLES,
            slack,
            NEWTON_STEPS,
            TANGENT_PX,
            ONE_SIDED_PX,
            CORNER_SEARCH_ARGS,
            CORNER_OFFSETS,
            2 * CORNER_SPAN_PX,
        )
        self._limits = (
            float(tolerance),
            int(max_points),
            self.min_segment_u,
            MERGE_FRACTION,
            (FRAME_QUANTILE, OUTLIER_FACTOR),
        )

    def select(self, piece: Piece, exact: bool = False) -> Failure:
        """Add points to ``piece`` until every frame holds within the tolerance, then drop the smooth points
        whose segments hold as one (selection_kernel.select, one compiled call). Returns None when it holds,
        else the segment ``(ua, ub)`` that still strays when ``max_points`` is not enough. Unless ``exact``, a
        piece sure to fail returns HOPELESS at once: a piece that is then cut needs nothing more, one that is kept
        is selected again, exactly."""
        given = [(r, u, KINDS[role]) for r, inner in enumerate(piece.inner) for u, role in inner]
        status, fail_a, fail_b, run_of, u_of, kind_of = select(
            np.array(piece.runs, dtype=np.float64).reshape(-1, 2),
            piece.closed,
            (
                np.array([r for r, _, _ in given], dtype=np.int64),
                np.array([u for _, u, _ in given], dtype=np.float64),
                np.array([k for _, _, k in given], dtype=np.int64),
            ),
            exact,
            self.stages,
            self._track,
            self.fits,
            self.ends,
            self._fitting,
            self._limits,
        )
        piece.inner = [[] for _ in piece.runs]
        for r, u, kind in zip(run_of.tolist(), u_of.tolist(), kind_of.tolist(), strict=True):
            piece.inner[r].append((u, _ROLES[kind]))
        if status == HOLDS:
            return None
        return HOPELESS if status == GIVEN_UP else (fail_a, fail_b)
