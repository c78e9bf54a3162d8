"""Articulated shapes: a component's outline split into overlapping simple pieces, each with few fixed points.

A piece is a list of runs of the outline (ranges of the track parameter ``u``, see outline_track.py) joined by
straight chords across the object; the whole outline is one closed run. A piece's points are fixed ``u`` values
(the ends of every run among them), so one point count holds on every frame. Points are chosen as a
constraint over all frames: wherever a segment strays from that frame's edge by more than the fit tolerance a
point is added at the worst place, then points whose removal keeps every frame within tolerance are dropped.
When an outline needs more than ``max_points``, the piece is cut along its narrowest neck that stays inside
the matte on every frame (a swan's neck, a rider's leg) into two pieces that share the chord — the way a roto
artist draws a limb as its own shape — and each piece is fitted again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from roto_core.shapes.fitting import corner_indices, fit_segments
from roto_core.shapes.model import LEFT, POINT, RIGHT, fill_polygon
from roto_core.shapes.outline_track import OutlineTrack, Rows

FIT_STEP_PX = 2.0
TANGENT_PX = 16.0
ONE_SIDED_PX = 4.0
CORNER_GAP_PX = 2.0
CORNER_SPAN_PX = 5.0
# Tangents either side of a corner are read over a longer stretch: a few degrees off on a long straight side
# bulge the curve by more than the tolerance.
CORNER_TANGENT_PX = 10.0
# Next to a sharpened corner the curve stands off the mask's rounded edge by design: errors there do not count.
CORNER_SLACK_PX = 2.5
CORNER_SEARCH = np.arange(-CORNER_SPAN_PX, CORNER_SPAN_PX + 0.5, 1.0)
MERGE_FRACTION = 0.8
MIN_PART = 0.12
CHORD_CANDIDATES = 60
CHORD_SAMPLES = np.linspace(0.1, 0.9, 9)
CHECK_FRAMES = 12
MAX_CANDIDATE_MARKERS = 160
MAX_RUN_SAMPLES = 400
SAMPLED_STRIDE = 4
MIN_SEGMENT_U = 0.05
FRAME_QUANTILE = 0.9
OUTLIER_FACTOR = 1.4
# A piece cut again must keep this many points free beyond its run ends and one point per run.
MIN_FREE_POINTS = 6

SMOOTH, CORNER, START, END = "smooth", "corner", "start", "end"


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

    def layout(self) -> tuple[np.ndarray, list[str]]:
        """Point parameters in boundary order and their roles."""
        us: list[float] = []
        roles: list[str] = []
        for (start, end), inner in zip(self.runs, self.inner, strict=True):
            if not self.closed:
                us.append(start)
                roles.append(START)
            for u, role in sorted(inner):
                us.append(u)
                roles.append(role)
            if not self.closed:
                us.append(end)
                roles.append(END)
        return np.asarray(us), roles

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


def corner_arc(track: OutlineTrack, u: np.ndarray | float, rows: Rows = None) -> np.ndarray:
    """Arc lengths ``(F, *u.shape)`` of the sharpest turn of the edge within CORNER_SPAN_PX of each ``u`` on each
    frame: the parameter carries a corner close to its tip, this puts it on the tip."""
    u = np.asarray(u, dtype=np.float64)
    base = track.arc_all(u.reshape(-1), rows)
    frames, count = base.shape
    s = base[:, :, None] + CORNER_SEARCH
    flat = s.reshape(frames, -1)
    # One lookup for the three places of every candidate.
    pts = track.at_all(np.concatenate((flat - CORNER_SPAN_PX, flat, flat + CORNER_SPAN_PX), axis=1), rows)
    before, here, after = pts.reshape(frames, 3, count, len(CORNER_SEARCH), 2).transpose(1, 0, 2, 3, 4)
    a, b = here - before, after - here
    cosine = np.sum(a * b, axis=3) / np.maximum(np.linalg.norm(a, axis=3) * np.linalg.norm(b, axis=3), 1e-9)
    best = np.take_along_axis(s, np.argmin(cosine, axis=2)[:, :, None], axis=2)[:, :, 0]
    return best.reshape((frames, *u.shape))


End = tuple[np.ndarray | None, np.ndarray, np.ndarray]
Point = tuple[float, str]
# Tangent chord (before, after) of a point on the edge by role: run ends read only their outline side.
_SIDES = {START: (0.0, ONE_SIDED_PX), END: (ONE_SIDED_PX, 0.0)}
# The tip of a corner and the four chord ends of both its tangents.
_CORNER_OFFSETS = np.array(
    [0.0, -CORNER_GAP_PX - CORNER_TANGENT_PX, -CORNER_GAP_PX, CORNER_GAP_PX, CORNER_GAP_PX + CORNER_TANGENT_PX]
)


def point_ends(track: OutlineTrack, points: list[Point], rows: Rows = None) -> list[End]:
    """Per point ``(u, role)``, what a segment needs of its end on every frame: the position ``(F, 2)`` for a
    corner (None otherwise: the edge itself) and the (incoming, outgoing) unit directions ``(F, 2)``. A corner's
    tip is found once and serves both. All points are looked up together (one lookup per kind of point: the
    selection asks for a few new points at a time, and numpy's per-call cost outweighs the arithmetic)."""
    out: list[End] = [(None, np.zeros(0), np.zeros(0))] * len(points)
    smooth = [i for i, (_, role) in enumerate(points) if role != CORNER]
    if smooth:
        sides = np.array([_SIDES.get(points[i][1], (TANGENT_PX, TANGENT_PX)) for i in smooth])
        s = track.arc_all(np.array([points[i][0] for i in smooth]), rows)
        pts = track.at_all(np.concatenate((s - sides[:, 0], s + sides[:, 1]), axis=1), rows)
        chord = pts[:, len(smooth) :] - pts[:, : len(smooth)]
        norm = np.linalg.norm(chord, axis=-1, keepdims=True)
        t = np.divide(chord, norm, out=np.zeros_like(chord), where=norm > 1e-12)
        for k, i in enumerate(smooth):
            out[i] = (None, t[:, k], t[:, k])
    corners = [i for i, (_, role) in enumerate(points) if role == CORNER]
    if corners:
        s = corner_arc(track, np.array([points[i][0] for i in corners]), rows)
        frames, count = s.shape
        pts = track.at_all((s[:, :, None] + _CORNER_OFFSETS).reshape(frames, -1), rows)
        pts = pts.reshape(frames, count, len(_CORNER_OFFSETS), 2)
        point, a, b = pts[:, :, 0], pts[:, :, 2], pts[:, :, 3]
        t_in, t_out = _unit(a - pts[:, :, 1]), _unit(pts[:, :, 4] - b)
        cross = t_in[..., 0] * t_out[..., 1] - t_in[..., 1] * t_out[..., 0]
        diff = b - a
        along = (diff[..., 0] * t_out[..., 1] - diff[..., 1] * t_out[..., 0]) / np.where(
            np.abs(cross) < 0.2, 1.0, cross
        )
        tip = a + along[..., None] * t_in
        sharp = (np.abs(cross) >= 0.2) & (np.linalg.norm(tip - point, axis=-1) <= 2 * CORNER_SPAN_PX)
        tip = np.where(sharp[..., None], tip, point)
        for k, i in enumerate(corners):
            out[i] = (tip[:, k], t_in[:, k], t_out[:, k])
    return out


def point_end(track: OutlineTrack, u: float, role: str, rows: Rows = None) -> End:
    """``point_ends`` of one point."""
    return point_ends(track, [(u, role)], rows)[0]


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.hypot(v[..., 0], v[..., 1])[..., None]
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def tangents(track: OutlineTrack, u: float, role: str, rows: Rows = None) -> tuple[np.ndarray, np.ndarray]:
    """(incoming, outgoing) unit directions ``(F, 2)`` of the edge at ``u`` on every frame; the chord side of
    a run end is not used."""
    _, t_in, t_out = point_end(track, u, role, rows)
    return t_in, t_out


def anchors(track: OutlineTrack, u: float, role: str, rows: Rows = None) -> np.ndarray:
    """Positions ``(F, 2)`` of the point at ``u``: on the edge, or for a corner where the straight runs either
    side of it meet (the mask's pixels and the edge smoothing round a real tip off)."""
    if role != CORNER:
        return track.at_all(track.arc_all(np.asarray(u), rows)[:, None], rows)[:, 0]
    tip, _, _ = point_end(track, u, role, rows)
    assert tip is not None
    return tip


Segment = tuple[Point, Point]
Fit = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Ends = Callable[[list[Point]], list[End]]
# A fit the selection asks for (stage, segments), and a failed selection's segment (None: the piece holds).
Request = tuple[int, list[Segment]]
Failure = tuple[float, float] | None
# A selection given up early: the piece cannot hold (see PieceFitter._prefetch).
HOPELESS: Failure = (float("nan"), float("nan"))
# Padding (samples x frames) worth one more batch: a fit_segments call costs about what this many samples do.
GROUP_WASTE = 2000


def _width_groups(counts: np.ndarray, frames: int) -> list[np.ndarray]:
    """Segments grouped by sample count so a batch pads little: runs range from a few samples to hundreds."""
    order = np.argsort(counts, kind="stable")
    groups: list[list[int]] = []
    total = 0
    for k in order.tolist():
        c = int(counts[k])
        if groups and (c * (len(groups[-1]) + 1) - total - c) * frames <= GROUP_WASTE:
            groups[-1].append(k)
            total += c
        else:
            groups.append([k])
            total = c
    return [np.array(g) for g in groups]


def fit_runs(track: OutlineTrack, segments: list[Segment], rows: Rows = None, ends: Ends | None = None) -> list[Fit]:
    """Per segment ``(a, b)``, the bezier from point ``a`` to ``b`` along the edge on every frame: out handles
    ``(F, 2)``, in handles ``(F, 2)``, worst distances ``(F,)`` and the parameter of each frame's worst sample
    ``(F,)``. Segments are fitted in a few batches of similar length. ``ends`` gives ``point_ends`` of points for
    these rows (a cache: a point ends two segments and is tried in many)."""
    end_of = ends or (lambda points: point_ends(track, points, rows))
    n = len(segments)
    spans = track.arc_all(np.array([u for (ua, _), (ub, _) in segments for u in (ua, ub)]), rows)
    start, extent = spans[:, 0::2], spans[:, 1::2] - spans[:, 0::2]
    counts = np.clip(np.ceil(extent.max(axis=0) / FIT_STEP_PX), 1, MAX_RUN_SAMPLES).astype(np.int64) + 1
    point_end_of = end_of([p for seg in segments for p in seg])
    out: list[Fit] = [None] * n  # type: ignore[list-item]
    for group in _width_groups(counts, len(spans)):
        fits = _fit_group(
            track,
            [segments[k] for k in group],
            rows,
            start[:, group],
            extent[:, group],
            counts[group],
            [(point_end_of[2 * k], point_end_of[2 * k + 1]) for k in group],
        )
        for k, fit in zip(group.tolist(), fits, strict=True):
            out[k] = fit
    return out


def _fit_group(
    track: OutlineTrack,
    segments: list[Segment],
    rows: Rows,
    start: np.ndarray,
    extent: np.ndarray,
    counts: np.ndarray,
    ends: list[tuple[End, End]],
) -> list[Fit]:
    """``fit_runs`` of one batch: arc starts and extents ``(F, n)``, sample counts ``(n,)``, both ends' End."""
    slack = int(np.ceil(CORNER_SLACK_PX / FIT_STEP_PX)) + 1
    n = len(segments)
    width = int(counts.max())
    frames = len(start)
    # Arc lengths of every segment's samples, each padded to ``width`` by repeating its last one; one lookup.
    # (k * step, the last one exactly 1: what np.linspace(0, 1, count) gives, for all segments at once.)
    fraction = np.minimum(np.arange(width)[None, :] * (1.0 / (counts[:, None] - 1)), 1.0)
    fraction[np.arange(width)[None, :] >= counts[:, None] - 1] = 1.0
    s = start.T[:, :, None] + extent.T[:, :, None] * fraction[:, None, :]
    batch = track.at_all(s, rows)
    skips = np.zeros((n, 2), np.int64)
    for k, (((_, ra), (_, rb)), ((tip_a, _, _), (tip_b, _, _))) in enumerate(zip(segments, ends, strict=True)):
        if tip_a is not None:
            batch[k, :, 0] = tip_a
        if tip_b is not None:
            batch[k, :, counts[k] - 1 :] = tip_b[:, None]
        skips[k] = (slack if ra == CORNER else 0, slack if rb == CORNER else 0)
    ctrl, err, worst = fit_segments(
        batch.reshape(n * frames, width, 2),
        np.concatenate([a[2] for a, _ in ends]),
        np.concatenate([b[1] for _, b in ends]),
        np.repeat(skips, frames, axis=0),
        np.repeat(counts, frames),
    )
    ctrl = ctrl.reshape(n, frames, 4, 2)
    err = err.reshape(n, frames)
    ua = np.array([a for (a, _), _ in segments])
    ub = np.array([b for _, (b, _) in segments])
    worst_u = ua[:, None] + (ub - ua)[:, None] * worst.reshape(n, frames) / (counts[:, None] - 1)
    out_handle, in_handle = ctrl[:, :, 1] - ctrl[:, :, 0], ctrl[:, :, 2] - ctrl[:, :, 3]
    return [(out_handle[k], in_handle[k], err[k], worst_u[k]) for k in range(n)]


def _segments(piece: Piece, track: OutlineTrack) -> list[Segment | None]:
    """Per point, the outline segment it starts (None for a chord)."""
    us, roles = piece.layout()
    n = len(us)
    out: list[Segment | None] = []
    for i in range(n):
        if roles[i] == END:
            out.append(None)
            continue
        j = (i + 1) % n
        ub = us[j] + (track.count if j == 0 else 0.0)
        out.append(((float(us[i]), roles[i]), (float(ub), roles[j])))
    return out


def _row_quantile(values: np.ndarray, q: float) -> np.ndarray:
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

    def __init__(self, track: OutlineTrack, tolerance: float, max_points: int, size: tuple[int, int]) -> None:
        self.track = track
        self.tolerance = tolerance
        self.max_points = max_points
        self.size = size
        self.cache: dict[tuple, tuple[float, float]] = {}
        self.end_cache: dict[tuple[float, str, int], End] = {}
        frames = len(track.frames)
        ref_row = np.array([track.frames.index(track.ref)])
        sampled = np.unique(np.append(np.arange(0, frames, SAMPLED_STRIDE), [frames - 1, ref_row[0]]))
        # Points are first chosen on the reference frame, then on every few frames, then on all: most points
        # are settled by the cheap passes, and a piece that needs cutting is found on the first.
        self.stages: list[Rows] = [ref_row, sampled, None]
        self.masks: dict[int, tuple[int, int, np.ndarray]] = {}
        ref_loop = track.loops[track.ref]
        self.corners = sorted(track.param(track.ref, float(ref_loop.cum[i])) for i in corner_indices(ref_loop.points))

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
        robust = np.maximum(_row_quantile(err, FRAME_QUANTILE), peak / OUTLIER_FACTOR)
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
        for u in self.corners:
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
        if err <= self.tolerance or ub - ua < MIN_SEGMENT_U:
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
            segments = [s for s in _segments(trial, self.track) if s is not None]
            yield from self._need(segments, stage)
            splits = [u for u in (self._split_at(s, stage) for s in segments) if u is not None]
            short = short or any(
                self.cache[(*s, stage)][0] > self.tolerance and s[1][0] - s[0][0] < MIN_SEGMENT_U for s in segments
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
                segments = [s for s in _segments(piece, self.track) if s is not None]
                yield from self._need(segments, stage)
                worst = (0.0, 0.0, 0.0, 0.0)
                for seg in segments:
                    err, u = self.cache[(*seg, stage)]
                    if err > worst[0]:
                        worst = (err, u, seg[0][0], seg[1][0])
                err, u, ua, ub = worst
                if err <= self.tolerance or ub - ua < MIN_SEGMENT_U:
                    break
                if piece.point_count >= self.max_points:
                    return ua, ub
                # Not at an end (a segment whose end tangent is off peaks there): then split it in the middle.
                if not ua + 0.1 * (ub - ua) < u < ub - 0.1 * (ub - ua):
                    u = 0.5 * (ua + ub)
                if not piece.insert(u, lap=self.track.count):
                    break
        yield from self._merge(piece)
        return None

    def select_all(self, pieces: list[Piece], exact: bool = False) -> list[Failure]:
        """``_selection`` of every piece, run side by side: the fits all of them ask for at one step are done
        in one batch per stage (numpy's per-call cost, not the arithmetic, dominates the selection)."""
        runs = [self._selection(p, exact) for p in pieces]
        results: list[Failure] = [None] * len(pieces)
        requests: dict[int, Request] = {}

        def advance(i: int) -> None:
            try:
                requests[i] = next(runs[i])
            except StopIteration as stop:
                requests.pop(i, None)
                results[i] = stop.value

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
        i = int(np.flatnonzero(us == u)[0])
        n = len(us)
        before, after = (i - 1) % n, (i + 1) % n
        if roles[before] == END or roles[i] == END:
            return None
        ua = us[before] - (self.track.count if before > i else 0.0)
        ub = us[after] + (self.track.count if after < i else 0.0)
        return (float(ua), roles[before]), (float(ub), roles[after])

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

    def _mask(self, frame: int) -> tuple[int, int, np.ndarray]:
        """The matte of ``frame`` (its outline filled) cut to the outline's bounding box: top, left, mask.
        Filling and keeping only the box costs a fraction of the whole frame for most objects."""
        if frame not in self.masks:
            points = self.track.loops[frame].points
            h, w = self.size
            top = int(np.clip(np.floor(points[:, 1].min()), 0, h - 1))
            left = int(np.clip(np.floor(points[:, 0].min()), 0, w - 1))
            bottom = int(np.clip(np.ceil(points[:, 1].max()) + 1, top + 1, h))
            right = int(np.clip(np.ceil(points[:, 0].max()) + 1, left + 1, w))
            mask = np.zeros((bottom - top, right - left), bool)
            fill_polygon(mask, points - np.array([left, top], dtype=np.float64), True)
            self.masks[frame] = (top, left, mask)
        return self.masks[frame]

    def _inside(self, chords: np.ndarray, frames: list[int]) -> np.ndarray:
        """Per chord ``(ua, ub)`` of ``chords (C, 2)``: inside the matte on every frame of ``frames`` (all but at
        most one of its samples), all chords looked up at once per frame."""
        if len(chords) == 0:
            return np.zeros(0, bool)
        h, w = self.size
        rows = np.array([self.track.frames.index(f) for f in frames])
        ends = self.track.at_all(self.track.arc_all(chords.reshape(-1), rows), rows).reshape(len(rows), -1, 2, 2)
        a, b = ends[:, :, 0], ends[:, :, 1]
        pts = a[:, :, None] + CHORD_SAMPLES[:, None] * (b - a)[:, :, None]
        x = np.clip(pts[..., 0].astype(np.int64), 0, w - 1)
        y = np.clip(pts[..., 1].astype(np.int64), 0, h - 1)
        hits = np.zeros(x.shape[:2], np.int64)
        for k, frame in enumerate(frames):
            top, left, mask = self._mask(frame)
            yy, xx = y[k] - top, x[k] - left
            ok = (yy >= 0) & (yy < mask.shape[0]) & (xx >= 0) & (xx < mask.shape[1])
            hits[k] = (ok & mask[np.where(ok, yy, 0), np.where(ok, xx, 0)]).sum(axis=1)
        return np.all(hits >= len(CHORD_SAMPLES) - 1, axis=0)

    def split(self, piece: Piece) -> tuple[Piece, Piece] | None:
        """Cut ``piece`` along its narrowest neck that stays inside the matte; None if there is none."""
        if 3 * (len(piece.runs) + 1) > self.max_points - MIN_FREE_POINTS:
            return None
        track = self.track
        ref = track.ref
        frames = [*track.frames[:: max(1, len(track.frames) // CHECK_FRAMES)], ref]
        chords = 0.0
        if not piece.closed:
            starts = track.points(ref, np.array([a for a, _ in piece.runs]))
            ends = track.points(ref, np.array([b for _, b in piece.runs]))
            chords = float(np.linalg.norm(ends - np.roll(starts, -1, axis=0), axis=1).sum())
        arcs = [float(np.diff(track.arc(ref, np.array(r)))[0]) for r in piece.runs]
        perimeter = sum(arcs) + chords
        best: list[tuple[float, float, float, int]] = []
        rows = np.array([track.frames.index(f) for f in frames])
        for r, (start, end) in enumerate(piece.runs):
            cand = np.arange(np.ceil(start + 1.0), np.floor(end - 1.0) + 1.0)
            if len(cand) > MAX_CANDIDATE_MARKERS:
                cand = cand[:: int(np.ceil(len(cand) / MAX_CANDIDATE_MARKERS))]
            if len(cand) < 2:
                continue
            ref_along = track.arc(ref, cand)
            ref_along = ref_along[None, :] - ref_along[:, None]
            first, second = np.nonzero(np.minimum(ref_along, perimeter - ref_along) >= MIN_PART * perimeter)
            ratio, i, j = _narrowest(track, cand, rows, perimeter, first, second)
            best.extend((float(q), float(cand[a]), float(cand[b]), r) for q, a, b in zip(ratio, i, j, strict=True))
        candidates = sorted(best)[:CHORD_CANDIDATES]
        # A neck inside the matte on every frame checked; failing that, one inside on the reference frame (it
        # may cross the edge on other frames, which costs less than a piece too coarse for its outline).
        chords_u = np.array([(c[1], c[2]) for c in candidates]).reshape(-1, 2)
        inside = [c for c, ok in zip(candidates, self._inside(chords_u, frames), strict=True) if ok]
        inside = inside or [c for c, ok in zip(candidates, self._inside(chords_u, [ref]), strict=True) if ok]
        for _, ua, ub, r in inside:
            start, end = piece.runs[r]
            if piece.closed:
                return Piece([(ua, ub)], False), Piece([(ub, ua + track.count)], False)
            rest = [*piece.runs[:r], (start, ua), (ub, end), *piece.runs[r + 1 :]]
            return Piece([(ua, ub)], False), Piece(rest, False)
        return None


def _narrowest(
    track: OutlineTrack, cand: np.ndarray, rows: np.ndarray, perimeter: float, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of the marker pairs ``(cand[first], cand[second])``, the CHORD_CANDIDATES narrowest over the frames
    ``rows`` (chord over the shorter way round, the worst frame counting; the reference frame is the last
    row): their ratios and indices into ``cand``, narrowest first.

    The reference frame alone bounds each pair's ratio from below, so the pairs are measured on every frame in
    the order of that bound until the rest cannot make the cut (a fraction of all pairs x frames)."""
    if len(first) == 0:
        return np.zeros(0), first, second
    s = track.arc_all(cand, rows)
    p = track.at_all(s, rows)
    around = perimeter * (track.lengths[rows] / track.loops[track.ref].length)[:, None]

    def ratios(at: slice, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        along = s[at, b] - s[at, a]
        part = np.minimum(along, around[at] - along)
        chord = np.hypot(p[at, b, 0] - p[at, a, 0], p[at, b, 1] - p[at, a, 1])
        return (chord / np.maximum(part, 1e-9)).max(axis=0)

    lower = ratios(slice(len(rows) - 1, None), first, second)
    order = np.argsort(lower, kind="stable")
    take = min(2 * CHORD_CANDIDATES, len(order))
    while True:
        exact = ratios(slice(None), first[order[:take]], second[order[:take]])
        if take == len(order):
            break
        cutoff = np.partition(exact, CHORD_CANDIDATES - 1)[CHORD_CANDIDATES - 1]
        if lower[order[take]] >= cutoff:
            break
        take = min(max(2 * take, int(np.count_nonzero(lower < cutoff))), len(order))
    pick = np.argsort(exact, kind="stable")[:CHORD_CANDIDATES]
    pick = pick[np.isfinite(exact[pick])]
    return exact[pick], first[order[pick]], second[order[pick]]


def build_pieces(
    track: OutlineTrack, tolerance: float, max_points: int, max_pieces: int, size: tuple[int, int]
) -> tuple[list[Piece], int | None]:
    """Pieces that together cover the component, each with at most ``max_points`` points, and None when every
    piece holds within ``tolerance`` on every frame, else the frame index where the outline changed most
    abruptly between two points of a piece that does not hold (new edge appeared: legs parting, an occluder
    leaving) — where the caller cuts the frame range so each part gets shapes of its own.

    Pieces are taken one at a time (a piece that fails is cut in two, up to ``max_pieces``); their points are
    chosen ahead, a whole generation of the cutting at once (``_Explorer``), which changes no decision."""
    explorer = _Explorer(PieceFitter(track, tolerance, max_points, size), max_pieces)
    pending = [Piece([(0.0, float(track.count))], True)]
    done: list[Piece] = []
    cut: int | None = None
    while pending:
        piece = pending.pop()
        failed = explorer.outcome(piece, [*pending, piece], len(done) + len(pending) + 1)
        if failed is None:
            done.append(piece)
            continue
        halves = explorer.halves(piece) if len(done) + len(pending) + 2 <= max_pieces else None
        if halves is None:
            if failed is HOPELESS:
                # Kept after all: its points (and where it fails) are chosen in full.
                piece = Piece(list(piece.runs), piece.closed)
                failed = explorer.fitter.select_all([piece], exact=True)[0]
            done.append(piece)
            if failed is None:
                continue
            if cut is None:
                span = np.diff(track.arc_all(np.array(failed)), axis=1)[:, 0]
                cut = int(np.argmax(np.abs(np.diff(span)))) + 1 if len(span) > 1 else 0
        else:
            pending.extend(halves)
    return done, cut


class _Explorer:
    """Selections and cuts of pieces worked out ahead, a generation at a time: every piece still waiting is
    selected in one ``select_all``, the failing ones cut, their halves selected together next, as long as the
    pieces stay within ``max_pieces``. Each piece's outcome depends on that piece alone, so ``build_pieces``,
    taking pieces one at a time, reads the same outcomes it would have computed."""

    def __init__(self, fitter: PieceFitter, max_pieces: int) -> None:
        self.fitter = fitter
        self.max_pieces = max_pieces
        self.failures: dict[Piece, Failure] = {}
        self.cuts: dict[Piece, tuple[Piece, Piece] | None] = {}

    def outcome(self, piece: Piece, waiting: list[Piece], alive: int) -> Failure:
        """None when ``piece`` holds, else its failing segment; ``waiting`` are the pieces sure to be selected,
        ``alive`` how many pieces there are now."""
        if piece not in self.failures:
            level = [p for p in waiting if p not in self.failures]
            while level:
                for p, failure in zip(level, self.fitter.select_all(level), strict=True):
                    self.failures[p] = failure
                following: list[Piece] = []
                for p in level:
                    if self.failures[p] is None or alive + 1 > self.max_pieces:
                        continue
                    halves = self.halves(p)
                    if halves is not None:
                        alive += 1
                        following.extend(halves)
                level = following
        return self.failures[piece]

    def halves(self, piece: Piece) -> tuple[Piece, Piece] | None:
        if piece not in self.cuts:
            self.cuts[piece] = self.fitter.split(Piece(list(piece.runs), piece.closed))
        return self.cuts[piece]


def piece_controls(piece: Piece, track: OutlineTrack, straight_beyond: float) -> np.ndarray:
    """Control points ``(F, N, 3, 2)`` of ``piece`` fitted on every frame.

    On a frame where a segment cannot follow its stretch of edge (a piece that could not hold: more edge than
    points), a curve with the edge's end tangents can loop far outside the object; there the segment is a
    straight line between its two points on the edge instead (error beyond ``straight_beyond`` pixels).
    """
    us, roles = piece.layout()
    n = len(us)
    ctrl = np.zeros((len(track.frames), n, 3, 2))
    for i, (u, role) in enumerate(zip(us, roles, strict=True)):
        ctrl[:, i, POINT] = anchors(track, float(u), role)
    segments = _segments(piece, track)
    on_edge = [s for s in segments if s is not None]
    fits = iter(fit_runs(track, on_edge) if on_edge else [])
    for i, seg in enumerate(segments):
        j = (i + 1) % n
        if seg is None:
            chord = ctrl[:, j, POINT] - ctrl[:, i, POINT]
            ctrl[:, i, RIGHT], ctrl[:, j, LEFT] = chord / 3.0, -chord / 3.0
        else:
            out_handle, in_handle, err, _ = next(fits)
            chord = (ctrl[:, j, POINT] - ctrl[:, i, POINT]) / 3.0
            lost = (err > straight_beyond)[:, None]
            ctrl[:, i, RIGHT] = np.where(lost, chord, out_handle)
            ctrl[:, j, LEFT] = np.where(lost, -chord, in_handle)
    return ctrl


def corner_flags(piece: Piece) -> np.ndarray:
    _, roles = piece.layout()
    return np.array([r != SMOOTH for r in roles])


def chord_mask(piece: Piece) -> np.ndarray:
    """Per segment (starting at each point): True where the segment is a chord, not on the outline."""
    _, roles = piece.layout()
    return np.array([r == END for r in roles])
