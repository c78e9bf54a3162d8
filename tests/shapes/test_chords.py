"""Chords bowed round a notch of their own piece's edge that pokes across them (chords.py).

A piece's chord keeps its ends on fixed places of the outline; where a notch of the matte deepens past it (the bay
between a goat's legs, the gap behind a scooter's wheel), the piece's outline crossed itself in a figure eight on
those keys. On DAVIS scooter-black's real ground-truth matte (43 frames) 2.6 % of the shape-frames crossed
themselves before this step, most of them three pieces behind the front wheel on frames 25-42 whose chord runs
across a notch. First a key made for the purpose (one run with a notch poking across its chord), then the real
matte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import roto_core.shapes.trace as trace
from roto_core.contracts import ShapeSettings
from roto_core.shapes.chords import MARGIN_PX, bowed
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT, rasterise, sample_outline, signed_area
from roto_core.shapes.qa import curl_frames
from roto_core.shapes.untangle import crossing_loops

MATTES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev" / "scooter-black"


def _notched_key(depth: float) -> tuple[np.ndarray, np.ndarray]:
    """A piece traced clockwise on screen, as every outline is: a chord from (0, 0) to (100, 0), then a run down
    the right side, along the bottom with a notch whose tip rises to ``depth`` px above the chord, and up the left
    side; straight segments throughout. The key and its chord flags."""
    points = np.array(
        [[0.0, 0.0], [100.0, 0.0], [100.0, 40.0], [60.0, 40.0], [50.0, -depth], [40.0, 40.0], [0.0, 40.0]]
    )
    key = np.zeros((len(points), 3, 2))
    key[:, POINT] = points
    key[:, RIGHT] = (np.roll(points, -1, axis=0) - points) / 3.0
    key[:, LEFT] = (np.roll(points, 1, axis=0) - points) / 3.0
    chords = np.zeros(len(points), bool)
    chords[0] = True
    return key, chords


def test_a_chord_bows_round_the_notch_tip_that_crosses_it() -> None:
    key, chords = _notched_key(depth=6.0)
    assert signed_area(sample_outline(key, 8)) > 0
    assert (crossing_loops(sample_outline(key, 8)) >= 1.0).any()
    out = bowed(key[None], chords)[0]
    assert not (crossing_loops(sample_outline(out, 8)) >= 1.0).any()
    # Only the chord's handles moved; every point and every handle of the run stayed.
    moved = np.abs(out - key) > 1e-9
    assert moved[0, RIGHT].any() and moved[1, LEFT].any()
    moved[0, RIGHT] = moved[1, LEFT] = False
    assert not moved.any()
    # The chord passes MARGIN_PX beyond the tip, on the far side from the piece.
    chord = sample_outline(out, 64)[:64]
    assert chord[np.abs(chord[:, 0] - 50.0).argmin(), 1] <= -6.0 - MARGIN_PX + 0.1


def test_a_chord_no_edge_crosses_is_left_straight() -> None:
    key, chords = _notched_key(depth=-4.0)
    assert np.array_equal(bowed(key[None], chords)[0], key)


@pytest.mark.skipif(not MATTES.is_dir(), reason="shared DAVIS data not present")
def test_real_matte_pieces_no_longer_cross_themselves_over_a_notch(monkeypatch: pytest.MonkeyPatch) -> None:
    masks = MaskSequence(str(MATTES / "Annotations" / "#####.png"), 0, 42, default_object="matte")
    size = (masks.height, masks.width)
    bowed_doc = trace.trace_shapes(masks, ShapeSettings(), name="scooter")
    monkeypatch.setattr(trace, "bowed", lambda keys, chords: keys.copy())
    straight_doc = trace.trace_shapes(masks, ShapeSettings(), name="scooter")

    def crossing_share(doc: trace.ShapeDocument) -> float:
        frames = sum(s.last_frame - s.first_frame + 1 for s in doc.shapes)
        return sum(len(curl_frames(s)) for s in doc.shapes) / frames

    assert crossing_share(straight_doc) > 0.02  # 2.6 %
    assert crossing_share(bowed_doc) < 0.01  # 0.7 %
    # The bows lie over the neighbouring pieces, inside the object: no frame's IoU is lower for them.
    for f in masks.frames:
        matte = masks.read(f)["matte"]
        ious = []
        for doc in (straight_doc, bowed_doc):
            drawn = rasterise(doc.shapes, f, size)
            ious.append((drawn & matte).sum() / (drawn | matte).sum())
        assert ious[1] >= ious[0] - 1e-4, (f, ious)
