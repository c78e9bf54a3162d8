"""A run's end, where a piece meets its chord, measured as exactly as the rest of its edge (keys.EdgeCheck).

The edge check samples each curve segment from its start, leaving its end to the next segment. A segment that
ends on a run's end is followed by a chord, which is not measured, so the curve stopped a sample (up to 2 px)
short of every run's end, and the edge's last sample there read that far off a piece that reaches it exactly:
1.7-1.9 px on DAVIS car-roundabout's matte, most of the 1.5 px tolerance spent on nothing. A piece keyed on every
frame could then not let its run's end slide along the edge towards its steady motion (steadying.py) without
leaving the tolerance. Past each run's end the neighbouring piece reaches OVERLAP_PX along the same edge, so the
run's own end sample is left out of the edge-to-curve half. Here, the real matte's first three frames.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.shapes.contours import find_regions
from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.model import POINT
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.pieces import SMOOTH, Piece, piece_controls

MATTES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev" / "car-roundabout"
TOLERANCE = 1.5
FRAMES = range(3)
RUN_PX = 40.0
SLIDE_PX = 2.0


def _piece(start: float) -> tuple[OutlineTrack, float, np.ndarray, EdgeCheck]:
    """One run of RUN_PX of the car's outline from ``start`` (track parameter), closed by a chord: the track,
    the run's end, the piece's fit on each frame and its edge check."""
    masks = {f: cv2.imread(str(MATTES / "Annotations" / f"{f:05d}.png"), cv2.IMREAD_GRAYSCALE) > 0 for f in FRAMES}
    size = masks[0].shape
    track = OutlineTrack({f: find_regions(m, 64)[0].outer for f, m in masks.items()}, 0, size)
    end = start + RUN_PX * track.count / track.loops[0].length
    piece = Piece([(start, end)], False, [[(0.5 * (start + end), SMOOTH)]])
    return track, end, piece_controls(piece, track, 3.0 * TOLERANCE), EdgeCheck(track, [piece], size)


@pytest.mark.parametrize("start", [5.0, 20.0])
def test_a_piece_that_reaches_its_run_end_measures_nothing_there(start: float) -> None:
    _, _, ctrl, check = _piece(start)
    for f in FRAMES:
        assert check.sample_errors(0, f, ctrl[f])[-1] < 0.1, f  # 1.7-1.9 px before
        assert check.error(0, f, ctrl[f]) < 0.5 * TOLERANCE, f


@pytest.mark.parametrize("start", [5.0, 20.0])
def test_a_run_end_may_slide_along_its_edge_but_not_off_it(start: float) -> None:
    track, end, ctrl, check = _piece(start)
    per_px = track.count / track.loops[0].length
    for f in FRAMES:
        slid = ctrl[f].copy()
        slid[-1, POINT] = track.points(f, np.array([end - SLIDE_PX * per_px]))[0]
        # The run's last SLIDE_PX are drawn by the neighbouring piece as well (trace.OVERLAP_PX): the end's steady
        # motion may take it there. 1.8-2.0 before.
        assert check.error(0, f, slid) < 0.5 * TOLERANCE, f
        along = slid[-1, POINT] - ctrl[f][-1, POINT]
        normal = np.array([along[1], -along[0]]) / np.linalg.norm(along)
        for side in (1.0, -1.0):
            off = ctrl[f].copy()
            off[-1, POINT] += side * SLIDE_PX * normal
            assert check.error(0, f, off) > TOLERANCE, (f, side)
