"""The synthetic shot generator: reproducible, and its ground truth describes what is in the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from roto_core.frames import read_frame
from roto_core.maskio import read_mask_exr
from roto_core.sequences import frame_path
from roto_core.synthetic import make_shot


def test_same_seed_same_bytes_other_seed_other_shot(tmp_path: Path) -> None:
    a = make_shot(tmp_path / "a", frames=3, width=96, height=64, seed=7)
    b = make_shot(tmp_path / "b", frames=3, width=96, height=64, seed=7)
    c = make_shot(tmp_path / "c", frames=3, width=96, height=64, seed=8)
    for f in a.frames:
        assert frame_path(a.plate, f).read_bytes() == frame_path(b.plate, f).read_bytes()
        assert frame_path(a.gt, f).read_bytes() == frame_path(b.gt, f).read_bytes()
    assert frame_path(a.plate, 1001).read_bytes() != frame_path(c.plate, 1001).read_bytes()
    assert a.prompts == b.prompts


def test_ground_truth_matches_picture_and_prompts(small_shot) -> None:
    s = small_shot
    assert s.objects == ["obj1", "obj2"] and [p.object for p in s.prompts] == s.objects
    first = read_mask_exr(frame_path(s.gt, s.first_frame))
    img = read_frame(s.plate, s.first_frame)
    for prompt in s.prompts:
        m = first[prompt.object] >= 0.5
        ys, xs = np.nonzero(m)
        x0, y0, x1, y1 = prompt.box
        assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1
        # Objects are saturated, the background is muted: the mask marks the colourful pixels.
        sat = img.max(axis=-1) - img.min(axis=-1)
        assert sat[m].mean() > 2 * sat[~first["A"].astype(bool)].mean()


def test_objects_move_and_one_is_occluded(small_shot) -> None:
    s = small_shot
    areas = []
    centres = []
    for f in s.frames:
        m = read_mask_exr(frame_path(s.gt, f))["obj1"] >= 0.5
        ys, xs = np.nonzero(m)
        areas.append(m.sum())
        centres.append((xs.mean(), ys.mean()))
    travel = np.hypot(*np.subtract(centres[-1], centres[0]))
    assert travel > 5
    # The occluder crosses obj1 in the middle third: its visible area dips well below its unoccluded size.
    middle = areas[len(areas) // 3 : 2 * len(areas) // 3]
    assert min(middle) < 0.8 * np.median(areas)
