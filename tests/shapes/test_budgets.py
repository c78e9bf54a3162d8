"""A thin object's shapes are held closer to its matte on average (budgets.py): the mean distance of the keyed
in-betweens from the edge is held to a share of the object's thickness, so a thin, turning object keeps the IoU
a thick one gets at the same tolerance. A tolerance loosened for a segmenter's jittery masks is left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.contracts import ShapeSettings
from roto_core.shapes import budgets
from roto_core.shapes import synthetic as syn
from roto_core.shapes.contours import find_regions
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import fill_polygon, rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
SIZE = (240, 320)
FRAMES = range(16)


def _bar(f: int) -> np.ndarray:
    """A bar 112-128 px long whose width breathes between 10 and 18 px as it moves: its sides move in and out
    together, which straight in-betweens miss by a band along the whole outline (thickness, area over outline
    length, about 6 px)."""
    outline = syn.ellipse(60.0 + 4.0 * np.sin(0.7 * f), 7.0 + 2.0 * np.sin(0.7 * f))
    mask = np.zeros(SIZE, bool)
    fill_polygon(mask, syn.transform(outline, (160.0 + 1.5 * f, 110.0, 0.03 * f, 1.0)), True)
    return mask


def _ious(monkeypatch: pytest.MonkeyPatch, fraction: float) -> tuple[np.ndarray, int]:
    masks = {f: {"bar": _bar(f)} for f in FRAMES}
    with monkeypatch.context() as patch:
        patch.setattr(budgets, "THICKNESS_FRACTION", fraction)
        doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings())
    ious = []
    for f in FRAMES:
        raster, mask = rasterise(doc.shapes, f, SIZE), masks[f]["bar"]
        ious.append((raster & mask).sum() / (raster | mask).sum())
    return np.array(ious), sum(len(s.key_frames) for s in doc.shapes)


def test_a_thin_turning_object_is_held_closer_on_average(monkeypatch: pytest.MonkeyPatch) -> None:
    region = find_regions(_bar(0), 64)[0]
    assert 4.0 < region.area / region.outer.length < 8.0
    held, held_keys = _ious(monkeypatch, budgets.THICKNESS_FRACTION)
    plain, plain_keys = _ious(monkeypatch, np.inf)
    # Measured: IoU mean 0.937 -> 0.942, worst frame 0.876 -> 0.902, for 7 -> 9 keys (mean 0.944 before keys were
    # steadied beside where the move leaves the edge, steadying.py: its points sit steadier, a little off the edge).
    assert held.mean() > plain.mean() + 0.004
    assert held.min() > plain.min() + 0.02
    assert held_keys > plain_keys


def test_the_mean_is_held_to_the_thickness_between_a_floor_and_the_default() -> None:
    regions = {0: find_regions(_bar(0), 64)[0]}
    budget = budgets.component_budget(ShapeSettings(), regions)
    thickness = budget.thickness[0]
    fraction = budget.mean_fractions([0])[0]
    assert fraction == pytest.approx(
        np.clip(budgets.THICKNESS_FRACTION * thickness / 1.5, budgets.MEAN_FLOOR_FRACTION, 0.5)
    )
    assert budget.mean_fractions([5])[0] == 0.5
    loose = budgets.component_budget(ShapeSettings(tolerance_px=2.5), regions)
    assert loose.thickness == {} and loose.mean_fractions([0])[0] == 0.5


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
def test_a_horse_and_rider_seen_small_keep_their_iou_with_room_to_spare() -> None:
    """DAVIS horsejump-high frames 0-19 (area over outline length 7-12 px) traced at the defaults: IoU median
    0.9575 and 10th percentile 0.940 with the mean held to 4 % of the thickness, 0.962 and 0.951 at 3 %. Since the
    area guard counts a part left out as lost (area_guard.LOST_DEPTH), its single-frame cuts move this clip's
    ranges: 0.9605 / 0.9502 -> 0.9567 / 0.9487 here, while the whole sequence's IoU median rose 0.952 -> 0.954 and
    p10 0.928 -> 0.930 (bench/RESULTS.md, thirty-seventh pass). On a machine whose numpy runs its AVX-512 code the
    same clip traces to 0.9559 / 0.9415 (0.9563 / 0.9488 with it switched off, the first and last keys steadied:
    thirty-ninth pass), so the clip is held at 0.953 / 0.938, above the issue's 0.95 / 0.90 on either machine."""
    masks = MaskSequence(DATA / "horsejump-high" / "Annotations" / "#####.png", 0, 19, default_object="matte")
    doc = trace_shapes(masks, ShapeSettings())
    ious = []
    for f in masks.frames:
        matte = masks.read(f)["matte"]
        drawn = rasterise(doc.shapes, f, matte.shape)
        ious.append((drawn & matte).sum() / (drawn | matte).sum())
    assert np.median(ious) >= 0.953
    assert np.percentile(ious, 10) >= 0.938
