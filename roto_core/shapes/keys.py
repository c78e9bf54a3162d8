"""The matte edge as the constraint on a piece's curve.

``EdgeCheck`` measures how far a piece's curve is from its stretch of a frame's edge, both ways (curve to edge,
edge to curve), to the polylines through the samples: a piece holds when 95 % of it is within the tolerance,
none of it beyond twice that and the mean within half of it (keyfit.py keys against it; smoothing.py smooths
the per-frame fits over time under it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from roto_core.shapes.model import POINT, bernstein, segment_controls
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import row_quantile
from roto_core.shapes.pieces import CORNER_SLACK_PX, Piece, chord_mask, corner_flags

# Samples of the edge and of the curve: distances are taken to the polyline through them, not to the samples,
# so 2 px spacing measures within a few hundredths of a pixel on outlines this smooth.
EDGE_STEP_PX = 2.0
CURVE_STEP_PX = 2.0
MAX_CURVE_SAMPLES = 48
BORDER_PX = 1.0
# Runs of more samples than this leave their end samples out of the edge-to-curve half (``_run_ends``).
RUN_END_MIN_SAMPLES = 4
# Besides the worst sample, the mean distance stays within this fraction of the tolerance (or less on a thin
# object: budgets.py): a rotation interpolated linearly shrinks the whole outline a little, which costs more area
# than one bump.
MEAN_FRACTION = 0.5
HOLD_QUANTILE = 0.95
OUTLIER_FACTOR = 2.0
# Samples per segment where each segment's own distance from the edge is wanted (smoothing.py).
SEGMENT_SAMPLES = 12
# Up to this many point-sample pairs, a distance compares every pair instead of querying a k-d tree.
BRUTE_FORCE_PAIRS = 20_000


def _tree(points: np.ndarray) -> cKDTree:
    """A k-d tree for a few hundred points queried once or a few times: the sliding-midpoint build without
    balancing or node compaction costs less, and nearest-neighbour answers are exact either way."""
    return cKDTree(points, balanced_tree=False, compact_nodes=False)


def squared_distances(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """``(len(points), len(line))`` squared distances between every point and every sample, x and y apart."""
    dx = points[:, 0, None] - line[None, :, 0]
    dy = points[:, 1, None] - line[None, :, 1]
    return dx * dx + dy * dy


def _nearest(squared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``squared``, the distance to its nearest column and that column (the first of ties)."""
    nearest = squared.argmin(axis=1)
    return np.sqrt(squared[np.arange(len(squared)), nearest]), nearest


