"""Holes are linked over time on their place within their component, so they move with it."""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.trace import InMemoryMasks, trace_shapes


def test_a_small_hole_in_a_fast_object_keeps_one_shape() -> None:
    # A hole of radius 5 (about 80 px) in a disc moving 9 px a frame: its own centroid jumps further than the
    # linking allows for its size; within the disc it stays put.
    masks = {}
    for f in range(8):
        mask = np.zeros((120, 240), np.uint8)
        cv2.circle(mask, (40 + 9 * f, 60), 30, 1, -1)
        cv2.circle(mask, (45 + 9 * f, 55), 5, 0, -1)
        masks[f] = {"wheel": mask.astype(bool)}
    doc = trace_shapes(InMemoryMasks(masks, 240, 120), ShapeSettings())
    holes = [s for s in doc.shapes if s.mode == "subtract"]
    assert holes and {s.name.split("_hole")[1][:1] for s in holes} == {"1"}
    assert all(any(s.alive(f) for s in holes) for f in range(8))
