"""Hostile frames and masks: every broken, huge or strange plate frame or mask file, run through the real CLI.

Each case breaks one file of a small job (roto_core.synthetic shot, plate in the format under test) and runs
``rotofarm run-chunk`` (plates), ``rotofarm eval`` (mask files) or ``roto``/``shapes`` (frame ranges) as a
subprocess. Ending right means: exit 2 with one ``error:`` line naming the file and what is wrong with it (or
the bound that was hit), inside the time bound, and a job folder with no temporaries, no report of the failed
chunk and only complete masks; or, for inputs that are odd but valid, success with the right result.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import OpenEXR
import pytest

from roto_core.maskio import read_mask_exr
from roto_core.sequences import frame_path
from roto_core.synthetic import SyntheticShot
from tests.hostile.chunkjobs import (
    BAD,
    FIRST,
    FRAMES,
    LAST,
    assert_job_consistent,
    job_for,
    patch_exr_box,
    template_shot,
)
from tests.hostile.harness import assert_no_traceback, assert_one_error, run_rotofarm

HUGE = (0, 0, 99_999, 99_999)


@pytest.fixture(scope="module")
def shot(tmp_path_factory: pytest.TempPathFactory) -> SyntheticShot:
    return template_shot(tmp_path_factory.mktemp("template"))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4000, dtype=np.uint8).tobytes())


def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def _exr_magic_only(path: Path) -> None:
    path.write_bytes(b"v/1\x01\x02\x00\x00\x00")  # magic and version, no header: "file has 0 parts"


def _exr_window(name: str) -> Callable[[Path], None]:
    def mutate(path: Path) -> None:
        path.write_bytes(patch_exr_box(path.read_bytes(), name, HUGE))

    return mutate


def _exr_no_colour(path: Path) -> None:
    zeros = np.zeros((64, 96), np.float16)
    OpenEXR.File({"type": OpenEXR.scanlineimage}, {"Z": zeros, "W": zeros}).write(str(path))


def _exr_small(path: Path) -> None:
    rgb = np.full((32, 48), 0.5, np.float16)
    OpenEXR.File({"type": OpenEXR.scanlineimage}, {c: rgb for c in "RGB"}).write(str(path))


def _small_mask(path: Path) -> None:
    OpenEXR.File({"type": OpenEXR.scanlineimage}, {"A": np.ones((32, 48), np.float16)}).write(str(path))


def _png_huge_header(path: Path) -> None:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    iend = b"IEND"
    chunk = lambda body: struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))  # noqa: E731
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(ihdr) + chunk(iend))


def _dpx_huge_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    order = ">" if data[:4] == b"SDPX" else "<"
    data[772:780] = struct.pack(f"{order}II", 100_000, 100_000)
    path.write_bytes(bytes(data))


def _dpx_header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:2048])


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _sparse_5gib(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(5 << 30)


def _missing(path: Path) -> None:
    path.unlink()


# (plate format, how frame BAD is broken, words the error line must hold besides the file name)
PLATE_CASES: dict[str, tuple[str, Callable[[Path], None], tuple[str, ...]]] = {
    "exr-truncated": ("exr", _truncate, ("exr",)),
    "exr-zero-bytes": ("exr", _zero_bytes, ("empty",)),
    "exr-garbage": ("exr", _garbage, ("exr",)),
    "exr-magic-only": ("exr", _exr_magic_only, ("exr",)),
    "exr-display-window-100000sq": ("exr", _exr_window("displayWindow"), ("display window", "bound")),
    "exr-data-window-100000sq": ("exr", _exr_window("dataWindow"), ("data window", "bound")),
    "exr-no-colour-channels": ("exr", _exr_no_colour, ("no R,G,B",)),
    "exr-wrong-size": ("exr", _exr_small, ("48x32", "96x64")),
    "exr-missing-mid-range": ("exr", _missing, ("missing",)),
    "exr-fifo": ("exr", _fifo, ("fifo",)),
    "exr-dev-zero-symlink": ("exr", _dev_zero, ("character device",)),
    "exr-is-a-folder": ("exr", _folder, ("folder",)),
    "exr-sparse-5gib": ("exr", _sparse_5gib, ("5.0 GiB", "bound")),
    "png-truncated": ("png", _truncate, ("png",)),
    "png-garbage": ("png", _garbage, ("corrupt",)),
    "png-header-100000sq": ("png", _png_huge_header, ("10000000000 pixels", "bound")),
    "png-wrong-size": ("png", lambda p: p.write_bytes(_small_png()), ("48x32", "96x64")),
    "jpeg-truncated": ("jpg", _truncate, ("truncated",)),
    "jpeg-garbage": ("jpg", _garbage, ("corrupt",)),
    "tiff-truncated": ("tif", _truncate, ("tif",)),
    "tiff-garbage": ("tif", _garbage, ("corrupt",)),
    "dpx-garbage": ("dpx", _garbage, ("not a dpx",)),
    "dpx-header-100000sq": ("dpx", _dpx_huge_header, ("100000x100000", "bound")),
    "dpx-header-only": ("dpx", _dpx_header_only, ("unreadable",)),
}


def _small_png() -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.full((32, 48, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("case", list(PLATE_CASES))
def test_broken_plate_frame_is_one_error_naming_it(case: str, shot: SyntheticShot, tmp_path: Path) -> None:
    fmt, mutate, words = PLATE_CASES[case]
    manifest, job, plate = job_for(tmp_path, shot, fmt)
    bad = frame_path(plate, BAD)
    mutate(bad)
    ended = run_rotofarm(["run-chunk", str(manifest), "--frames", FRAMES, "--device", "cpu"], cwd=tmp_path, timeout=60)
    line = assert_one_error(ended, contains=bad.name)
    for word in words:
        assert word.lower() in line.lower(), line
    assert_job_consistent(job, reports=0)


MOVIE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "mov-truncated": (_truncate, "movie"),
    "mov-garbage": (_garbage, "movie"),
    "mov-zero-bytes": (_zero_bytes, "empty"),
    "mov-fifo": (_fifo, "fifo"),
}


@pytest.mark.parametrize("case", list(MOVIE_CASES))
def test_broken_movie_plate_is_one_error_naming_it(case: str, shot: SyntheticShot, tmp_path: Path) -> None:
    mutate, word = MOVIE_CASES[case]
    manifest, job, plate = job_for(tmp_path, shot, "mov")
    mutate(Path(plate))
    ended = run_rotofarm(["run-chunk", str(manifest), "--frames", FRAMES, "--device", "cpu"], cwd=tmp_path, timeout=60)
    line = assert_one_error(ended, contains="plate.mov")
    assert word in line.lower(), line
    assert_job_consistent(job, reports=0)


def test_nan_and_infinite_plate_pixels_render_as_black_and_white(shot: SyntheticShot, tmp_path: Path) -> None:
    """A float plate frame with NaN/±inf pixels (a broken render) is valid input: the chunk renders, every mask
    is finite."""
    manifest, job, plate = job_for(tmp_path, shot)
    bad = frame_path(plate, BAD)
    with OpenEXR.File(str(bad), separate_channels=True) as exr:
        planes = {name: np.asarray(ch.pixels, np.float32) for name, ch in exr.channels().items()}
    for plane, value in zip(planes.values(), (np.nan, np.inf, -np.inf), strict=True):
        plane[::3, ::3] = value
    OpenEXR.File({"type": OpenEXR.scanlineimage}, planes).write(str(bad))
    ended = run_rotofarm(["run-chunk", str(manifest), "--frames", FRAMES, "--device", "cpu"], cwd=tmp_path, timeout=60)
    assert ended.code == 0, ended.stderr
    masks = [read_mask_exr(p) for p in sorted(job.masks_dir.glob("*.exr"))]
    assert len(masks) == LAST - FIRST + 1 and all(np.isfinite(m).all() for ms in masks for m in ms.values())


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif", "dpx", "mov"])
def test_every_plate_format_renders(fmt: str, shot: SyntheticShot, tmp_path: Path) -> None:
    """The control for the cases above: the same job with an intact plate of each format succeeds."""
    manifest, job, _ = job_for(tmp_path, shot, fmt)
    ended = run_rotofarm(["run-chunk", str(manifest), "--frames", FRAMES, "--device", "cpu"], cwd=tmp_path, timeout=60)
    assert ended.code == 0, ended.stderr
    assert_no_traceback(ended)
    assert len(list(job.masks_dir.glob("*.exr"))) == LAST - FIRST + 1
    assert_job_consistent(job, reports=1)


HUGE_RANGE = "1-99999999999"


def test_roto_with_a_huge_frame_range_names_the_bound(shot: SyntheticShot, tmp_path: Path) -> None:
    args = ["roto", shot.plate, "--frames", HUGE_RANGE, "--out", str(tmp_path / "out"), "--box", "a@1=1,1,9,9"]
    line = assert_one_error(run_rotofarm(args, cwd=tmp_path, timeout=30), contains="--frames")
    assert "100000 frames" in line and "99999999999 frames" in line, line
    assert not (tmp_path / "out").exists()


def test_shapes_with_a_huge_frame_range_names_the_bound(shot: SyntheticShot, tmp_path: Path) -> None:
    args = ["shapes", shot.gt, "--frames", HUGE_RANGE, "--out", str(tmp_path / "out")]
    line = assert_one_error(run_rotofarm(args, cwd=tmp_path, timeout=30), contains="bound")
    assert "100000 frames" in line, line


def _pred_copy(shot: SyntheticShot, tmp_path: Path) -> str:
    pred = tmp_path / "pred"
    shutil.copytree(Path(shot.gt).parent, pred)
    return str(pred / Path(shot.gt).name)


def _uint_masks(path: Path) -> None:
    masks = read_mask_exr(path)
    channels = {(k if k == "A" else f"{k}.A"): (v >= 0.5).astype(np.uint32) for k, v in masks.items()}
    path.unlink()
    OpenEXR.File({"type": OpenEXR.scanlineimage}, channels).write(str(path))


MASK_CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "mask-truncated": (_truncate, ("exr",)),
    "mask-garbage": (_garbage, ("exr",)),
    "mask-zero-bytes": (_zero_bytes, ("empty",)),
    "mask-magic-only": (_exr_magic_only, ("exr",)),
    "mask-fifo": (_fifo, ("fifo",)),
    "mask-dev-zero-symlink": (_dev_zero, ("character device",)),
    "mask-data-window-100000sq": (_exr_window("dataWindow"), ("bound",)),
    "mask-wrong-size": (_small_mask, ("(48, 32)", "(96, 64)")),
}


@pytest.mark.parametrize("case", list(MASK_CASES))
def test_broken_mask_is_one_error_naming_it(case: str, shot: SyntheticShot, tmp_path: Path) -> None:
    mutate, words = MASK_CASES[case]
    pred = _pred_copy(shot, tmp_path)
    bad = frame_path(pred, BAD)
    mutate(bad)
    ended = run_rotofarm(["eval", pred, shot.gt, "--frames", FRAMES, "--json"], cwd=tmp_path, timeout=60)
    line = assert_one_error(ended, contains=bad.name)
    for word in words:
        assert word.lower() in line.lower(), line


def test_masks_of_another_dtype_score_as_the_same_masks(shot: SyntheticShot, tmp_path: Path) -> None:
    """Unsigned-int mask channels (another tool's 0/1 masks) are masks, not an error: they score J&F = 1."""
    pred = _pred_copy(shot, tmp_path)
    for frame in range(FIRST, LAST + 1):
        _uint_masks(frame_path(pred, frame))
    ended = run_rotofarm(["eval", pred, shot.gt, "--frames", FRAMES, "--json"], cwd=tmp_path, timeout=60)
    assert ended.code == 0, ended.stderr
    assert json.loads(ended.stdout)["mean"]["J&F"] == pytest.approx(1.0)
