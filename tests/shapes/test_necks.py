"""A piece is cut only along a neck that stays inside the matte on every frame of its range.

DAVIS camel, frames 10-14 (a range too short to be cut in time, so its pieces keep all five frames): the front
legs close on their gap over these frames. A neck taken inside the matte on the reference frame alone crossed
that gap on the others: the piece beyond it turned over and was dropped, the piece across it filled the gap as a
wedge (IoU 0.946 on its worst frame, 3,154 px drawn outside the matte), and in a whole shot the area guard threw
the range away and traced it again (half of camel's CPU; bench/RESULTS.md, eleventh pass).

DAVIS scooter-black, frames 21-42: a 123 px chord across the body kept its nine samples inside the matte while it
passed over the notch a few pixels wide between the wheel and the body, so the piece it closed drew a bow tie over
the notch on frames 32-37 (loops of 35-140 px²). A neck crossing the outline or another chord of its piece is now
taken only where every neck does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise, sample_outline
from roto_core.shapes.necks import CHORD_SAMPLES, NeckFinder
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import Piece
from roto_core.shapes.trace import trace_shapes
from roto_core.shapes.untangle import crossing_loops

DAVIS = Path(__file__).resolve().parents[3] / "shared" / "data" / "davis2016-dev"
DATA = DAVIS / "camel" / "Annotations"
SCOOTER = DAVIS / "scooter-black" / "Annotations"
# A loop this large (px²) is a piece closed across a gap, not a curl beside a point (untangle.py).
BOW_TIE_PX2 = 25.0
FIRST, LAST = 10, 14


def _masks() -> MaskSequence:
    return MaskSequence(DATA / "#####.png", FIRST, LAST, default_object="matte")


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_neck_found_stays_inside_the_matte_on_every_frame() -> None:
    source = _masks()
    mattes = {f: next(iter(source.read(f).values())) for f in source.frames}
    outlines = {f: max(find_regions(m, 64), key=lambda r: r.area).outer for f, m in mattes.items()}
    track = OutlineTrack(outlines, FIRST, (source.height, source.width))
    finder = NeckFinder(track, 24, (source.height, source.width))
    pending = [Piece([(0.0, float(track.count))], True)]
    necks: list[tuple[float, float]] = []
    while pending:
        halves = finder.split(pending.pop())
        if halves is not None:
            necks.append(halves[0].runs[0])
            pending.extend(halves)
    assert len(necks) >= 4
    for ua, ub in necks:
        for f, matte in mattes.items():
            a, b = track.points(f, np.array([ua, ub]))
            samples = a + CHORD_SAMPLES[:, None] * (b - a)
            inside = matte[samples[:, 1].astype(int), samples[:, 0].astype(int)]
            assert inside.sum() >= len(CHORD_SAMPLES) - 1, (ua, ub, f)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_the_legs_gap_is_not_filled() -> None:
    source = _masks()
    doc = trace_shapes(source, ShapeSettings())
    for f in source.frames:
        matte = next(iter(source.read(f).values()))
        drawn = rasterise(doc.shapes, f, matte.shape)
        assert np.count_nonzero(drawn & matte) / np.count_nonzero(drawn | matte) >= 0.97, f
        assert np.count_nonzero(drawn & ~matte) <= 1500, f


@pytest.mark.skipif(not SCOOTER.is_dir(), reason="shared DAVIS data not present")
def test_no_piece_is_closed_across_a_notch_its_chord_passes_over() -> None:
    source = MaskSequence(SCOOTER / "#####.png", 21, 42, default_object="matte")
    doc = trace_shapes(source, ShapeSettings())
    loops = [
        (s.name, f)
        for s in doc.shapes
        for f in range(s.first_frame, s.last_frame + 1)
        if (crossing_loops(sample_outline(s.at(f), 8)) >= BOW_TIE_PX2).any()
    ]
    assert loops == []
    for f in source.frames:
        matte = next(iter(source.read(f).values()))
        drawn = rasterise(doc.shapes, f, matte.shape)
        assert np.count_nonzero(drawn & matte) / np.count_nonzero(drawn | matte) >= 0.95, f
