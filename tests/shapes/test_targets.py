"""The issue's targets, measured on synthetic masks with exact ground truth.

Rigid motion, rotation, scaling, a 10-corner star, an object that leaves and re-enters, and a donut: IoU of the
rasterised shapes with the masks (median ≥ 0.98, min ≥ 0.95 where the object is present), ≤ 16 points for
simple shapes, one point count per shape, ≤ 30 keys per 100 frames on smooth motion, boil ≤ 0.5 px RMS on rigid
motion (checked both with the QA measure and against the true motion).
"""

from __future__ import annotations

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import synthetic as syn
from roto_core.shapes.model import POINT, ShapeDocument
from roto_core.shapes.qa import measure
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (360, 480)
FRAMES = range(1001, 1061)


def _run(objects: dict[str, syn.SyntheticObject], frames: range = FRAMES) -> tuple[ShapeDocument, dict]:
    masks = syn.sequence(objects, frames, SIZE)
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    settings = ShapeSettings()
    doc = trace_shapes(source, settings)
    return doc, measure(doc, source.read, settings.min_area_px)


def _assert_quality(qa: dict, *, keys_max: float = 30.0, points_max: int = 16) -> None:
    s = qa["summary"]
    assert s["shape_iou_median"] >= 0.98, s
    assert s["shape_iou_min"] >= 0.95, s
    assert s["points_per_shape_max"] <= points_max, s
    assert s["keys_per_100_frames"] <= keys_max, s
    assert s["frames_with_shape_but_no_object"] == 0, s


def _true_boil(doc: ShapeDocument, obj: syn.SyntheticObject) -> float:
    """RMS distance between each point and where the true motion takes it from the previous frame."""
    shape = doc.shapes[0]
    errors = []
    for f in range(shape.first_frame, shape.last_frame):
        tx0, ty0, a0, s0 = obj.motion(f)
        tx1, ty1, a1, s1 = obj.motion(f + 1)
        p0 = shape.at(f)[:, POINT]
        local = syn.transform(p0 - [tx0, ty0], (0, 0, -a0, 1 / s0))
        expected = syn.transform(local, (tx1, ty1, a1, s1))
        errors.append(np.linalg.norm(shape.at(f + 1)[:, POINT] - expected, axis=1))
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))


@pytest.mark.parametrize("outline", [syn.ellipse(70, 45), syn.rounded_box(80, 50, 15)], ids=["ellipse", "rounded-box"])
def test_rigid_motion_keeps_points_still_on_the_object(outline: np.ndarray) -> None:
    obj = syn.SyntheticObject(outline, lambda f: (110 + 3.5 * (f - 1001), 150 + 1.2 * (f - 1001), 0.3, 1.0))
    doc, qa = _run({"hero": obj})
    _assert_quality(qa, keys_max=15)
    assert len(doc.shapes) == 1 and doc.shapes[0].mode == "add"
    assert qa["summary"]["boil_px_rms"] <= 0.5
    assert _true_boil(doc, obj) <= 0.5


def test_rotation() -> None:
    obj = syn.SyntheticObject(syn.rounded_box(90, 50, 15), lambda f: (240, 180, 0.02 * (f - 1001), 1.0))
    doc, qa = _run({"hero": obj})
    _assert_quality(qa)
    assert _true_boil(doc, obj) <= 0.5


def test_scaling() -> None:
    obj = syn.SyntheticObject(syn.ellipse(60, 35), lambda f: (240, 180, 0.4, 1.0 + 0.012 * (f - 1001)))
    doc, qa = _run({"hero": obj})
    _assert_quality(qa)
    assert _true_boil(doc, obj) <= 0.5


def test_ten_corner_star_keeps_its_corners_while_rotating() -> None:
    obj = syn.SyntheticObject(syn.star(110, 50), lambda f: (240, 180, 0.015 * (f - 1001), 1.0))
    doc, qa = _run({"hero": obj})
    _assert_quality(qa, points_max=14)
    (shape,) = doc.shapes
    assert shape.corners.sum() == 10
    for f in (1001, 1030, 1060):
        truth = syn.transform(obj.outline, obj.motion(f))
        corners = shape.at(f)[shape.corners, POINT]
        gap = np.linalg.norm(truth[:, None] - corners[None], axis=2).min(axis=1)
        assert gap.max() < 1.5, f"frame {f}: a star vertex lost its corner point ({gap.max():.2f} px)"


def test_object_leaving_and_reentering_gets_a_new_shape_with_its_own_lifetime() -> None:
    def motion(f: int) -> tuple[float, float, float, float]:
        x = 240 + 12 * (f - 1001) if f < 1031 else 240 + 12 * (1061 - f)
        return (x, 180, 0.1, 1.0)

    obj = syn.SyntheticObject(syn.ellipse(50, 35), motion)
    doc, qa = _run({"hero": obj})
    # While the object crosses the frame edge the shape follows the cut the frame makes, which changes shape
    # every frame: those frames are keyed (known limit, see the shapes README), hence 40 rather than 30.
    _assert_quality(qa, keys_max=40.0)
    assert [s.name for s in doc.shapes] == ["hero_1", "hero_2"]
    first, second = doc.shapes
    assert first.first_frame == 1001 and 1020 < first.last_frame < 1031
    assert 1031 < second.first_frame < 1045 and second.last_frame == 1060
    # Fully inside the frame the shape needs no key: the first key after 1001 comes once it reaches the edge.
    assert first.key_frames[1] >= 1012


