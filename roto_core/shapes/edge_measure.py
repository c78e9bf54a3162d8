"""The edge check's measurement of one curve against one frame's stretch of edge, compiled (see keys.EdgeCheck).

The curve's samples inside the picture and away from its sharpened corners are measured to the edge's polyline,
and the edge's samples to the curve's (nearest.py); each distance may be taken as a share of what its edge sample
allows; the edge-to-curve half is skipped once the first half exceeds a limit. ``curve_error`` sums the two halves
up as the edge check's error: the 95 % quantile, half the worst and the mean over the mean allowed, whichever is
largest.

The curve is sampled segment by segment by each one's own length (curve_kernel.sampled_by_length), and each sample
weighs as many samples as its segment had when every segment was sampled as densely as the longest: the quantile
and the mean weigh each segment as they did, on fewer samples. Sampling by length alone (the forty-second and
fifty-fifth passes) weighed a short segment beside a corner less, and the steadying moved points more: boil on
rigid parts rose on 15 of 24 rows. Weighted (and at least keys.MIN_CURVE_SAMPLES samples a segment), a
measurement takes 0.69 of the time (29.2 -> 20.2 us a call over the 15,094 calls of DAVIS goat's first 50 frames);
the dev-set table's IoU and edge figures move by at most 0.003, and boil on rigid parts is lower on 12 rows and
higher on one by 0.01 (bench/RESULTS.md, sixty-second pass).

One compiled call instead of some thirty numpy calls per measurement (the edge check measures thousands of times
a shot); ``measure`` keeps numpy's arithmetic step for step, so its distances are numpy's to the bit
(bench/RESULTS.md, forty-seventh pass).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from roto_core.shapes.curve_kernel import sampled_by_length
from roto_core.shapes.nearest import measure_polyline

# What ``measure`` found: no curve inside the picture; the curve-to-edge half over the limit (the other not
# taken); both halves.
NOTHING, STOPPED, BOTH = 0, 1, 2
# numpy's pairwise summation: up to this many values in one block of eight running sums.
_PAIRWISE_BLOCK = 128


@njit(cache=True)
def _block_sum(values: np.ndarray, start: int, count: int) -> float:
    """numpy's sum of at most _PAIRWISE_BLOCK values: in order below eight, else eight running sums."""
    if count < 8:
        total = 0.0
        for i in range(count):
            total += values[start + i]
        return total
    sums = values[start : start + 8].copy()
    i = 8
    whole = count - count % 8
    while i < whole:
        for k in range(8):
            sums[k] += values[start + i + k]
        i += 8
    total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]))
    while i < count:
        total += values[start + i]
        i += 1
    return total


@njit(cache=True)
def pairwise_sum(values: np.ndarray) -> float:
    """``values.sum()`` as numpy adds a float array up (its pairwise_sum: blocks of _PAIRWISE_BLOCK, halves
    rounded down to a multiple of eight above that), to the bit. numpy recurses; this walks the same tree with a
    stack, as numba's cache cannot hold a recursive function (numba issue 6061: the cached code crashes)."""
    if len(values) <= _PAIRWISE_BLOCK:
        return _block_sum(values, 0, len(values))
    # Per open range: start, count and how many of its halves are summed; and the sums of finished ranges.
    ranges = np.zeros((64, 3), np.int64)
    ranges[0, 1] = len(values)
    depth = 1
    sums = np.zeros(64)
    done = 0
    while depth:
        start, count, halves = ranges[depth - 1]
        if count <= _PAIRWISE_BLOCK:
            sums[done] = _block_sum(values, start, count)
            done += 1
            depth -= 1
            continue
        half = count // 2
        half -= half % 8
        if halves == 2:
            sums[done - 2] = sums[done - 2] + sums[done - 1]
            done -= 1
            depth -= 1
            continue
        ranges[depth - 1, 2] = halves + 1
        ranges[depth, 0] = start if halves == 0 else start + half
        ranges[depth, 1] = half if halves == 0 else count - half
        ranges[depth, 2] = 0
        depth += 1
    return sums[0]


@njit(cache=True)
def _measured_rows(curve: np.ndarray, low: np.ndarray, high: np.ndarray, tips: np.ndarray, slack: float) -> tuple:
    """The curve samples to measure: inside the picture (``low < p < high``), and further than ``slack`` (squared)
    from every sharpened corner ``tips``; and how many were inside the picture."""
    rows = np.empty(curve.shape[0], np.int64)
    inside = 0
    count = 0
    for i in range(curve.shape[0]):
        x, y = curve[i, 0], curve[i, 1]
        if not (low[0] < x < high[0] and low[1] < y < high[1]):
            continue
        inside += 1
        clear = True
        for t in range(tips.shape[0]):
            dx, dy = x - tips[t, 0], y - tips[t, 1]
            if dx * dx + dy * dy <= slack:
                clear = False
                break
        if clear:
            rows[count] = i
            count += 1
    return rows[:count], inside


