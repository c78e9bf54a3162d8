"""J&F conventions on masks whose scores can be worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.maskio import write_mask_exr
from roto_core.metrics import boundary_f, evaluate_sequences, jaccard
from roto_core.sequences import sequence_frames
from tests.roto.conftest import rotofarm


def _square(x: int, y: int, size: int = 40, shape: tuple[int, int] = (100, 100)) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[y : y + size, x : x + size] = True
    return m


def test_jaccard_by_hand_and_empty_convention() -> None:
    a, b = _square(20, 20), _square(20, 22)
    assert jaccard(a, b) == pytest.approx(38 * 40 / (42 * 40))
    empty = np.zeros((100, 100), bool)
    assert jaccard(empty, empty) == 1.0
    assert jaccard(a, empty) == 0.0


def test_boundary_tolerance_decides() -> None:
    a, b = _square(20, 20), _square(20, 23)  # edges 3 px apart
    assert boundary_f(a, b, tolerance=3) == 1.0
    assert boundary_f(a, b, tolerance=2) < 0.7  # only the side edges match at 2 px
    # DAVIS: 0.8 % of the diagonal, rounded up: 2 px at 100×100, 12 px at 1000×1000.
    assert boundary_f(a, b) == boundary_f(a, b, tolerance=2)
    big_a, big_b = _square(200, 200, 400, (1000, 1000)), _square(200, 210, 400, (1000, 1000))
    assert boundary_f(big_a, big_b) == 1.0
    assert boundary_f(big_a, big_b, tolerance=2) < 0.6
    empty = np.zeros((100, 100), bool)
    assert boundary_f(empty, empty) == 1.0
    assert boundary_f(a, empty) == 0.0 and boundary_f(empty, a) == 0.0


def test_soft_masks_are_binarised_at_half() -> None:
    a = _square(20, 20).astype(np.float32) * 0.6
    assert jaccard(a, _square(20, 20)) == 1.0
    assert jaccard(a * 0.5, _square(20, 20)) == 0.0


def test_evaluate_sequences_per_object_and_missing_prediction(tmp_path: Path) -> None:
    for f in (1, 2):
        write_mask_exr(tmp_path / f"gt.{f:04d}.exr", {"hero": _square(20, 20), "prop": _square(60, 60, 20)})
        write_mask_exr(tmp_path / f"pr.{f:04d}.exr", {"hero": _square(20, 22)})
    assert sequence_frames(tmp_path / "gt.####.exr") == [1, 2]
    table = evaluate_sequences(tmp_path / "pr.####.exr", tmp_path / "gt.####.exr").table()
    assert table["hero"]["J"] == pytest.approx(38 / 42)
    assert table["prop"]["J"] == 0.0 and table["prop"]["F"] == 0.0
    assert table["mean"]["J"] == pytest.approx((38 / 42) / 2)
    assert table["mean"]["frames"] == 2


def test_eval_reads_png_tiff_and_jpeg_on_both_sides(tmp_path: Path) -> None:
    gt_mask = np.zeros((40, 60), np.uint8)
    gt_mask[10:30, 10:40] = 255
    pred_mask = np.zeros((40, 60), np.uint16)
    pred_mask[10:30, 15:40] = 65535  # 5 of 30 columns missed: J = 25/30
    for f in (1, 2):
        cv2.imwrite(str(tmp_path / f"gt.{f:03d}.png"), gt_mask)
        cv2.imwrite(str(tmp_path / f"pred.{f:03d}.tif"), pred_mask)
        cv2.imwrite(str(tmp_path / f"gt.{f:03d}.jpg"), gt_mask, [cv2.IMWRITE_JPEG_QUALITY, 100])
    table = evaluate_sequences(tmp_path / "pred.###.tif", tmp_path / "gt.###.png").table()
    assert table["mean"]["J"] == pytest.approx(25 / 30) and table["mean"]["frames"] == 2
    assert evaluate_sequences(tmp_path / "gt.###.jpg", tmp_path / "gt.###.png").table()["mean"]["J"] > 0.97
    proc = rotofarm("eval", str(tmp_path / "pred.###.tif"), str(tmp_path / "gt.###.png"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["mean"]["J"] == pytest.approx(25 / 30)
