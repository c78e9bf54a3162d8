"""Markers follow a part of the outline that moves on its own (a leg swinging under a body), not only the body.

The shared parameter (outline_track.py) lays each frame's markers onto the next frame's edge with one motion for
the whole outline, then lets stretches that motion leaves off the edge move on their own (tracking.local_shift).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import Shape
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.qa import local_boil
from roto_core.shapes.trace import _reference_frame
from roto_core.shapes.tracking import EdgeField, local_shift

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
SIZE = (320, 400)


def _body_and_leg(body_x: int, leg_x: int) -> np.ndarray:
    mask = np.zeros(SIZE, bool)
    mask[100:180, 100 + body_x : 300 + body_x] = True
    mask[170:290, 140 + leg_x : 164 + leg_x] = True
    return mask


def _track(masks: list[np.ndarray]) -> OutlineTrack:
    outlines = {f: find_regions(m, 64)[0].outer for f, m in enumerate(masks)}
    return OutlineTrack(outlines, 0, SIZE)


def test_markers_on_a_swinging_leg_move_with_the_leg() -> None:
    """The body moves 2 px, the leg under it 14 px: the markers on the leg's foot move 14 px, the body's 2."""
    track = _track([_body_and_leg(0, 0), _body_and_leg(2, 14)])
    u = np.arange(track.count, dtype=np.float64)
    before, after = track.points(0, u), track.points(1, u)
    foot = before[:, 1] > 287
    top = (before[:, 1] < 102) & (before[:, 0] > 120) & (before[:, 0] < 280)
    assert foot.sum() >= 2 and top.sum() >= 10
    moved = after - before
    assert np.abs(moved[foot, 0] - 14.0).max() < 1.5
    assert np.abs(moved[foot, 1]).max() < 1.0
    assert np.abs(moved[top, 0] - 2.0).max() < 1.0


def test_an_outline_on_its_edge_is_left_alone() -> None:
    """Where the whole outline's motion already lays the markers on the edge, nothing is shifted."""
    outline = find_regions(_body_and_leg(0, 0), 64)[0].outer
    field = EdgeField(outline)
    shift = local_shift(outline.points[::6], outline.normals[::6], field, 6.0, SIZE)
    assert np.array_equal(shift, np.zeros_like(shift))


def test_a_stretch_off_its_edge_is_laid_on_it() -> None:
    """Markers of the leg laid 10 px beside the new leg are shifted onto it; the body's stay."""
    old = find_regions(_body_and_leg(0, 0), 64)[0].outer
    new = find_regions(_body_and_leg(0, 10), 64)[0].outer
    points, normals = old.points[::6], old.normals[::6]
    shifted = points + local_shift(points, normals, EdgeField(new), 6.0, SIZE)
    on_leg = (points[:, 1] > 200) & (points[:, 1] < 280)
    on_body = points[:, 1] < 160
    assert np.abs(shifted[on_leg, 0] - points[on_leg, 0] - 10.0).max() < 1.0
    assert np.abs(shifted[on_body] - points[on_body]).max() < 0.5


@pytest.mark.skipif(not (DATA / "camel").is_dir(), reason="needs ../shared/data/davis2016-dev")
def test_markers_hold_their_place_on_a_walking_camel() -> None:
    """A real camel (DAVIS 2016, 20 frames), its legs swinging under a slow body: the markers' boil (each one's
    distance from where its neighbourhood's steady motion puts it, qa.local_boil) was 0.65 px RMS with the body's
    motion alone, 0.33 px now."""
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 19, default_object="matte")
    outlines = {f: find_regions(masks.read(f)["matte"], 64)[0].outer for f in masks.frames}
    track = OutlineTrack(outlines, _reference_frame(outlines), (masks.height, masks.width))
    u = np.arange(track.count, dtype=np.float64)
    points = np.stack([track.points(f, u) for f in track.frames])
    keys = np.repeat(points[:, :, None, :], 3, axis=2)
    markers = Shape("markers", "matte", "add", track.frames[0], track.frames[-1], np.array(track.frames), keys)
    boil = local_boil(markers)
    assert float(np.sqrt(np.mean(boil**2))) < 0.45
