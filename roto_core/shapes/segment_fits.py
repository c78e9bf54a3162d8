"""Segments of an outline track fitted on many frames at once: where a segment's end points sit and point, and
the bezier from one to the other along each frame's edge.

A point is a fixed parameter ``u`` of the track (outline_track.py) with a role: smooth, a corner (its tip is
re-found on every frame and sharpened) or the start/end of an outline run (its tangent reads only the outline
side). ``fit_runs`` fits many segments on many frames in a few batches of ``fitting.fit_segments``: the point
selection (piece_fitter.py) asks for thousands of fits, and numpy's per-call cost, not the arithmetic, used to
dominate them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from roto_core.shapes.fitting import fit_segments
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
# In a finished shape, a corner's tip is looked for no nearer than this to the middle between it and the points
# beside it.
CORNER_MARGIN_PX = 1.0
CORNER_SEARCH = np.arange(-CORNER_SPAN_PX, CORNER_SPAN_PX + 0.5, 1.0)
MAX_RUN_SAMPLES = 400

SMOOTH, CORNER, START, END = "smooth", "corner", "start", "end"


def corner_arc(
    track: OutlineTrack, u: np.ndarray | float, rows: Rows = None, beside: np.ndarray | None = None
) -> np.ndarray:
    """Arc lengths ``(F, *u.shape)`` of the sharpest turn of the edge within CORNER_SPAN_PX of each ``u`` on each
    frame: the parameter carries a corner close to its tip, this puts it on the tip. ``beside`` (``(*u.shape,
    2)``, optional) are the parameters of the points before and after each corner in its shape: the tip is not
    looked for past the middle to either, less CORNER_MARGIN_PX (a corner that passed its neighbour folded the
    curve back; two corners a few pixels apart took the same tip, and the segment between them curled)."""
    u = np.asarray(u, dtype=np.float64)
    flat_u = u.reshape(-1)
    if beside is None:
        base = track.arc_all(flat_u, rows)
        allowed = np.ones((1, 1, len(CORNER_SEARCH)), bool)
    else:
        around = np.asarray(beside, dtype=np.float64).reshape(-1, 2)
        arcs = track.arc_all(np.concatenate((around[:, 0], flat_u, around[:, 1])), rows)
        s_before, base, s_after = arcs.reshape(arcs.shape[0], 3, -1).transpose(1, 0, 2)
        low = 0.5 * (s_before - base)[:, :, None] + CORNER_MARGIN_PX
        high = 0.5 * (s_after - base)[:, :, None] - CORNER_MARGIN_PX
        allowed = ((low <= CORNER_SEARCH) & (high >= CORNER_SEARCH)) | (CORNER_SEARCH == 0.0)
    frames, count = base.shape
    s = base[:, :, None] + CORNER_SEARCH
    flat = s.reshape(frames, -1)
    # One lookup for the three places of every candidate.
    pts = track.at_all(np.concatenate((flat - CORNER_SPAN_PX, flat, flat + CORNER_SPAN_PX), axis=1), rows)
    before, here, after = pts.reshape(frames, 3, count, len(CORNER_SEARCH), 2).transpose(1, 0, 2, 3, 4)
    a, b = here - before, after - here
    cosine = np.sum(a * b, axis=3) / np.maximum(np.linalg.norm(a, axis=3) * np.linalg.norm(b, axis=3), 1e-9)
    cosine = np.where(allowed, cosine, np.inf)
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


def point_ends(
    track: OutlineTrack, points: list[Point], rows: Rows = None, beside: list[tuple[float, float]] | None = None
) -> list[End]:
    """Per point ``(u, role)``, what a segment needs of its end on every frame: the position ``(F, 2)`` for a
    corner (None otherwise: the edge itself) and the (incoming, outgoing) unit directions ``(F, 2)``. A corner's
    tip is found once and serves both. All points are looked up together (one lookup per kind of point: the
    selection asks for a few new points at a time, and numpy's per-call cost outweighs the arithmetic).
    ``beside``, per point, the parameters of its neighbours in a finished shape (see ``corner_arc``)."""
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
        around = None if beside is None else np.array([beside[i] for i in corners])
        s = corner_arc(track, np.array([points[i][0] for i in corners]), rows, around)
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
# Padding (samples x frames) worth one more batch: a fit_segments call costs about what this many samples do.
GROUP_WASTE = 2000
# Samples x frames in one batch at most: fit_segments holds a few dozen arrays of the batch's size at once, and
# on a long shot many segments x every frame would take gigabytes (a few megabytes each at this size).
MAX_BATCH = 250_000


def _width_groups(counts: np.ndarray, frames: int) -> list[np.ndarray]:
    """Segments grouped by sample count so a batch pads little (runs range from a few samples to hundreds) and
    stays within MAX_BATCH."""
    order = np.argsort(counts, kind="stable")
    groups: list[list[int]] = []
    total = 0
    for k in order.tolist():
        c = int(counts[k])
        grown = c * (len(groups[-1]) + 1) * frames if groups else 0
        if groups and grown - (total + c) * frames <= GROUP_WASTE and grown <= MAX_BATCH:
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
