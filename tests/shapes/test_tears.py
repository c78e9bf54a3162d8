"""A shape whose points jump along its outline and stay there lives on as two shapes (tears.py): each drawn on its
frames exactly as before, each with its points keeping their place; jitter within the tolerance, fast and
accelerating motion, and a one-frame excursion and back leave a shape whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape
from roto_core.shapes.qa import local_boil
from roto_core.shapes.tears import TEAR_FACTOR, tears, untorn
from roto_core.shapes.trace import trace_shapes

PARKOUR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev" / "parkour"

FRAMES = 14
POINTS = 16
RADIUS = 50.0
TOLERANCE = 1.5


def _controls(angles: np.ndarray, centres: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """``(F, N, 3, 2)`` controls of points at ``angles`` (per frame) on a circle, moved to ``centres`` and turned
    by ``turns``; handles along the tangent, a third of the way to the next point."""
    a = angles + turns[:, None]
    points = centres[:, None, :] + RADIUS * np.stack((np.cos(a), np.sin(a)), axis=2)
    tangent = np.stack((-np.sin(a), np.cos(a)), axis=2) * (RADIUS * 2.0 * np.pi / POINTS / 3.0)
    ctrl = np.zeros((len(a), POINTS, 3, 2))
    ctrl[:, :, POINT] = points
    ctrl[:, :, LEFT] = -tangent
    ctrl[:, :, RIGHT] = tangent
    return ctrl


def _moving(acceleration: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angles, centres and turns of a disk crossing the frame at 6 px a frame (speeding up by ``acceleration``
    px a frame, each frame) and turning 2 degrees a frame."""
    f = np.arange(FRAMES, dtype=np.float64)
    angles = np.tile(np.linspace(0.0, 2.0 * np.pi, POINTS, endpoint=False), (FRAMES, 1))
    centres = np.stack((200.0 + 6.0 * f + 0.5 * acceleration * f * f, 150.0 + 2.0 * f), axis=1)
    return angles, centres, np.radians(2.0) * f


def _keyed_every_frame(ctrl: np.ndarray, first: int = 100) -> Shape:
    return Shape("obj_p1", "obj", "add", first, first + len(ctrl) - 1, np.arange(first, first + len(ctrl)), ctrl)


def test_points_that_jump_along_the_outline_and_stay_begin_a_new_shape_drawn_as_before() -> None:
    angles, centres, turns = _moving()
    # From frame 7 on, three points sit 25 degrees (22 px) further along the outline: the edge the piece follows is
    # the same, its points are not on the same places of the object.
    angles[7:, 4:7] += np.radians(25.0)
    shape = _keyed_every_frame(_controls(angles, centres, turns))
    assert np.abs(local_boil(shape)).max() > TEAR_FACTOR * TOLERANCE

    parts = untorn(shape, TOLERANCE)

    assert [(p.name, p.first_frame, p.last_frame) for p in parts] == [("obj_p1", 100, 106), ("obj_p1_t2", 107, 113)]
    for part in parts:
        for f in range(part.first_frame, part.last_frame + 1):
            assert np.allclose(part.at(f), shape.at(f))
        assert np.abs(local_boil(part)).max() < 1e-6


def test_jitter_fast_and_accelerating_motion_and_a_one_frame_excursion_leave_a_shape_whole() -> None:
    rng = np.random.default_rng(3)
    angles, centres, turns = _moving(acceleration=3.0)
    jittered = _controls(angles, centres, turns)
    jittered[:, :, POINT] += rng.uniform(-TOLERANCE, TOLERANCE, (FRAMES, POINTS, 2))
    assert tears(_keyed_every_frame(jittered), TOLERANCE) == []

    angles[7, 4:7] += np.radians(25.0)
    caught = _keyed_every_frame(_controls(angles, centres, turns))
    assert np.abs(local_boil(caught)).max() > TEAR_FACTOR * TOLERANCE
    assert untorn(caught, TOLERANCE) == [caught]


def test_a_jump_under_the_limit_is_boil_not_a_tear() -> None:
    angles, centres, turns = _moving()
    # 3 px along the outline: twice the tolerance, boil the smoothing and keys answer for.
    angles[7:, 4:7] += 3.0 / RADIUS
    assert tears(_keyed_every_frame(_controls(angles, centres, turns)), TOLERANCE) == []


@pytest.mark.skipif(not PARKOUR.exists(), reason="needs ../shared/data/davis2016-dev")
def test_on_a_real_matte_the_shoulder_that_tore_ends_and_a_new_shape_begins() -> None:
    """DAVIS parkour, frames 87-99 (ground truth): on frame 95 the hanging arm's hand meets the hip and closes the
    gap between arm and body; points of three pieces jumped from the armpit down to the hand (20-45 px along the
    outline) while the rest moved a few pixels: three shapes tore there before. Now no shape tears, and shapes
    that end on frame 94 go on as new ones from frame 95."""
    masks = MaskSequence(str(PARKOUR / "Annotations" / "#####.png"), 87, 99, default_object="matte")
    settings = ShapeSettings()
    shapes = trace_shapes(masks, settings, name="parkour").shapes

    assert [s.name for s in shapes if tears(s, settings.tolerance_px)] == []
    begun = {s.name.rsplit("_t", 1)[0] for s in shapes if s.first_frame == 95 and "_t" in s.name}
    ended = {s.name for s in shapes if s.last_frame == 94}
    assert begun and begun <= ended
