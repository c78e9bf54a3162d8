"""Shared fixtures for the roto tests: small synthetic shots, job manifests and a CLI runner."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from roto_core.contracts import JobManifest, PipelineSettings, TrackerTarget
from roto_core.jobfolder import JobFolder
from roto_core.synthetic import SyntheticShot, make_shot

ROTOFARM = [sys.executable, "-c", "from submitters.cli import entry; entry()"]


@pytest.fixture(scope="session")
def small_shot(tmp_path_factory: pytest.TempPathFactory) -> SyntheticShot:
    """40 frames at 256×144 with two objects and the occluder crossing obj1 in the middle."""
    return make_shot(tmp_path_factory.mktemp("shot"), frames=40, width=256, height=144, seed=1)


def kill_at_progress(proc: subprocess.Popen, percent: int) -> None:
    """SIGKILL a ``run-chunk`` process once it prints ``Progress: N%`` with N ≥ ``percent`` (a farm kill mid-chunk)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Progress: ") and int(line.split()[1].rstrip("%")) >= percent:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def make_job(tmp_path: Path, shot: SyntheticShot, **pipeline) -> tuple[JobManifest, JobFolder, Path]:
    """A manifest for ``shot`` in a fresh job folder under ``tmp_path``; returns it, the folder and its path."""
    root = tmp_path / "job"
    job = JobFolder(root, shot.name)
    manifest = JobManifest(
        job_id="test",
        shot=shot.to_shot(),
        pipeline=PipelineSettings(**pipeline),
        output_dir=str(root),
        tracker=TrackerTarget(project="test", folder_path="/synthetic/sh010"),
    )
    manifest.save(job.manifest)
    return manifest, job, job.manifest


def rotofarm(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process, as the farm does."""
    return subprocess.run([*ROTOFARM, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
