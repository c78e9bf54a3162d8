"""A frame's tracked markers put back in loop order, compiled: the outline tracker's last step on every frame.

Markers projected onto the new edge mostly keep their order; the few that swap (a thin part passing, a fold) are
placed between the neighbours that kept theirs, spaced as they were on the frame before. In Python the longest
run that kept its order (patience sorting) and the placing took a loop per marker, some 350 µs a frame and 2.3 %
of a DAVIS trace; here they are one compiled call doing the same arithmetic in the same order (numpy's cumulative
sum is a running sum, its ``mod`` the compiled ``%``), so the markers are the same to the bit
(tests/shapes/test_marker_order.py against the Python code it replaces).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The least gap between markers, in pixels along the loop.
MIN_GAP = 1e-3


@njit(cache=True)
def increasing_subsequence(values: np.ndarray) -> np.ndarray:
    """Indices of a longest strictly increasing subsequence (patience sorting, the first of equals found by the
    binary search ``bisect_left`` makes; all of them when the values already increase)."""
    count = values.shape[0]
    rising = True
    for i in range(1, count):
        if not values[i] > values[i - 1]:
            rising = False
            break
    if rising:
        return np.arange(count)
    tails = np.empty(count)
    tail_index = np.empty(count, np.int64)
    parent = np.empty(count, np.int64)
    length = 0
    for i in range(count):
        v = values[i]
        lo, hi = 0, length
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        tails[lo], tail_index[lo] = v, i
        if lo == length:
            length += 1
        parent[i] = tail_index[lo - 1] if lo else -1
    out = np.empty(length, np.int64)
    at = tail_index[length - 1] if length else -1
    for k in range(length - 1, -1, -1):
        out[k] = at
        at = parent[at]
    return out


@njit(cache=True)
def in_loop_order(s: np.ndarray, residual: np.ndarray, length: float, previous_gaps: np.ndarray) -> np.ndarray:
    """Marker arc lengths ``s`` made strictly increasing around the loop of ``length`` (unwrapped, the first in
    ``[0, length)``): from the marker projected closest (least ``residual``), the longest run that kept its order
    stays; the rest are spread between their kept neighbours in proportion to ``previous_gaps`` (the gap after
    each marker on the frame before); then no gap under MIN_GAP, with room for the wrap."""
    count = s.shape[0]
    r = np.argmin(residual)
    order = np.empty(count, np.int64)
    d = np.empty(count)
    for k in range(count):
        order[k] = (r + k) % count
        d[k] = (s[order[k]] - s[r]) % length
    rest = increasing_subsequence(d[1:]) + 1
    kept = [0]
    for i in rest:
        if d[i] > 0:
            kept.append(i)
    fixed = np.empty(count)
    for i in kept:
        fixed[i] = d[i]
    kept.append(count)
    # Each left-out marker's share of its run's gap: the previous frame's gaps summed from the run's start.
    share = np.empty(count)
    for at in range(len(kept) - 1):
        a, b = kept[at], kept[at + 1]
        if b - a < 2:
            continue
        db = length if b == count else fixed[b]
        running = 0.0
        for i in range(a + 1, b):
            running += previous_gaps[order[i - 1]]
            share[i] = running
        total = max(running + previous_gaps[order[b - 1]], 1e-9)
        for i in range(a + 1, b):
            fixed[i] = fixed[a] + (db - fixed[a]) * share[i] / total
    rising = True
    for i in range(1, count):
        if not fixed[i] >= fixed[i - 1] + MIN_GAP:
            rising = False
            break
    if not rising:
        for i in range(1, count):
            fixed[i] = max(fixed[i], fixed[i - 1] + MIN_GAP)
    limit = length - MIN_GAP
    out = np.empty(count)
    for k in range(count):
        out[order[k]] = s[r] + min(fixed[k], limit - MIN_GAP * (count - 1 - k))
    for k in range(r):
        out[k] -= length
    wrap = np.floor(out[0] / length) * length
    for k in range(count):
        out[k] -= wrap
    return out