class Polyline:
    """Samples joined into a polyline whose piece ``i → i+1`` (wrapping) exists where ``linked[i]``, with what
    measuring points against it needs: each piece's vector and squared length, and a k-d tree of the samples
    where there are enough of them to pay for one. An edge's is built once per piece and frame and measured
    against many times."""

    def __init__(self, line: np.ndarray, linked: np.ndarray) -> None:
        self.line = line
        self.step = np.concatenate((line[1:], line[:1])) - line
        self.step_squared = np.maximum(np.einsum("nd,nd->n", self.step, self.step), 1e-12)
        self.gap = ~linked

    @cached_property
    def tree(self) -> cKDTree:
        return _tree(self.line)

    def nearest_vertex(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's distance to its nearest sample and that sample's index. Most pieces and curves are a few
        dozen samples (DAVIS car-roundabout: median 47 points against 54 samples), where comparing every pair
        costs a fraction of building and querying a k-d tree; the answer is the same either way."""
        if len(points) * len(self.line) > BRUTE_FORCE_PAIRS:
            return self.tree.query(points)
        return _nearest(squared_distances(points, self.line))

    def distance(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance of each point to the polyline: to the pieces either side of its nearest vertex, and that
        vertex; and that vertex's index. A nearest-vertex distance alone overstates a point lying on the line by
        up to half the sample spacing, which would eat a third of a 1.5 px tolerance. Both pieces of every point
        are measured in one pass (called thousands of times per shot)."""
        vertex, nearest = self.nearest_vertex(points)
        return self.beside(points, vertex, nearest), nearest

    def beside(self, points: np.ndarray, vertex: np.ndarray, nearest: np.ndarray) -> np.ndarray:
        """``distance`` from each point's nearest vertex (index ``nearest``, at distance ``vertex``)."""
        # The pieces after and before each point's nearest vertex, as two rows filled in place (the piece before
        # vertex 0 is the wrapping one, from the last vertex: index -1); x and y apart, as numpy reduces a length-2
        # axis far slower than it multiplies two arrays; clamped by two ufuncs, as np.stack's and np.clip's
        # wrappers cost more than their work on a few dozen points (beside runs tens of thousands of times a shot).
        piece = np.empty((2, len(nearest)), np.intp)
        piece[0] = nearest
        np.subtract(nearest, 1, out=piece[1])
        x, y = points[:, 0] - self.line[piece, 0], points[:, 1] - self.line[piece, 1]
        dx, dy = self.step[piece, 0], self.step[piece, 1]
        t = (x * dx + y * dy) / self.step_squared[piece]
        np.maximum(t, 0.0, out=t)
        np.minimum(t, 1.0, out=t)
        along = np.hypot(x - t * dx, y - t * dy)
        along[self.gap[piece]] = np.inf
        return np.minimum(vertex, np.minimum(along[0], along[1]))


def _run_ends(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Per sample of the runs ``parts`` laid end to end, whether it is a run's first or last (a run of a few
    samples keeps all of them).

    A piece reaches OVERLAP_PX (trace.py) past each chord along its neighbour's stretch of edge, and the
    neighbour past it along this one, so the few pixels at a run's end are drawn by both. Measured from the edge
    to the curve, the end sample pinned the run's end where its frame's track put it: a piece keyed on every
    frame could not slide its ends along the edge towards their steady motion (steadying.py), and on DAVIS dog's
    ground truth the run ends, a fifth of the points, carried almost half the squared boil on rigid parts. Left
    out of that half (the curve is still measured against it), the end may slide by a sample. DAVIS dev set, whole
    sequences, with the run's end sampled on the curve (``_curve``): boil on rigid parts lower on 16 of 24 rows and
    higher on 3 (ground truth dog 0.57 -> 0.52, drift-chicane 0.42 -> 0.44; segmenter masks scooter-black 0.83 ->
    0.79), all points' boil lower on 18 and higher on 3, for IoU median and edge within 2 px up to 0.004 lower
    (the segmenter's drift-straight IoU p10 0.923 -> 0.915; bench/RESULTS.md, forty-first pass).
    """
    ends = np.zeros(sum(len(p) for p in parts), bool)
    start = 0
    for part in parts:
        if len(part) > RUN_END_MIN_SAMPLES:
            ends[[start, start + len(part) - 1]] = True
        start += len(part)
    return ends


class EdgeCheck:
    """How far a piece's curve is from its stretch of edge on one frame (both ways)."""

    def __init__(
        self,
        track: OutlineTrack,
        pieces: Sequence[Piece],
        size: tuple[int, int],
        mean_fraction: np.ndarray | None = None,
    ) -> None:
        """``mean_fraction``: per frame of ``track``, the mean distance allowed as a fraction of the tolerance
        (MEAN_FRACTION where not given; budgets.py holds it lower on a thin object)."""
        self.mean_fraction = np.full(len(track.frames), MEAN_FRACTION) if mean_fraction is None else mean_fraction
        # How much a frame's error can move per pixel its control points move: the quantile and the halved
        # outlier by at most that pixel, the mean by 1 / mean_fraction of it.
        self.lipschitz = np.maximum(1.0, 1.0 / self.mean_fraction)
        h, w = size
        self.low = np.array([BORDER_PX, BORDER_PX])
        self.high = np.array([w - BORDER_PX, h - BORDER_PX])
        self.chords = [chord_mask(p) for p in pieces]
        self.tips = [np.flatnonzero(corner_flags(p)) for p in pieces]
        # Per piece and frame: the edge samples inside the picture (indices, points) and the polyline through
        # all samples.
        self.edges: list[list[tuple[np.ndarray, np.ndarray, Polyline]]] = []
        for piece in pieces:
            per_frame = []
            for f in track.frames:
                loop = track.loops[f]
                parts = []
                for start, end in piece.runs:
                    sa, sb = (float(x) for x in track.arc(f, np.array([start, end])))
                    parts.append(loop.samples(sa, sb, EDGE_STEP_PX))
                edge = np.concatenate(parts)
                # The runs of a piece are joined by chords across the object, not by edge.
                linked = np.ones(len(edge), bool)
                linked[np.cumsum([len(p) for p in parts]) - 1] = piece.closed
                inside = self._inside(edge)
                if not piece.closed:
                    inside = inside & ~_run_ends(parts)
                # Edge along the image border is where the frame cuts the object, not the object's edge: the
                # shape may run anywhere outside the picture there.
                kept = np.flatnonzero(inside) if inside.sum() >= 2 else np.arange(len(edge))
                per_frame.append((kept, edge[kept], Polyline(edge, linked)))
            self.edges.append(per_frame)
        self.links = [self._curve_links(chords) for chords in self.chords]

    @staticmethod
    def _curve_links(chords: np.ndarray) -> np.ndarray:
        """Per kept (non-chord) segment: whether its last sample joins the next kept segment's first."""
        kept = np.nonzero(~chords)[0]
        return (np.roll(kept, -1) - kept) % len(chords) == 1

    def _curve(self, piece: int, seg: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Samples of the kept segments ``seg`` (``count`` each, from each segment's start), and per sample whether
        it joins the next. A segment whose next is a chord ends on a run's end, which no later sample reaches:
        its end point is a sample too. Without it the curve stopped a sample short of every run's end, and the
        edge's last sample there measured up to CURVE_STEP_PX off a piece that reaches it exactly."""
        links = self.links[piece]
        samples = np.matmul(bernstein(count), seg)
        if links.all():
            return samples.reshape(-1, 2), np.ones(len(seg) * count, bool)
        full = np.concatenate((samples, seg[:, 3:4]), axis=1)
        present = np.ones((len(seg), count + 1), bool)
        present[:, -1] = ~links
        linked = np.ones((len(seg), count + 1), bool)
        linked[:, -1] = False
        return full[present], linked[present]

    def _inside(self, points: np.ndarray) -> np.ndarray:
        return np.all((points > self.low) & (points < self.high), axis=1)

    def _within_rows(self, points: np.ndarray) -> np.ndarray:
        """The indices of the points inside the picture (all of them, the common case, told by their box alone)."""
        if (points.min(axis=0) > self.low).all() and (points.max(axis=0) < self.high).all():
            return np.arange(len(points))
        return np.flatnonzero(self._inside(points))

    def error(
        self, piece: int, frame_index: int, ctrl: np.ndarray, bound: float = np.inf, allowance: np.ndarray | None = None
    ) -> float:
        """The piece's error on this frame; any value above ``bound`` once it is certain to exceed it (then the
        edge-to-curve half, the costlier one, is skipped). With ``allowance`` (per edge sample, see
        ``sample_errors``) each distance is taken as a share of what its stretch of edge allows, and the error is
        that share (1 at the limit)."""
        measured = self._distances(piece, frame_index, ctrl, bound * OUTLIER_FACTOR, allowance)
        if measured is None:
            return 0.0
        out, back = measured[0], measured[2]
        worst = float(out.max())
        if back is None:
            return worst / OUTLIER_FACTOR
        both = np.concatenate((out, back))
        # Mask edges carry per-frame noise of about a pixel; a key for every bump would key the jitter. The
        # in-between holds when nearly all of the outline is within the tolerance and none of it much further.
        quantile = float(row_quantile(both[None, :], HOLD_QUANTILE)[0])
        return float(max(quantile, both.max() / OUTLIER_FACTOR, both.mean() / self.mean_fraction[frame_index]))

    def sample_errors(self, piece: int, frame_index: int, ctrl: np.ndarray) -> np.ndarray:
        """Per sample of the piece's edge on this frame, how far ``ctrl``'s curve is from it there (either way:
        the sample's distance to the curve, and the curve's distance to the edge where that sample is nearest)."""
        kept, _, edge = self.edges[piece][frame_index]
        errors = np.zeros(len(edge.line))
        measured = self._distances(piece, frame_index, ctrl, np.inf, None)
        if measured is not None:
            out, nearest, back = measured
            errors[kept] = back
            np.maximum.at(errors, nearest, out)
        return errors

    def segment_errors(self, piece: int, frame_index: int, ctrl: np.ndarray) -> np.ndarray:
        """Per segment of ``ctrl`` (starting at each point), how far its curve strays from the piece's edge on
        this frame at worst (its samples inside the picture; 0 on a chord)."""
        seg = segment_controls(ctrl)
        kept = np.flatnonzero(~self.chords[piece])
        out = np.zeros(len(seg))
        if not len(kept):
            return out
        curve = np.matmul(bernstein(SEGMENT_SAMPLES), seg[kept]).reshape(-1, 2)
        edge = self.edges[piece][frame_index][2]
        inside = self._inside(curve)
        distance = np.zeros(len(curve))
        if inside.any():
            distance[inside] = edge.distance(curve[inside])[0]
        np.maximum.at(out, kept[np.arange(len(curve)) // SEGMENT_SAMPLES], distance)
        return out

    def _distances(
        self, piece: int, frame_index: int, ctrl: np.ndarray, stop: float, allowance: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """Curve-to-edge distances and their nearest edge samples, and edge-to-curve distances (None when the
        first already exceed ``stop``); each divided by its sample's ``allowance`` when given. None where no
        curve is inside the picture."""
        seg = segment_controls(ctrl)[~self.chords[piece]]
        if len(seg) == 0:
            return None
        hull = seg[:, 1:] - seg[:, :-1]
        reach = float(np.max(np.hypot(hull[..., 0], hull[..., 1]).sum(axis=1)))
        count = min(max(math.ceil(reach / CURVE_STEP_PX), 4), MAX_CURVE_SAMPLES)
        curve, curve_linked = self._curve(piece, seg, count)
        kept, kept_points, edge = self.edges[piece][frame_index]
        rows = self._within_rows(curve)
        if not len(rows):
            return None
        tips = self.tips[piece]
        if len(tips):
            # A sharpened corner stands off the rounded edge of the mask by design; away from the corners the
            # curve must lie on the edge.
            dx = curve[rows, 0:1] - ctrl[tips, POINT, 0]
            dy = curve[rows, 1:2] - ctrl[tips, POINT, 1]
            rows = rows[(dx * dx + dy * dy).min(axis=1) > CORNER_SLACK_PX**2]
        # Both ways compare the same pairs of curve and edge samples: where there are few, compared once.
        pairs = squared_distances(curve, edge.line) if len(curve) * len(edge.line) <= BRUTE_FORCE_PAIRS else None
        if not len(rows):
            out, nearest = np.zeros(1), np.zeros(1, np.int64)
        elif pairs is None:
            out, nearest = edge.distance(curve[rows])
        else:
            vertex, nearest = _nearest(pairs[rows])
            out = edge.beside(curve[rows], vertex, nearest)
        if allowance is not None:
            out = out / allowance[nearest]
        if out.max() > stop:
            return out, nearest, None
        line = Polyline(curve, curve_linked)
        if pairs is None:
            back = line.distance(kept_points)[0]
        else:
            vertex, closest = _nearest(pairs[:, kept].T)
            back = line.beside(kept_points, vertex, closest)
        if allowance is not None:
            back = back / allowance[kept]
        return out, nearest, back
