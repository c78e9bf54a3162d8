"""An object crossing the image border keeps its shapes to the last frame it is seen.

A real matte (DAVIS car-roundabout) slid out through the left border and in through the right one, fast (the
car's width in 16 frames): the visible part shrinks or grows several times over from one frame to the next.
Before the border rule in linking.py, the car's last sliver (2,800 px after 11,000 px) started a track of its
own, which lived one frame and so got no shape: the frame scored IoU 0 with the object in plain view.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.linking import Blob, link
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.synthetic import slid_through_border
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
FRAMES = 16


def test_a_region_shrinking_at_the_border_stays_one_track() -> None:
    areas = [12000.0, 7000.0, 2500.0, 300.0]
    at_border = {f: [Blob(np.array([60.0 - 15 * f, 200.0]), a, at_border=True)] for f, a in enumerate(areas)}
    inside = {f: [Blob(np.array([260.0 - 15 * f, 200.0]), a)] for f, a in enumerate(areas)}
    assert [len(t.members) for t in link(at_border)] == [4]
    # Away from the border a region several times smaller is another region (a part that broke off).
    assert len(link(inside)) > 1


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.parametrize("entering", [False, True], ids=["leaving", "entering"])
def test_an_object_crossing_the_border_has_shapes_on_every_frame_it_is_seen(entering: bool) -> None:
    truth = MaskSequence(str(DATA / "car-roundabout" / "Annotations" / "#####.png"), 0, FRAMES - 1)
    masks = slid_through_border([truth.read(f)["matte"] for f in truth.frames], entering)
    settings = ShapeSettings()
    doc = trace_shapes(InMemoryMasks({f: {"car": m} for f, m in enumerate(masks)}, truth.width, truth.height), settings)
    seen = [f for f, m in enumerate(masks) if m.sum() >= settings.min_area_px]
    assert len(seen) >= FRAMES - 3
    for f in seen:
        raster = rasterise(doc.shapes, f, masks[f].shape)
        iou = float((raster & masks[f]).sum()) / float((raster | masks[f]).sum())
        assert iou >= 0.8, (f, int(masks[f].sum()), iou)
