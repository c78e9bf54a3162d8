"""``rotofarm shapes`` and ``rotofarm finalize`` on real files, including every kind of bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.contracts import JobManifest, ShapeSettings, TrackerTarget
from roto_core.exporters import read_fxs, read_nk, read_shapes_json
from roto_core.jobfolder import JobFolder
from roto_core.maskio import write_mask_exr
from roto_core.sequences import frame_path
from roto_core.shapes import synthetic as syn
from roto_core.synthetic import make_shot
from submitters.cli.app import main

SIZE = (240, 320)


def _hero(f: int) -> np.ndarray:
    return syn.SyntheticObject(syn.ellipse(60, 40), lambda k: (110 + 3 * (k - 1), 120, 0.3, 1.0)).mask(f, SIZE)


def _write_pngs(folder: Path, frames: range, encode=lambda m: m.astype(np.uint8) * 255) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for f in frames:
        cv2.imwrite(str(folder / f"m.{f:04d}.png"), encode(_hero(f)))
    return str(folder / "m.####.png")


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_png_sequence_to_all_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pattern = _write_pngs(tmp_path / "m", range(1, 21))
    out = tmp_path / "out"
    assert main(["shapes", pattern, "--frames", "1-20", "--out", str(out), "--name", "hero", "--tolerance", "1"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["hero.fxs", "hero.json", "hero.nk", "qa.json"]
    doc = read_shapes_json(out / "hero.json")
    assert doc.objects == ["hero"] and doc.tolerance_px == 1.0
    assert (doc.width, doc.height, doc.first_frame, doc.last_frame) == (320, 240, 1, 20)
    nk, mattes = read_nk(out / "hero.nk")
    assert mattes == str(Path(pattern).absolute()) and len(nk.shapes) == 1
    assert len(read_fxs(out / "hero.fxs").shapes) == 1
    qa = json.loads((out / "qa.json").read_text())
    assert qa["summary"]["shape_iou_min"] >= 0.95 and qa["objects"]["hero"]["frames_measured"] == 20
    printed = capsys.readouterr().out.splitlines()
    progress = [int(line[10:-1]) for line in printed if line.startswith("Progress: ")]
    assert progress == sorted(progress) and progress[-1] == 100, "farm logs get Progress: NN% lines"
    assert any("IoU median" in line for line in printed)


def test_printf_pattern_alpha_png_and_16_bit_tiff(tmp_path: Path) -> None:
    def rgba(m: np.ndarray) -> np.ndarray:
        img = np.full((*m.shape, 4), 255, np.uint8)
        img[..., 3] = m * 255
        return img

    pattern = _write_pngs(tmp_path / "a", range(1, 6), rgba).replace("####", "%04d")
    assert main(["shapes", pattern, "--frames", "1-5", "--out", str(tmp_path / "o1")]) == 0
    tif = tmp_path / "t"
    tif.mkdir()
    for f in range(1, 6):
        cv2.imwrite(str(tif / f"m.{f:04d}.tif"), _hero(f).astype(np.uint16) * 40000)
    assert main(["shapes", str(tif / "m.####.tif"), "--frames", "1-5", "--out", str(tmp_path / "o2")]) == 0
    a = read_shapes_json(tmp_path / "o1" / "roto.json")
    b = read_shapes_json(tmp_path / "o2" / "roto.json")
    np.testing.assert_allclose(a.shapes[0].keys, b.shapes[0].keys, atol=1e-6)


def test_exr_masks_give_one_object_per_channel(tmp_path: Path) -> None:
    other = syn.SyntheticObject(syn.rounded_box(40, 30, 8), lambda k: (240, 160, 0.0, 1.0))
    for f in range(1, 9):
        write_mask_exr(tmp_path / "m" / f"m.{f:04d}.exr", {"hero": _hero(f), "prop": other.mask(f, SIZE)})
    assert main(["shapes", str(tmp_path / "m" / "m.####.exr"), "--frames", "1-8", "--out", str(tmp_path / "o")]) == 0
    doc = read_shapes_json(tmp_path / "o" / "roto.json")
    assert doc.objects == ["hero", "prop"]
    qa = json.loads((tmp_path / "o" / "qa.json").read_text())
    assert set(qa["objects"]) == {"hero", "prop"}


def _bad_size(folder: Path) -> None:
    cv2.imwrite(str(folder / "m.0003.png"), np.zeros((100, 100), np.uint8))


def _garbage(folder: Path) -> None:
    (folder / "m.0003.png").write_bytes(b"\x89PNG not really")


def _missing(folder: Path) -> None:
    (folder / "m.0003.png").unlink()


@pytest.mark.parametrize(
    ("spoil", "needle"),
    [(_bad_size, "m.0003.png"), (_garbage, "m.0003.png"), (_missing, "m.0003.png")],
    ids=["mismatched-size", "unreadable", "missing-frame"],
)
def test_bad_frames_are_one_error_line_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil, needle: str
) -> None:
    pattern = _write_pngs(tmp_path / "m", range(1, 6))
    spoil(tmp_path / "m")
    out = tmp_path / "out"
    assert main(["shapes", pattern, "--frames", "1-5", "--out", str(out)]) == 2
    assert needle in _error_line(capsys)
    assert not out.exists() or not any(out.iterdir())


def test_empty_sequence_and_bad_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir()
    pattern = str(tmp_path / "m" / "m.####.png")
    assert main(["shapes", pattern, "--frames", "1-5", "--out", str(tmp_path / "o")]) == 2
    assert "m.####.png" in _error_line(capsys) and not (tmp_path / "o").exists()
    assert main(["shapes", pattern, "--frames", "9-5", "--out", str(tmp_path / "o")]) == 2
    assert "--frames" in _error_line(capsys)


def test_all_empty_masks_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pattern = _write_pngs(tmp_path / "m", range(1, 4), lambda m: np.zeros(m.shape, np.uint8))
    assert main(["shapes", pattern, "--frames", "1-3", "--out", str(tmp_path / "o")]) == 2
    assert "no mask component" in _error_line(capsys)


def _job(tmp_path: Path) -> tuple[Path, JobFolder]:
    shot = make_shot(tmp_path / "synth", frames=12, width=256, height=144, objects=2, seed=3, name="sh010")
    job = JobFolder.for_job(tmp_path / "jobs", "proj", "sh010", "j001")
    for f in shot.frames:
        job.masks_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(frame_path(shot.gt, f), job.mask_path(f))
    manifest = JobManifest(
        job_id="j001",
        shot=shot.to_shot(),
        output_dir=str(job.root),
        tracker=TrackerTarget(project="proj", folder_path="/synthetic/sh010"),
    )
    manifest.save(job.manifest)
    return job.manifest, job


def test_finalize_fills_the_job_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, job = _job(tmp_path)
    assert main(["finalize", str(manifest)]) == 0
    for path in (job.shapes_json, job.nk, job.fxs, job.qa_report, job.thumbnail):
        assert path.is_file(), path
    doc = read_shapes_json(job.shapes_json)
    assert set(doc.objects) == {"obj1", "obj2"}
    _, mattes = read_nk(job.nk)
    assert mattes == str(job.mask_pattern)
    qa = json.loads(job.qa_report.read_text())
    assert qa["job_id"] == "j001" and qa["summary"]["shape_iou_median"] >= 0.9
    thumb = cv2.imread(str(job.thumbnail))
    assert thumb is not None and max(thumb.shape[:2]) == 256
    assert job.thumbnail.read_bytes()[:2] == b"\xff\xd8"


def test_shapes_on_a_jobs_masks_take_that_jobs_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Masks written by a rotofarm job (``rotofarm roto``, the farm) are traced at the tolerance its manifest
    records, scaled to the masks' resolution as finalize does; ``--tolerance`` still wins, and masks elsewhere get
    the 1.5 px default."""
    manifest_path, job = _job(tmp_path)
    manifest = JobManifest.load(manifest_path)
    manifest.pipeline = manifest.pipeline.model_copy(update={"shapes": ShapeSettings(tolerance_px=2.5)})
    manifest.save(manifest_path)
    args = ["shapes", str(job.mask_pattern), "--frames", "1001-1012"]
    assert main([*args, "--out", str(tmp_path / "a"), "--name", "a"]) == 0
    assert read_shapes_json(tmp_path / "a" / "a.json").tolerance_px == pytest.approx(2.5)
    assert f"({manifest_path}): tolerance 2.5 px" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "b"), "--name", "b", "--tolerance", "1"]) == 0
    assert read_shapes_json(tmp_path / "b" / "b.json").tolerance_px == pytest.approx(1.0)
    manifest.shot = manifest.shot.model_copy(update={"width": 2 * manifest.shot.width})
    manifest.save(manifest_path)
    assert main([*args, "--out", str(tmp_path / "half"), "--name", "h"]) == 0
    # Masks at half the plate's width: the plate-resolution tolerance halves, as finalize does it.
    assert read_shapes_json(tmp_path / "half" / "h.json").tolerance_px == pytest.approx(1.25)
    # On a plate larger than the models' max_resolution (1024) the runner upscales their masks, jitter and all:
    # the tolerance grows with it (4096 / 1024), then scales to the masks' width as before.
    manifest.shot = manifest.shot.model_copy(update={"width": 4096, "height": 2304})
    manifest.save(manifest_path)
    assert main([*args, "--out", str(tmp_path / "4k"), "--name", "k"]) == 0
    assert read_shapes_json(tmp_path / "4k" / "k.json").tolerance_px == pytest.approx(2.5 * 4 * 256 / 4096)
    elsewhere = tmp_path / "copy" / "masks"
    shutil.copytree(job.masks_dir, elsewhere)
    copied = str(elsewhere / job.mask_pattern.name)
    assert main(["shapes", copied, "--frames", "1001-1012", "--out", str(tmp_path / "c"), "--name", "c"]) == 0
    assert read_shapes_json(tmp_path / "c" / "c.json").tolerance_px == pytest.approx(1.5)


