"""First-key fitting: few points on simple shapes, every corner of a star, outline held within tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.shapes.contours import find_regions
from roto_core.shapes.fitting import fit_outline
from roto_core.shapes.model import Shape, fill_polygon, rasterise, sample_outline
from roto_core.shapes.synthetic import ellipse, rounded_box, star, transform

SIZE = (360, 480)


def _mask(outline: np.ndarray) -> np.ndarray:
    out = np.zeros(SIZE, bool)
    fill_polygon(out, outline, True)
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _fit(mask: np.ndarray, tolerance: float = 1.5):
    (region,) = find_regions(mask, 64)
    fitted = fit_outline(region.outer.points, tolerance, 24)
    shape = Shape("s", "o", "add", 0, 0, [0], fitted.ctrl[None], fitted.corners)
    return fitted, rasterise([shape], 0, SIZE)


@pytest.mark.parametrize(
    "outline",
    [ellipse(150, 90), ellipse(40, 25), rounded_box(120, 70, 25), rounded_box(60, 40, 10)],
    ids=["ellipse", "small-ellipse", "rounded-box", "small-rounded-box"],
)
@pytest.mark.parametrize("angle", [0.0, 0.45])
def test_simple_shapes_need_at_most_16_points(outline: np.ndarray, angle: float) -> None:
    mask = _mask(transform(outline, (240.3, 180.6, angle, 1.0)))
    fitted, raster = _fit(mask)
    assert 3 <= len(fitted.ctrl) <= 16
    assert not fitted.corners.any()
    assert _iou(raster, mask) >= 0.98


def test_star_gets_one_corner_point_per_tip_and_notch() -> None:
    truth = transform(star(140, 60), (240, 180, 0.3, 1.0))
    mask = _mask(truth)
    fitted, raster = _fit(mask)
    corner_points = fitted.ctrl[fitted.corners, 1]
    assert len(corner_points) == 10
    nearest = np.min(np.linalg.norm(truth[:, None] - corner_points[None], axis=2), axis=1)
    assert nearest.max() < 1.0, "every star vertex has a corner point on it"
    assert _iou(raster, mask) >= 0.99


def test_outline_stays_within_tolerance_of_the_true_edge() -> None:
    truth = transform(ellipse(150, 90), (240.3, 180.6, 0.2, 1.0))
    fitted, _ = _fit(_mask(truth), tolerance=1.0)
    dense = transform(ellipse(150, 90, 20000), (240.3, 180.6, 0.2, 1.0))
    samples = sample_outline(fitted.ctrl, 40)
    dist = np.min(np.linalg.norm(samples[:, None] - dense[None, ::4], axis=2), axis=1)
    assert dist.max() <= 1.0 + 0.5


def test_tighter_tolerance_buys_more_points() -> None:
    mask = _mask(transform(star(140, 60, tips=7) * [1.0, 0.6], (240, 180, 0.0, 1.0)))
    loose, _ = _fit(mask, 3.0)
    tight, _ = _fit(mask, 0.5)
    assert len(tight.ctrl) >= len(loose.ctrl)


def test_regions_separate_components_and_holes_and_drop_specks() -> None:
    mask = _mask(transform(ellipse(80, 80), (120, 180, 0, 1)))
    mask &= ~_mask(transform(ellipse(30, 30), (120, 180, 0, 1)))
    mask |= _mask(transform(rounded_box(50, 40, 8), (360, 180, 0, 1)))
    mask[5:9, 5:9] = True
    regions = find_regions(mask, 64)
    assert len(regions) == 2
    assert sorted(len(r.holes) for r in regions) == [0, 1]
    donut = next(r for r in regions if r.holes)
    radius = np.linalg.norm(donut.holes[0].points - [120, 180], axis=1)
    assert abs(radius.mean() - 30) < 0.3
