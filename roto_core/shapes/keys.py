"""Per-frame shapes → the few keys an artist has to touch, with the matte as a hard constraint.

The per-frame fits of one component's pieces are smoothed over time (a small Gaussian whose strength comes from
ShapeSettings.smoothing), so the frame-to-frame jitter of a segmenter's mask is not keyed; a frame whose
smoothed shape strays from its own edge by more than the tolerance keeps its unsmoothed fit. Keys are then
chosen greedily: a span between two keys is accepted only while the linear in-between (how Nuke and Silhouette
draw a shape between linear keys) stays within the tolerance of that frame's edge, both ways (no curve sample
further than the tolerance from the edge, no edge sample further than the tolerance from the curve). All
pieces of a component share their keys, so the chords they share never open a gap between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

from roto_core.shapes.model import POINT, bernstein, segment_controls
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import CORNER_SLACK_PX, Piece, chord_mask, corner_flags

MAX_SMOOTHING_SIGMA_FRAMES = 2.0
EDGE_STEP_PX = 1.5
CURVE_STEP_PX = 1.0
MAX_CURVE_SAMPLES = 48
MAX_SPAN_FRAMES = 40
BORDER_PX = 1.0
# Besides the worst sample, the mean distance stays within this fraction of the tolerance: a rotation
# interpolated linearly shrinks the whole outline a little, which costs more area than one bump.
MEAN_FRACTION = 0.5
HOLD_QUANTILE = 0.95
OUTLIER_FACTOR = 2.0


def smooth_trajectories(ctrl: np.ndarray, smoothing: float) -> np.ndarray:
    """Gaussian smoothing over time of ``(F, N, 3, 2)`` control points; ``smoothing`` in 0..1."""
    sigma = MAX_SMOOTHING_SIGMA_FRAMES * smoothing
    if sigma <= 0 or len(ctrl) < 3:
        return ctrl.copy()
    # Pad by point reflection about the end frames: steady motion continues through the ends instead of the
    # ends being pulled toward the inside, which a plain "nearest" pad does.
    pad = min(len(ctrl) - 1, int(np.ceil(4 * sigma)))
    head = 2 * ctrl[0] - ctrl[pad:0:-1]
    tail = 2 * ctrl[-1] - ctrl[-2 : -pad - 2 : -1]
    padded = np.concatenate([head, ctrl, tail])
    return gaussian_filter1d(padded, sigma, axis=0, mode="nearest")[pad : pad + len(ctrl)]


def _polyline_distance(line: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance of each point to the closed polyline through ``line``: to the two pieces either side of its
    nearest vertex (the vertices alone are too sparse on long segments)."""
    _, nearest = cKDTree(line).query(points)
    count = len(line)
    best = np.full(len(points), np.inf)
    for step in (-1, 1):
        a = line[nearest]
        d = line[(nearest + step) % count] - a
        t = np.clip(np.einsum("nd,nd->n", points - a, d) / np.maximum(np.einsum("nd,nd->n", d, d), 1e-12), 0, 1)
        best = np.minimum(best, np.linalg.norm(a + t[:, None] * d - points, axis=1))
    return best


