"""Odd masks never crash the tracer: specks, thin lines, many components, blobs merging and splitting."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roto_core.contracts import ShapeSettings
from roto_core.exporters.json_shapes import ShapesFile, from_model, shapes_json_text
from roto_core.shapes.qa import measure
from roto_core.shapes.trace import InMemoryMasks, trace_shapes


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(12, 160),
    width=st.integers(12, 160),
    blur=st.floats(0.5, 6.0),
    level=st.floats(0.2, 0.95),
    min_area=st.integers(1, 80),
    tolerance=st.floats(0.3, 3.0),
)
def test_random_blob_sequences_trace_and_export(
    seed: int, height: int, width: int, blur: float, level: float, min_area: int, tolerance: float
) -> None:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), blur)
    step = rng.integers(-3, 4, size=2)
    masks = {}
    for f in range(6):
        moved = np.roll(noise, tuple(f * step), axis=(0, 1))
        masks[f] = {"blob": moved > np.quantile(moved, level)}
    source = InMemoryMasks(masks, width, height)
    doc = trace_shapes(source, ShapeSettings(min_area_px=min_area, tolerance_px=tolerance))
    qa = measure(doc, source.read, min_area)
    for shape in doc.shapes:
        assert shape.point_count >= 3
        assert np.isfinite(shape.keys).all()
        assert 0 <= shape.first_frame <= shape.last_frame <= 5
    if qa["summary"]["shape_iou_min"] is not None:
        assert 0.0 <= qa["summary"]["shape_iou_min"] <= qa["summary"]["shape_iou_median"] <= 1.0
    back = from_model(ShapesFile.model_validate_json(shapes_json_text(doc)))
    assert [s.name for s in back.shapes] == [s.name for s in doc.shapes]
