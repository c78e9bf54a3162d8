"""Choosing a piece's points over all frames of a track: the fit is a constraint, not a report after it.

A piece is a list of runs of the outline (ranges of the track parameter ``u``) joined by straight chords; its
points are fixed ``u`` values, so one point count holds on every frame. Points are chosen on the reference frame,
then on every few frames, then on all: wherever a segment strays from that frame's edge by more than the fit
tolerance a point is added at the worst place (the worst segment first), then smooth points whose two segments
hold as one are dropped. ``select_all`` runs the selections of many pieces side by side so their fits share
batches (segment_fits.py), and fits a whole level of splits ahead; the decisions are those of the plain rule,
one piece and one point at a time (tests/shapes/test_speed_pieces.py; bar the rare case in ``_prefetch``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from roto_core.shapes.outline_track import OutlineTrack, Rows
from roto_core.shapes.segment_fits import CORNER, END, SMOOTH, START, End, Point, Segment, fit_runs, point_ends

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
FRAME_QUANTILE = 0.9
OUTLIER_FACTOR = 1.4

# A fit the selection asks for (stage, segments), and a failed selection's segment (None: the piece holds).
Request = tuple[int, list[Segment]]
Failure = tuple[float, float] | None
# A selection given up early: the piece cannot hold (see PieceFitter._prefetch).
HOPELESS: Failure = (float("nan"), float("nan"))


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


def row_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(values, q, axis=1)`` (linear, the same arithmetic) by one sort: np.quantile's own checks
    cost more than the sort of a few dozen frames, and the selection asks hundreds of times."""
    count = values.shape[1]
    ordered = np.sort(values, axis=1)
    virtual = (count - 1) * q
    below = min(int(np.floor(virtual)), count - 1)
    a, b = ordered[:, below], ordered[:, min(below + 1, count - 1)]
    gamma = virtual - below
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


