"""Ribbons as wide as the pixels they cover, and rigging drawn wider than the thin-part opening taken with the lines.

A ribbon is rasterised at pixel centres, so its width decides which pixels beside a line it takes: a width read
off a pixel count and a skeleton's length (the staircase is longer than the line) was under a one-pixel line's
and missed a pixel at each step; on the real paraglider it was over it, and took a second pixel at each step
(line_widths.py). Lines three or four pixels wide survive the 3x3 opening, and where they do not touch the body
they were strips of the bulk too narrow for an outline (contours.SKINNY_DEPTH_PX).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes.contours import thin_parts
from roto_core.shapes.line_strands import strands
from roto_core.shapes.line_widths import fitted_widths
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.qa import edge_recall
from roto_core.shapes.ribbons import link_strands, ribbon_shapes
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"


def _ribbon_iou(mask: np.ndarray) -> float:
    found = strands(mask)
    shapes = [s for k, strand in enumerate(found) for s in ribbon_shapes(f"line{k}", "o", {0: strand})]
    drawn = rasterise(shapes, 0, mask.shape)
    return float((drawn & mask).sum() / (drawn | mask).sum())


@pytest.mark.parametrize("end", [(190, 120), (40, 190)])
def test_a_pixel_line_is_covered_by_its_ribbon(end: tuple[int, int]) -> None:
    """One-pixel lines of slopes 0.6 and 5: their ribbons took 0.913 and 0.846 of them (IoU) at the pixel-count
    width, 0.947 and 0.924 at the fitted one."""
    line = np.zeros((200, 200), np.uint8)
    cv2.line(line, (10, 10), end, 1, 1)
    assert _ribbon_iou(line.astype(bool)) >= 0.92


def test_the_fitted_width_takes_the_line_and_not_its_neighbours() -> None:
    """A straight centre line over a line two pixels wide: the width that covers both rows of pixel centres and
    neither neighbouring row lies between 1 and 3 (the fit puts it half way, 2); where a centre line has no pixel
    of its own beside it, it keeps the width it came with."""
    lines = np.zeros((20, 60), bool)
    lines[8:10, 5:55] = True  # pixel centres at y 8.5 and 9.5: the middle is y = 9
    centre = np.stack([np.linspace(6.0, 54.0, 49), np.full(49, 9.0)], axis=1)
    astray = np.stack([np.linspace(6.0, 54.0, 49), np.full(49, 15.0)], axis=1)
    widths = fitted_widths([centre, astray], lines, (0, 0), np.array([1.3, 0.8]))
    assert widths[0] == pytest.approx(2.0)
    assert widths[1] == 0.8


def _rigged(frame: int) -> np.ndarray:
    """A body under a fan of one-pixel lines, and beside them a line three pixels wide (which the 3x3 opening
    keeps) that touches nothing."""
    mask = np.zeros((240, 320), np.uint8)
    x = 160 + frame
    cv2.circle(mask, (x, 190), 30, 1, -1)
    for k in range(6):
        cv2.line(mask, (x - 25 + 10 * k, 165), (x - 120 + 48 * k, 10), 1, 1)
    ends = np.array([[x + 70.0, 40.0], [x + 110.0, 170.0]])
    heading = (ends[1] - ends[0]) / np.linalg.norm(ends[1] - ends[0])
    side = 1.5 * np.array([-heading[1], heading[0]])
    strip = np.array([ends[0] + side, ends[1] + side, ends[1] - side, ends[0] - side])
    cv2.fillPoly(mask, [np.round(strip * 16).astype(np.int32)], 1, shift=4)
    return mask.astype(bool)


def test_a_wide_line_apart_from_the_body_goes_with_the_lines() -> None:
    """The strip a 4 px line leaves after the opening is no part of the bulk: it is taken with the lines and drawn
    as a ribbon."""
    mask = _rigged(0)
    lines = thin_parts(mask, 64)
    assert lines is not None
    strip = np.zeros_like(mask)
    strip[:, 220:] = mask[:, 220:]
    assert (lines & strip).sum() == strip.sum()
    assert not (lines & ~strip)[170:, 150:200].any()  # the body stays in the bulk
    masks = {f: {"o": _rigged(f)} for f in range(4)}
    doc = trace_shapes(InMemoryMasks(masks, 320, 240), ShapeSettings())
    ribbons = [s for s in doc.shapes if "_thin" in s.name]
    for f in range(4):
        moved = np.zeros_like(mask)
        moved[:, 220 + f :] = masks[f]["o"][:, 220 + f :]
        drawn = rasterise(ribbons, f, mask.shape)
        assert (drawn & moved).sum() >= 0.9 * moved.sum()


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_the_paragliders_last_frames_hold_their_lines() -> None:
    """DAVIS paragliding-launch frames 60-79 traced at the defaults: IoU median 0.865 and edge within 2 px 0.959
    with pixel-count widths and the wide strips left in the bulk, 0.874 and 0.972 now."""
    masks = MaskSequence(DATA / "paragliding-launch" / "Annotations" / "#####.png", 60, 79, default_object="matte")
    doc = trace_shapes(masks, ShapeSettings())
    ious, edges = [], []
    for f in masks.frames:
        matte = masks.read(f)["matte"]
        drawn = rasterise(doc.shapes, f, matte.shape)
        ious.append((drawn & matte).sum() / (drawn | matte).sum())
        edges.append(edge_recall(drawn, matte))
    assert np.median(ious) >= 0.87
    assert np.mean(edges) >= 0.97


def test_each_key_of_a_ribbon_takes_its_own_frames_width() -> None:
    """A cable drifting a pixel a frame, one pixel wide on its first two frames and two on the last three (it swings
    towards the camera): each frame's ribbon is as wide as that frame's line. One width for the whole track (the
    median, 2.6 px) drew the thin frames too wide: IoU 0.33 on them, 0.994-1.0 now."""
    masks = {}
    for f, thickness in enumerate((1, 1, 2, 2, 2)):
        mask = np.zeros((160, 220), np.uint8)
        cv2.line(mask, (20 + f, 30), (190 + f, 120), 1, thickness)
        masks[f] = mask.astype(bool)
    (track,) = link_strands({f: strands(m) for f, m in masks.items()})
    ribbons = ribbon_shapes("cable", "o", track)
    for f, mask in masks.items():
        drawn = rasterise(ribbons, f, mask.shape)
        assert (drawn & mask).sum() / (drawn | mask).sum() >= 0.95, f
