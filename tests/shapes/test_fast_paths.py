"""The shortcuts the tracer takes for speed give exactly what the plain computation gives.

Contours are traced on a padded crop around the set pixels instead of the whole frame, fitting runs are
gathered already thinned, the parts of a cut frame range are tracked on their parent's loops and markers, and
half EXR masks are cut without converting them to float32; all must be invisible in the results (the compiled edge
measurement: test_edge_measure.py).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.maskio import COMBINED, inside, read_mask_exr, write_mask_exr
from roto_core.shapes.contours import _occupied_box, find_regions
from roto_core.shapes.fitting import FIT_STRIDE, thinned_run
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.outline_track import OutlineTrack

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _blobs(seed: int, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random(size).astype(np.float32), (0, 0), 3.0)
    mask = (noise > np.quantile(noise, 0.8)).astype(np.uint8)
    mask[: size[0] // 3, : size[1] // 4] = 0
    return mask


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", [(90, 120), (61, 77)], ids=["multiple-of-8", "odd"])
def test_cropped_contours_equal_full_frame_contours(seed: int, size: tuple[int, int]) -> None:
    mask = _blobs(seed, size)
    if seed % 2:
        mask[20:50, 30:70] = 1
        mask[30:40, 40:55] = 0  # a hole
    full, full_links = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    box = _occupied_box(mask)
    assert box is not None
    y0, y1, x0, x1 = box
    cropped, crop_links = cv2.findContours(mask[y0:y1, x0:x1], cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE, offset=(x0, y0))
    assert len(cropped) == len(full) > 0
    assert np.array_equal(crop_links, full_links)
    for a, b in zip(cropped, full, strict=True):
        assert np.array_equal(a, b)


def test_an_empty_mask_has_no_box() -> None:
    assert _occupied_box(np.zeros((40, 50), np.uint8)) is None


@pytest.mark.parametrize("count", [1, 2, 5, 6, 7, 8, 9, 10, 30, 31, 32, 99])
def test_thinned_run_keeps_every_third_sample_and_both_ends(count: int) -> None:
    points = np.stack([np.arange(40.0), -np.arange(40.0)], axis=1)
    start = 33
    whole = points[(start + np.arange(count + 1)) % len(points)]
    keep = list(range(0, len(whole), FIT_STRIDE)) if len(whole) > 2 * FIT_STRIDE else list(range(len(whole)))
    if keep[-1] != len(whole) - 1:
        keep.append(len(whole) - 1)
    run = thinned_run(points, start, count)
    assert np.array_equal(run, whole[keep])
    run[0] = -1.0
    assert points[start, 0] == start


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_a_part_of_a_cut_range_tracked_on_its_parents_loops_and_markers_is_tracked_alike() -> None:
    """A frame range cut in two lends its loops, and where a part keeps the reference frame its markers, to the
    part's track: the same markers and corners as tracking the part afresh (a real camel, its legs crossing)."""
    masks = MaskSequence(DATA / "camel" / "Annotations" / "#####.png", 0, 11, default_object="matte")
    outlines = {f: find_regions(masks.read(f)["matte"], 64)[0].outer for f in masks.frames}
    size = (masks.height, masks.width)
    parent = OutlineTrack(outlines, 3, size)
    for part, ref in (
        ({f: o for f, o in outlines.items() if f < 6}, 3),
        ({f: o for f, o in outlines.items() if f >= 6}, 8),
    ):
        lent, fresh = OutlineTrack(part, ref, size, parent), OutlineTrack(part, ref, size)
        assert lent.count == fresh.count
        np.testing.assert_array_equal(lent.corners, fresh.corners)
        np.testing.assert_array_equal(lent.marks, fresh.marks)
        np.testing.assert_array_equal(lent.all_points, fresh.all_points)
        assert all(lent.loops[f] is parent.loops[f] for f in part)


def test_half_exr_masks_cut_in_their_own_precision_equal_the_float32_reading(tmp_path: Path) -> None:
    """The shapes tracer cuts the farm's half-float masks at 0.5 as read; the float32 reading cuts them alike,
    soft edges a hair either side of 0.5 included, with several objects, a lone "A", and a frame without objects."""
    rng = np.random.default_rng(5)
    ramp = np.array([0.0, 0.25, 0.4995, 0.5, 0.5005, 0.75, 1.0], np.float16)
    soft = ramp[rng.integers(0, len(ramp), (4, 40, 60))]
    write_mask_exr(tmp_path / "m.0001.exr", {"hero": soft[0], "prop": soft[1]})
    write_mask_exr(tmp_path / "m.0002.exr", {"hero": soft[2], "prop": np.zeros((40, 60), np.float16)})
    write_mask_exr(tmp_path / "m.0003.exr", {}, shape=(40, 60))
    sequence = MaskSequence(tmp_path / "m.####.exr", 1, 3, default_object="matte")
    for frame in (1, 2):
        path = tmp_path / f"m.{frame:04d}.exr"
        assert read_mask_exr(path, native=True)["hero"].dtype == np.float16
        wide = read_mask_exr(path)
        assert wide["hero"].dtype == np.float32
        read = sequence.read(frame)
        assert sorted(read) == sorted(k for k in wide if k != COMBINED)
        for name, mask in read.items():
            np.testing.assert_array_equal(mask, inside(wide[name]))
    assert sequence.read(3) == {}
