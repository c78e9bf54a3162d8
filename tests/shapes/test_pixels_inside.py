"""``model.PixelsInside`` answers for a few pixels what ``model.fill_polygon`` fills for the whole polygon: the
neck finder checks its chords against each frame's matte with it (necks.py), and a chord counted inside where
the filled matte has no pixel would cut a piece across the background."""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.shapes.model import PixelsInside, fill_polygon

SIZE = (60, 80)


def _polygons() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(40):
        # Self-crossing polygons reaching past the image (even-odd rule, clipping).
        out.append(rng.uniform(-5.0, 85.0, (int(rng.integers(3, 30)), 2)))
        # Star-shaped outlines, as a matte's outline is.
        t = np.sort(rng.uniform(0.0, 2.0 * np.pi, int(rng.integers(5, 60))))
        r = rng.uniform(8.0, 28.0, len(t))
        out.append(np.stack([40.0 + r * np.cos(t), 30.0 + r * np.sin(t)], axis=1))
        # Vertices on half pixels: edges through pixel centres, where the half-open rules decide.
        out.append(np.round(rng.uniform(0.0, 80.0, (int(rng.integers(3, 20)), 2)) * 2.0) / 2.0)
    return out


@pytest.mark.parametrize("poly", _polygons())
def test_every_pixel_answers_as_the_fill_does(poly: np.ndarray) -> None:
    filled = np.zeros(SIZE, bool)
    fill_polygon(filled, poly, True)
    ys, xs = np.mgrid[0 : SIZE[0], 0 : SIZE[1]]
    asked = PixelsInside(poly)(xs.ravel(), ys.ravel()).reshape(SIZE)
    np.testing.assert_array_equal(asked, filled)


def test_pixels_far_off_the_polygon_are_outside() -> None:
    square = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]])
    inside = PixelsInside(square)
    assert inside(np.array([15, 15, -100, 15]), np.array([15, 500, 15, -3])).tolist() == [True, False, False, False]
