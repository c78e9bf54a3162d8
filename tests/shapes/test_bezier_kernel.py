"""The compiled bezier sampling (bezier_kernel.py) gives numpy's samples to the bit: model.bezier_points of
model.segment_controls, which the tracer sampled with before, with and without each segment's end."""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.shapes import bezier_kernel, model
from roto_core.shapes.model import bernstein, bezier_points, sample_outline, segment_controls, segment_samples
from roto_core.shapes.untangle import SAMPLES, segment_polylines


def _numpy_samples(ctrl: np.ndarray, samples: int) -> np.ndarray:
    return bezier_points(bernstein(samples), segment_controls(ctrl))


def _random_keys(rng: np.random.Generator, lead: tuple[int, ...], count: int) -> np.ndarray:
    """Keys at image scale with handles from a tenth of a pixel to hundreds: sums whose rounding shows."""
    scale = rng.choice([0.1, 3.0, 300.0])
    return rng.normal(0.0, scale, (*lead, count, 3, 2)) + rng.uniform(0.0, 4000.0)


def test_layout_is_the_models() -> None:
    assert (bezier_kernel._LEFT, bezier_kernel._POINT, bezier_kernel._RIGHT) == (model.LEFT, model.POINT, model.RIGHT)


@pytest.mark.parametrize("lead", [(), (3,), (2, 4)])
@pytest.mark.parametrize("count", [1, 2, 5, 24])
@pytest.mark.parametrize("samples", [4, 8, 12, 40])
def test_samples_are_numpys_to_the_bit(lead: tuple[int, ...], count: int, samples: int) -> None:
    rng = np.random.default_rng(count * 100 + samples + len(lead))
    for _ in range(20):
        ctrl = _random_keys(rng, lead, count)
        expected = _numpy_samples(ctrl, samples)
        outline = sample_outline(ctrl, samples)
        assert outline.shape == (*lead, count * samples, 2)
        assert np.array_equal(outline, expected.reshape(*lead, -1, 2))
        ended = segment_samples(ctrl, samples)
        assert ended.shape == (*lead, count, samples + 1, 2)
        assert np.array_equal(ended[..., :samples, :], expected)
        assert np.array_equal(ended[..., samples, :], np.roll(ctrl[..., model.POINT, :], -1, axis=-2))


def test_untangle_polylines_end_on_the_next_point() -> None:
    """A square's segments: each polyline starts on its point and ends exactly on the next one."""
    points = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    ctrl = np.zeros((4, 3, 2))
    ctrl[:, model.POINT] = points
    ctrl[:, model.RIGHT] = 0.25 * (np.roll(points, -1, axis=0) - points)
    ctrl[:, model.LEFT] = 0.25 * (np.roll(points, 1, axis=0) - points)
    lines = segment_polylines(ctrl)
    assert lines.shape == (4, SAMPLES + 1, 2)
    assert np.array_equal(lines[:, 0], points)
    assert np.array_equal(lines[:, -1], np.roll(points, -1, axis=0))
    # Straight handles: the samples run along the square's side.
    assert np.allclose(lines[0, :, 1], 0.0) and np.all(np.diff(lines[0, :, 0]) > 0)


def test_integer_and_strided_keys_are_taken_as_floats() -> None:
    ctrl = np.arange(2 * 6 * 3 * 2).reshape(2, 6, 3, 2)[:, ::2]
    assert np.array_equal(sample_outline(ctrl, 5), _numpy_samples(ctrl.astype(np.float64), 5).reshape(2, -1, 2))