def test_donut_hole_is_a_subtract_shape_that_follows_the_ring() -> None:
    obj = syn.SyntheticObject(
        syn.ellipse(90, 80), lambda f: (150 + 2.5 * (f - 1001), 180, 0.2, 1.0), holes=(syn.ellipse(40, 30),)
    )
    doc, qa = _run({"hero": obj})
    _assert_quality(qa)
    assert [(s.name, s.mode) for s in doc.shapes] == [("hero_1", "add"), ("hero_1_hole1", "subtract")]
    hole = doc.shapes[1]
    assert hole.first_frame == 1001 and hole.last_frame == 1060


def test_two_objects_and_two_components_are_kept_apart() -> None:
    left = syn.SyntheticObject(syn.ellipse(40, 30), lambda f: (100 + 2 * (f - 1001), 100, 0.0, 1.0))
    right = syn.SyntheticObject(syn.rounded_box(50, 40, 10), lambda f: (380, 250 - 1.5 * (f - 1001), 0.0, 1.0))
    masks = syn.sequence({"a": left, "b": right}, range(1001, 1021), SIZE)
    for frame in masks.values():
        frame["b"] = frame["b"] | np.roll(frame["b"], -200, axis=1)
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    doc = trace_shapes(source, ShapeSettings())
    assert doc.objects == ["a", "b"]
    assert [s.name for s in doc.shapes_of("b")] == ["b_1", "b_2"]
    qa = measure(doc, source.read, 64)
    assert qa["objects"]["a"]["shape_iou_min"] >= 0.95
    assert qa["objects"]["b"]["shape_iou_min"] >= 0.95


def test_qa_notices_a_shape_that_drifts_off_the_mask() -> None:
    obj = syn.SyntheticObject(syn.ellipse(60, 40), lambda f: (150 + 2 * (f - 1001), 180, 0.0, 1.0))
    masks = syn.sequence({"hero": obj}, range(1001, 1021), SIZE)
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    doc = trace_shapes(source, ShapeSettings())
    good = measure(doc, source.read, 64)["summary"]
    shape = doc.shapes[0]
    rng = np.random.default_rng(0)
    shape.keys = np.repeat(shape.keys[:1], 20, axis=0)
    shape.key_frames = np.arange(1001, 1021)
    shape.keys[:, :, POINT] += rng.normal(0, 2.0, size=shape.keys[:, :, POINT].shape)
    bad = measure(doc, source.read, 64)["summary"]
    assert bad["shape_iou_min"] < good["shape_iou_min"] - 0.05
    assert bad["boil_px_rms"] > 1.0 > good["boil_px_rms"]
    assert bad["keys_per_100_frames"] == 100.0


def test_a_deforming_object_is_followed_by_stretch_and_handle_refit() -> None:
    """Not one of the issue's cases, but held to its IoU targets: a squashing ellipse that grows a bump."""

    class Deforming:
        def mask(self, f: int, size: tuple[int, int]) -> np.ndarray:
            k = (f - 1001) / 59
            t = np.linspace(0, 2 * np.pi, 720, endpoint=False)
            bump = 1 + 0.25 * k * np.exp(-((t - 1.0) ** 2) / 0.1)
            outline = syn.ellipse(90 - 40 * k, 40 + 30 * k) * bump[:, None]
            out = np.zeros(size, bool)
            syn.fill_polygon(out, syn.transform(outline, (240, 180, 0.2, 1.0)), True)
            return out

    masks = {f: {"hero": Deforming().mask(f, SIZE)} for f in FRAMES}
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    doc = trace_shapes(source, ShapeSettings())
    summary = measure(doc, source.read, 64)["summary"]
    assert summary["shape_iou_median"] >= 0.98 and summary["shape_iou_min"] >= 0.95, summary
    assert summary["keys_per_100_frames"] <= 30


def test_flickering_components_shorter_than_the_minimum_lifetime_get_no_shape() -> None:
    hero = syn.SyntheticObject(syn.ellipse(60, 40), lambda f: (150, 180, 0.0, 1.0))
    masks = syn.sequence({"hero": hero}, range(1001, 1013), SIZE)
    for f in (1004,):
        masks[f]["hero"][20:40, 400:420] = True
    for f in range(1006, 1011):
        masks[f]["hero"][300:330, 380:420] = True
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    kept = trace_shapes(source, ShapeSettings())
    assert [(s.first_frame, s.last_frame) for s in kept.shapes] == [(1001, 1012), (1006, 1010)]
    everything = trace_shapes(source, ShapeSettings(min_lifetime_frames=1))
    assert sorted((s.first_frame, s.last_frame) for s in everything.shapes) == [
        (1001, 1012),
        (1004, 1004),
        (1006, 1010),
    ]
