"""A shape that tears lives on as two shapes: one ending on the frame before the tear, one beginning on it.

A piece's points follow markers carried along its outline from frame to frame. Where the outline changes past
what the carrying can follow in one step (a hand meeting the hip closes the gap between arm and body), some of a
piece's points jump along the outline to another part of the object: on DAVIS parkour's ground truth (frame 95) a
shoulder piece's first five points move 45 px from the armpit down to the hand while its other four move 3, every
frame still on its edge. The render is right on every frame, but the points no longer keep their place on the
object, and an artist who edits the shape before and after the jump edits two different parts of it. Where the
topology changes, shapes get lifetimes instead: the shape is cut at the tear into two shapes, each drawn on its
frames exactly as before (keyed at its new ends with the original in-between, as upright.py cuts a shape that
turns over), so what the shapes cover on every frame is unchanged and each shape's points keep their place.

A tear is told from boil by its size and its shape in time. ``qa.local_residuals`` gives each point's residual
against where its neighbourhood's steady motion puts it (the midpoint of the frames either side, laid on by a
similarity). A point that jumps between two frames and stays leaves a residual of about half the jump on both,
pointing opposite ways; jitter leaves small ones, and steady bending or acceleration none that oppose on both
sides of one step. The jump must be TEAR_FACTOR tolerances or more in residual (a jump of about twice that), far
beyond any boil a fit within the tolerance leaves.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from roto_core.shapes.model import Shape
from roto_core.shapes.qa import local_residuals

TEAR_FACTOR = 3.0
# Neighbours either side of a point in its neighbourhood, as qa.local_boil takes them.
NEIGHBOURS = 2


def tears(shape: Shape, tolerance: float) -> list[int]:
    """The frames on which ``shape`` tears: some point of it jumps from the frame before by more than the limit
    against its neighbourhood and stays there (opposite residuals of TEAR_FACTOR tolerances or more on both frames,
    and no such jump back on the next)."""
    residual = local_residuals(shape, NEIGHBOURS, jitter=True)
    if residual.size == 0:
        return []
    residual = residual.reshape(-1, shape.point_count)
    before, after = residual[:-1], residual[1:]
    limit = TEAR_FACTOR * tolerance
    # Sizes and the sign of the two residuals' dot product in real arithmetic: numpy's complex abs and multiply run
    # on code chosen for the CPU at run time (qa.local_residuals).
    size = np.sqrt(residual.real * residual.real + residual.imag * residual.imag)
    opposite = before.real * after.real + before.imag * after.imag < 0.0
    jump = (size[:-1] > limit) & (size[1:] > limit) & opposite
    # Row j holds inner frames j and j + 1, i.e. frames first + 1 + j and first + 2 + j: the jump is onto the second.
    onto = {shape.first_frame + 2 + int(j) for j in np.flatnonzero(jump.any(axis=1))}
    # Jumps onto two frames in a row are one frame's excursion and back (a fit caught for a frame), not a place
    # the points keep: no lifetime begins there.
    return sorted(f for f in onto if f - 1 not in onto and f + 1 not in onto)


def untorn(shape: Shape, tolerance: float) -> list[Shape]:
    """``shape`` cut at each of its tears into shapes living over the frames between them (itself where it never
    tears); the first keeps the name, the others are named ``<name>_t2``, ``<name>_t3``, ..."""
    starts = tears(shape, tolerance)
    if not starts:
        return [shape]
    bounds = [shape.first_frame, *starts, shape.last_frame + 1]
    out = []
    for number, (first, end) in enumerate(itertools.pairwise(bounds), start=1):
        part = shape.clipped(first, end - 1)
        assert part is not None, "a tear lies inside the shape's lifetime"
        out.append(replace(part, name=shape.name if number == 1 else f"{shape.name}_t{number}"))
    return out
