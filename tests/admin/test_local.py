"""``--farm local``: this machine as the one worker, and the queue read from real job folders."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from roto_core.contracts import ChunkResult, PipelineSettings
from roto_core.jobfolder import JobFolder
from submitters.admin.local_state import local_gpus, read_local_queue
from submitters.cli import main
from submitters.plan import JobPlan, plan_submission, record_submission
from tests.farm.helpers import farm_config, shotlist


def make_plan(tmp_path: Path, shots: int = 2) -> JobPlan:
    config = farm_config(tmp_path)
    plan = plan_submission(shotlist(shots), "demo", config, PipelineSettings(chunk_size=25))
    record_submission(plan, "local", [{"session": s.shot} for s in plan.shots])
    return plan


def finish_chunk(plan: JobPlan, shot: int, first: int, last: int, seconds: dict[str, float]) -> None:
    sp = plan.shots[shot]
    report = ChunkResult(first_frame=first, last_frame=last, frames=list(range(first, last + 1)), timings=seconds)
    report.save(JobFolder(Path(sp.job_folder), sp.shot).chunk_report(first, last))


@pytest.fixture
def nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``nvidia-smi`` on PATH answering the CSV query as the real one does on a 2-GPU machine."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "nvidia-smi"
    exe.write_text("#!/bin/sh\nprintf '0, NVIDIA L40S, 46068\\n1, NVIDIA L40S, 46068\\n'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path('/usr/bin')}:{Path('/bin')}")
    return exe


def test_queue_reads_progress_and_eta_from_the_chunk_reports(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    finish_chunk(plan, 0, 1001, 1025, {"key_masks": 10.0, "propagate": 40.0})
    view = read_local_queue(tmp_path / "jobs")
    (batch,) = view.batches
    assert batch.name == plan.batch_name
    sh010, sh020 = batch.jobs
    assert (sh010.name, sh010.tasks_done, sh010.tasks_total, sh010.frames_done) == ("sh010", 1, 4, 25.0)
    assert sh010.seconds_per_frame == pytest.approx(2.0)
    assert sh010.eta_seconds == pytest.approx(150.0)
    assert (sh020.tasks_done, sh020.eta_seconds) == (0, None)


def test_finished_jobs_show_only_on_request(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, shots=1)
    for first in range(1001, 1101, 25):
        finish_chunk(plan, 0, first, first + 24, {"total": 25.0})
    assert read_local_queue(tmp_path / "jobs").batches == []
    (job,) = read_local_queue(tmp_path / "jobs", include_completed=True).batches[0].jobs
    assert job.state == "Completed" and job.progress == 1.0 and job.seconds_per_frame == pytest.approx(1.0)


def test_queue_cli_local(tmp_path: Path, capsys) -> None:
    plan = make_plan(tmp_path)
    finish_chunk(plan, 1, 1001, 1025, {"propagate": 75.0})
    assert main(["farm", "queue", "--farm", "local", "--jobs-root", str(tmp_path / "jobs"), "--json"]) == 0
    jobs = json.loads(capsys.readouterr().out)["batches"][0]["jobs"]
    assert [(j["name"], j["tasks_done"], j["eta_seconds"]) for j in jobs] == [("sh010", 0, None), ("sh020", 1, 225.0)]


def test_a_broken_manifest_is_one_error_line(tmp_path: Path, capsys) -> None:
    plan = make_plan(tmp_path, shots=1)
    Path(plan.shots[0].manifest_path).write_text("{not json")
    assert main(["farm", "queue", "--farm", "local", "--jobs-root", str(tmp_path / "jobs")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "manifest.json" in line


def test_local_worker_reports_the_gpus_of_this_machine(nvidia_smi: Path, capsys) -> None:
    gpus = [(g.index, g.model, g.memory_mb) for g in local_gpus()]
    assert gpus == [(0, "NVIDIA L40S", 46068), (1, "NVIDIA L40S", 46068)]
    assert main(["farm", "workers", "--farm", "local", "--json"]) == 0
    (worker,) = json.loads(capsys.readouterr().out)
    assert worker["gpu_count"] == 2 and worker["state"] == "Local" and worker["concurrent_tasks"] == 1


def test_local_balance_proposes_the_gpu_and_cannot_apply_it(nvidia_smi: Path, capsys) -> None:
    assert main(["farm", "balance", "--farm", "local", "--apply"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "local_device" in line)
    assert "local.device cpu" in line and "local.device cuda:0" in line and "cannot apply" in line
    assert "applied 0 of 1" in out and "1 cannot be applied" in out


def test_without_nvidia_smi_the_machine_has_no_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert local_gpus() == []


def test_a_broken_chunk_report_is_one_error_line(tmp_path: Path, capsys) -> None:
    plan = make_plan(tmp_path, shots=1)
    sp = plan.shots[0]
    path = JobFolder(Path(sp.job_folder), sp.shot).chunk_report(1001, 1025)
    path.parent.mkdir(parents=True)
    path.write_text('{"first_frame": "soon"}')
    assert main(["farm", "queue", "--farm", "local", "--jobs-root", str(tmp_path / "jobs")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "report.json" in line and "not a valid ChunkResult" in line
