"""``qa.boil_along_across``: the boil a point shows split into sliding along its outline and moving across it.

A ring of 12 points moving steadily (translation and a slow turn) has no boil; one point displaced on the middle
frame, by 2 px along the ring or 2 px out of it, has boil there, and the split puts it on the right side.
"""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape
from roto_core.shapes.qa import boil_along_across, local_boil

POINTS = 12
RADIUS = 50.0


def _ring(frame: int, slide: float = 0.0, push: float = 0.0) -> np.ndarray:
    angle = np.linspace(0.0, 2 * np.pi, POINTS, endpoint=False) + 0.01 * frame
    centre = np.array([200.0 + 3.0 * frame, 150.0 + 1.0 * frame])
    radial = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    tangent = np.stack([-np.sin(angle), np.cos(angle)], axis=1)
    ctrl = np.zeros((POINTS, 3, 2))
    ctrl[:, POINT] = centre + RADIUS * radial
    ctrl[0, POINT] += slide * tangent[0] + push * radial[0]
    handle = RADIUS * 4.0 / 3.0 * np.tan(np.pi / (2 * POINTS))
    ctrl[:, LEFT] = -handle * tangent
    ctrl[:, RIGHT] = handle * tangent
    return ctrl


def _shape(slide: float, push: float) -> Shape:
    frames = np.arange(5)
    keys = np.stack([_ring(int(f), slide, push) if f == 2 else _ring(int(f)) for f in frames])
    return Shape("ring", "obj", "add", 0, 4, frames, keys)


def test_steady_motion_has_no_boil() -> None:
    along, across = boil_along_across(_shape(0.0, 0.0))
    assert np.sqrt(np.mean(along**2 + across**2)) < 1e-6


@pytest.mark.parametrize(("slide", "push", "side"), [(2.0, 0.0, "along"), (0.0, 2.0, "across")])
def test_a_displaced_point_lands_on_its_side(slide: float, push: float, side: str) -> None:
    shape = _shape(slide, push)
    along, across = boil_along_across(shape)
    boil = local_boil(shape)
    # The split is of the same residuals: their lengths add up (Pythagoras) point by point.
    np.testing.assert_allclose(np.hypot(along, across), boil, atol=1e-9)
    worst = int(np.argmax(boil))
    own, other = (along, across) if side == "along" else (across, along)
    assert boil[worst] > 1.0
    assert own[worst] > 5 * other[worst]