def test_finalize_with_a_missing_mask_names_it_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, job = _job(tmp_path)
    job.mask_path(1005).unlink()
    assert main(["finalize", str(manifest)]) == 2
    assert "sh010_mask.1005.exr" in _error_line(capsys)
    assert not job.shapes_json.exists() and not job.nk.exists() and not job.qa_report.exists()


def test_finalize_scales_exports_to_the_plate_when_masks_are_smaller(tmp_path: Path) -> None:
    manifest_path, job = _job(tmp_path)
    manifest = JobManifest.load(manifest_path)
    manifest.shot = manifest.shot.model_copy(update={"width": 512, "height": 288})
    manifest.save(manifest_path)
    assert main(["finalize", str(manifest_path)]) == 0
    nk, _ = read_nk(job.nk)
    doc = read_shapes_json(job.shapes_json)
    assert (nk.width, nk.height) == (doc.width, doc.height) == (512, 288)
    qa = json.loads(job.qa_report.read_text())
    assert qa["exports_scaled_to_plate"] == [512, 288] and (qa["width"], qa["height"]) == (256, 144)
    assert doc.tolerance_px == pytest.approx(1.5)


def test_exr_frames_without_objects_add_no_object(tmp_path: Path) -> None:
    """The chunk runner writes a lone all-zero A where nothing was found; that is not an object of its own."""
    for f in range(1, 7):
        masks = {"hero": _hero(f)} if f <= 4 else {}
        write_mask_exr(tmp_path / "m" / f"m.{f:04d}.exr", masks, shape=SIZE)
    assert main(["shapes", str(tmp_path / "m" / "m.####.exr"), "--frames", "1-6", "--out", str(tmp_path / "o")]) == 0
    doc = read_shapes_json(tmp_path / "o" / "roto.json")
    assert doc.objects == ["hero"] and doc.shapes[0].last_frame == 4
    qa = json.loads((tmp_path / "o" / "qa.json").read_text())
    assert set(qa["objects"]) == {"hero"} and qa["objects"]["hero"]["frames_measured"] == 4


