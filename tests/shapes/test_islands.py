"""An island in a hole (a wheel's hub inside the gap around it, a face seen through a ring): drawn in order, as
Nuke and Silhouette composite a layer's shapes (FORMATS.md "Evidence gathered": topmost composited last), the
hole clears the ring's inside and the island is filled again after it. Before, every hole was cut after every
add shape, so the island vanished from all three exports (IoU 0.80 on this matte)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.exporters import read_fxs, read_nk, read_shapes_json, write_fxs, write_nk, write_shapes_json
from roto_core.shapes.contours import find_regions
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (240, 320)
FRAMES = range(1, 9)


def _matte(frame: int) -> np.ndarray:
    """A ring (radius 100, hole 70) with a disc in its hole that has a hole of its own; moving right."""
    out = np.zeros(SIZE, np.uint8)
    centre = (150 + 2 * frame, 120)
    for radius, value in ((100, 255), (70, 0), (35 + frame, 255), (10, 0)):
        cv2.circle(out, centre, radius, value, -1)
    return out > 0


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_regions_know_how_deep_they_sit() -> None:
    regions = find_regions(_matte(1), 64)
    assert sorted((r.depth, len(r.holes)) for r in regions) == [(0, 1), (1, 1)]


def test_an_island_in_a_hole_is_drawn_in_every_export(tmp_path: Path) -> None:
    masks = {f: {"wheel": _matte(f)} for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="wheel")
    modes = [s.mode for s in doc.shapes]
    assert modes == ["add", "subtract", "add", "subtract"], [s.name for s in doc.shapes]
    read = {
        "json": read_shapes_json(write_shapes_json(doc, tmp_path / "w.json")),
        "nk": read_nk(write_nk(doc, tmp_path / "w.nk"))[0],
        "fxs": read_fxs(write_fxs(doc, tmp_path / "w.fxs")),
    }
    for kind, back in read.items():
        assert [s.name for s in back.shapes] == [s.name for s in doc.shapes], kind
        ious = [_iou(rasterise(back.shapes, f, SIZE), masks[f]["wheel"]) for f in FRAMES]
        assert min(ious) > 0.97, (kind, ious)
    # Nuke lists a layer topmost first: the island above the ring's hole, the hole above the ring.
    text = (tmp_path / "w.nk").read_text()
    at = [text.index(f"{{curvegroup {s.name} ") for s in doc.shapes]
    assert at == sorted(at, reverse=True)
