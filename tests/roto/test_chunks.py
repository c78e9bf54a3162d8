"""Chunk execution: hand-off between chunks, restartability, seeding, and the failures a farm task must report."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from roto_core.chunks import load_models, run_chunk
from roto_core.chunks.runner import chunk_ranges
from roto_core.contracts import Prompt
from roto_core.errors import InputError
from roto_core.maskio import read_mask_exr, write_mask_exr
from roto_core.metrics import evaluate_sequences
from roto_core.synthetic import make_shot
from tests.roto.conftest import ROTOFARM, kill_at_progress, make_job


def _run_all(manifest, job, size: int) -> list:
    models = load_models(manifest.pipeline, "cpu")
    shot = manifest.shot
    return [run_chunk(manifest, job, a, b, models) for a, b in chunk_ranges(shot.first_frame, shot.last_frame, size)]


def test_three_chunks_score_like_one(tmp_path: Path, small_shot) -> None:
    m1, job1, _ = make_job(tmp_path / "one", small_shot)
    m3, job3, _ = make_job(tmp_path / "three", small_shot)
    _run_all(m1, job1, 40)
    results = _run_all(m3, job3, 14)
    assert [(r.first_frame, r.last_frame) for r in results] == [(1001, 1014), (1015, 1028), (1029, 1040)]
    assert results[1].seeds == {"obj1": "state 1001-1014", "obj2": "state 1001-1014"}
    one = evaluate_sequences(job1.mask_pattern, small_shot.gt).jf
    three = evaluate_sequences(job3.mask_pattern, small_shot.gt).jf
    assert one >= 0.90
    assert three / one >= 0.99, (three, one)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in {"report.json", "manifest.json"}
    }


def test_killed_chunk_rerun_gives_identical_files(tmp_path: Path) -> None:
    shot = make_shot(tmp_path / "shot", frames=60, width=256, height=144, seed=3)
    _, clean_job, clean_manifest = make_job(tmp_path / "clean", shot)
    _, job, manifest = make_job(tmp_path / "killed", shot)
    args = ["run-chunk", "--frames", "1001-1060", "--device", "cpu"]
    proc = subprocess.Popen([*ROTOFARM, *args[:1], str(manifest), *args[1:]], stdout=subprocess.PIPE, text=True)
    kill_at_progress(proc, 40)
    written = sorted(job.masks_dir.glob("*.exr"))
    assert 0 < len(written) < 60, "the kill must land mid-chunk"
    assert not job.chunk_report(1001, 1060).exists()
    for path in (clean_manifest, manifest):
        done = subprocess.run([*ROTOFARM, "run-chunk", str(path), *args[1:]], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    clean, rerun = _files(clean_job.root), _files(job.root)
    assert list(rerun) == list(clean) and len(clean) == 60 + 3  # 60 masks, state mask, state.json, empty lock
    assert all(rerun[k] == clean[k] for k in clean)
    assert not [p for p in job.root.rglob(".*") if p.is_file()], "temporaries left behind"
    a = json.loads(job.chunk_report(1001, 1060).read_text())
    b = json.loads(clean_job.chunk_report(1001, 1060).read_text())
    for report in (a, b):
        report.pop("timings"), report.pop("peak_rss_mb")
    assert a == b


def test_prompt_inside_a_later_chunk_seeds_it_without_state(tmp_path: Path, small_shot) -> None:
    gt = read_mask_exr(Path(small_shot.gt.replace("####", "1031")))
    boxes = []
    for obj in small_shot.objects:
        ys, xs = np.nonzero(gt[obj] >= 0.5)
        boxes.append(
            Prompt(object=obj, frame=1031, box=(xs.min() - 3.0, ys.min() - 3.0, xs.max() + 3.0, ys.max() + 3.0))
        )
    shot = small_shot.to_shot().model_copy(update={"prompts": [*small_shot.prompts, *boxes]})
    manifest, job, _ = make_job(tmp_path, small_shot)
    manifest = manifest.model_copy(update={"shot": shot})
    result = run_chunk(manifest, job, 1031, 1040, load_models(manifest.pipeline, "cpu"))
    assert result.seeds == {"obj1": "box prompt on frame 1031", "obj2": "box prompt on frame 1031"}
    assert evaluate_sequences(job.mask_pattern, small_shot.gt, range(1031, 1041)).jf >= 0.85


def test_missing_previous_state_rebuilds_from_the_nearest_keys(tmp_path: Path, small_shot) -> None:
    manifest, job, _ = make_job(tmp_path, small_shot)
    result = run_chunk(manifest, job, 1011, 1020, load_models(manifest.pipeline, "cpu"))
    assert any(w.startswith("no state from a chunk ending at frame 1010: rebuilt") for w in result.warnings)
    assert not job.mask_path(1010).exists() and job.mask_path(1011).is_file()
    assert evaluate_sequences(job.mask_pattern, small_shot.gt, range(1011, 1021)).jf >= 0.85


def test_overlap_frames_are_kept_as_memory(tmp_path: Path, small_shot) -> None:
    manifest, job, _ = make_job(tmp_path, small_shot, chunk_size=20, overlap=3)
    results = _run_all(manifest, job, 20)
    state = json.loads((job.chunk_state(1001, 1020) / "state.json").read_text())
    assert state["frames"] == [1017, 1018, 1019, 1020]
    assert results[1].frames == list(range(1021, 1041))
    assert evaluate_sequences(job.mask_pattern, small_shot.gt).jf >= 0.90


def test_object_never_found_gives_empty_masks_and_a_warning(tmp_path: Path, small_shot) -> None:
    empty = tmp_path / "empty.exr"
    write_mask_exr(empty, {}, shape=(small_shot.height, small_shot.width))
    ghost = Prompt(object="ghost", frame=1001, mask=str(empty))
    shot = small_shot.to_shot().model_copy(update={"prompts": [*small_shot.prompts, ghost]})
    manifest, job, _ = make_job(tmp_path, small_shot)
    manifest = manifest.model_copy(update={"shot": shot})
    result = run_chunk(manifest, job, 1001, 1005, load_models(manifest.pipeline, "cpu"))
    assert any("ghost" in w and "found nothing" in w for w in result.warnings)
    assert any("ghost" in w and "not found on frames 1001-1005" in w for w in result.warnings)
    masks = read_mask_exr(job.mask_path(1003))
    assert not masks["ghost"].any() and masks["obj1"].any()
    assert result.masks["ghost"] == []


def test_prompt_outside_the_image_names_shot_frame_object(tmp_path: Path, small_shot) -> None:
    bad = Prompt(object="obj1", frame=1001, box=(10.0, 10.0, 400.0, 50.0))
    shot = small_shot.to_shot().model_copy(update={"prompts": [bad]})
    manifest, job, _ = make_job(tmp_path, small_shot)
    manifest = manifest.model_copy(update={"shot": shot})
    with pytest.raises(InputError) as err:
        run_chunk(manifest, job, 1001, 1005, load_models(manifest.pipeline, "cpu"))
    assert err.value.where == "shot synth, frame 1001, object obj1"
    assert "outside the 256x144 image" in err.value.message
    assert not job.masks_dir.exists() or not any(job.masks_dir.iterdir()), "nothing is written before the check"


def test_chunk_timings_and_memory_are_reported(tmp_path: Path, small_shot) -> None:
    manifest, job, _ = make_job(tmp_path, small_shot)
    start = time.perf_counter()
    result = run_chunk(manifest, job, 1001, 1010, load_models(manifest.pipeline, "cpu"))
    elapsed = time.perf_counter() - start
    assert {"open", "decode", "key", "propagate", "write", "state", "total"} <= set(result.timings)
    assert 0 < result.timings["total"] <= elapsed
    assert result.peak_rss_mb and result.peak_rss_mb > 10
    assert result.backend == "classical" and result.device == "cpu"
    saved = json.loads(job.chunk_report(1001, 1010).read_text())
    assert saved["frames"] == list(range(1001, 1011))


def test_frames_before_the_first_key_are_filled_backwards(tmp_path: Path, small_shot) -> None:
    """Editorial prompts sit on the record-in frame; the handle frames before it still get masks."""
    gt = read_mask_exr(Path(small_shot.gt.replace("####", "1006")))
    keys = []
    for obj in small_shot.objects:
        ys, xs = np.nonzero(gt[obj] >= 0.5)
        keys.append(
            Prompt(object=obj, frame=1006, box=(xs.min() - 3.0, ys.min() - 3.0, xs.max() + 3.0, ys.max() + 3.0))
        )
    shot = small_shot.to_shot().model_copy(update={"prompts": keys, "handles": 5})
    manifest, job, _ = make_job(tmp_path, small_shot)
    manifest = manifest.model_copy(update={"shot": shot})
    result = run_chunk(manifest, job, 1001, 1012, load_models(manifest.pipeline, "cpu"))
    assert "backfill" in result.timings and not result.warnings
    before = evaluate_sequences(job.mask_pattern, small_shot.gt, range(1001, 1006)).table()
    assert before["mean"]["J&F"] >= 0.85, before
    assert evaluate_sequences(job.mask_pattern, small_shot.gt, range(1006, 1013)).jf >= 0.85