def test_verdict_is_printed_and_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pattern = _write_pngs(tmp_path / "m", range(1, 11))
    # Frame 6 loses most of the object: the verdict lists it and asks for review.
    bad = cv2.imread(str(frame_path(pattern, 6)), cv2.IMREAD_UNCHANGED)
    bad[:, 150:] = 0
    cv2.imwrite(str(frame_path(pattern, 6)), bad)
    out = tmp_path / "out"
    assert main(["shapes", pattern, "--frames", "1-10", "--out", str(out), "--name", "hero"]) == 0
    qa = json.loads((out / "qa.json").read_text())
    verdict = qa["verdict"]
    assert verdict["status"] in ("pass", "review") and verdict["line"].startswith(verdict["status"].upper())
    printed = capsys.readouterr().out
    assert f"verdict {verdict['line']}" in printed
    for obj, frames in verdict["frames_below"].items():
        assert all(qa["objects"][obj]["iou_by_frame"][str(f)] < 0.90 for f in frames)
        assert f"frames below threshold ({obj})" in printed


def test_verdict_asks_for_review_when_segmentation_flags_frames() -> None:
    from roto_core.shapes.qa import verdict

    summary = {
        "shape_iou_median": 0.99,
        "points_per_shape_max": 12,
        "keys_per_100_frames": 20.0,
        "frames_with_shape_but_no_object": 0,
        "shapes": 1,
        "iou_by_frame": {"1": 0.99, "2": 0.5},
    }
    qa = {"summary": summary, "objects": {"hero": summary}}
    result = verdict(qa, 24)
    assert result["status"] == "review" and result["frames_below"] == {"hero": [2]}
    summary["iou_by_frame"] = {"1": 0.99, "2": 0.98}
    assert verdict(qa, 24)["status"] == "pass"
    qa["segmentation"] = {"rekey_frames": {"hero": [7]}, "confidence_min": {"hero": 0.2}}
    flagged = verdict(qa, 24)
    assert flagged["status"] == "review" and "re-key" in flagged["line"]