@njit(cache=True)
def measure(
    curve: np.ndarray,
    curve_linked: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    tips: np.ndarray,
    slack: float,
    edge: np.ndarray,
    edge_linked: np.ndarray,
    kept: np.ndarray,
    kept_points: np.ndarray,
    allowance: np.ndarray,
    stop: float,
) -> tuple:
    """The distances of the curve's samples inside the picture and clear of the ``tips`` to the edge, and of the
    edge samples ``kept`` to the curve: (NOTHING, STOPPED or BOTH, curve-to-edge distances, their nearest edge
    samples, edge-to-curve distances, the curve samples measured); the second half is not taken once a first
    exceeds ``stop``."""
    rows, inside = _measured_rows(curve, low, high, tips, slack)
    out = np.zeros(max(len(rows), 1))
    nearest = np.zeros(max(len(rows), 1), np.int64)
    back = np.zeros(0)
    if inside == 0:
        return NOTHING, out, nearest, back, rows
    if len(rows):
        measure_polyline(curve[rows], edge, edge_linked, out, nearest)
    if len(allowance):
        for i in range(len(out)):
            out[i] = out[i] / allowance[nearest[i]]
    if out.max() > stop:
        return STOPPED, out, nearest, back, rows
    back = np.empty(len(kept))
    closest = np.empty(len(kept), np.int64)
    measure_polyline(kept_points, curve, curve_linked, back, closest)
    if len(allowance):
        for i in range(len(back)):
            back[i] = back[i] / allowance[kept[i]]
    return BOTH, out, nearest, back, rows


@njit(cache=True)
def _largest_weighted(values: np.ndarray, weights: np.ndarray, count: int) -> tuple:
    """The ``count`` largest of ``values``, ascending, and their ``weights``: each value larger than the least kept
    is put in its place among them, most values (under the least kept) costing one comparison."""
    kept = np.empty(count)
    kept_weight = np.empty(count)
    filled = 0
    for i in range(len(values)):
        v, w = values[i], weights[i]
        if filled == count:
            if not v > kept[0]:
                continue
            at = 0
            while at + 1 < count and kept[at + 1] < v:
                kept[at], kept_weight[at] = kept[at + 1], kept_weight[at + 1]
                at += 1
        else:
            at = filled
            filled += 1
            while at > 0 and kept[at - 1] > v:
                kept[at], kept_weight[at] = kept[at - 1], kept_weight[at - 1]
                at -= 1
        kept[at], kept_weight[at] = v, w
    return kept[:filled], kept_weight[:filled]


@njit(cache=True)
def _weighted_summed(
    out: np.ndarray, weight: np.ndarray, back: np.ndarray, quantile: float, outlier: float, mean_fraction: float
) -> float:
    """The error of measured halves ``out`` and ``back`` whose curve samples stand for ``weight`` samples each (an
    edge sample for one): the ``quantile`` as numpy's linear interpolation reads it off the values repeated by their
    weights (a value covers ``weight`` places along the sorted values; the same to the bit where the weights are
    whole), the worst over ``outlier`` and the weighted mean over ``mean_fraction``, whichever is largest. Every
    weight is at least one, so the places from the quantile's up lie among that many largest values and one more:
    they are kept as the values pass, not sorted."""
    both = np.concatenate((out, back))
    weights = np.concatenate((weight, np.ones(len(back))))
    total = 0.0
    summed = 0.0
    for i in range(len(both)):
        total += weights[i]
        summed += weights[i] * both[i]
    virtual = (total - 1.0) * quantile
    below = math.floor(virtual)
    ordered, ordered_weight = _largest_weighted(both, weights, min(len(both), math.ceil(total - below) + 1))
    largest = ordered[-1]
    a = b = largest
    reach = total
    found_a = found_b = False
    for i in range(len(ordered) - 1, -1, -1):
        reach -= ordered_weight[i]
        if not found_b and reach <= below + 1:
            b, found_b = ordered[i], True
        if reach <= below:
            a, found_a = ordered[i], True
            break
    if not found_a:
        a = ordered[0]
    if below + 1 >= total:
        b = a
    gamma = virtual - below
    at = b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma
    return max(at, largest / outlier, summed / total / mean_fraction)


@njit(cache=True)
def curve_error(
    ctrl: np.ndarray,
    piece: tuple,
    constants: tuple,
    edge: np.ndarray,
    edge_linked: np.ndarray,
    kept: np.ndarray,
    kept_points: np.ndarray,
    allowance: np.ndarray,
    bound: float,
    mean_fraction: float,
) -> float:
    """``error`` of the key ``ctrl`` ``(N, 3, 2)`` itself: its curve sampled segment by segment by each one's own
    length (curve_kernel.sampled_by_length, ``piece``: the segments off a chord, whether each joins the next, the
    corner points) and measured in the same call, each sample weighing as many as it stands for
    (``_weighted_summed``), as keys.EdgeCheck.error asks 100,581 times over the nine dev rows profiled in
    bench/RESULTS.md, fifty-fifth pass (``constants``: the sampling's weight tables, step and fewest samples, the
    picture's corners, the corners' slack, the quantile and the outlier factor)."""
    segments, links, corners = piece
    tables, step, fewest, low, high, slack, quantile, outlier = constants
    curve, curve_linked, weight = sampled_by_length(ctrl, segments, links, tables, step, fewest)
    tips = np.empty((len(corners), 2))
    for t in range(len(corners)):
        tips[t, 0], tips[t, 1] = ctrl[corners[t], 1, 0], ctrl[corners[t], 1, 1]
    found, out, _, back, rows = measure(
        curve, curve_linked, low, high, tips, slack, edge, edge_linked, kept, kept_points, allowance, bound * outlier
    )
    if found == NOTHING:
        return 0.0
    if found == STOPPED:
        return out.max() / outlier
    weights = np.ones(len(out))
    for r in range(len(rows)):
        weights[r] = weight[rows[r]]
    return _weighted_summed(out, weights, back, quantile, outlier, mean_fraction)
