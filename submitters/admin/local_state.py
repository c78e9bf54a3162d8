"""``--farm local``: the same views for this machine — its GPUs as the one worker, its job folders as the queue.

The local farm (openjd-sessions, :mod:`submitters.local_farm`) keeps no database: what a job has done is what its
job folder holds. A chunk is done when its ``chunks/A-B/report.json`` exists; the report's timings give the measured
seconds per frame. GPUs come from ``nvidia-smi`` when the machine has one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from datetime import datetime
from pathlib import Path

from roto_core.contracts import ChunkResult, JobManifest
from roto_core.errors import InputError
from roto_core.jobfolder import JobFolder
from submitters.admin.deadline_state import parse_date
from submitters.admin.models import BatchView, Change, Gpu, JobView, Plan, QueueView, WorkerView
from submitters.farm_config import FarmConfig
from submitters.plan import split_chunks

NOT_SUBMITTED = "(not submitted)"


def local_gpus(nvidia_smi: str | None = None) -> list[Gpu]:
    """This machine's NVIDIA GPUs as ``nvidia-smi`` lists them; none when it is absent or fails."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[0].isdigit():
            memory = int(float(parts[2])) if parts[2].replace(".", "", 1).isdigit() else None
            gpus.append(Gpu(index=int(parts[0]), model=parts[1], memory_mb=memory))
    return gpus


def local_worker(config: FarmConfig, gpus: list[Gpu]) -> WorkerView:
    """This machine as a worker: its shots run ``local.max_parallel_shots`` at a time."""
    return WorkerView(
        name=socket.gethostname(), state="Local", gpus=gpus, concurrent_tasks=config.local.max_parallel_shots
    )


def _chunk_seconds(report: ChunkResult) -> float:
    return report.timings.get("total", sum(report.timings.values()))


def local_job(manifest: JobManifest, manifest_path: Path) -> JobView:
    """One job folder's progress: chunks with a report are done; their timings give seconds per frame."""
    shot = manifest.shot
    folder = JobFolder(manifest_path.parent, shot.name)
    chunks = split_chunks(shot.first_frame, shot.last_frame, manifest.pipeline.chunk_size)
    done = frames_done = 0
    measured_s = 0.0
    last: datetime | None = None
    for chunk in chunks:
        path = folder.chunk_report(chunk.first, chunk.last)
        if not path.is_file():
            continue
        report = ChunkResult.load(path)
        done += 1
        frames_done += chunk.last - chunk.first + 1
        measured_s += _chunk_seconds(report)
        when = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        last = when if last is None or when > last else last
    frames_total = shot.last_frame - shot.first_frame + 1
    spf = measured_s / frames_done if frames_done and measured_s > 0 else None
    submission = manifest.submission
    submitted = parse_date(submission.submitted_at if submission else manifest.created_at)
    return JobView(
        job_id=manifest.job_id,
        name=shot.name,
        project=manifest.tracker.project,
        batch=submission.batch_name if submission else NOT_SUBMITTED,
        state="Completed" if done == len(chunks) else "Incomplete",
        sequential=True,
        submitted=submitted,
        last_progress=last or submitted,
        tasks_total=len(chunks),
        tasks_done=done,
        tasks_queued=len(chunks) - done,
        frames_total=frames_total,
        frames_done=float(frames_done),
        seconds_per_frame=spf,
        eta_seconds=(frames_total - frames_done) * spf if spf is not None else None,
    )


def read_local_queue(jobs_root: Path, *, include_completed: bool = False) -> QueueView:
    """The job folders under ``{jobs_root}/{project}/{shot}/{job_id}/`` that ran (or run) on the local farm."""
    if not jobs_root.is_dir():
        raise InputError("the jobs root does not exist", path=jobs_root, hint="set jobs_root in farm.yaml")
    batches: dict[str, BatchView] = {}
    for path in sorted(jobs_root.glob("*/*/*/manifest.json")):
        manifest = JobManifest.load(path)
        if manifest.submission is not None and manifest.submission.farm != "local":
            continue
        job = local_job(manifest, path)
        if job.state == "Completed" and not include_completed:
            continue
        batches.setdefault(job.batch, BatchView(name=job.batch)).jobs.append(job)
    return QueueView(farm="local", batches=list(batches.values()))


def plan_local(worker: WorkerView, config: FarmConfig) -> Plan:
    """On one machine the lever is the device: the local farm runs every shot on ``local.device``."""
    changes = []
    if worker.gpus and config.local.device == "cpu":
        changes.append(
            Change(
                kind="local_device",
                target=worker.name,
                before="local.device cpu",
                after="local.device cuda:0",
                reason=(
                    f"{worker.gpu_count} GPU(s) ({worker.gpus[0].model}) sit idle while local roto chunks run on "
                    "the CPU"
                ),
            )
        )
    return Plan(farm="local", changes=changes)