def _passing_summary() -> dict:
    """A QA summary that meets every target of the verdict."""
    return {
        "shape_iou_median": 0.99,
        "edge_within_2px": 0.97,
        "points_per_shape_max": 12,
        "keys_per_100_frames": 20.0,
        "keys_per_100_frames_worst_shape": 30.0,
        "boil_px_rms": 0.1,
        "boil_rigid_px_rms": 0.1,
        "frames_with_shape_but_no_object": 0,
        "shapes": 2,
        "iou_by_frame": {"1": 0.99},
    }


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("boil_rigid_px_rms", 0.8, "boil on rigid parts 0.80 px"),
        ("edge_within_2px", 0.85, "85% of the matte edge"),
        ("keys_per_100_frames_worst_shape", 75.0, "75 keys/100 frames on a shape"),
    ],
)
def test_verdict_asks_for_review_on_boil_edge_and_the_worst_shapes_keys(field: str, value: float, words: str) -> None:
    from roto_core.shapes.qa import verdict

    summary = _passing_summary()
    qa = {"summary": summary, "objects": {"hero": summary}}
    assert verdict(qa, 24)["status"] == "pass"
    summary[field] = value
    result = verdict(qa, 24)
    assert result["status"] == "review" and words in result["line"], result["line"]


def test_verdict_reads_the_boil_on_rigid_parts() -> None:
    """Points following a part that changes shape move against their neighbours (boil_px_rms, all points): the
    verdict's boil is the one on the parts the matte carries rigidly; a qa.json without it is read as before."""
    from roto_core.shapes.qa import verdict

    summary = {**_passing_summary(), "boil_px_rms": 1.5, "boil_rigid_px_rms": 0.3}
    qa = {"summary": summary, "objects": {"dog": summary}}
    assert verdict(qa, 24)["status"] == "pass"
    del summary["boil_rigid_px_rms"]
    result = verdict(qa, 24)
    assert result["status"] == "review" and "dog: boil 1.50 px > 0.5" in result["line"]


