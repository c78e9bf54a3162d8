"""A segment that cannot follow its edge falls back to a straight line only where the line is the closer.

piece_controls draws such a segment straight because a curve held to the edge's end tangents can loop far
outside the object; but where the edge bulges far from the line (a head between two shoulders) the line cuts the
bulge off (DAVIS paragliding-launch frame 10: a 5,600 px miss, bench/RESULTS.md twelfth pass).
"""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.shapes.contours import find_regions
from roto_core.shapes.model import LEFT, POINT, RIGHT
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import CORNER, Piece, piece_controls

SIZE = (200, 240)
BODY = ((40, 80), (200, 170))
NECK = ((112, 80), (128, 80))


def _track(head: bool) -> OutlineTrack:
    mask = np.zeros(SIZE, np.uint8)
    cv2.rectangle(mask, *BODY, 1, -1)
    if head:
        cv2.rectangle(mask, (112, 55), (128, 80), 1, -1)
        cv2.circle(mask, (120, 40), 25, 1, -1)
    outlines = {f: find_regions(mask, 64)[0].outer for f in range(3)}
    return OutlineTrack(outlines, 0, SIZE)


def _neck_segment(track: OutlineTrack) -> np.ndarray:
    """The four control points of the segment between the neck's two ends, fitted with the body's corners."""
    loop = track.loops[0]
    places = [BODY[0], (BODY[1][0], BODY[0][1]), BODY[1], (BODY[0][0], BODY[1][1]), *NECK]
    us = []
    for place in places:
        nearest = int(np.argmin(np.hypot(*(loop.points - place).T)))
        us.append(track.param(0, float(loop.cum[nearest])))
    piece = Piece([(0.0, float(track.count))], True, [[(u, CORNER) for u in us]])
    ctrl = piece_controls(piece, track, 4.5)[0]
    order = np.argsort(us)
    at = {places[k]: ctrl[i] for i, k in enumerate(order)}
    a, b = at[NECK[0]], at[NECK[1]]
    i, j = int(np.flatnonzero(order == 4)[0]), int(np.flatnonzero(order == 5)[0])
    if (j - i) % len(us) != 1:  # the loop runs the other way: the segment leaves the right end of the neck
        a, b = b, a
    return np.stack([a[POINT], a[POINT] + a[RIGHT], b[POINT] + b[LEFT], b[POINT]])


def _peak(seg: np.ndarray) -> float:
    """How far the segment rises above the body's top side (y = 80), over 200 samples."""
    t = np.linspace(0.0, 1.0, 200)[:, None]
    curve = (1 - t) ** 3 * seg[0] + 3 * (1 - t) ** 2 * t * seg[1] + 3 * (1 - t) * t**2 * seg[2] + t**3 * seg[3]
    return float(80.0 - curve[:, 1].min())


def test_a_segment_around_a_head_it_cannot_follow_still_rises_over_it() -> None:
    seg = _neck_segment(_track(True))
    assert _peak(seg) > 30.0  # a straight line between the neck's ends would cut the 65 px head off


def test_a_segment_along_a_straight_side_stays_on_it() -> None:
    seg = _neck_segment(_track(False))
    assert abs(_peak(seg)) < 1.0
