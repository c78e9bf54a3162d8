"""The matte edge as the constraint on a piece's curve.

``EdgeCheck`` measures how far a piece's curve is from its stretch of a frame's edge, both ways (curve to edge,
edge to curve), to the polylines through the samples: a piece holds when 95 % of it is within the tolerance,
none of it beyond twice that and the mean within half of it (keyfit.py keys against it; smoothing.py smooths
the per-frame fits over time under it).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from roto_core.shapes import edge_measure
from roto_core.shapes.curve_kernel import mixed_weights, sampled_curve
from roto_core.shapes.edge_sample_kernel import edge_samples
from roto_core.shapes.model import POINT, bernstein
from roto_core.shapes.nearest import polyline_distances
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import CORNER_SLACK_PX, Piece, chord_mask, corner_flags

# Samples of the edge and of the curve: distances are taken to the polyline through them, not to the samples,
# so 2 px spacing measures within a few hundredths of a pixel on outlines this smooth.
EDGE_STEP_PX = 2.0
CURVE_STEP_PX = 2.0
# A segment sampled by its own length (edge_measure.curve_error) gets at least this many samples: with 4 or 6,
# the short segments at a leg piece's run ends were measured coarsely enough for its chord to drift a pixel off the
# body piece's, and DAVIS camel's ground truth kept a crack of 111 px along it on frame 42 (the area guard's limit
# 99 px; tests/shapes/test_cracks.py), 83 px with 8 as with every segment sampled as densely as the longest.
MIN_CURVE_SAMPLES = 8
MAX_CURVE_SAMPLES = 48
BORDER_PX = 1.0
# Runs of more samples than this leave their first and last samples out of the edge-to-curve half (a run of a few
# samples keeps all of them). A piece reaches OVERLAP_PX (trace.py) past each chord along its neighbour's stretch
# of edge, and the neighbour past it along this one, so the few pixels at a run's end are drawn by both. Measured
# from the edge to the curve, the end sample pinned the run's end where its frame's track put it: a piece keyed on
# every frame could not slide its ends along the edge towards their steady motion (steadying.py), and on DAVIS
# dog's ground truth the run ends, a fifth of the points, carried almost half the squared boil on rigid parts.
# Left out of that half (the curve is still measured against it), the end may slide by a sample. DAVIS dev set,
# whole sequences, with the run's end sampled on the curve (``EdgeCheck._sampled``): boil on rigid parts lower on
# 16 of 24 rows and higher on 3 (ground truth dog 0.57 -> 0.52, drift-chicane 0.42 -> 0.44; segmenter masks
# scooter-black 0.83 -> 0.79), all points' boil lower on 18 and higher on 3, for IoU median and edge within 2 px
# up to 0.004 lower (the segmenter's drift-straight IoU p10 0.923 -> 0.915; bench/RESULTS.md, forty-first pass).
RUN_END_MIN_SAMPLES = 4
# Besides the worst sample, the mean distance stays within this fraction of the tolerance (or less on a thin
# object: budgets.py): a rotation interpolated linearly shrinks the whole outline a little, which costs more area
# than one bump.
MEAN_FRACTION = 0.5
HOLD_QUANTILE = 0.95
OUTLIER_FACTOR = 2.0
# Samples per segment where each segment's own distance from the edge is wanted (smoothing.py).
SEGMENT_SAMPLES = 12
# ``allowance`` not given, for the compiled measurement (which takes an empty one as none).
_NO_ALLOWANCE = np.zeros(0)


def _weight_tables() -> np.ndarray:
    """Bernstein weights of each count of curve samples per segment, row ``count`` (curve_kernel.sampled_curve)."""
    tables = np.zeros((MAX_CURVE_SAMPLES + 1, MAX_CURVE_SAMPLES, 4))
    for count in range(1, MAX_CURVE_SAMPLES + 1):
        tables[count, :count] = bernstein(count)
    return tables


_CURVE_WEIGHTS = _weight_tables()


class Polyline:
    """Samples joined into a polyline whose piece ``i → i+1`` (wrapping) exists where ``linked[i]``. An edge's is
    built once per piece and frame and measured against many times."""

    def __init__(self, line: np.ndarray, linked: np.ndarray) -> None:
        self.line = np.ascontiguousarray(line, dtype=np.float64)
        self.linked = np.ascontiguousarray(linked, dtype=np.bool_)

    def distance(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance of each point to the polyline (to the pieces either side of its nearest sample, or to that
        sample), and that sample's index: nearest.polyline_distances."""
        return polyline_distances(points, self.line, self.linked)


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
        # all samples; the runs of a piece are joined by chords across the object, not by edge. Edge along the
        # image border is where the frame cuts the object, not the object's edge: the shape may run anywhere
        # outside the picture there (edge_sample_kernel.edge_samples, one compiled call per piece).
        self.edges: list[list[tuple[np.ndarray, np.ndarray, Polyline]]] = []
        for piece in pieces:
            points, linked, starts, kept, kept_points, kept_starts = edge_samples(
                np.array(piece.runs, dtype=np.float64).reshape(-1, 2),
                track.every_row,
                track.markers_packed,
                track.loop_packed,
                EDGE_STEP_PX,
                self.low,
                self.high,
                piece.closed,
                RUN_END_MIN_SAMPLES,
            )
            per_frame = []
            for (a, b), (c, d) in zip(pairwise(starts.tolist()), pairwise(kept_starts.tolist()), strict=True):
                per_frame.append((kept[c:d], kept_points[c:d], Polyline(points[a:b], linked[a:b])))
            self.edges.append(per_frame)
        self.kept = [np.flatnonzero(~chords) for chords in self.chords]
        self.links = [self._curve_links(chords) for chords in self.chords]
        # What edge_measure.curve_error samples each piece's curve by, and measures it with.
        self.curves = list(zip(self.kept, self.links, self.tips, strict=True))
        self.constants = (
            _CURVE_WEIGHTS,
            CURVE_STEP_PX,
            MIN_CURVE_SAMPLES,
            self.low,
            self.high,
            CORNER_SLACK_PX**2,
            HOLD_QUANTILE,
            OUTLIER_FACTOR,
        )

    @staticmethod
    def _curve_links(chords: np.ndarray) -> np.ndarray:
        """Per kept (non-chord) segment: whether its last sample joins the next kept segment's first."""
        kept = np.nonzero(~chords)[0]
        return (np.roll(kept, -1) - kept) % len(chords) == 1

    def error(
        self, piece: int, frame_index: int, ctrl: np.ndarray, bound: float = np.inf, allowance: np.ndarray | None = None
    ) -> float:
        """The piece's error on this frame; any value above ``bound`` once it is certain to exceed it (then the
        edge-to-curve half, the costlier one, is skipped). With ``allowance`` (per edge sample, see
        ``sample_errors``) each distance is taken as a share of what its stretch of edge allows, and the error is
        that share (1 at the limit).

        Mask edges carry per-frame noise of about a pixel; a key for every bump would key the jitter. The
        in-between holds when nearly all of the outline is within the tolerance and none of it much further: the
        error is the HOLD_QUANTILE of the distances both ways, half the worst (OUTLIER_FACTOR) or the mean over
        the mean allowed, whichever is largest (edge_measure.curve_error: the curve sampled segment by segment by
        each one's length, each sample weighing what it stands for, and measured in one compiled call)."""
        if len(self.kept[piece]) == 0:
            return 0.0
        kept, kept_points, edge = self.edges[piece][frame_index]
        return edge_measure.curve_error(
            np.ascontiguousarray(ctrl, dtype=np.float64),
            self.curves[piece],
            self.constants,
            edge.line,
            edge.linked,
            kept,
            kept_points,
            _NO_ALLOWANCE if allowance is None else allowance,
            bound,
            float(self.mean_fraction[frame_index]),
        )

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

    def mixed_weights(
        self,
        piece: int,
        frame_index: int,
        towards: np.ndarray,
        start: np.ndarray,
        limit: float,
        rounds: int,
        step: float,
    ) -> np.ndarray:
        """Per point, how far of the way from ``start`` to ``towards`` it may go, found in ``rounds`` rounds: each
        round each segment of the blend at those weights is measured on its own (how far its curve strays from the
        piece's edge at worst: its samples inside the picture; 0 on a chord), and the points at either end of a
        segment further than ``limit`` lose ``step`` of their weight, down to 0; the rounds stop once no segment
        strays or no point has weight left (curve_kernel.mixed_weights, one compiled call)."""
        edge = self.edges[piece][frame_index][2]
        return mixed_weights(
            np.ascontiguousarray(towards, np.float64),
            np.ascontiguousarray(start, np.float64),
            self.kept[piece],
            bernstein(SEGMENT_SAMPLES),
            self.low,
            self.high,
            edge.line,
            edge.linked,
            limit,
            rounds,
            step,
        )

    def _sampled(self, piece: int, ctrl: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The piece's curve samples, about CURVE_STEP_PX apart on its longest segment and as many on every other,
        and per sample whether it joins the next (curve_kernel.sampled_curve); None where it has no segment off a
        chord. ``sample_errors`` wants each edge sample's own worst distance, which these dense samples find
        closely; ``error`` samples each segment by its own length (edge_measure.curve_error). A segment whose
        next is a chord ends on a run's end, which no later sample reaches: its end point is a sample too. Without
        it the curve stopped a sample short of every run's end, and the edge's last sample there measured up to
        CURVE_STEP_PX off a piece that reaches it exactly."""
        kept = self.kept[piece]
        if len(kept) == 0:
            return None
        ctrl = np.ascontiguousarray(ctrl, dtype=np.float64)
        return sampled_curve(ctrl, kept, self.links[piece], _CURVE_WEIGHTS, CURVE_STEP_PX, MIN_CURVE_SAMPLES)

    def _measure_args(
        self, piece: int, frame_index: int, ctrl: np.ndarray, allowance: np.ndarray | None
    ) -> tuple | None:
        """What edge_measure measures ``ctrl``'s curve on this frame with: its samples (``_sampled``), the picture,
        the sharpened corners and their slack, the edge, the edge samples measured back, the allowance (an empty
        one for none). None where the piece has no segment off a chord."""
        curve = self._sampled(piece, ctrl)
        if curve is None:
            return None
        kept, kept_points, edge = self.edges[piece][frame_index]
        tips = ctrl[self.tips[piece], POINT]
        given = _NO_ALLOWANCE if allowance is None else allowance
        return (*curve, self.low, self.high, tips, CORNER_SLACK_PX**2, edge.line, edge.linked, kept, kept_points, given)

    def _distances(
        self, piece: int, frame_index: int, ctrl: np.ndarray, stop: float, allowance: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """Curve-to-edge distances and their nearest edge samples, and edge-to-curve distances (None when the
        first already exceed ``stop``); each divided by its sample's ``allowance`` when given. None where no
        curve is inside the picture. A sharpened corner stands off the rounded edge of the mask by design: the
        curve within CORNER_SLACK_PX of one is not measured; away from the corners it must lie on the edge."""
        args = self._measure_args(piece, frame_index, ctrl, allowance)
        if args is None:
            return None
        found, out, nearest, back, _ = edge_measure.measure(*args, stop)
        if found == edge_measure.NOTHING:
            return None
        return out, nearest, back if found == edge_measure.BOTH else None
