"""A strand's compiled geometry (strand_kernel.py) is numpy's to the bit: arc lengths, points along the centre line,
end headings and distances to a centre line, on random lines (with repeated points and lines of two) and on the
strands of real DAVIS paragliding-launch rigging lines; the batched smoothing and gradients of line_strands.py are
scipy's and numpy's per line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from roto_core.contracts import ShapeSettings
from roto_core.shapes import line_strands
from roto_core.shapes.contours import ThinSplitter
from roto_core.shapes.line_strands import HEADING_PX, Strand
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.portable import gaussian_filtered
from roto_core.shapes.strand_kernel import arc_lengths, end_headings, nearest_within, points_along, polyline_gaps

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _numpy_arc(centre: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(centre, axis=0).T))))


def _numpy_at(centre: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    arc = _numpy_arc(centre)
    s = fractions * arc[-1]
    return np.stack([np.interp(s, arc, centre[:, k]) for k in (0, 1)], axis=-1)


def _numpy_ends(centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    length = _numpy_arc(centre)[-1]
    reach = min(HEADING_PX / max(length, 1e-9), 1.0)
    out = centre[[0, -1]] - _numpy_at(centre, np.array([reach, 1.0 - reach]))
    return centre[[0, -1]], out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _numpy_gaps(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    a, ab = line[:-1], np.diff(line, axis=0)
    t = np.clip(np.einsum("pk,sk->ps", points, ab) - np.einsum("sk,sk->s", a, ab), 0, None)
    t = np.minimum(t / np.maximum(np.einsum("sk,sk->s", ab, ab), 1e-12), 1.0)
    dx = points[:, 0, None] - (a[None, :, 0] + t * ab[None, :, 0])
    dy = points[:, 1, None] - (a[None, :, 1] + t * ab[None, :, 1])
    return np.sqrt(dx * dx + dy * dy).min(axis=1)


def _check(centre: np.ndarray, rng: np.random.Generator) -> None:
    arc = arc_lengths(centre)
    assert np.array_equal(arc, _numpy_arc(centre))
    fractions = np.r_[0.0, np.sort(rng.random(int(rng.integers(1, 30)))), 1.0]
    assert np.array_equal(points_along(centre, arc, fractions * arc[-1]), _numpy_at(centre, fractions))
    points, heads = end_headings(centre, arc, HEADING_PX)
    want_points, want_heads = _numpy_ends(centre)
    assert np.array_equal(points, want_points) and np.array_equal(heads, want_heads)
    near = centre[rng.integers(0, len(centre), 40)] + rng.normal(0, 4, (40, 2))
    assert np.array_equal(polyline_gaps(near, centre), _numpy_gaps(near, centre))


def test_random_lines_are_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(5)
    for _ in range(400):
        count = int(rng.integers(2, 200))
        centre = np.cumsum(rng.normal(0, rng.choice([0.05, 1.0, 8.0]), (count, 2)), axis=0) + rng.uniform(0, 900, 2)
        if count > 3 and rng.random() < 0.3:
            centre[2] = centre[1]
        _check(centre, rng)
    # A line of two points, and one of no length.
    _check(np.array([[3.5, 4.5], [9.25, 1.0]]), rng)
    _check(np.array([[3.5, 4.5], [3.5, 4.5], [3.5, 4.5]]), rng)


def test_strand_uses_the_kernels() -> None:
    centre = np.array([[0.5, 0.5], [4.5, 3.5], [10.5, 3.5], [30.5, 9.5]])
    strand = Strand(centre, 1.0)
    assert strand.length == pytest.approx(5.0 + 6.0 + np.hypot(20.0, 6.0))
    assert np.allclose(strand.at(np.array([0.0, 1.0])), centre[[0, -1]])
    _, heads = strand.ends
    # HEADING_PX (8) along: 3 px into the second piece, at (7.5, 3.5).
    assert np.allclose(heads[0], np.array([-7.0, -3.0]) / np.sqrt(58.0))
    assert np.allclose(np.linalg.norm(heads, axis=1), 1.0)


def test_batched_smoothing_and_gradients_are_per_lines() -> None:
    rng = np.random.default_rng(9)
    lines = [rng.normal(0, 3, (int(n), 2)).cumsum(axis=0) for n in rng.integers(2, 40, 60)]
    smoothed = line_strands._smoothed_each(lines, 2.0)
    for line, got in zip(lines, smoothed, strict=True):
        want = gaussian_filtered(line, 2.0, "nearest") if len(line) >= 3 else line
        assert np.array_equal(got, want)
    offsets = [line[:, 0] for line in lines]
    for line, got in zip(offsets, line_strands._smoothed_each(offsets, 2.0), strict=True):
        assert np.array_equal(got, gaussian_filtered(line, 2.0, "nearest") if len(line) >= 3 else line)
    points = np.concatenate(lines)
    tangents = np.split(
        line_strands._gradients(points, np.cumsum([len(c) for c in lines])), np.cumsum([len(c) for c in lines])[:-1]
    )
    for line, got in zip(lines, tangents, strict=True):
        assert np.array_equal(got, np.gradient(line, axis=0))


@pytest.mark.skipif(not (DATA / "paragliding-launch").is_dir(), reason="needs ../shared/data/davis2016-dev")
def test_real_rigging_line_strands_are_numpys() -> None:
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 30, 33, default_object="matte")
    splitter = ThinSplitter(ShapeSettings().min_area_px)
    rng = np.random.default_rng(0)
    checked = 0
    for frame in masks.frames:
        lines = splitter.lines(masks.read(frame)["matte"])
        assert lines is not None
        for strand in line_strands.strands(lines):
            _check(np.ascontiguousarray(strand.centre), rng)
            checked += 1
    assert checked > 100


def test_nearest_within_reach_is_the_first_nearest() -> None:
    rng = np.random.default_rng(4)
    for _ in range(60):
        # Samples along rows and diagonals at pixel centres and off them: many pixels tie between two samples.
        samples = np.round(rng.uniform(0, 40, (int(rng.integers(1, 300)), 2)) * 2) / 2 + rng.choice([0.0, 0.25])
        pixels = np.stack(np.meshgrid(np.arange(-3, 45) + 0.5, np.arange(-3, 45) + 0.5), -1).reshape(-1, 2)
        distance, nearest = nearest_within(samples, pixels, 2.5)
        assert np.array_equal(distance, cKDTree(samples).query(pixels, distance_upper_bound=2.5)[0])
        squared = ((pixels[:, None] - samples[None]) ** 2).sum(-1)
        within = squared.min(axis=1) < 6.25
        assert np.array_equal(nearest[within], squared[within].argmin(axis=1))
        assert (nearest[~within] == len(samples)).all() and np.isinf(distance[~within]).all()