def test_verdict_names_fast_motion_beside_the_keys() -> None:
    """Where the object accelerates too fast for sparse keys (qa.fast_motion_share), the keys problem says so."""
    from roto_core.shapes.qa import verdict

    summary = {**_passing_summary(), "keys_per_100_frames_worst_shape": 90.0, "fast_motion_share": 0.8}
    qa = {"summary": summary, "objects": {"dog": summary}}
    line = verdict(qa, 24)["line"]
    assert "90 keys/100 frames on a shape > 50 (fast motion: 80% of frames need a key" in line
    summary["fast_motion_share"] = 0.1
    line = verdict(qa, 24)["line"]
    assert "90 keys/100 frames on a shape > 50" in line and "fast motion" not in line


def test_verdict_holds_slow_motion_to_30_keys() -> None:
    """An object that barely moves (qa.motion_per_frame, motion.py) is held to 30 keys per 100 frames on its worst
    shape, one that moves to 50; a qa.json written before the figure existed is held to 50."""
    from roto_core.shapes.qa import verdict

    summary = {
        **_passing_summary(),
        "keys_per_100_frames_worst_shape": 37.0,
        "motion_per_frame": 0.005,
        "keys_limit": 30.0,
    }
    qa = {"summary": summary, "objects": {"car": summary}}
    result = verdict(qa, 24)
    assert result["status"] == "review", result
    assert "car: 37 keys/100 frames on a shape > 30 (slow motion: 0.5% of its size a frame)" in result["line"]
    summary["keys_per_100_frames_worst_shape"] = 30.0
    assert verdict(qa, 24)["status"] == "pass"
    summary.update({"keys_per_100_frames_worst_shape": 37.0, "motion_per_frame": 0.04, "keys_limit": 50.0})
    assert verdict(qa, 24)["status"] == "pass"
    del summary["keys_limit"], summary["motion_per_frame"]
    assert verdict(qa, 24)["status"] == "pass"


def test_finalize_carries_the_plates_pixel_aspect_into_nk_and_fxs(tmp_path: Path) -> None:
    """An anamorphic plate (pixel aspect 2): the .nk format says so, and the .fxs x axis is scaled by it."""
    manifest_path, job = _job(tmp_path)
    manifest = JobManifest.load(manifest_path)
    manifest.shot = manifest.shot.model_copy(update={"pixel_aspect": 2.0})
    manifest.save(manifest_path)
    assert main(["finalize", str(manifest_path)]) == 0
    nk, _ = read_nk(job.nk)
    assert nk.pixel_aspect == 2.0
    doc = read_shapes_json(job.shapes_json)
    square = read_fxs(job.fxs)  # read as if the pixels were square: x comes out twice as far from the centre
    anamorphic = read_fxs(job.fxs, pixel_aspect=2.0)
    expected = doc.shapes[0].at(doc.shapes[0].first_frame)[:, 1]
    np.testing.assert_allclose(anamorphic.shapes[0].at(doc.shapes[0].first_frame)[:, 1], expected, atol=0.01)
    got = square.shapes[0].at(doc.shapes[0].first_frame)[:, 1]
    np.testing.assert_allclose(got[:, 0] - doc.width / 2, 2.0 * (expected[:, 0] - doc.width / 2), atol=0.02)
