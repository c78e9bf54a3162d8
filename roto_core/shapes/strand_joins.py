"""Which ends of a frame's line pieces go on from which, compiled: the test line_strands._joined makes after every
join, of the joined strand against every strand left.

numpy built the test as arrays of every pair of ends, (first, end, second, end), then listed the pairs that
passed: some ten calls a join on a few hundred ends, a few hundred joins a frame where a fan of rigging lines
comes in dashes (DAVIS paragliding-launch: 10,600 such tests over 40 frames, a fifth of its trace's time,
bench/RESULTS.md forty-ninth pass). The loop does the same arithmetic on each pair and lists them in numpy's
order (``argwhere``: first, its end, second, its end), so the joins are the same to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
