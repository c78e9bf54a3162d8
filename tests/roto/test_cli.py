"""The roto commands as the farm and an artist call them: real child processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roto_core.backends import resolve_device
from roto_core.metrics import evaluate_sequences
from tests.roto.conftest import make_job, rotofarm


def test_worker_protocol(tmp_path: Path, small_shot) -> None:
    _, job, manifest = make_job(tmp_path, small_shot)
    lines = "1001-1010\n1011-1020\nnonsense\n1030-1021\n1031-1040\n\n1021-1030\n"
    proc = rotofarm("worker", str(manifest), "--device", "cpu", stdin=lines)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    verdicts = [line for line in out if not line.startswith("Progress: ")]
    assert verdicts[0] == "DONE 1001-1010"
    assert verdicts[1] == "DONE 1011-1020"
    assert verdicts[2].startswith("FAILED nonsense: not a frame range")
    assert verdicts[3].startswith("FAILED 1030-1021: frame range 1030-1021 ends before it starts")
    assert verdicts[4] == "DONE 1031-1040"  # no state before it: rebuilt from the nearest keys, not failed
    assert len(verdicts) == 5, "the empty line ends the worker: 1021-1030 is never run"
    first_block = out[: out.index("DONE 1001-1010")]
    assert first_block[-1] == "Progress: 100%" and all(line.startswith("Progress: ") for line in first_block)
    percents = [int(line[10:-1]) for line in first_block]
    assert percents == sorted(percents) and len(percents) == 10
    assert job.chunk_report(1011, 1020).is_file() and not job.chunk_report(1021, 1030).exists()


def test_run_chunk_prints_progress_and_writes_report(tmp_path: Path, small_shot) -> None:
    _, job, manifest = make_job(tmp_path, small_shot)
    proc = rotofarm("run-chunk", str(manifest), "--frames", "1001-1005")
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stdout.splitlines() if line.startswith("Progress:")][-1] == "Progress: 100%"
    report = json.loads(job.chunk_report(1001, 1005).read_text())
    assert report["frames"] == [1001, 1002, 1003, 1004, 1005] and report["objects"] == ["obj1", "obj2"]


def test_roto_then_eval(tmp_path: Path, small_shot) -> None:
    boxes = [f"--box={p.object}@{p.frame}={','.join(f'{v:g}' for v in p.box)}" for p in small_shot.prompts]
    out = tmp_path / "out"
    frames = f"{small_shot.first_frame}-{small_shot.last_frame}"
    proc = rotofarm("roto", small_shot.plate, "--frames", frames, "--out", str(out), "--chunk-size", "15", *boxes)
    assert proc.returncode == 0, proc.stderr
    masks = out / "masks" / "synth_mask.####.exr"
    assert len(list(masks.parent.glob("synth_mask.*.exr"))) == 40
    report = json.loads((out / "report.json").read_text())
    assert [c["first_frame"] for c in report["chunks"]] == [1001, 1016, 1031]
    table = rotofarm("eval", str(masks), small_shot.gt, "--json")
    assert table.returncode == 0, table.stderr
    scores = json.loads(table.stdout)
    assert scores["mean"]["J&F"] == pytest.approx(evaluate_sequences(masks, small_shot.gt).jf)
    assert scores["mean"]["J&F"] >= 0.90 and set(scores) == {"obj1", "obj2", "mean"}
    human = rotofarm("eval", str(masks), small_shot.gt, "--frames", "1001-1010")
    assert human.returncode == 0 and "obj1" in human.stdout and "F@2px" in human.stdout


def _bad(proc) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_bad_inputs_exit_2_with_one_error_line(tmp_path: Path, small_shot) -> None:
    _, _, manifest = make_job(tmp_path, small_shot)
    plate = small_shot.plate
    assert "missing.json" in _bad(rotofarm("run-chunk", str(tmp_path / "missing.json"), "--frames", "1001-1002"))
    assert "--frames" in _bad(rotofarm("run-chunk", str(manifest), "--frames", "ten-twenty"))
    assert "not inside the shot's frames" in _bad(rotofarm("run-chunk", str(manifest), "--frames", "990-1002"))
    line = _bad(
        rotofarm("roto", plate, "--frames", "1001-1002", "--out", str(tmp_path / "o"), "--box", "a@1001=-40,0,9,9")
    )
    assert "shot synth, frame 1001, object a" in line and "outside" in line
    line = _bad(
        rotofarm("roto", plate, "--frames", "1001-1050", "--out", str(tmp_path / "o"), "--box", "a@1001=1,1,9,9")
    )
    assert "synth.1041.exr" in line and "missing" in line
    assert "OBJECT@FRAME" in _bad(
        rotofarm("roto", plate, "--frames", "1001-1002", "--out", str(tmp_path / "o"), "--box", "a=1,2,3,4")
    )
    line = _bad(
        rotofarm(
            "roto",
            plate,
            "--frames",
            "1001-1002",
            "--out",
            str(tmp_path / "o"),
            "--box",
            "a@1001=1,1,9,9",
            "--backend",
            "magic",
        )
    )
    assert "backend: Input should be 'classical', 'sam2' or 'cutie'" in line
    if resolve_device("auto") == "cpu":  # a GPU machine would run it
        line = _bad(rotofarm("run-chunk", str(manifest), "--frames", "1001-1002", "--device", "cuda:0"))
        assert "CUDA device cuda:0 asked for" in line


def test_truncated_plate_frame_fails_the_chunk_naming_it(tmp_path: Path, small_shot) -> None:
    import shutil

    plate_dir = tmp_path / "plate"
    shutil.copytree(Path(small_shot.plate).parent, plate_dir)
    broken = plate_dir / "synth.1003.exr"
    broken.write_bytes(broken.read_bytes()[:200])
    out = tmp_path / "o"
    box = f"obj1@1001={','.join(f'{v:g}' for v in small_shot.prompts[0].box)}"
    line = _bad(
        rotofarm("roto", str(plate_dir / "synth.####.exr"), "--frames", "1001-1005", "--out", str(out), "--box", box)
    )
    assert str(broken) in line and "truncated" in line
