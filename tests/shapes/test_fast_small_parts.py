"""Small parts that move fast are followed from their first frame (linking.link).

A region is followed on where its centroid is within 0.6 of its size of where its own velocity puts it. A track
seen on one frame has no velocity yet, so a small part moving further than that in a frame (a juggler's balls, a
bird in a flock, a far runner's limbs, 12 px across at 8 px a frame) could never be followed past its first frame:
every frame began a new track, each too brief for a shape (three frames) and too small a share of the object to be
drawn however brief, and the part had no shape at all. A track seen on one frame now follows on to the region
nearest its place where each is the other's nearest, within two of its sizes.
"""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (200, 320)
FRAMES = 12


def _juggler(frame: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A body (a disc of radius 35) and, above it, three balls of radius 6 thrown at 7-8 px a frame."""
    body = np.zeros(SIZE, np.uint8)
    cv2.circle(body, (160, 150), 35, 1, -1)
    balls = []
    for dx, dy in ((8, -1), (-8, -1), (1, -7)):
        ball = np.zeros(SIZE, np.uint8)
        cv2.circle(ball, (160 + dx * (frame + 2), 95 + dy * (frame + 1)), 6, 1, -1)
        balls.append(ball.astype(bool))
    return body.astype(bool), balls


def test_small_fast_parts_have_shapes_on_every_frame() -> None:
    masks = {}
    for f in range(FRAMES):
        body, balls = _juggler(f)
        masks[f] = body | np.any(balls, axis=0)
    doc = trace_shapes(InMemoryMasks({f: {"juggler": m} for f, m in masks.items()}, SIZE[1], SIZE[0]), ShapeSettings())
    for f in range(FRAMES):
        raster = rasterise(doc.shapes, f, SIZE)
        for ball in _juggler(f)[1]:
            assert (raster & ball).sum() >= 0.8 * ball.sum(), (f, int((raster & ball).sum()), int(ball.sum()))
