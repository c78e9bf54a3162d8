"""Which ends of a frame's line pieces go on from which, compiled: the test line_strands._joined makes after every
join, of the joined strand against every strand left.

numpy built the test as arrays of every pair of ends, (first, end, second, end), then listed the pairs that
passed: some ten calls a join on a few hundred ends, a few hundred joins a frame where a fan of rigging lines
comes in dashes (DAVIS paragliding-launch: 10,600 such tests over 40 frames, a fifth of its trace's time,
bench/RESULTS.md forty-ninth pass). The loop does the same arithmetic on each pair and lists them in numpy's
order (``argwhere``: first, its end, second, its end), so the joins are the same to the bit.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numba import njit

from roto_core.shapes.strand_kernel import arc_lengths, end_headings


@njit(cache=True)
def join_candidates(
    first: np.ndarray,
    second: np.ndarray,
    points: np.ndarray,
    heads: np.ndarray,
    gap: float,
    facing_cos: float,
    off_line: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(gaps, rows)``: for every end of a strand in ``first`` that an end of a strand in ``second`` (not the same
    strand) goes on from, the gap between them and the row (strand, its end, other strand, its end). Goes on
    from: at most ``gap`` ahead of the end along its heading (not behind it), heading back at it with a cosine of
    at least ``facing_cos``, at most ``off_line`` off the end's line (``points``, ``heads``: per strand, its two
    end points and the unit headings out of them)."""
    room = first.shape[0] * second.shape[0] * 4
    gaps = np.empty(room)
    rows = np.empty((room, 4), np.int64)
    count = 0
    for i in range(first.shape[0]):
        a = first[i]
        for ea in range(2):
            px, py = points[a, ea, 0], points[a, ea, 1]
            ox, oy = heads[a, ea, 0], heads[a, ea, 1]
            for j in range(second.shape[0]):
                b = second[j]
                for eb in range(2):
                    gx = points[b, eb, 0] - px
                    gy = points[b, eb, 1] - py
                    length = np.sqrt(gx * gx + gy * gy)
                    along = ox * gx + oy * gy
                    facing = -(ox * heads[b, eb, 0] + oy * heads[b, eb, 1])
                    offset = np.abs(ox * gy - oy * gx)
                    if length <= gap and facing >= facing_cos and offset <= off_line and along >= 0 and a != b:
                        gaps[count] = length
                        rows[count, 0], rows[count, 1], rows[count, 2], rows[count, 3] = a, ea, b, eb
                        count += 1
    return gaps[:count], rows[:count]


@njit(cache=True)
def _length(points: np.ndarray, start: int, count: int, backwards: bool) -> float:
    """The length of the centre line ``points[start : start + count]``, its steps summed from its first point (from
    its last, ``backwards``): the last arc length of the line as a Strand holds it, or of its reversed copy."""
    total = 0.0
    for k in range(1, count):
        a = start + (count - k if backwards else k - 1)
        b = a + (-1 if backwards else 1)
        total += math.hypot(points[b, 0] - points[a, 0], points[b, 1] - points[a, 1])
    return total


@njit(cache=True)
def joined_lines(
    centres: np.ndarray,
    ends: np.ndarray,
    widths: np.ndarray,
    heading_px: float,
    gap: float,
    facing_cos: float,
    off_line: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """line_strands._joined on the strands' centre lines laid end to end (``ends``: where each ends) and widths:
    the centre lines, ends and widths of the strands left. Each join takes the pair of ends with the least (gap,
    strand, its end, other strand, its end) waiting, as the heap of those tuples did (no two are equal, so the
    order they wait in makes no difference); the joined strand's points are one end's strand run into the end,
    then the other's run out of it, its width the two widths weighed by the two lengths, each length summed the
    way its strand (or its reversed copy) runs."""
    found = ends.shape[0]
    room = 2 * found
    start = np.zeros(room, np.int64)
    count = np.zeros(room, np.int64)
    width = np.zeros(room)
    alive = np.zeros(room, np.bool_)
    points = np.zeros((room, 2, 2))
    heads = np.zeros((room, 2, 2))
    buffer = np.empty((2 * centres.shape[0] + 2, 2))
    buffer[: centres.shape[0]] = centres
    used = centres.shape[0]
    for n in range(found):
        start[n] = 0 if n == 0 else ends[n - 1]
        count[n] = ends[n] - start[n]
        width[n] = widths[n]
        alive[n] = True
        line = buffer[start[n] : start[n] + count[n]]
        points[n], heads[n] = end_headings(line, arc_lengths(line), heading_px)
    every = np.arange(found)
    gaps, rows = join_candidates(every, every, points, heads, gap, facing_cos, off_line)
    heap = [(gaps[k], rows[k, 0], rows[k, 1], rows[k, 2], rows[k, 3]) for k in range(gaps.shape[0])]
    heap.append((np.inf, -1, -1, -1, -1))
    heapq.heapify(heap)
    new = found
    while len(heap) > 1:
        _, i, ei, j, ej = heapq.heappop(heap)
        if not (alive[i] and alive[j]):
            continue
        length_a = _length(buffer, start[i], count[i], ei == 0)
        length_b = _length(buffer, start[j], count[j], ej == 1)
        total = count[i] + count[j]
        if used + total > buffer.shape[0]:
            grown = np.empty((2 * (used + total), 2))
            grown[:used] = buffer[:used]
            buffer = grown
        for k in range(count[i]):
            buffer[used + k] = buffer[start[i] + (k if ei == 1 else count[i] - 1 - k)]
        for k in range(count[j]):
            buffer[used + count[i] + k] = buffer[start[j] + (k if ej == 0 else count[j] - 1 - k)]
        start[new], count[new] = used, total
        used += total
        width[new] = (width[i] * length_a + width[j] * length_b) / max(length_a + length_b, 1e-9)
        alive[i] = alive[j] = False
        line = buffer[start[new] : start[new] + total]
        points[new], heads[new] = end_headings(line, arc_lengths(line), heading_px)
        others = np.flatnonzero(alive[:new])
        alive[new] = True
        one = np.array([new])
        for first, second in ((one, others), (others, one)):
            gaps, rows = join_candidates(first, second, points, heads, gap, facing_cos, off_line)
            for k in range(gaps.shape[0]):
                heapq.heappush(heap, (gaps[k], rows[k, 0], rows[k, 1], rows[k, 2], rows[k, 3]))
        new += 1
    kept = np.flatnonzero(alive[:new])
    out_ends = np.cumsum(count[kept])
    out = np.empty((out_ends[-1] if kept.shape[0] else 0, 2))
    for n in range(kept.shape[0]):
        begin = out_ends[n] - count[kept[n]]
        out[begin : out_ends[n]] = buffer[start[kept[n]] : start[kept[n]] + count[kept[n]]]
    return out, out_ends, width[kept]
