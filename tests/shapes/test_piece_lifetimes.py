"""A piece that cannot hold over the whole range lives over part of it; the pieces around it keep theirs.

A body with a leg under it: over the first ten frames the leg is a plain bar, over the last ten its side is a
saw of eight teeth, more outline than ``max_points`` points can follow with the same points on every frame. The
body holds over all twenty frames and is one shape over all of them (before, the whole range was cut in two
and the body drawn twice); the leg's shapes end and begin where it changes. Every frame is still covered.
"""

from __future__ import annotations

import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (260, 320)
FRAMES = range(20)


def _mask(frame: int) -> np.ndarray:
    mask = np.zeros(SIZE, bool)
    shift = frame // 2
    mask[60:140, 80 + shift : 240 + shift] = True
    rows = np.arange(140, 222)
    saw = (8.0 * ((rows - 140) % 10) / 10.0).astype(int) if frame >= 10 else np.zeros(len(rows), int)
    for row, tooth in zip(rows, saw, strict=True):
        mask[row, 150 + shift : 172 + shift + tooth] = True
    return mask


def test_the_body_keeps_one_shape_while_the_leg_changes() -> None:
    masks = {f: {"obj": _mask(f)} for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(max_points=16))
    whole = [s for s in doc.shapes if (s.first_frame, s.last_frame) == (FRAMES[0], FRAMES[-1])]
    # The body's top edge (y = 60) is drawn by a shape alive on every frame.
    assert any(float(s.at(0)[:, 1, 1].min()) < 61.0 for s in whole)
    # The leg's change cuts the leg's piece where the saw appears, and nothing else.
    parts = [s for s in doc.shapes if s not in whole]
    assert parts and all(s.last_frame == 9 or s.first_frame == 10 for s in parts)
    assert all(float(s.at(s.first_frame)[:, 1, 1].min()) > 130.0 for s in parts)
    for f in FRAMES:
        drawn = rasterise(doc.shapes, f, SIZE)
        mask = _mask(f)
        assert (drawn & mask).sum() / (drawn | mask).sum() > 0.98, f
