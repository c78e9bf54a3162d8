"""Mask keys and several keys per object: reading any mask image, checking it, parsing ``--mask``, re-keying."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.backends.mask_prompt import check_mask_prompt, mask_at, read_mask_prompt
from roto_core.chunks import load_models, run_chunk
from roto_core.contracts import Prompt
from roto_core.errors import InputError
from roto_core.jobfolder import JobFolder, plate_padding
from roto_core.maskio import read_mask_exr, write_mask_exr
from roto_core.metrics import jaccard
from roto_core.sequences import frame_path
from submitters.cli.commands.roto import build_prompts
from tests.roto.conftest import make_job

SQUARE = (slice(10, 30), slice(20, 44))


def _expected(shape: tuple[int, int] = (48, 64)) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[SQUARE] = True
    return m


@pytest.mark.parametrize(
    ("name", "dtype", "inside"),
    [
        ("label.png", np.uint8, 1),  # label images store 1, not 255: non-zero is inside
        ("mask.png", np.uint8, 255),
        ("mask16.png", np.uint16, 65535),
        ("mask16.tif", np.uint16, 300),
        ("maskf.tif", np.float32, 1.0),
    ],
)
def test_any_bit_depth_non_zero_inside(tmp_path: Path, name: str, dtype: type, inside: float) -> None:
    img = np.zeros((48, 64), dtype)
    img[SQUARE] = inside
    cv2.imwrite(str(tmp_path / name), img)
    np.testing.assert_array_equal(read_mask_prompt(tmp_path / name), _expected())


def test_jpeg_and_rgb_and_exr_object_channel(tmp_path: Path) -> None:
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[SQUARE] = (255, 255, 255)
    cv2.imwrite(str(tmp_path / "m.jpg"), rgb, [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert jaccard(read_mask_prompt(tmp_path / "m.jpg"), _expected()) > 0.95  # JPEG ringing may add a pixel
    other = np.zeros((48, 64), np.float32)
    exr = write_mask_exr(tmp_path / "m.exr", {"hero": _expected().astype(np.float32), "other": other})
    np.testing.assert_array_equal(read_mask_prompt(exr, "hero"), _expected())
    assert not read_mask_prompt(exr, "other").any()


def test_mask_is_scaled_to_the_working_frame(tmp_path: Path) -> None:
    big = np.zeros((96, 128), np.uint8)
    big[20:60, 40:88] = 255
    cv2.imwrite(str(tmp_path / "big.png"), big)
    small = mask_at(Prompt(object="hero", frame=1, mask=str(tmp_path / "big.png")), (48, 64))
    np.testing.assert_array_equal(small.astype(bool), _expected())


def test_check_names_size_and_emptiness(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "empty.png"), np.zeros((48, 64), np.uint8))
    empty = Prompt(object="hero", frame=1, mask=str(tmp_path / "empty.png"))
    with pytest.raises(InputError, match="empty") as err:
        check_mask_prompt(empty, (64, 48), "--mask hero@1")
    assert err.value.where == "--mask hero@1"
    check_mask_prompt(empty, (64, 48), "manifest", allow_empty=True)  # "the object has left" is a valid key
    with pytest.raises(InputError, match="mask is 64x48, the plate is 128x96"):
        check_mask_prompt(empty, (128, 96), "--mask hero@1")


def test_several_keys_per_object_of_every_kind() -> None:
    prompts = build_prompts(
        ["hero@1=1,2,30,40", "hero@20=5,5,25,25"], ["hero@10=3,4", "hero@10=8,9,0"], [], ["hero@30=/m/k.png"]
    )
    kinds = sorted((p.frame, p.kind) for p in prompts)
    assert kinds == [(1, "box"), (10, "points"), (20, "box"), (30, "mask")]
    assert next(p for p in prompts if p.kind == "points").points == [(3.0, 4.0, 1), (8.0, 9.0, 0)]


def test_masks_keep_the_plate_padding(tmp_path: Path, small_shot) -> None:
    assert plate_padding("/x/clip.#####.jpg") == 5 and plate_padding("a.%06d.exr") == 6
    assert plate_padding("a.mov") == 4 and plate_padding("a.%d.png") == 4
    manifest, job, _ = make_job(tmp_path, small_shot)
    assert job.mask_path(1001).name == "synth_mask.1001.exr"  # the synthetic plate is ####
    five = manifest.shot.model_copy(update={"plate": manifest.shot.plate.replace("####", "#####")})
    manifest.model_copy(update={"shot": five}).save(job.manifest)
    fresh = JobFolder(job.root, job.shot)
    assert fresh.mask_path(7).name == "synth_mask.00007.exr" and fresh.mask_pattern.name == "synth_mask.#####.exr"


def test_a_later_mask_key_replaces_the_tracked_mask_and_resets_confidence(tmp_path: Path, small_shot) -> None:
    gt = read_mask_exr(frame_path(small_shot.gt, 1006))["obj2"]
    key = tmp_path / "obj2_1006.png"
    cv2.imwrite(str(key), (gt >= 0.5).astype(np.uint8) * 255)
    shifted = np.roll(gt >= 0.5, 12, axis=1)  # a wrong first key: the tracker follows it
    cv2.imwrite(str(tmp_path / "wrong.png"), shifted.astype(np.uint8) * 255)
    prompts = [
        Prompt(object="obj2", frame=1001, mask=str(tmp_path / "wrong.png")),
        Prompt(object="obj2", frame=1006, mask=str(key)),
    ]
    manifest, job, _ = make_job(tmp_path, small_shot)
    manifest = manifest.model_copy(update={"shot": small_shot.to_shot().model_copy(update={"prompts": prompts})})
    result = run_chunk(manifest, job, 1001, 1010, load_models(manifest.pipeline, "cpu"))
    assert result.seeds["obj2"] == "mask prompt on frame 1006"
    assert result.confidence["obj2"][1006] == 1.0
    truth = read_mask_exr(frame_path(small_shot.gt, 1008))["obj2"]
    assert jaccard(read_mask_exr(job.mask_path(1008))["obj2"], truth) > 0.9
    assert set(result.confidence["obj2"]) == set(range(1001, 1011))
