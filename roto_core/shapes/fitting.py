"""Edge outline → a sparse closed bezier: corners where the outline turns sharply, smooth points elsewhere.

The point count is decided once, on a shape's reference frame, and then carried unchanged (tracking.py): an
artist gets the fewest points that hold the outline within the tolerance. Segments are fitted with fixed end
tangents by least squares on chord-length parameters, refined by Newton steps (Schneider's method), and split at
the worst sample until every segment is within tolerance or the point budget is spent.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.portable import arccos, length
from roto_core.shapes.segment_kernel import fit_rows

CORNER_ANGLE_DEG = 40.0
CORNER_SCALE_PX = 5
CORNER_CONCENTRATION = 0.7
TANGENT_SCALE_PX = 3
INITIAL_SMOOTH_POINTS = 4
MERGE_FRACTION = 0.75
SLIDE_STEPS = (16, 4)
FIT_STRIDE = 3  # outline samples are ~1 px apart; every third keeps the error check honest and the fit cheap
MIN_OUTLINE_SAMPLES = 16
NEWTON_STEPS = 2
# np.sum's Python wrapper costs more than the reduction of a short run; the fitter calls it thousands of times.


@dataclass
class _Segment:
    start: int
    end: int
    out_handle: np.ndarray
    in_handle: np.ndarray
    error: float
    worst: int


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def _turning(points: np.ndarray, k: int) -> np.ndarray:
    """Angle in degrees between the chords k samples before and after each sample."""
    before = _unit(points - np.roll(points, k, axis=0))
    after = _unit(np.roll(points, -k, axis=0) - points)
    return np.degrees(arccos(np.clip(np.sum(before * after, axis=1), -1.0, 1.0)))


def corner_indices(points: np.ndarray) -> np.ndarray:
    """Local maxima where the outline turns by more than CORNER_ANGLE_DEG within CORNER_SCALE_PX samples."""
    m = len(points)
    k = CORNER_SCALE_PX
    if m < 4 * k:
        return np.zeros(0, np.int64)
    turn = _turning(points, k)
    # A true corner turns as much over k samples as over 2k; a tight arc turns about twice as much over 2k.
    concentrated = turn >= CORNER_CONCENTRATION * _turning(points, 2 * k)
    window = np.stack([np.roll(turn, s) for s in range(-k, k + 1)])
    is_max = (turn >= window.max(axis=0)) & (turn > CORNER_ANGLE_DEG) & concentrated
    idx = np.nonzero(is_max)[0]
    keep: list[int] = []
    for i in idx:
        if not keep or i - keep[-1] > k:
            keep.append(int(i))
    if len(keep) > 1 and keep[0] + m - keep[-1] <= k:
        keep.pop()
    return np.asarray(keep, np.int64)


def tangents_at(points: np.ndarray, index: int, corner: bool) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (into the point, out of the point). Equal for a smooth point."""
    m = len(points)
    if corner:
        k, gap = CORNER_SCALE_PX, 2
        incoming = points[(index - gap) % m] - points[(index - gap - k) % m]
        outgoing = points[(index + gap + k) % m] - points[(index + gap) % m]
        return _unit(incoming), _unit(outgoing)
    k = TANGENT_SCALE_PX
    t = _unit(points[(index + k) % m] - points[(index - k) % m])
    return t, t