class PieceFitter:
    """Chooses the points of pieces over all frames of one track, caching each segment's worst error."""

    def __init__(self, track: OutlineTrack, tolerance: float, max_points: int, by_thickness: bool = False) -> None:
        """``by_thickness``: a clean matte's track, whose shortest segment split grows with the object's thickness
        (see MIN_SEGMENT_THICKNESS)."""
        self.track = track
        self.tolerance = tolerance
        self.max_points = max_points
        self.cache: dict[tuple, tuple[float, float]] = {}
        self.min_segment_u = MIN_SEGMENT_U
        if by_thickness:
            reference = track.loops[track.ref]
            thickness = reference.outline.area / max(reference.outline.length, 1e-9)
            shortest = MIN_SEGMENT_THICKNESS * thickness / (reference.length / track.count)
            self.min_segment_u = float(np.clip(shortest, MIN_SEGMENT_U, MAX_SEGMENT_U))
        self.end_cache: dict[tuple[float, str, int], End] = {}
        frames = len(track.frames)
        ref_row = np.array([track.frames.index(track.ref)])
        sampled = np.unique(np.append(np.arange(0, frames, SAMPLED_STRIDE), [frames - 1, ref_row[0]]))
        # Points are first chosen on the reference frame, then on every few frames, then on all: most points
        # are settled by the cheap passes, and a piece that needs cutting is found on the first.
        self.stages: list[Rows] = [ref_row, sampled, None]

    def fit_missing(self, segments: list[Segment], stage: int) -> None:
        """Worst error (robust over frames) and its place for each segment not yet fitted at ``stage``."""
        missing = list(dict.fromkeys(s for s in segments if (*s, stage) not in self.cache))
        if not missing:
            return
        fits = fit_runs(self.track, missing, self.stages[stage], lambda points: self._ends(points, stage))
        err = np.stack([f[2] for f in fits])
        worst = np.argmax(err, axis=1)
        peak = err[np.arange(len(err)), worst]
        # A few frames whose pixel staircase tilts the edge tangents by a few degrees would each cost a point
        # that does not fix them; they may stray up to twice the tolerance.
        robust = np.maximum(row_quantile(err, FRAME_QUANTILE), peak / OUTLIER_FACTOR)
        for k, seg in enumerate(missing):
            self.cache[(*seg, stage)] = (float(robust[k]), float(fits[k][3][worst[k]]))

    def _ends(self, points: list[Point], stage: int) -> list[End]:
        missing = list(dict.fromkeys(p for p in points if (*p, stage) not in self.end_cache))
        if missing:
            for p, end in zip(missing, point_ends(self.track, missing, self.stages[stage]), strict=True):
                self.end_cache[(*p, stage)] = end
        return [self.end_cache[(*p, stage)] for p in points]

    def _need(self, segments: list[Segment], stage: int) -> Iterator[Request]:
        """Asks the driver (``select_all``) for the fits of ``segments`` not cached yet."""
        missing = [s for s in segments if (*s, stage) not in self.cache]
        if missing:
            yield stage, missing

    def _seed(self, piece: Piece) -> None:
        # Run ends and one point per run are needed anyway; corners take at most half of what is left.
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

    def _split_at(self, segment: Segment, stage: int) -> float | None:
        """Where ``segment`` gets a new point, or None when it holds (or is too short to split)."""
        (ua, _), (ub, _) = segment
        err, u = self.cache[(*segment, stage)]
        if err <= self.tolerance or ub - ua < self.min_segment_u:
            return None
        # Not at an end (a segment whose end tangent is off peaks there): then split it in the middle.
        return u if ua + 0.1 * (ub - ua) < u < ub - 0.1 * (ub - ua) else 0.5 * (ua + ub)

    def _prefetch(self, piece: Piece, stage: int) -> Generator[Request, None, bool]:
        """Asks, a level at a time, for the segments the selection will need: on a copy of ``piece``, every
        segment that strays is split at once (the selection splits them one by one, worst first, but each split
        depends on its own segment only). One batch per level instead of one per point.

        Returns True when the piece cannot hold at this stage: the selection would have to split every segment
        that strays here, and they are more than ``max_points`` leaves room for. (Unless a stray segment too
        short to split turns up deeper and becomes the worst: then the selection would stop there, keeping the
        piece. None is short here; the rare piece that would have been kept deeper is cut instead.)"""
        trial = Piece(list(piece.runs), piece.closed, [list(inner) for inner in piece.inner])
        short = False
        while True:
            segments = [s for s in segments_of(trial, self.track) if s is not None]
            yield from self._need(segments, stage)
            splits = [u for u in (self._split_at(s, stage) for s in segments) if u is not None]
            short = short or any(
                self.cache[(*s, stage)][0] > self.tolerance and s[1][0] - s[0][0] < self.min_segment_u for s in segments
            )
            if trial.point_count + len(splits) > self.max_points and splits and not short:
                return True
            if not splits or trial.point_count >= self.max_points:
                return False
            if not all(trial.insert(u, lap=self.track.count) for u in splits):
                return False

    def _selection(self, piece: Piece, exact: bool) -> Generator[Request, None, Failure]:
        """Add points until every frame holds within the tolerance; returns None, or the segment ``(ua, ub)``
        that still strays when ``max_points`` is not enough. Yields the fits it needs (see ``select_all``).
        Unless ``exact``, a piece sure to fail (see ``_prefetch``) returns HOPELESS at once: a piece that is
        then cut needs nothing more, one that is kept is selected again, exactly."""
        self._seed(piece)
        for stage in range(len(self.stages)):
            hopeless = yield from self._prefetch(piece, stage)
            if hopeless and not exact:
                return HOPELESS
            while True:
                segments = [s for s in segments_of(piece, self.track) if s is not None]
                yield from self._need(segments, stage)
                worst, worst_err = None, 0.0
                for seg in segments:
                    if self.cache[(*seg, stage)][0] > worst_err:
                        worst, worst_err = seg, self.cache[(*seg, stage)][0]
                u = None if worst is None else self._split_at(worst, stage)
                if worst is None or u is None:
                    break
                if piece.point_count >= self.max_points:
                    return worst[0][0], worst[1][0]
                if not piece.insert(u, lap=self.track.count):
                    break
        yield from self._merge(piece)
        return None

    def select_all(
        self, pieces: list[Piece], exact: bool = False, then: Callable[[Piece, Failure], list[Piece]] | None = None
    ) -> list[Failure]:
        """``_selection`` of every piece, run side by side: the fits all of them ask for at one step are done
        in one batch per stage (numpy's per-call cost, not the arithmetic, dominates the selection). ``then``
        is told each outcome as it comes and may give more pieces to select alongside (their outcomes are not
        returned)."""
        runs = [self._selection(p, exact) for p in pieces]
        owners = list(pieces)
        results: list[Failure] = [None] * len(pieces)
        requests: dict[int, Request] = {}

        def advance(i: int) -> None:
            try:
                requests[i] = next(runs[i])
            except StopIteration as stop:
                requests.pop(i, None)
                if i < len(results):
                    results[i] = stop.value
                for more in then(owners[i], stop.value) if then is not None else []:
                    owners.append(more)
                    runs.append(self._selection(more, exact))
                    advance(len(runs) - 1)

        for i in range(len(runs)):
            advance(i)
        while requests:
            # The earliest stage first: the others wait for it, so one batch serves many pieces.
            stage = min(r[0] for r in requests.values())
            ready = [i for i, r in requests.items() if r[0] == stage]
            self.fit_missing([s for i in ready for s in requests[i][1]], stage)
            for i in ready:
                advance(i)
        return results

    def _merged(self, piece: Piece, u: float) -> Segment | None:
        """The segment that replaces the two either side of smooth point ``u`` (None where one is a chord)."""
        us, roles = piece.layout()
        i = us.index(u)
        n = len(us)
        before, after = (i - 1) % n, (i + 1) % n
        if roles[before] == END or roles[i] == END:
            return None
        ua = us[before] - (self.track.count if before > i else 0.0)
        ub = us[after] + (self.track.count if after < i else 0.0)
        return (ua, roles[before]), (ub, roles[after])

    def _merge(self, piece: Piece) -> Iterator[Request]:
        """Drop smooth points whose two segments hold as one on every frame."""
        stage = len(self.stages) - 1
        smooth = sorted(u for inner in piece.inner for u, role in inner if role == SMOOTH)
        # Fitted together up front; after a point is dropped its next neighbour's merged segment is fitted anew.
        yield from self._need([s for s in (self._merged(piece, u) for u in smooth) if s is not None], stage)
        for u in smooth:
            if piece.point_count <= 3:
                continue
            merged = self._merged(piece, u)
            if merged is None:
                continue
            yield from self._need([merged], stage)
            err, _ = self.cache[(*merged, stage)]
            if err <= MERGE_FRACTION * self.tolerance:
                piece.remove(u)