class EdgeCheck:
    """How far a piece's curve is from its stretch of edge on one frame (both ways, worst sample)."""

    def __init__(self, track: OutlineTrack, pieces: Sequence[Piece], size: tuple[int, int]) -> None:
        h, w = size
        self.low = np.array([BORDER_PX, BORDER_PX])
        self.high = np.array([w - BORDER_PX, h - BORDER_PX])
        self.chords = [chord_mask(p) for p in pieces]
        self.corners = [corner_flags(p) for p in pieces]
        self.edges: list[list[tuple[np.ndarray, cKDTree]]] = []
        for piece in pieces:
            per_frame = []
            for f in track.frames:
                loop = track.loops[f]
                parts = []
                for start, end in piece.runs:
                    sa, sb = (float(x) for x in track.arc(f, np.array([start, end])))
                    parts.append(loop.samples(sa, sb, EDGE_STEP_PX))
                edge = np.concatenate(parts)
                inside = self._inside(edge)
                # Edge along the image border is where the frame cuts the object, not the object's edge: the
                # shape may run anywhere outside the picture there.
                kept = edge[inside] if inside.sum() >= 2 else edge
                per_frame.append((kept, cKDTree(edge)))
            self.edges.append(per_frame)

    def _inside(self, points: np.ndarray) -> np.ndarray:
        return np.all((points > self.low) & (points < self.high), axis=1)

    def error(self, piece: int, frame_index: int, ctrl: np.ndarray, bound: float = np.inf) -> float:
        """The piece's error on this frame; any value above ``bound`` once it is certain to exceed it (then the
        edge-to-curve half, the costlier one, is skipped)."""
        seg = segment_controls(ctrl)[~self.chords[piece]]
        if len(seg) == 0:
            return 0.0
        reach = float(np.max(np.linalg.norm(seg[:, 1:] - seg[:, :-1], axis=2).sum(axis=1)))
        count = int(np.clip(np.ceil(reach / CURVE_STEP_PX), 4, MAX_CURVE_SAMPLES))
        curve = np.matmul(bernstein(count), seg).reshape(-1, 2)
        edge, tree = self.edges[piece][frame_index]
        curve = curve[self._inside(curve)]
        if len(curve) == 0:
            return 0.0
        tips = ctrl[self.corners[piece], POINT]
        if len(tips):
            # A sharpened corner stands off the rounded edge of the mask by design; away from the corners the
            # curve must lie on the edge.
            near = np.min(np.linalg.norm(curve[:, None, :] - tips[None, :, :], axis=2), axis=1)
            curve_off = curve[near > CORNER_SLACK_PX]
        else:
            curve_off = curve
        out, _ = tree.query(curve_off) if len(curve_off) else (np.zeros(1), None)
        worst = float(out.max())
        if worst / OUTLIER_FACTOR > bound:
            return worst / OUTLIER_FACTOR
        back = _polyline_distance(curve, edge)
        both = np.concatenate((out, back))
        # Mask edges carry per-frame noise of about a pixel; a key for every bump would key the jitter. The
        # in-between holds when nearly all of the outline is within the tolerance and none of it twice as far.
        return float(max(np.quantile(both, HOLD_QUANTILE), both.max() / OUTLIER_FACTOR, both.mean() / MEAN_FRACTION))

    def holds(self, frame_index: int, ctrls: Iterable[np.ndarray], tolerance: float) -> bool:
        """Every piece within ``tolerance`` on this frame; stops at the first piece that is not (``ctrls`` may
        be a generator, so a failing frame does not even build the later pieces' shapes)."""
        return all(self.error(p, frame_index, c, tolerance) <= tolerance for p, c in enumerate(ctrls))


def _span_ok(check: EdgeCheck, per_frame: Sequence[np.ndarray], start: int, end: int, tolerance: float) -> bool:
    inner = np.arange(start + 1, end)
    # The middle frame strays most under steady motion: try it first so a failing span is rejected quickly.
    for f in sorted(inner, key=lambda f: abs(f - 0.5 * (start + end))):
        w = (f - start) / float(end - start)
        if not check.holds(int(f), ((1.0 - w) * c[start] + w * c[end] for c in per_frame), tolerance):
            return False
    return True


def reduce_keys(check: EdgeCheck, per_frame: Sequence[np.ndarray], tolerance: float) -> np.ndarray:
    """Indices of the key frames of ``per_frame`` (one ``(F, N, 3, 2)`` array per piece); ends always keyed."""
    count = len(per_frame[0])
    keys = [0]
    start = 0
    while start < count - 1:
        limit = min(count - 1, start + MAX_SPAN_FRAMES)
        good, probe = start + 1, start + 2
        while probe <= limit and _span_ok(check, per_frame, start, probe, tolerance):
            good, probe = probe, start + 2 * (probe - start)
        high = min(probe, limit + 1)
        while high - good > 1:
            mid = (good + high) // 2
            if _span_ok(check, per_frame, start, mid, tolerance):
                good = mid
            else:
                high = mid
        keys.append(good)
        start = good
    return np.asarray(keys, np.int64)


def smoothed_within(
    check: EdgeCheck, raw: Sequence[np.ndarray], smoothing: float, tolerance: float
) -> list[np.ndarray]:
    """Smoothed per-frame controls, except on frames where smoothing would leave the edge."""
    smooth = [smooth_trajectories(c, smoothing) for c in raw]
    for f in range(len(raw[0])):
        if not check.holds(f, (c[f] for c in smooth), tolerance):
            for s, r in zip(smooth, raw, strict=True):
                s[f] = r[f]
    return smooth
