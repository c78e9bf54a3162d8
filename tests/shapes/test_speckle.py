"""Speckled mattes (grain keyed into a matte, a segmenter gone to noise): a shape per speck would be thousands of
shapes and a long trace (a 480x270 checkerboard of 4 px holes: 3,894 holes in one component, still tracing after 5
minutes for 5 frames). Components, holes and line pieces are kept up to a count, largest first; the frames where
the count left some out are named in qa.json, in the verdict and on the console of ``rotofarm shapes``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import contours
from roto_core.shapes.contours import MAX_HOLES, MAX_REGIONS, find_regions
from roto_core.shapes.line_strands import MAX_PIECES, strands
from roto_core.shapes.qa import measure, verdict
from roto_core.shapes.trace import InMemoryMasks, trace_shapes
from submitters.cli.app import main


def _checker(shape: tuple[int, int], cell: int, shift: int = 0) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    return ((x + shift) // cell + y // cell) % 2 == 1


def test_a_component_keeps_its_largest_holes() -> None:
    mask = np.ones((200, 300), bool)
    mask[~_checker((200, 300), 4)[:, :]] = False
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = True, True, True, True
    mask[100:120, 150:180] = False  # one hole far larger than the cells
    told: list[str] = []
    (region,) = find_regions(mask, 16, told.append)
    assert len(region.holes) == MAX_HOLES
    assert told == ["holes"]
    assert max(h.area for h in region.holes) > 400, "the large hole is among those kept"


def test_a_frame_keeps_its_largest_components() -> None:
    mask = np.zeros((420, 420), bool)
    for i in range(35 * 35):
        y, x = divmod(i, 35)
        side = 9 + (i == 637) * 2
        mask[y * 12 : y * 12 + side, x * 12 : x * 12 + side] = True
    told: list[str] = []
    regions = find_regions(mask, 64, told.append)
    assert len(regions) == MAX_REGIONS
    assert told == ["components"]
    told.clear()
    find_regions(mask[:240, :240], 64, told.append)
    assert told == [], "400 components are all kept, and nothing is said"
    assert regions[0].area > 110, "the largest component comes first"


def test_a_frame_of_dashes_keeps_its_longest_pieces() -> None:
    rng = np.random.default_rng(5)
    mask = np.zeros((480, 960), np.uint8)
    for i in range(1600):
        y, x = divmod(i, 40)
        angle, length = rng.uniform(0, np.pi), 12 + (i == 700) * 8
        end = (24 * x + 12 + round(length / 2 * np.cos(angle)), 12 * y + 6 + round(length / 2 * np.sin(angle)))
        start = (2 * (24 * x + 12) - end[0], 2 * (12 * y + 6) - end[1])
        cv2.line(mask, start, end, 1, 1)
    told: list[str] = []
    found = strands(mask > 0, told.append)
    assert 0 < len(found) <= MAX_PIECES
    assert told == ["line pieces"]
    assert max(s.length for s in found) > 18, "the longest dash is among those kept"


def test_speckle_is_traced_in_bounds_and_flagged() -> None:
    """A checkerboard of 4 px cells: 600 specks of holes a frame, flagged by the verdict on every frame."""
    size = (120, 160)
    masks = {f: {"grain": _checker(size, 4)} for f in range(3)}
    source = InMemoryMasks(masks, size[1], size[0])
    doc = trace_shapes(source, ShapeSettings(), name="grain")
    assert sum(s.mode == "subtract" for s in doc.shapes) <= MAX_HOLES
    settings = ShapeSettings()
    judged = verdict(measure(doc, lambda f: masks[f], settings.min_area_px), settings.max_points)
    assert judged["status"] == "review"
    assert judged["frames_below"]["grain"] == [0, 1, 2]


def test_frames_traced_in_part_are_named_to_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twelve discs on frames 1-3 and eight on frame 4, the cap lowered to eight (the plumbing, not the count, is
    under test): the four smallest discs of frames 1-3 are left out, and qa.json, the verdict and the console say
    on which frames."""
    monkeypatch.setattr(contours, "MAX_REGIONS", 8)
    folder = tmp_path / "masks"
    folder.mkdir()
    for f in range(1, 5):
        cv2.imwrite(str(folder / f"m.{f:04d}.png"), _discs(12 if f < 4 else 8, f))
    out = tmp_path / "out"
    assert main(["shapes", str(folder / "m.####.png"), "--frames", "1-4", "--out", str(out), "--name", "d"]) == 0
    printed = capsys.readouterr().out
    qa = json.loads((out / "qa.json").read_text())
    assert qa["objects"]["d"]["left_out"] == {str(f): ["components"] for f in range(1, 4)}
    assert "only the largest 8 components traced on 3 frame(s) from 1" in qa["verdict"]["line"]
    assert "frames traced in part, the smallest specks left out (d): 1-3" in printed


def _discs(count: int, frame: int) -> np.ndarray:
    """``count`` discs of growing radius on a 4-column grid, moving right a pixel a frame."""
    img = np.zeros((160, 240), np.uint8)
    for i in range(count):
        y, x = divmod(i, 4)
        cv2.circle(img, (30 + 60 * x + frame, 30 + 50 * y), 10 + i // 2, 255, -1)
    return img
