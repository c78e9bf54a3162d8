"""``neck_kernel`` answers for a few pixels on every frame what ``model.fill_polygon`` fills for each frame's
whole polygon: the neck finder checks its chords against each frame's matte with it (necks.py), and a chord
counted inside where the filled matte has no pixel would cut a piece across the background. Its chord ratios are
numpy's to the bit, on random markers and on every pair the neck finder measures on real mattes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import necks
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import fill_polygon
from roto_core.shapes.neck_kernel import chord_pixels, fewest_inside, pair_ratios, scan_tables
from roto_core.shapes.trace import trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"

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


def _tables(polys: list[np.ndarray]) -> tuple:
    bounds = np.concatenate(([0], np.cumsum([len(p) for p in polys])))
    return scan_tables(np.concatenate(polys), bounds)


def _filled(poly: np.ndarray) -> np.ndarray:
    out = np.zeros(SIZE, bool)
    fill_polygon(out, poly, True)
    return out


@pytest.mark.parametrize("poly", _polygons())
def test_every_pixel_answers_as_the_fill_does(poly: np.ndarray) -> None:
    ys, xs = np.mgrid[0 : SIZE[0], 0 : SIZE[1]]
    asked = fewest_inside(xs.reshape(1, -1, 1), ys.reshape(1, -1, 1), _tables([poly]))
    np.testing.assert_array_equal(asked.reshape(SIZE), _filled(poly))


def test_each_chord_counts_its_samples_inside_on_its_worst_frame() -> None:
    """Twelve frames' polygons tabled at once; thirty chords of nine samples, at other pixels on each frame."""
    polys = _polygons()[:12]
    rng = np.random.default_rng(3)
    x = rng.integers(0, SIZE[1], (len(polys), 30, 9))
    y = rng.integers(0, SIZE[0], (len(polys), 30, 9))
    want = np.min([_filled(p)[y[k], x[k]].sum(axis=1) for k, p in enumerate(polys)], axis=0)
    got = fewest_inside(x, y, _tables(polys))
    np.testing.assert_array_equal(got, want)
    assert got.max() > 0 and got.min() < 9


def test_pixels_far_off_the_polygon_are_outside() -> None:
    square = np.array([[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]])
    asked = fewest_inside(
        np.array([15, 15, -100, 15]).reshape(1, 4, 1), np.array([15, 500, 15, -3]).reshape(1, 4, 1), _tables([square])
    )
    assert asked.tolist() == [1, 0, 0, 0]


def _numpy_ratios(s: np.ndarray, p: np.ndarray, around: np.ndarray, first_row: int, a: np.ndarray, b: np.ndarray):
    """The ratios as numpy took them, every pair and row at once."""
    at = slice(first_row, None)
    along = s[at, b] - s[at, a]
    part = np.minimum(along, around[at] - along)
    chord = np.hypot(p[at, b, 0] - p[at, a, 0], p[at, b, 1] - p[at, a, 1])
    return (chord / np.maximum(part, 1e-9)).max(axis=0)


@pytest.mark.parametrize("seed", range(10))
def test_chord_ratios_are_numpys_to_the_bit(seed: int) -> None:
    """Markers along outlines of 12 frames; pairs either way round, a pair of one marker (no part at all)."""
    rng = np.random.default_rng(seed)
    s = np.sort(rng.uniform(0.0, 300.0, (12, 40)), axis=1)
    p = rng.uniform(0.0, 500.0, (12, 40, 2))
    around = rng.uniform(300.0, 320.0, (12, 1))
    a, b = rng.integers(0, 40, 200), rng.integers(0, 40, 200)
    for first_row in (0, 11):
        np.testing.assert_array_equal(
            pair_ratios(s, p, around, first_row, a, b), _numpy_ratios(s, p, around, first_row, a, b)
        )


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_every_ratio_the_neck_finder_takes_on_real_mattes_is_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAVIS camel's legs, 12 frames: every pair the neck finder measures."""
    measured: list[int] = []

    def both(s, p, around, first_row, a, b):
        got = pair_ratios(s, p, around, first_row, a, b)
        np.testing.assert_array_equal(got, _numpy_ratios(s, p, around, first_row, a, b))
        measured.append(len(got))
        return got

    monkeypatch.setattr(necks, "pair_ratios", both)
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 11, default_object="matte")
    trace_shapes(masks, ShapeSettings(), name="camel")
    assert len(measured) > 10 and sum(measured) > 10_000


def test_chord_pixels_are_numpys_samples_cast_and_clipped() -> None:
    """Chords on and off the picture, from a pixel long to across it: each sample's pixel is numpy's
    ``a + t * (b - a)`` cast to whole pixels and clipped, as NeckFinder took them before they were compiled."""
    rng = np.random.default_rng(8)
    ends = rng.uniform(-40.0, 140.0, (5, 30, 2, 2))
    ends[0, 0] = [[3.2, 4.9], [4.1, 5.0]]
    fractions = np.linspace(0.1, 0.9, 9)
    a, b = ends[:, :, 0], ends[:, :, 1]
    pts = a[:, :, None] + fractions[:, None] * (b - a)[:, :, None]
    x, y = chord_pixels(ends, fractions, 100, 80)
    np.testing.assert_array_equal(x, np.clip(pts[..., 0].astype(np.int64), 0, 99))
    np.testing.assert_array_equal(y, np.clip(pts[..., 1].astype(np.int64), 0, 79))
    assert x.min() == 0 and x.max() == 99 and y.max() == 79
