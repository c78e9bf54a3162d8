"""A piece that turns over lives only on the frames it is upright.

Every outline is traced clockwise, so every piece of it (runs of the outline joined by chords) encloses its
part of the object with a positive signed area. Where the object's edge straightens or bends in past one of a
piece's chords, the piece turns inside out: its chord lies outside the object and what it encloses is the
gap beside it (DAVIS soapbox: a sliver between a wheel arch and a chord that for 18 frames encloses 75-106 px²
of background). It covers nothing of the object there and an artist sees a shape turned over, so the shape's
lifetime leaves those frames out: it is split into the runs of frames on which it is upright, each keyed at
its own ends by the original in-between (the curve on its frames does not change). A shape traced as one piece is
held to the same: a hole of 20-30 px² fitted with nine points can cross itself inside out on a few frames (DAVIS
soapbox, frames 8-9 of a hole between the wheel and the body).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from roto_core.shapes.curve_kernel import outline_areas
from roto_core.shapes.model import Shape, bernstein

# A sliver whose area only grazes zero is not turned over: a piece is turned over on a frame where it encloses
# less than minus this many tolerances squared.
TURNED_AREA = 1.0
# Upright runs shorter than this between frames turned over are left out too: a piece that flips back for a
# frame or two would otherwise become a shape of a frame or two.
MIN_RUN_FRAMES = 3
SAMPLES = 8


def turned_over(shape: Shape, tolerance: float) -> np.ndarray:
    """Per frame of the shape's lifetime, whether it encloses its part the wrong way round."""
    frames = range(shape.first_frame, shape.last_frame + 1)
    area = outline_areas(np.stack([shape.at(f) for f in frames]), bernstein(SAMPLES))
    return area < -TURNED_AREA * tolerance**2


def upright(shape: Shape, tolerance: float) -> list[Shape]:
    """``shape`` split into the runs of frames on which it is upright (itself where it never turns over)."""
    flipped = turned_over(shape, tolerance)
    if not flipped.any():
        return [shape]
    runs: list[tuple[int, int]] = []
    start = None
    for i, bad in enumerate([*flipped.tolist(), True]):
        if not bad and start is None:
            start = i
        elif bad and start is not None:
            runs.append((start, i - 1))
            start = None
    runs = [(a, b) for a, b in runs if b - a + 1 >= MIN_RUN_FRAMES]
    out = []
    for number, (a, b) in enumerate(runs, start=1):
        part = shape.clipped(shape.first_frame + a, shape.first_frame + b)
        assert part is not None, "an upright run lies inside the shape's lifetime"
        out.append(replace(part, name=shape.name if number == 1 else f"{shape.name}_{number}"))
    return out
