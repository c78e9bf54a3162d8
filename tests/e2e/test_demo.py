"""`rotofarm demo` end to end: synthetic cut → local farm (openjd-sessions) → finalize → local tracker, twice.

The test measures the published results itself (J&F of the farm's masks against the ground truth, the shape QA,
the files in the tracker's publish folders) and checks that the summary the demo prints says the same.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from roto_core.metrics import evaluate_sequences
from roto_core.sequences import frame_path
from submitters.cli import main
from submitters.demo import CUT_FRAMES, HANDLES, PROJECT, SHOTS

pytestmark = pytest.mark.slow

FRAMES = CUT_FRAMES + 2 * HANDLES


def _summary_value(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if label in line)
    return re.findall(r"(?:\d+\.\d+|v\d{3}|\b\d+\b)", line.split(label, 1)[1])


def _job_folder(out: Path, shot: str, run: int) -> Path:
    folders = sorted((out / "jobs" / PROJECT / shot).iterdir())
    assert len(folders) == run, folders
    return folders[-1]


def _files_to_open(out: Path, stdout: str) -> list[Path]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("open these"))
    listed = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        listed.append(out.resolve() / line.strip().removesuffix("(thumbnail)").strip())
    return listed


def _check_run(out: Path, stdout: str, run: int) -> None:
    version = f"v{run:03d}"
    to_open = _files_to_open(out, stdout)
    assert sorted(p.suffix for p in to_open) == sorted([".nk", ".fxs", ".jpg"] * len(SHOTS))
    assert all(p.is_file() for p in to_open), to_open
    for shot, _ in SHOTS:
        assert f"{shot}: good: J&F" in stdout
    assert _summary_value(stdout, "rotoMain version") == [version] * len(SHOTS)
    assert _summary_value(stdout, "rotoMatteMain version") == [version] * len(SHOTS)
    printed_jf = [float(x) for x in _summary_value(stdout, "J&F vs ground truth")]
    printed_iou = [float(x) for x in _summary_value(stdout, "shape vs mask IoU, median")]
    for i, (shot, _) in enumerate(SHOTS):
        job = _job_folder(out, shot, run)
        manifest = json.loads((job / "manifest.json").read_text())
        assert manifest["submission"]["farm"] == "local"
        first, last = manifest["shot"]["first_frame"], manifest["shot"]["last_frame"]
        assert (first, last) == (1001, 1000 + FRAMES)
        masks = job / "masks" / f"{shot}_mask.####.exr"
        gt = out / "plates" / shot / "gt" / f"{shot}_gt.####.exr"
        measured = evaluate_sequences(masks, gt, range(first, last + 1)).table()["mean"]
        assert measured["J&F"] >= 0.90, measured
        assert printed_jf[i] == pytest.approx(measured["J&F"], abs=1e-3)

        qa = json.loads((job / "qa" / "report.json").read_text())["summary"]
        assert qa["shape_iou_median"] >= 0.95
        assert printed_iou[i] == pytest.approx(qa["shape_iou_median"], abs=1e-3)
        assert qa["points_per_shape_max"] <= 24

        publish = out / "tracker" / PROJECT / "sq010" / shot / "publish"
        shapes_dir = publish / "matteshapes" / "rotoMain" / version
        assert sorted(p.suffix for p in shapes_dir.iterdir()) == [".fxs", ".json", ".nk"]
        nk = next(shapes_dir.glob("*.nk")).read_text()
        assert "Roto {" in nk and "Read {" in nk
        mattes = sorted((publish / "render" / "rotoMatteMain" / version).glob("*.exr"))
        assert len(mattes) == FRAMES
        assert mattes[0].read_bytes() == frame_path(masks, first).read_bytes()


def test_demo_publishes_measured_versions_and_a_second_run_makes_version_2(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    _check_run(out, capsys.readouterr().out, run=1)

    assert main(["demo", "--out", str(out)]) == 0
    _check_run(out, capsys.readouterr().out, run=2)

    catalogue = next((out / "tracker").rglob("catalogue.sqlite"))
    with sqlite3.connect(catalogue) as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
        assert "versions" in tables
        count = db.execute("select count(*) from versions").fetchone()[0]
    assert count == 2 * 2 * len(SHOTS)
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") and ".tmp-" in p.name]
    assert leftovers == []
