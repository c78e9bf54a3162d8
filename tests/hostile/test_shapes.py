"""Hostile input to ``rotofarm shapes``: every case either succeeds with its four files or ends with one
``error:`` line and exit 2, within the time bound, writing nothing outside the output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.hostile.harness import assert_no_traceback, assert_one_error, run_rotofarm, snapshot, written_outside

SIZE = (96, 128)
OUTPUTS = ["hero.fxs", "hero.json", "hero.nk", "qa.json"]


def _disc(frame: int, radius: int = 25) -> np.ndarray:
    img = np.zeros(SIZE, np.uint8)
    cv2.circle(img, (50 + 2 * frame, 48), radius, 255, -1)
    return img


def _sequence(folder: Path, frames: range = range(1, 6), make: Callable[[int], np.ndarray] = _disc) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        cv2.imwrite(str(folder / f"m.{f:04d}.png"), make(f))
    return str(folder / "m.####.png")


def _args(masks: str, root: Path, frames: str = "1-5", out: Path | None = None) -> list[str]:
    """``rotofarm shapes`` arguments for ``masks``: the frames, an output folder in ``root``, the object name."""
    return [masks, "--frames", frames, "--out", str(out or root / "out"), "--name", "hero"]


def _plain(root: Path) -> list[str]:
    return _args(_sequence(root / "m"), root)


def _with(**change: str) -> Callable[[Path], list[str]]:
    def build(root: Path) -> list[str]:
        args = _plain(root)
        for key, value in change.items():
            option = "--" + key
            if option in args:
                args[args.index(option) + 1] = value.format(root=root)
            else:
                args += [option, value.format(root=root)]
        return args

    return build


def _out_is_a_file(root: Path) -> list[str]:
    args = _plain(root)
    (root / "out").write_text("not a folder")
    return args


def _garbage_frame(root: Path) -> list[str]:
    args = _plain(root)
    (root / "m" / "m.0003.png").write_bytes(b"\x89PNG this is not a picture")
    return args


def _odd_size_frame(root: Path) -> list[str]:
    args = _plain(root)
    cv2.imwrite(str(root / "m" / "m.0004.png"), np.zeros((10, 10), np.uint8))
    return args


def _missing_frame(root: Path) -> list[str]:
    args = _plain(root)
    (root / "m" / "m.0002.png").unlink()
    return args


def _frame_is_a_folder(root: Path) -> list[str]:
    args = _plain(root)
    (root / "m" / "m.0005.png").unlink()
    (root / "m" / "m.0005.png").mkdir()
    return args


def _all_empty(root: Path) -> list[str]:
    _sequence(root / "m", make=lambda f: np.zeros(SIZE, np.uint8))
    return _args(f"{root}/m/m.####.png", root)


def _specks_only(root: Path) -> list[str]:
    def specks(f: int) -> np.ndarray:
        img = np.zeros(SIZE, np.uint8)
        img[10::20, 10::20] = 255
        return img

    _sequence(root / "m", make=specks)
    return _args(f"{root}/m/m.####.png", root)


ERRORS: dict[str, tuple[Callable[[Path], list[str]], str | None]] = {
    "huge-frame-range": (_with(frames="1-999999999"), "bound"),
    "range-backwards": (_with(frames="5-1"), "--frames"),
    "range-not-numbers": (_with(frames="one-five"), "--frames"),
    "range-outside-files": (_with(frames="100-200"), "no mask files"),
    "pattern-without-token": (_with(), None),
    "masks-folder-absent": (lambda r: ["/nonexistent/m.####.png", "--frames", "1-5", "--out", str(r / "o")], None),
    "out-is-a-file": (_out_is_a_file, None),
    "garbage-frame": (_garbage_frame, "decode"),
    "frame-of-another-size": (_odd_size_frame, "10x10"),
    "missing-frame": (_missing_frame, "missing"),
    "frame-is-a-folder": (_frame_is_a_folder, None),
    "all-masks-empty": (_all_empty, "no mask component"),
    "only-specks-below-min-area": (_specks_only, "no mask component"),
    "name-with-path": (_with(name="../escape"), "--name"),
    "tolerance-zero": (_with(tolerance="0"), "--tolerance"),
    "tolerance-nan": (_with(tolerance="nan"), "--tolerance"),
    "tolerance-huge": (_with(tolerance="1e9"), "--tolerance"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_hostile_shapes_input_is_one_error_line(tmp_path: Path, case: str) -> None:
    build, contains = ERRORS[case]
    args = build(tmp_path)
    if case == "pattern-without-token":
        args[0] = str(tmp_path / "m" / "m.0001.png")
    before = snapshot(tmp_path)
    ended = run_rotofarm(["shapes", *args], cwd=tmp_path)
    assert_one_error(ended, contains=contains)
    assert written_outside(tmp_path, before, [tmp_path / "home"]) == []


def _single_frame(root: Path) -> list[str]:
    return _args(_sequence(root / "m", range(7, 8)), root, "7-7")


def _flicker(root: Path) -> list[str]:
    masks = _sequence(root / "m", range(1, 9), lambda f: _disc(f, 25 if f % 4 else 2))
    return _args(masks, root, "1-8", root / "out" / "deep" / "er")


def _colour_noise(root: Path) -> list[str]:
    rng = np.random.default_rng(3)
    return _args(
        _sequence(root / "m", make=lambda f: cv2.merge([_disc(f), rng.integers(0, 2, SIZE, np.uint8), _disc(f)])), root
    )


def _touching_every_border(root: Path) -> list[str]:
    return _args(_sequence(root / "m", make=lambda f: _disc(f, 90)), root)


SUCCESSES: dict[str, Callable[[Path], list[str]]] = {
    "single-frame": _single_frame,
    "flickering-object": _flicker,
    "colour-png-with-noise": _colour_noise,
    "object-larger-than-frame": _touching_every_border,
}


@pytest.mark.parametrize("case", sorted(SUCCESSES))
def test_odd_but_valid_masks_give_all_outputs(tmp_path: Path, case: str) -> None:
    args = SUCCESSES[case](tmp_path)
    out = Path(args[args.index("--out") + 1])
    before = snapshot(tmp_path)
    ended = run_rotofarm(["shapes", *args], cwd=tmp_path)
    assert_no_traceback(ended)
    assert ended.code == 0, ended.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert "verdict " in ended.stdout
    assert written_outside(tmp_path, before, [out, tmp_path / "home"]) == []
