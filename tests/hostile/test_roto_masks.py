"""Hostile ``--mask`` keys on ``rotofarm roto``: each bad key is one ``error:`` line and exit 2, before any work.

The plate is three small JPEG frames; every case writes at most the output folder it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.maskio import write_mask_exr
from tests.hostile.harness import assert_one_error, run_rotofarm, snapshot, written_outside

W, H = 64, 48


def _plate(root: Path) -> str:
    plates = root / "plate"
    plates.mkdir(parents=True)
    for f in range(1, 4):
        img = np.full((H, W, 3), 40 * f, np.uint8)
        img[10:30, 20:40] = (0, 0, 220)
        cv2.imwrite(str(plates / f"clip.{f:05d}.jpg"), img)
    return str(plates / "clip.#####.jpg")


def _png(root: Path, shape: tuple[int, int], inside: bool = True) -> str:
    m = np.zeros(shape, np.uint8)
    if inside:
        m[10:30, 20:40] = 255
    cv2.imwrite(str(root / "key.png"), m)
    return str(root / "key.png")


def _garbage(root: Path, name: str) -> str:
    (root / name).write_bytes(b"\x89PNG\r\n\x1a\n this is not a png at all")
    return str(root / name)


def _truncated_exr(root: Path) -> str:
    path = write_mask_exr(root / "key.exr", {"hero": np.ones((H, W), np.float32)})
    path.write_bytes(path.read_bytes()[:60])
    return str(path)


# Each case: the --mask value (built in a tmp folder) and what the one error line must say.
CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "missing file": (lambda r: f"hero@1={r / 'nope.png'}", "not found"),
    "a folder, not a file": (lambda r: f"hero@1={r}", "not found"),
    "wrong size": (lambda r: f"hero@1={_png(r, (H * 2, W * 2))}", "the plate is 64x48"),
    "transposed size": (lambda r: f"hero@1={_png(r, (W, H))}", "the plate is 64x48"),
    "empty mask": (lambda r: f"hero@1={_png(r, (H, W), inside=False)}", "empty"),
    "not an image": (lambda r: f"hero@1={_garbage(r, 'key.png')}", "cannot read"),
    "truncated exr": (lambda r: f"hero@1={_truncated_exr(r)}", "cannot read"),
    "no path": (lambda r: "hero@1=", "no mask file"),
    "no frame": (lambda r: f"hero={_png(r, (H, W))}", "OBJECT@FRAME=VALUE"),
    "frame not a number": (lambda r: f"hero@one={_png(r, (H, W))}", "OBJECT@FRAME=VALUE"),
    "frame outside the range": (lambda r: f"hero@9={_png(r, (H, W))}", "outside 1-3"),
    "bad object name": (lambda r: f"he ro@1={_png(r, (H, W))}", "object name"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_mask_key_is_one_error_line(tmp_path: Path, case: str) -> None:
    build, expected = CASES[case]
    plate = _plate(tmp_path)
    value = build(tmp_path)
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    ended = run_rotofarm(["roto", plate, "--frames", "1-3", "--out", str(out), "--mask", value], cwd=tmp_path)
    assert_one_error(ended, contains=expected)
    assert not (out / "masks").exists(), "a refused key must stop the run before any mask is written"
    assert written_outside(tmp_path, before, [out, tmp_path / "home"]) == []