def fit_segment(samples: np.ndarray, t_out: np.ndarray, t_in: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Cubic from samples[0] to samples[-1] leaving along ``t_out`` and arriving along ``t_in`` (unit vectors).

    Returns the four control points, the largest sample distance, and the index of that sample. Called a few
    hundred times per shape on runs of tens of samples, so it works on x and y columns and avoids helpers that
    cost more per call than their arithmetic (np.diff, np.stack, einsum).
    """
    p0, p3 = samples[0], samples[-1]
    step = samples[1:] - samples[:-1]
    seglen = np.hypot(step[:, 0], step[:, 1])
    total = float(seglen.sum())
    if len(samples) < 3 or total < 1e-9:
        chord = float(np.hypot(*(p3 - p0)))
        ctrl = np.stack([p0, p0 + t_out * chord / 3, p3 - t_in * chord / 3, p3])
        return ctrl, 0.0, len(samples) // 2
    u = np.empty(len(samples))
    u[0] = 0.0
    np.cumsum(seglen, out=u[1:])
    u[1:] /= total
    cos_io = float(t_out @ t_in)
    sx, sy = samples[:, 0], samples[:, 1]
    # Two-vectors as Python floats: the same IEEE double arithmetic without numpy's per-call cost.
    p0x, p0y = p0.tolist()
    p3x, p3y = p3.tolist()
    tox, toy = t_out.tolist()
    tix, tiy = t_in.tolist()
    basis = np.empty((len(samples), 4))
    ctrl = np.empty((4, 2))
    ctrl[0], ctrl[3] = p0, p3
    for iteration in range(NEWTON_STEPS + 1):
        v = 1.0 - u
        b0, b1, b2, b3 = v * v * v, 3 * v * v * u, 3 * v * u * u, u * u * u
        rhs = samples - (b0 + b1)[:, None] * p0 - (b2 + b3)[:, None] * p3
        c00, c11, c01 = float(b1 @ b1), float(b2 @ b2), -float(b1 @ b2) * cos_io
        x0, x1 = float(b1 @ (rhs @ t_out)), -float(b2 @ (rhs @ t_in))
        det = c00 * c11 - c01 * c01
        a_out, a_in = ((c11 * x0 - c01 * x1) / det, (c00 * x1 - c01 * x0) / det) if abs(det) > 1e-12 else (-1, -1)
        if min(a_out, a_in) < 1e-3 * total or max(a_out, a_in) > 2.0 * total:
            a_out = a_in = total / 3.0
        c1x, c1y = p0x + a_out * tox, p0y + a_out * toy
        c2x, c2y = p3x - a_in * tix, p3y - a_in * tiy
        ctrl[1] = c1x, c1y
        ctrl[2] = c2x, c2y
        basis[:, 0], basis[:, 1], basis[:, 2], basis[:, 3] = b0, b1, b2, b3
        curve = basis @ ctrl
        dx, dy = curve[:, 0] - sx, curve[:, 1] - sy
        if iteration == NEWTON_STEPS:
            break
        q1x, q1y, q2x, q2y, q3x, q3y = c1x - p0x, c1y - p0y, c2x - c1x, c2y - c1y, p3x - c2x, p3y - c2y
        w1, w2, w3 = v * v, 2 * v * u, u * u
        d1x = 3 * (w1 * q1x + w2 * q2x + w3 * q3x)
        d1y = 3 * (w1 * q1y + w2 * q2y + w3 * q3y)
        d2x = 6 * (v * (q2x - q1x) + u * (q3x - q2x))
        d2y = 6 * (v * (q2y - q1y) + u * (q3y - q2y))
        num = dx * d1x + dy * d1y
        den = (d1x * d1x + d1y * d1y) + (dx * d2x + dy * d2y)
        u = np.clip(u - np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12), 0.0, 1.0)
        u[0], u[-1] = 0.0, 1.0
    err = np.hypot(dx, dy)
    worst = int(np.argmax(err))
    return ctrl, float(err[worst]), worst


def sharpen_corner(points: np.ndarray, index: int, t_in: np.ndarray, t_out: np.ndarray) -> np.ndarray:
    """Where the straight runs either side of a corner meet: smoothing and pixels round the real tip off."""
    m = len(points)
    gap = 2
    a = points[(index - gap) % m]
    b = points[(index + gap) % m]
    cross = t_in[0] * t_out[1] - t_in[1] * t_out[0]
    if abs(cross) < 0.2:
        return points[index]
    diff = b - a
    s = (diff[0] * t_out[1] - diff[1] * t_out[0]) / cross
    tip = a + s * t_in
    return tip if length(tip - points[index]) <= 2 * CORNER_SCALE_PX else points[index]


def thinned_run(points: np.ndarray, start: int, count: int) -> np.ndarray:
    """Samples ``start`` .. ``start + count`` around the closed loop, every FIT_STRIDE-th one, always keeping
    both ends; a fresh array the caller may change.

    One gather of precomputed offsets: the fitter takes hundreds of runs per shape, and gathering the whole run
    first and thinning it after cost more than the fit's arithmetic on short runs.
    """
    n = count + 1
    if n <= 2 * FIT_STRIDE:
        return points[(start + np.arange(n)) % len(points)]
    # Multiples of FIT_STRIDE up to the first one at or past the last sample, which is pulled back onto it.
    offsets = np.minimum(np.arange(0, n + FIT_STRIDE - 1, FIT_STRIDE), n - 1)
    return points[(start + offsets) % len(points)]


def resample_closed(points: np.ndarray, count: int) -> np.ndarray:
    """``count`` samples evenly spaced by arc length around a closed polyline (specks have very few vertices)."""
    loop = np.concatenate([points, points[:1]])
    seg = np.hypot(*np.diff(loop, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] <= 1e-9:
        angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
        return points[0] + 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    at = np.linspace(0, cum[-1], count, endpoint=False)
    return np.stack([np.interp(at, cum, loop[:, 0]), np.interp(at, cum, loop[:, 1])], axis=1)


@dataclass
class FittedShape:
    """Control points ``(N, 3, 2)`` (left offset, point, right offset) and the corner flags."""

    ctrl: np.ndarray
    corners: np.ndarray


def fit_outline(points: np.ndarray, tolerance: float, max_points: int) -> FittedShape:
    """Fewest bezier points (≥ 3, ≤ ``max_points``) that keep ``points`` within ``tolerance`` pixels."""
    if len(points) < MIN_OUTLINE_SAMPLES:
        points = resample_closed(points, MIN_OUTLINE_SAMPLES)
    m = len(points)
    corners = corner_indices(points)
    top = int(np.lexsort((points[:, 0], points[:, 1]))[0])
    if len(corners) == 0:
        breaks = [(top + round(i * m / INITIAL_SMOOTH_POINTS)) % m for i in range(INITIAL_SMOOTH_POINTS)]
    else:
        first = int(np.argmin((corners - top) % m))
        breaks = [int(c) for c in np.roll(corners, -first)]
        while len(breaks) < 3:
            gaps = [((breaks[(i + 1) % len(breaks)] - b) % m or m, i) for i, b in enumerate(breaks)]
            size, i = max(gaps)
            breaks.insert(i + 1, (breaks[i] + size // 2) % m)
    is_corner = {int(c) for c in corners}
    tangents = {b: tangents_at(points, b, b in is_corner) for b in breaks}

    anchors = {b: sharpen_corner(points, b, *tangents[b]) if b in is_corner else points[b] for b in breaks}

    def make(start: int, end: int) -> _Segment:
        run = thinned_run(points, start, (end - start) % m or m)
        run[0], run[-1] = anchors[start], anchors[end]
        ctrl, err, worst = fit_segment(run, tangents[start][1], tangents[end][0])
        return _Segment(start, end, ctrl[1] - ctrl[0], ctrl[2] - ctrl[3], err, (start + worst) % m)

    segments = {b: make(b, breaks[(i + 1) % len(breaks)]) for i, b in enumerate(breaks)}
    heap = [(-s.error, s.start) for s in segments.values()]
    heapq.heapify(heap)
    while heap and len(segments) < max_points:
        neg_err, start = heapq.heappop(heap)
        seg = segments.get(start)
        if seg is None or -neg_err != seg.error:
            continue
        if seg.error <= tolerance:
            break
        length = (seg.end - seg.start) % m or m
        offset = (seg.worst - seg.start) % m
        if length < 6:
            continue
        if not 2 <= offset <= length - 2:
            offset = length // 2
        mid = (seg.start + offset) % m
        tangents[mid] = tangents_at(points, mid, False)
        anchors[mid] = points[mid]
        segments[start] = make(seg.start, mid)
        segments[mid] = make(mid, seg.end)
        heapq.heappush(heap, (-segments[start].error, start))
        heapq.heappush(heap, (-segments[mid].error, mid))
    order = sorted(segments, key=lambda b: (b - breaks[0]) % m)
    merges: dict[tuple[int, int], _Segment] = {}

    def merge_pass() -> None:
        """Drop the smooth point whose two segments fit as one within tolerance, cheapest first, repeatedly."""
        while len(order) > 3:
            best: tuple[float, int, _Segment] | None = None
            for i, b in enumerate(order):
                if b in is_corner:
                    continue
                span = (order[i - 1], segments[b].end)
                if span not in merges:
                    merges[span] = make(*span)
                merged = merges[span]
                if merged.error <= MERGE_FRACTION * tolerance and (best is None or merged.error < best[0]):
                    best = (merged.error, i, merged)
            if best is None:
                return
            _, i, merged = best
            del segments[order[i]]
            segments[order[i - 1]] = merged
            del order[i]

    def slide_pass() -> None:
        """Move each smooth point along the outline while that lowers the worse of its two segment errors."""
        for i in range(len(order)):
            b = order[i]
            if b in is_corner:
                continue
            prev, nxt = order[i - 1], segments[b].end
            worst = max(segments[prev].error, segments[b].error)
            for step in SLIDE_STEPS:
                for cand in ((b + step) % m, (b - step) % m):
                    if not 0 < (cand - prev) % m < (nxt - prev) % m:
                        continue
                    tangents[cand] = tangents_at(points, cand, False)
                    anchors[cand] = points[cand]
                    first, second = make(prev, cand), make(cand, nxt)
                    if max(first.error, second.error) < worst:
                        del segments[b]
                        segments[prev], segments[cand] = first, second
                        order[i] = b = cand
                        worst = max(first.error, second.error)

    # Greedy splitting lands points where the error peaked, not where a curve turns into a line: merge, slide
    # the survivors to better places, and merge again.
    merge_pass()
    slide_pass()
    merge_pass()
    n = len(order)
    ctrl = np.zeros((n, 3, 2))
    flags = np.zeros(n, bool)
    for i, b in enumerate(order):
        ctrl[i, POINT] = anchors[b]
        ctrl[i, RIGHT] = segments[b].out_handle
        ctrl[i - 1 if i else n - 1, LEFT] = 0.0
        flags[i] = b in is_corner
    for i, b in enumerate(order):
        ctrl[(i + 1) % n, LEFT] = segments[b].in_handle
    return FittedShape(ctrl, flags)


def fit_segments(
    samples: np.ndarray,
    t_out: np.ndarray,
    t_in: np.ndarray,
    skip: tuple[int, int] | np.ndarray = (0, 0),
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``fit_segment`` for a batch: ``samples (B, K, 2)`` (one run per row, same count), unit tangents
    ``(B, 2)`` → control points ``(B, 4, 2)``, worst distance ``(B,)`` and index of the worst sample ``(B,)``.

    The shapes tracer fits the same segment on every frame of a shot at once: one compiled call per segment
    (segment_kernel.py) instead of one per frame. ``skip`` leaves that many samples at either end out of the
    error (next to a sharpened corner, which stands off the rounded edge by design); per row when ``(B, 2)``.
    Runs of different lengths share one batch when ``counts (B,)`` gives each row's sample count: the rows are
    padded by repeating their last sample; each row is fitted on its own samples only, so its fit is the same to
    the bit in any batch.
    """
    rows = len(samples)
    return fit_rows(
        np.ascontiguousarray(samples, dtype=np.float64),
        np.ascontiguousarray(t_out, dtype=np.float64),
        np.ascontiguousarray(t_in, dtype=np.float64),
        np.ascontiguousarray(np.broadcast_to(np.asarray(skip, dtype=np.int64), (rows, 2))),
        np.full(rows, samples.shape[1], np.int64) if counts is None else np.asarray(counts, dtype=np.int64),
        NEWTON_STEPS,
    )
