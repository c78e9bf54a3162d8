"""Chords bowed round the stretch of their own piece's edge that pokes across them.

A piece's runs of outline are joined by straight chords across the object, cut where the object was narrow on
the frames the pieces were placed on. Their ends stay on fixed places of the outline, so where a notch of the
matte deepens on a later frame (the bay between two legs rising as they part, a spoke gap of a wheel), its tip
can reach across the chord: the piece's outline then crosses itself in a figure eight, the artist sees a knot,
and the renderer fills the notch's tip beyond the chord, which is background. The chord is the one part of a
piece no edge holds (keys.py measures only the runs), so here it is bent: its handles are pushed to the far
side of the notch's tip by as much as keeps every sample of the tip MARGIN_PX inside the bowed chord. The bow
lies over the neighbour piece's side of the chord, inside the object, which that neighbour already draws.

A key is bowed only where that takes out crossings of its outline (loops of a pixel or more, what
``qa.curl_frames`` counts), never where the bow would have to rise further than MAX_BOW of the chord's length
(the crossing is then not a notch's tip but the outline wrapping round the chord's end). DAVIS dev set, whole
sequences, shape-frames crossing themselves: ground truth scooter-black 2.6 -> 0.7 %, goat 2.0 -> 0.8 %, parkour
1.5 -> 0.8 %, lower on 9 of 12 rows and higher on none; segmenter masks scooter-black 2.0 -> 0.2 %, dog 1.3 ->
0.1 %, lower on 11 of 12; transformed mattes lower on 47 of 72 rows, higher on none. The area guard measures the
bowed shapes, so a range of frames may be cut elsewhere: paragliding-launch's ground truth IoU median 0.904 ->
0.897, the segmenter's parkour 0.955 -> 0.956 (boil on rigid parts 0.66 -> 0.60); no other row's IoU moved by
more than 0.003 (bench/RESULTS.md, forty-second pass).
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.crossing_kernel import chord_crossed
from roto_core.shapes.model import LEFT, POINT, RIGHT, sample_outline
from roto_core.shapes.untangle import LOOP_MIN_PX2, SAMPLES, crossing_loops, segment_polylines

MARGIN_PX = 1.0
MAX_BOW = 0.5
# Samples this near a chord's end (share of its length) belong to the runs it joins, not to a tip across it.
END_SHARE = 0.05


def bowed(keys: np.ndarray, chords: np.ndarray) -> np.ndarray:
    """A copy of ``keys`` ``(K, N, 3, 2)`` with each key's chords (``chords[i]``: segment i, from point i, is a
    chord) bowed round the tips of its edge that cross them, as the module says."""
    out = np.array(keys, dtype=np.float64, copy=True)
    if not chords.any() or out.shape[1] < 3:
        return out
    for key in out:
        for i in np.flatnonzero(chords).tolist():
            _bow(key, i)
    return out


def _loops(key: np.ndarray) -> float:
    """The area of the key's outline's loops of a pixel or more, summed."""
    areas = crossing_loops(sample_outline(key, SAMPLES))
    return float(areas[areas >= LOOP_MIN_PX2].sum())


def _bow(key: np.ndarray, i: int) -> None:
    """In place: chord ``i`` of ``key`` ``(N, 3, 2)`` bowed round the tip that crosses it, where that takes out
    crossings."""
    count = len(key)
    j = (i + 1) % count
    a, b = key[i, POINT], key[j, POINT]
    chord = b - a
    length = float(np.hypot(*chord))
    if length < 1.0:
        return
    lines = segment_polylines(key)
    if not chord_crossed(a, b, lines, i):
        return
    # The rest of the outline, from the chord's end round to its start.
    order = [(i + 1 + k) % count for k in range(count - 1)]
    rest = lines[order]
    tip = rest.reshape(-1, 2) - a
    along = (tip[:, 0] * chord[0] + tip[:, 1] * chord[1]) / length**2
    # Outlines are traced clockwise on screen (upright.py): the piece lies to the right of its chord, the far
    # side is to the left.
    beyond = (chord[1] * tip[:, 0] - chord[0] * tip[:, 1]) / length
    tips = (along > END_SHARE) & (along < 1.0 - END_SHARE) & (beyond > 0.0)
    if not tips.any():
        return
    t = along[tips]
    height = float(np.max((beyond[tips] + MARGIN_PX) / (3.0 * t * (1.0 - t))))
    if height > MAX_BOW * length:
        return
    normal = np.array([chord[1], -chord[0]]) / length
    trial = key.copy()
    trial[i, RIGHT] = chord / 3.0 + height * normal
    trial[j, LEFT] = -chord / 3.0 + height * normal
    if _loops(trial) < _loops(key):
        key[:] = trial
