"""A piece that turns over (its chord outside the object, so it encloses the gap beside it) lives only on the
frames it is upright (upright.py): its lifetime is split, its curve on the frames kept does not change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, sample_outline, signed_area
from roto_core.shapes.trace import trace_shapes
from roto_core.shapes.upright import turned_over, upright

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _box(flip: bool) -> np.ndarray:
    """A 40 px box, clockwise on screen (upright), or mirrored left to right (turned over)."""
    points = np.array([[0.0, 0.0], [40.0, 0.0], [40.0, 40.0], [0.0, 40.0]])
    if flip:
        points[:, 0] = 40.0 - points[:, 0]
    ctrl = np.zeros((4, 3, 2))
    ctrl[:, POINT] = points + 100.0
    ctrl[:, RIGHT] = (np.roll(points, -1, axis=0) - points) / 3.0
    ctrl[:, LEFT] = (np.roll(points, 1, axis=0) - points) / 3.0
    return ctrl


def test_a_shape_turned_over_in_the_middle_of_its_life_is_split_around_those_frames() -> None:
    keys = np.stack([_box(False), _box(True), _box(False)])
    shape = Shape("obj_1p2", "obj", "add", 1, 41, np.array([1, 21, 41]), keys, np.zeros(4, bool))
    flipped = turned_over(shape, 1.5)
    assert flipped[20] and not flipped[0] and not flipped[40]
    parts = upright(shape, 1.5)
    assert [p.name for p in parts] == ["obj_1p2", "obj_1p2_2"]
    kept = {f for p in parts for f in range(p.first_frame, p.last_frame + 1)}
    assert kept == {1 + i for i in np.flatnonzero(~flipped)}
    for part in parts:
        assert not turned_over(part, 1.5).any()
        for f in range(part.first_frame, part.last_frame + 1):
            np.testing.assert_allclose(part.at(f), shape.at(f), atol=1e-9)
    # A shape that never turns over comes back as it is.
    steady = Shape("obj_1p1", "obj", "add", 1, 41, np.array([1, 41]), keys[[0, 2]], np.zeros(4, bool))
    assert upright(steady, 1.5) == [steady]


def test_a_sliver_that_only_grazes_zero_area_is_not_turned_over() -> None:
    sliver = _box(False)
    sliver[:, POINT, 1] = np.array([100.0, 100.0, 100.6, 100.6])
    sliver[:, LEFT] = 0.0
    sliver[:, RIGHT] = 0.0
    grazing = sliver.copy()
    grazing[:, POINT, 1] = np.array([100.05, 100.05, 100.0, 100.0])
    assert -(1.5**2) < signed_area(sample_outline(grazing, 8)) < 0
    shape = Shape("s", "obj", "add", 1, 3, np.array([1, 3]), np.stack([sliver, grazing]), np.zeros(4, bool))
    assert not turned_over(shape, 1.5).any()


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_no_shape_is_turned_over_on_a_real_matte() -> None:
    """DAVIS soapbox, first 30 frames: a piece between a wheel arch and its chord enclosed 75-106 px² of
    background, turned over, for 18 frames before."""
    masks = MaskSequence(DATA / "soapbox" / "Annotations" / "#####.png", 0, 29, default_object="matte")
    doc = trace_shapes(masks, ShapeSettings())
    assert doc.shapes
    assert not any(turned_over(s, ShapeSettings().tolerance_px).any() for s in doc.shapes)
