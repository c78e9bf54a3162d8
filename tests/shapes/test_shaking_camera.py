"""A shaking camera does not cost a small object its shapes.

A real matte (DAVIS drift-chicane, a car about 50 px across) with every frame moved by a random whole-pixel offset of
up to 15 px each way, as bench/shapes_transformed.py's ``shake`` does: from one frame to the next the car jumps by
0.6-0.8 of its size. Linked only near where constant velocity put it (which, from two shaken frames, misses by twice
the shake) and within 0.6 of its size, the car broke into tracks of one to four frames: frames 0 and 4-6 had no
shape at all (IoU 0 with the car in plain view). linking.py now also looks where the region last was, and lets an
object that is one region on both frames move up to two sizes (SOLE_MAX_SHIFT), but not onto something further
(a segmenter's mask jumping to another thing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.linking import Blob, link
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
FRAMES = 30
SHAKE_PX = 15


def _tracks(blobs: dict[int, list[Blob]]) -> list[list[int]]:
    return sorted(sorted(t.members) for t in link(blobs))


def test_one_region_jumping_by_most_of_its_size_stays_one_track() -> None:
    size = 50.0
    jumps = [0.0, 0.8, 0.0, -0.7, 0.1, 0.8]
    sole = {f: [Blob(np.array([200.0 + size * j, 100.0]), size**2)] for f, j in enumerate(jumps)}
    assert _tracks(sole) == [list(range(len(jumps)))]
    # Three sizes away it is something else (a segmenter's mask jumping onto another object).
    far = {0: [Blob(np.array([200.0, 100.0]), size**2)], 1: [Blob(np.array([350.0, 100.0]), size**2)]}
    assert _tracks(far) == [[0], [1]]


def test_regions_among_others_are_found_where_they_last_were() -> None:
    """Two regions, each shaken back and forth by half its size: the constant-velocity guess from two shaken frames
    is a whole size off, where the region last was is half a size off. Among several regions the jump allowed a
    followed region stays MAX_CENTROID_SHIFT: at 0.8 of their size they are not followed on. A region seen on one
    frame only, which has no velocity yet, follows on to the region it and only it is nearest (linking.
    _mutual_nearest)."""
    size = 40.0

    def frames(jumps: list[float]) -> dict[int, list[Blob]]:
        return {
            f: [Blob(np.array([100.0 + size * j, 100.0]), size**2), Blob(np.array([400.0 + size * j, 300.0]), size**2)]
            for f, j in enumerate(jumps)
        }

    assert _tracks(frames([0.0, 0.5, 0.0, 0.5, 0.0])) == [[0, 1, 2, 3, 4]] * 2
    assert len(_tracks(frames([0.0, 0.0, 0.8]))) == 4
    assert _tracks(frames([0.0, 0.8])) == [[0, 1]] * 2


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_a_small_car_in_a_shaking_frame_has_its_shapes_on_every_frame() -> None:
    truth = MaskSequence(DATA / "drift-chicane" / "Annotations" / "#####.png", 0, FRAMES - 1, default_object="m")
    rng = np.random.default_rng(7)
    masks = []
    for f in truth.frames:
        mask = truth.read(f)["m"]
        dy, dx = (int(v) for v in rng.integers(-SHAKE_PX, SHAKE_PX + 1, 2))
        masks.append(np.roll(mask, (dy, dx), axis=(0, 1)))
    h, w = masks[0].shape
    doc = trace_shapes(InMemoryMasks({f: {"m": m} for f, m in enumerate(masks)}, w, h), ShapeSettings(), name="car")
    ious = []
    for f, mask in enumerate(masks):
        raster = rasterise(doc.shapes, f, (h, w))
        ious.append(float((raster & mask).sum()) / float((raster | mask).sum()))
    assert min(ious) >= 0.9, [round(i, 3) for i in ious]
