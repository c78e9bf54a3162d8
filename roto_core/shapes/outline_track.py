"""One component's outline over its frames, with a shared parameter ``u`` that names the same place on every frame.

Shapes are built in this parameter space instead of by carrying bezier points from frame to frame: a shape
point is a fixed ``u``, so its point count never changes, points never swap order (no flipping, no
self-crossing of the control polygon) and every frame's shape can be fitted straight onto that frame's edge.

``u`` runs over ``[0, M)`` around the loop: M markers spaced evenly by arc length on the reference frame, then
tracked frame by frame. A tracking step lays the previous markers onto the new edge with the similarity-plus-
stretch ICP of tracking.py, then moves the stretches that motion leaves off the edge on their own (a swinging
leg: ``tracking.local_shift``), takes for each marker the nearest new edge sample whose normal agrees, and keeps
the markers in loop order (the longest run of markers that stayed in order keeps its match; the others are
placed between their neighbours in the proportions of the previous frame). Once every frame is tracked, a marker
caught for one frame by a passing part of the outline (a line joining it) is put back (``_put_back``).
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.contours import Outline
from roto_core.shapes.fitting import corner_indices
from roto_core.shapes.marker_order import in_loop_order
from roto_core.shapes.track_kernel import arcs_at, loop_points, points_at
from roto_core.shapes.tracking import EdgeField, icp, identity, local_shift
from roto_core.shapes.tracking_kernel import nearest_k, projected, sample_boxes

MARKER_SPACING_PX = 6.0
MIN_MARKERS = 32
MAX_MARKERS = 400
CANDIDATES = 8
# A marker this far from the midpoint of its places on the frames either side, which agree, has been caught for
# one frame by a passing part of the outline (OutlineTrack._put_back): over ten marker spacings.
SPIKE_PX = 20.0
# Markers whose offsets from those places agree within this much, when they are most of the outline's, moved
# with the whole outline (a camera shake: DAVIS car-roundabout shaken by up to 15 px a frame).
JOLT_AGREE_PX = 3.0
Rows = np.ndarray | None


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


class Loop:
    """One frame's outline as a closed polyline with arc-length lookups."""

    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self.points = np.ascontiguousarray(outline.points, dtype=np.float64)
        self.normals = np.ascontiguousarray(outline.normals, dtype=np.float64)
        nxt = np.concatenate((self.points[1:], self.points[:1]))
        self.step = nxt - self.points
        self.seglen = np.maximum(np.hypot(self.step[:, 0], self.step[:, 1]), 1e-9)
        self.cum = np.concatenate(([0.0], np.cumsum(self.seglen)))
        self.length = float(self.cum[-1])
        self.boxes = sample_boxes(self.points)

    def at(self, s: np.ndarray | float) -> np.ndarray:
        """Points ``(*s.shape, 2)`` at arc lengths ``s`` (any real number; the loop wraps): one compiled loop
        (track_kernel.loop_points), where numpy's wrap, search, clamp and interpolation cost more to call than to
        run on a frame's markers."""
        s = np.asarray(s, dtype=np.float64)
        flat = np.ascontiguousarray(s.reshape(-1))
        return loop_points(flat, self.points, self.step, self.seglen, self.cum, self.length).reshape(*s.shape, 2)

    def direction(self, s: np.ndarray | float, before: float, after: float) -> np.ndarray:
        """Unit direction of the chord from ``s - before`` to ``s + after``."""
        return _unit(self.at(np.asarray(s) + after) - self.at(np.asarray(s) - before))

    def samples(self, s0: float, s1: float, step: float) -> np.ndarray:
        """Points from arc length ``s0`` to ``s1 > s0`` about ``step`` apart, both ends included."""
        count = max(int(np.ceil((s1 - s0) / step)), 1)
        return self.at(np.linspace(s0, s1, count + 1))

    def project(self, points: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arc length of the nearest edge place to each point whose normal agrees, and the distance to it."""
        return projected(
            np.ascontiguousarray(points, dtype=np.float64),
            np.ascontiguousarray(normals, dtype=np.float64),
            self.points,
            self.normals,
            self.step,
            self.seglen,
            self.cum,
            self.boxes,
            min(CANDIDATES, len(self.points)),
        )

    def nearest(self, points: np.ndarray) -> np.ndarray:
        """Index of each point's nearest sample."""
        return nearest_k(np.ascontiguousarray(points, dtype=np.float64), self.points, self.boxes, 1)[1][:, 0]


def linear(points: np.ndarray, lin: np.ndarray) -> np.ndarray:
    """``points @ lin.T`` for a 2x2 ``lin``, each coordinate's two products summed in a fixed order: BLAS's kernel,
    chosen for the CPU at run time, fuses products and sums (FMA) on one farm worker and not on the next, and a
    marker a unit in the last place apart can be tracked otherwise (tests/shapes/test_cpu_independence.py)."""
    x, y = points[..., 0], points[..., 1]
    return np.stack((x * lin[0, 0] + y * lin[0, 1], x * lin[1, 0] + y * lin[1, 1]), axis=-1)


def _initial_transform(previous: np.ndarray, before: Outline, after: Outline) -> np.ndarray:
    """Last step's motion, re-centred on the new centroid when both outlines are whole."""
    if before.on_border.any() or after.on_border.any():
        return previous
    lin = previous[:, :2]
    shift = after.centroid - linear(before.centroid, lin)
    return np.concatenate([lin, shift[:, None]], axis=1)


class OutlineTrack:
    """The loops of one component over consecutive frames and the marker arc lengths on each of them."""

    def __init__(
        self,
        outlines: dict[int, Outline],
        ref: int,
        size: tuple[int, int],
        parent: OutlineTrack | None = None,
    ) -> None:
        """``parent``, a track over more frames, lends its loops; where it has the same reference frame, its
        markers too (a track is carried from the reference frame outward, so on the frames both have they are
        the same): a frame range cut in two is not tracked again (DAVIS camel, 90 frames: 45 tracks took 2.1 s,
        now 7 tracked afresh and the rest lent take 1.0 s, of a 10-12 s trace)."""
        self.frames = sorted(outlines)
        self.ref = ref
        # Tracks over some of these frames, built once for every piece re-fitted there (trace._retracked).
        self.parts: dict[tuple[int, ...], OutlineTrack] = {}
        lent = parent.loops if parent is not None else {}
        self.loops = {f: lent[f] if f in lent else Loop(o) for f, o in outlines.items()}
        base = self.loops[ref]
        if parent is not None and parent.ref == ref:
            self.count = parent.count
            self.markers = {f: parent.markers[f] for f in self.frames}
            self.corners = parent.corners
            self._pack()
            return
        count = int(np.clip(base.length / MARKER_SPACING_PX, MIN_MARKERS, MAX_MARKERS))
        top = int(np.lexsort((base.points[:, 0], base.points[:, 1]))[0])
        self.count = count
        self.markers: dict[int, np.ndarray] = {ref: base.cum[top] + np.arange(count) * base.length / count}
        for direction in (1, -1):
            motion = identity()
            f = ref + direction
            while f in outlines:
                motion = self._step(f - direction, f, motion, size)
                f += direction
        for f in self.frames:
            self._put_back(f)
        self._pack()
        # The reference frame's sharp turns, in ``u`` order: where pieces get corner points.
        self.corners = np.array(sorted(self.param(ref, float(base.cum[i])) for i in corner_indices(base.points)))

    def _put_back(self, frame: int) -> None:
        """Markers caught for this one frame by a passing part of the outline put back on its edge.

        Where a rigging line joins the outline for a frame, markers beside it lie up the line on that frame and
        beside it on the frames either side, and the shape points between them go up the line and back (DAVIS
        paragliding-launch, frame 62, the reference frame of the track over frames 60-79, its area the largest
        with the line joined: 82 markers 40-145 px up the line; 64 % of the sequence's squared boil on rigid
        parts). A marker whose place on this frame is more than SPIKE_PX from the midpoint of its places on the
        frames either side (moved by the offset most markers share, if they do: a camera shake jolts the whole
        outline for a frame), and more than twice as far as those two are apart, is moved to this frame's
        edge nearest that point, the markers kept in loop order as a tracking step keeps them. Only a one-frame
        excursion is undone: a part of the object that stays out on the next frame takes the marker there too."""
        if frame - 1 not in self.markers or frame + 1 not in self.markers:
            return
        here = self.loops[frame]
        before = self.loops[frame - 1].at(self.markers[frame - 1])
        after = self.loops[frame + 1].at(self.markers[frame + 1])
        middle = 0.5 * (before + after)
        offset = here.at(self.markers[frame]) - middle
        # The whole outline jolted on this frame (a camera shake) is motion, not markers caught: where most
        # markers share one offset, that is the frame's, and only markers off it are caught.
        jolt = np.median(offset, axis=0)
        if np.mean(np.linalg.norm(offset - jolt, axis=1) < JOLT_AGREE_PX) > 0.5:
            middle = middle + jolt
            offset = offset - jolt
        away = np.linalg.norm(offset, axis=1)
        caught = (away > SPIKE_PX) & (away > 2.0 * np.linalg.norm(after - before, axis=1))
        if not caught.any():
            return
        s = self.markers[frame].copy()
        nearest = here.cum[here.nearest(middle[caught])]
        s[caught] = nearest + np.round((s[caught] - nearest) / here.length) * here.length
        previous = self.markers[frame - 1]
        gaps = np.diff(np.concatenate((previous, [previous[0] + self.loops[frame - 1].length])))
        self.markers[frame] = in_loop_order(s, caught.astype(np.float64), here.length, gaps)

    def _pack(self) -> None:
        """All frames' loops in flat arrays, so one lookup serves every frame at once (``*_all`` methods)."""
        loops = [self.loops[f] for f in self.frames]
        self.every_row = np.arange(len(loops))
        self.lengths = np.array([lp.length for lp in loops])
        self.base = np.concatenate(([0.0], np.cumsum(self.lengths + 1.0)))[:-1]
        counts = np.array([len(lp.points) for lp in loops])
        self.first_sample = np.concatenate(([0], np.cumsum(counts)))[:-1]
        self.last_sample = self.first_sample + counts - 1
        self.all_points = np.concatenate([lp.points for lp in loops])
        self.all_step = np.concatenate([lp.step for lp in loops])
        self.all_seglen = np.concatenate([lp.seglen for lp in loops])
        self.all_cum = np.concatenate([lp.cum[:-1] + b for lp, b in zip(loops, self.base, strict=True)])
        self.marks = np.stack([self.markers[f] for f in self.frames])
        self.marks_next = np.concatenate((self.marks[:, 1:], self.marks[:, :1] + self.lengths[:, None]), axis=1)
        # What the compiled lookups take: track_kernel.arcs_at from its ``count`` on, points_at from ``lengths``.
        self.markers_packed = (self.count, self.lengths, self.marks, self.marks_next)
        # Each frame's own arc lengths (Loop.cum, without the end), for lookups that are Loop.at's to the bit
        # (edge_sample_kernel): ``all_cum`` holds them offset along the outlines laid end to end.
        loop_cum = np.concatenate([lp.cum[:-1] for lp in loops])
        self.loop_packed = (
            self.lengths,
            loop_cum,
            self.first_sample,
            self.last_sample,
            self.all_seglen,
            self.all_step,
            self.all_points,
        )
        self.packed = (
            self.lengths,
            self.base,
            self.all_cum,
            self.first_sample,
            self.last_sample,
            self.all_seglen,
            self.all_step,
            self.all_points,
        )

    def arc_all(self, u: np.ndarray, rows: Rows = None) -> np.ndarray:
        """Arc lengths ``(F, *u.shape)`` of parameters ``u`` on every frame (or the frame ``rows`` given)."""
        index = self.every_row if rows is None else np.ascontiguousarray(self.every_row[rows])
        u = np.asarray(u, dtype=np.float64)
        flat = np.ascontiguousarray(u.reshape(-1))
        return arcs_at(flat, index, *self.markers_packed).reshape(len(index), *u.shape)

    def at_all(self, s: np.ndarray, rows: Rows = None) -> np.ndarray:
        """Points ``(..., F, k, 2)`` at arc lengths ``s (..., F, k)``, row f on frame f (of ``rows`` when given).
        Called thousands of times per shot: one compiled loop (track_kernel.points_at)."""
        index = self.every_row if rows is None else self.every_row[rows]
        s = np.asarray(s, dtype=np.float64)
        shape = np.broadcast_shapes(s.shape, (len(index), 1))
        whole = s if s.shape == shape else np.broadcast_to(s, shape)
        flat = np.require(whole, requirements=("C", "W")).reshape(-1, *shape[-2:])
        out = points_at(flat, index, *self.packed)
        return out.reshape(*shape, 2)

    def direction_all(self, s: np.ndarray, before: float, after: float, rows: Rows = None) -> np.ndarray:
        """Unit directions ``(F, 2)`` of the chords from ``s - before`` to ``s + after`` (``s`` is ``(F,)``)."""
        pts = self.at_all(np.stack((s - before, s + after), axis=1), rows)
        return _unit(pts[:, 1] - pts[:, 0])

    def _step(self, prev: int, frame: int, motion: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        before, after = self.loops[prev], self.loops[frame]
        s_prev = self.markers[prev]
        points = before.at(s_prev)
        field = EdgeField(after.outline)
        transform = _initial_transform(motion, before.outline, after.outline)
        if field.usable and len(points) >= 3:
            transform = icp(points, field, transform, size)
        moved = linear(points, transform[:, :2]) + transform[:, 2]
        idx = np.clip(np.searchsorted(before.cum, np.mod(s_prev, before.length), side="right") - 1, 0, None)
        normals = _unit(linear(before.normals[np.minimum(idx, len(before.normals) - 1)], transform[:, :2]))
        if field.usable and len(points) >= 3:
            moved = moved + local_shift(moved, normals, field, before.length / len(points), size)
        s, residual = after.project(moved, normals)
        gaps = np.diff(np.concatenate((s_prev, [s_prev[0] + before.length])))
        self.markers[frame] = in_loop_order(s, residual, after.length, gaps)
        return transform

    def arc(self, frame: int, u: np.ndarray | float) -> np.ndarray:
        """Arc lengths on ``frame`` of parameters ``u`` (unwrapped: ``u + M`` is one loop further)."""
        u = np.asarray(u, dtype=np.float64)
        marks = self.markers[frame]
        length = self.loops[frame].length
        whole = np.floor(u)
        k = whole.astype(np.int64)
        laps = np.floor_divide(k, self.count)
        k = k - laps * self.count
        nxt = np.append(marks[1:], marks[0] + length)
        return marks[k] + (u - whole) * (nxt[k] - marks[k]) + laps * length

    def param(self, frame: int, s: float) -> float:
        """The inverse of ``arc``: parameter in ``[0, M)`` of arc length ``s`` on ``frame``."""
        marks = self.markers[frame]
        length = self.loops[frame].length
        s = marks[0] + np.mod(s - marks[0], length)
        ext = np.append(marks, marks[0] + length)
        k = int(np.clip(np.searchsorted(ext, s, side="right") - 1, 0, self.count - 1))
        return float(k + (s - ext[k]) / max(ext[k + 1] - ext[k], 1e-9))

    def points(self, frame: int, u: np.ndarray | float) -> np.ndarray:
        return self.loops[frame].at(self.arc(frame, u))
