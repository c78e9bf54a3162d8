"""A piece's curve sampled for the edge check, compiled: the bezier segments off its chords, each sampled at the
same parameters, as keys.EdgeCheck measures thousands of times a shot.

numpy sampled them as one batched product (Bernstein weights times each segment's four controls) after a dozen
small array operations; on DAVIS dog's first 30 frames the sampling around each measurement cost as much as the
compiled measurement itself (profile, bench/RESULTS.md, forty-eighth pass). Here it is one loop.

The product is summed in a fixed order, without fused multiply-adds (numba's default). numpy hands it to
OpenBLAS, whose kernel is chosen for the CPU at run time, so the same key sampled on two farm workers (with and
without AVX-512) could differ in the last bit, and a shape traced near a threshold could differ with them (the
forty-seventh pass saw the DAVIS table move between two machines on the same code; bench/RESULTS.md). These
samples do not depend on the kernel OpenBLAS picks. They are within a few units in the last place of numpy's
(tests/shapes/test_curve_kernel.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.nearest import measure_polyline


@njit(cache=True)
def _control(ctrl: np.ndarray, i: int, c: int, part: int) -> float:
    """Coordinate ``c`` of control ``part`` (0-3) of the segment from point ``i`` to the next, as
    model.segment_controls lays them out."""
    j = i + 1 if i + 1 < ctrl.shape[0] else 0
    if part == 0:
        return ctrl[i, POINT, c]
    if part == 1:
        return ctrl[i, POINT, c] + ctrl[i, RIGHT, c]
    if part == 2:
        return ctrl[j, POINT, c] + ctrl[j, LEFT, c]
    return ctrl[j, POINT, c]


@njit(cache=True)
def _sample(ctrl: np.ndarray, i: int, weights: np.ndarray, s: int, c: int) -> float:
    """Coordinate ``c`` of segment ``i`` at the parameter of row ``s`` of ``weights``, summed in control order."""
    total = weights[s, 0] * _control(ctrl, i, c, 0)
    total = total + weights[s, 1] * _control(ctrl, i, c, 1)
    total = total + weights[s, 2] * _control(ctrl, i, c, 2)
    return total + weights[s, 3] * _control(ctrl, i, c, 3)


@njit(cache=True)
def _polygon_length(ctrl: np.ndarray, i: int) -> float:
    """The length of the control polygon of the segment from point ``i``: a bound on the segment's own length."""
    length = 0.0
    for part in range(3):
        dx = _control(ctrl, i, 0, part + 1) - _control(ctrl, i, 0, part)
        dy = _control(ctrl, i, 1, part + 1) - _control(ctrl, i, 1, part)
        length += math.hypot(dx, dy)
    return length


@njit(cache=True)
def _samples_for(length: float, step_px: float, fewest: int, most: int) -> int:
    """Samples for a control polygon of ``length``: its length over ``step_px``, within ``fewest`` and ``most``."""
    return min(max(math.ceil(length / step_px), fewest), most)


@njit(cache=True)
def _samples_per_segment(ctrl: np.ndarray, kept: np.ndarray, step_px: float, fewest: int, most: int) -> int:
    """Samples per segment: the longest kept segment's control polygon over ``step_px``, within ``fewest`` and
    ``most``."""
    reach = 0.0
    for i in kept:
        reach = max(reach, _polygon_length(ctrl, i))
    return _samples_for(reach, step_px, fewest, most)


@njit(cache=True)
def _laid_out(
    ctrl: np.ndarray, kept: np.ndarray, links: np.ndarray, tables: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``counts[k]`` samples of each segment ``kept[k]`` from its start (Bernstein weights ``tables[count,
    :count]``), segment after segment, and per sample whether it joins the next; a segment whose ``links`` entry
    is False (a chord follows) adds its end point, which joins nothing."""
    total = 0
    for k in range(len(kept)):
        total += counts[k] + (0 if links[k] else 1)
    curve = np.empty((total, 2))
    linked = np.ones(total, np.bool_)
    n = 0
    for k in range(len(kept)):
        i, weights = kept[k], tables[counts[k]]
        for s in range(counts[k]):
            curve[n, 0] = _sample(ctrl, i, weights, s, 0)
            curve[n, 1] = _sample(ctrl, i, weights, s, 1)
            n += 1
        if not links[k]:
            curve[n, 0] = _control(ctrl, i, 0, 3)
            curve[n, 1] = _control(ctrl, i, 1, 3)
            linked[n] = False
            n += 1
    return curve, linked


@njit(cache=True)
def sampled_curve(
    ctrl: np.ndarray, kept: np.ndarray, links: np.ndarray, tables: np.ndarray, step_px: float, fewest: int
) -> tuple[np.ndarray, np.ndarray]:
    """The samples of the segments ``kept`` (indices of points, in order) of the key ``ctrl`` ``(N, 3, 2)``, and
    per sample whether it joins the next: ``count`` samples from each segment's start (``_samples_per_segment``,
    at most ``tables.shape[0] - 1``), Bernstein weights ``tables[count, :count]``; a segment whose ``links`` entry
    is False (its next kept segment is not the next segment: a chord follows) adds its end point, which joins
    nothing."""
    count = _samples_per_segment(ctrl, kept, step_px, fewest, tables.shape[0] - 1)
    return _laid_out(ctrl, kept, links, tables, np.full(len(kept), count, np.int64))


@njit(cache=True)
def sampled_by_length(
    ctrl: np.ndarray, kept: np.ndarray, links: np.ndarray, tables: np.ndarray, step_px: float, fewest: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sampled_curve`` with each segment sampled by its own length (``tables[count]``, ``count`` from its own
    control polygon), and per sample its weight: how many samples it stands for where every segment is sampled as
    densely as the longest (``sampled_curve``), so a short segment weighs in the error's quantile and mean as much
    as before on a fraction of the samples. A run's end point weighs one, as there."""
    most = tables.shape[0] - 1
    counts = np.empty(len(kept), np.int64)
    reach = 0.0
    for k in range(len(kept)):
        length = _polygon_length(ctrl, kept[k])
        reach = max(reach, length)
        counts[k] = _samples_for(length, step_px, fewest, most)
    dense = _samples_for(reach, step_px, fewest, most)
    curve, linked = _laid_out(ctrl, kept, links, tables, counts)
    weight = np.ones(len(curve))
    n = 0
    for k in range(len(kept)):
        weight[n : n + counts[k]] = dense / counts[k]
        n += counts[k] + (0 if links[k] else 1)
    return curve, linked, weight


