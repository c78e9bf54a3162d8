"""Segments of an outline track fitted on many frames at once: where a segment's end points sit and point, and
the bezier from one to the other along each frame's edge.

A point is a fixed parameter ``u`` of the track (outline_track.py) with a role: smooth, a corner (its tip is
re-found on every frame and sharpened) or the start/end of an outline run (its tangent reads only the outline
side). ``fit_runs`` fits many segments on many frames in a few batches, each one compiled call
(segment_kernel.span_fits), and ``point_ends`` finds the ends of many points in one (point_end_kernel.py): the point
selection (piece_fitter.py) asks for thousands of fits, and numpy's per-call cost, not the arithmetic, used to
dominate them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from roto_core.shapes import point_end_kernel
from roto_core.shapes.fitting import NEWTON_STEPS
from roto_core.shapes.outline_track import OutlineTrack, Rows
from roto_core.shapes.point_end_kernel import corner_arcs
from roto_core.shapes.segment_kernel import span_fits

FIT_STEP_PX = 2.0
# A point's tangent chord either side of it (a run end's: one side); on a loop shorter than eight of them, an eighth
# of its length (point_end_kernel.TANGENT_SHARE).
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
    curve back; two corners a few pixels apart took the same tip, and the segment between them curled). One
    compiled call (point_end_kernel.corner_arcs)."""
    u = np.asarray(u, dtype=np.float64)
    around = _NOT_BESIDE if beside is None else np.ascontiguousarray(beside, dtype=np.float64).reshape(-1, 2)
    index = _rows(track, rows)
    arcs = corner_arcs(
        np.ascontiguousarray(u.reshape(-1)), around, index, track.markers_packed, track.packed, CORNER_SEARCH_ARGS
    )
    return arcs.reshape((len(index), *u.shape))


End = tuple[np.ndarray | None, np.ndarray, np.ndarray]
Point = tuple[float, str]
# Tangent chord (before, after) of a point on the edge by role: run ends read only their outline side.
_SIDES = {START: (0.0, ONE_SIDED_PX), END: (ONE_SIDED_PX, 0.0)}
KINDS = {
    SMOOTH: point_end_kernel.SMOOTH,
    START: point_end_kernel.START,
    END: point_end_kernel.END,
    CORNER: point_end_kernel.CORNER,
}
# The tip of a corner and the four chord ends of both its tangents.
CORNER_OFFSETS = np.array(
    [0.0, -CORNER_GAP_PX - CORNER_TANGENT_PX, -CORNER_GAP_PX, CORNER_GAP_PX, CORNER_GAP_PX + CORNER_TANGENT_PX]
)
# No neighbours given (corner_arc's ``beside``); what the compiled corner search takes.
_NOT_BESIDE = np.zeros((0, 2))
CORNER_SEARCH_ARGS = (CORNER_SEARCH, CORNER_SPAN_PX, CORNER_MARGIN_PX)


def _rows(track: OutlineTrack, rows: Rows) -> np.ndarray:
    """The track's rows ``rows`` picks (all where None), as the compiled lookups take them."""
    return track.every_row if rows is None else np.ascontiguousarray(track.every_row[rows])


def point_ends(
    track: OutlineTrack, points: list[Point], rows: Rows = None, beside: list[tuple[float, float]] | None = None
) -> list[End]:
    """Per point ``(u, role)``, what a segment needs of its end on every frame: the position ``(F, 2)`` for a
    corner (None otherwise: the edge itself) and the (incoming, outgoing) unit directions ``(F, 2)``. A corner's
    tip is found once and serves both (point_end_kernel.point_ends: all points in one compiled call, the selection
    asks for a few new points at a time). ``beside``, per point, the parameters of its neighbours in a finished
    shape (see ``corner_arc``)."""
    if not points:
        return []
    tips, t_in, t_out = point_end_kernel.point_ends(
        np.array([u for u, _ in points]),
        np.array([KINDS[role] for _, role in points]),
        np.array([_SIDES.get(role, (TANGENT_PX, TANGENT_PX)) for _, role in points]),
        _NOT_BESIDE if beside is None else np.array(beside, dtype=np.float64),
        _rows(track, rows),
        track.markers_packed,
        track.packed,
        CORNER_SEARCH_ARGS,
        CORNER_OFFSETS,
        2 * CORNER_SPAN_PX,
    )
    return [(tips[k] if role == CORNER else None, t_in[k], t_out[k]) for k, (_, role) in enumerate(points)]


def point_end(track: OutlineTrack, u: float, role: str, rows: Rows = None) -> End:
    """``point_ends`` of one point."""
    return point_ends(track, [(u, role)], rows)[0]


def tangents(track: OutlineTrack, u: float, role: str, rows: Rows = None) -> tuple[np.ndarray, np.ndarray]:
    """(incoming, outgoing) unit directions ``(F, 2)`` of the edge at ``u`` on every frame; the chord side of
    a run end is not used."""
    _, t_in, t_out = point_end(track, u, role, rows)
    return t_in, t_out


Segment = tuple[Point, Point]
Fit = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Ends = Callable[[list[Point]], list[End]]
# Padding (samples x frames) worth one more batch: a batch's call costs about what this many samples do.
GROUP_WASTE = 2000
# Samples x frames in one batch at most: a batch's samples are held at once, and on a long shot many segments x
# every frame would take gigabytes (four megabytes at this size).
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
    """``fit_runs`` of one batch: arc starts and extents ``(F, n)``, sample counts ``(n,)``, both ends' End; the
    samples looked up and fitted in one compiled call (segment_kernel.span_fits). A corner's samples within
    CORNER_SLACK_PX of its tip are left out of the error."""
    slack = int(np.ceil(CORNER_SLACK_PX / FIT_STEP_PX)) + 1
    frames = len(start)
    no_tip = np.zeros((frames, 2))
    tips = np.array([[no_tip if end[0] is None else end[0] for end in pair] for pair in ends])
    tipped = np.array([[end[0] is not None for end in pair] for pair in ends])
    skips = np.array([[slack if a[1] == CORNER else 0, slack if b[1] == CORNER else 0] for a, b in segments])
    out_handle, in_handle, err, worst_u = span_fits(
        np.ascontiguousarray(start),
        np.ascontiguousarray(extent),
        counts,
        np.array([a for (a, _), _ in segments]),
        np.array([b for _, (b, _) in segments]),
        tips,
        tipped,
        np.concatenate([a[2] for a, _ in ends]),
        np.concatenate([b[1] for _, b in ends]),
        skips,
        _rows(track, rows),
        track.packed,
        NEWTON_STEPS,
    )
    return [(out_handle[k], in_handle[k], err[k], worst_u[k]) for k in range(len(segments))]