@njit(cache=True)
def segment_samples(ctrl: np.ndarray, kept: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``len(weights)`` samples of each segment ``kept`` of ``ctrl``, segment after segment ``(K * S, 2)``."""
    count = weights.shape[0]
    out = np.empty((len(kept) * count, 2))
    for k in range(len(kept)):
        for s in range(count):
            for c in range(2):
                out[k * count + s, c] = _sample(ctrl, kept[k], weights, s, c)
    return out


@njit(cache=True)
def segment_worst(
    ctrl: np.ndarray,
    kept: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    line: np.ndarray,
    linked: np.ndarray,
    todo: np.ndarray,
    out: np.ndarray,
) -> None:
    """Into ``out``, per point of ``ctrl`` whose ``todo`` is set, how far the segment it starts strays from the
    polyline ``line`` at worst: its ``segment_samples`` inside the picture (``low < p < high``) measured with
    nearest.measure_polyline; 0 for a segment not ``kept`` (a chord) or with no sample inside. A point's
    distance does not depend on which others are measured with it (the search is exact), so a segment measured
    alone reads as it does among all."""
    count = weights.shape[0]
    for i in range(ctrl.shape[0]):
        if todo[i]:
            out[i] = 0.0
    measured = kept[todo[kept]]
    curve = segment_samples(ctrl, measured, weights)
    rows = np.empty(curve.shape[0], np.int64)
    inside = 0
    for r in range(curve.shape[0]):
        x, y = curve[r, 0], curve[r, 1]
        if low[0] < x < high[0] and low[1] < y < high[1]:
            rows[inside] = r
            inside += 1
    rows = rows[:inside]
    distance = np.empty(inside)
    nearest = np.empty(inside, np.int64)
    measure_polyline(curve[rows], line, linked, distance, nearest)
    for n in range(inside):
        i = measured[rows[n] // count]
        if distance[n] > out[i]:
            out[i] = distance[n]


@njit(cache=True)
def mixed_weights(
    smooth: np.ndarray,
    slid: np.ndarray,
    kept: np.ndarray,
    weights: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    line: np.ndarray,
    linked: np.ndarray,
    limit: float,
    rounds: int,
    step: float,
) -> np.ndarray:
    """smoothing.mixed_back's rounds: per point, how far of the way from ``slid`` to ``smooth`` it stays. Each
    round the blend ``slid + weight * (smooth - slid)`` is measured (``segment_worst``) and the points at either
    end of a segment further than ``limit`` lose ``step`` of their weight (down to 0); the rounds stop once no
    segment strays or every weight is 0. After the first round only the segments at either side of a point whose
    weight changed are measured again: the others' curves are the same."""
    count = smooth.shape[0]
    weight = np.ones(count)
    blend = np.empty_like(smooth)
    beside = np.empty(count, np.bool_)
    worst = np.zeros(count)
    todo = np.ones(count, np.bool_)
    for _ in range(rounds):
        for i in range(count):
            for r in range(3):
                for c in range(2):
                    blend[i, r, c] = slid[i, r, c] + weight[i] * (smooth[i, r, c] - slid[i, r, c])
        segment_worst(blend, kept, weights, low, high, line, linked, todo, worst)
        astray = False
        for i in range(count):
            beside[i] = worst[i] > limit or worst[i - 1 if i else count - 1] > limit
            astray = astray or worst[i] > limit
        if not astray:
            break
        left = False
        todo[:] = False
        for i in range(count):
            if beside[i] and weight[i] > 0.0:
                weight[i] = max(weight[i] - step, 0.0)
                todo[i] = todo[i - 1 if i else count - 1] = True
            left = left or weight[i] != 0.0
        if not left:
            break
    return weight


@njit(cache=True)
def outline_areas(keys: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per key of ``keys`` ``(F, N, 3, 2)``, the signed area its outline encloses (model.signed_area's shoelace,
    positive clockwise on screen), each segment sampled at the rows of ``weights`` (model.bernstein). Whether a
    piece is turned over is asked of every frame of every piece and of each candidate the smoothing tries
    (smoothing.py, upright.py): one compiled call for all frames, where numpy took a batched product and two dot
    products per frame."""
    count = weights.shape[0]
    points = keys.shape[1] * count
    out = np.empty(keys.shape[0])
    outline = np.empty((points, 2))
    for f in range(keys.shape[0]):
        ctrl = keys[f]
        for i in range(ctrl.shape[0]):
            for s in range(count):
                outline[i * count + s, 0] = _sample(ctrl, i, weights, s, 0)
                outline[i * count + s, 1] = _sample(ctrl, i, weights, s, 1)
        forward = 0.0
        backward = 0.0
        for n in range(points):
            m = n + 1 if n + 1 < points else 0
            forward += outline[n, 0] * outline[m, 1]
            backward += outline[m, 0] * outline[n, 1]
        out[f] = 0.5 * (forward - backward)
    return out
