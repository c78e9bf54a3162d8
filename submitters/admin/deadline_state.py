"""Read the workers and the roto queue from the Deadline Web Service into :mod:`submitters.admin.models`.

Field names are those of the documents the Web Service returns (``/api/slaves?Data=infosettings``, ``/api/jobs``,
``/api/tasks``, ``/api/taskreports``). State codes are Deadline's enums: worker ``Info.Stat`` 1 Rendering, 2 Idle,
3 Offline, 4 Stalled, 8 StartingJob; job ``Stat`` 1 Active, 2 Suspended, 3 Completed, 4 Failed, 6 Pending; task
``Stat`` 2 Queued, 3 Suspended, 4 Rendering, 5 Completed, 6 Failed, 8 Pending.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from roto_core.errors import InputError
from submitters.admin.models import BatchView, FailedTask, Gpu, JobView, QueueView, WorkerView
from submitters.deadline.client import DeadlineClient

ROTO_PLUGIN = "AIRoto"
WORKER_STATES = {0: "Unknown", 1: "Rendering", 2: "Idle", 3: "Offline", 4: "Stalled", 8: "StartingJob"}
JOB_STATES = {0: "Unknown", 1: "Active", 2: "Suspended", 3: "Completed", 4: "Failed", 6: "Pending"}
TASK_QUEUED, TASK_RENDERING, TASK_COMPLETED, TASK_FAILED = 2, 4, 5, 6
OPEN_JOB_STATES = ("Active", "Suspended", "Failed", "Pending")


def parse_date(value: Any) -> datetime | None:
    """Deadline's ISO dates; its "never" is year 1."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.year <= 1:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def frame_count(frames: str) -> int:
    """How many frames a task's frame list holds: ``1001-1025``, ``1001``, ``1,3,5``, ``1-9x2``."""
    total = 0
    for item in filter(None, re.split(r"[,\s]+", str(frames).strip())):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", item)
        if not m:
            continue
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        total += len(range(first, last + 1, int(m.group(3) or 1)))
    return total


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or []]


def _gpus(info: Mapping[str, Any]) -> list[Gpu]:
    cards = [c.strip() for c in str(info.get("VideoCard") or "").split(",") if c.strip()]
    memory = int(info.get("GpuMemMB") or 0) or None
    return [Gpu(index=i, model=card, memory_mb=memory) for i, card in enumerate(cards)]


def worker_view(doc: Mapping[str, Any]) -> WorkerView:
    """One ``{"Info": ..., "Settings": ...}`` document of ``Data=infosettings``."""
    info = doc.get("Info") or {}
    settings = doc.get("Settings") or {}
    return WorkerView(
        name=str(info.get("Name") or settings.get("Name") or ""),
        state=WORKER_STATES.get(int(info.get("Stat", 0) or 0), "Unknown"),
        enabled=bool(settings.get("Enable", True)),
        gpus=_gpus(info),
        gpu_affinity=[int(g) for g in settings.get("GpuAffinity") or []],
        override_gpu_affinity=bool(settings.get("OverrideGpuAffinity", False)),
        concurrent_tasks=int(settings["Conc"]) if settings.get("Conc") is not None else None,
        pools=_names(settings.get("Pools", info.get("Pools"))),
        groups=_names(settings.get("Grps", info.get("Grps"))),
        job_id=str(info.get("JobId") or ""),
        job_name=str(info.get("JobName") or ""),
        job_plugin=str(info.get("JobPlug") or ""),
        task_id=str(info.get("TskId") or ""),
    )


def read_workers(client: DeadlineClient, pool: str | None = None) -> list[WorkerView]:
    """Every worker (or those in ``pool``), sorted by name."""
    workers = [worker_view(doc) for doc in client.workers(data="infosettings")]
    if pool is not None:
        workers = [w for w in workers if pool.lower() in {p.lower() for p in w.pools}]
    return sorted(workers, key=lambda w: w.name)


def check_pool(client: DeadlineClient, pool: str) -> str:
    """The pool's name as the repository spells it, or an :class:`InputError` listing the valid ones."""
    known = [*client.pool_names(), "none"]
    for name in known:
        if name.lower() == pool.lower():
            return name
    raise InputError(f"unknown pool {pool!r} (valid: {', '.join(sorted(set(known)))})", where=f"{client.url}/api/pools")


def _report_text(item: Any) -> str:
    if isinstance(item, Mapping):
        return str(item.get("Message") or item.get("Msg") or "")
    return str(item or "")


def _last_line(reports: Any) -> str:
    """The last non-empty line of the newest report: where a Python error or our ``error:`` line ends up."""
    items = reports if isinstance(reports, list) else [reports]
    for item in reversed(items):
        lines = [line.strip() for line in _report_text(item).splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return ""


def job_view(job: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]]) -> JobView:
    """Progress, measured seconds per frame and ETA of one job from its document and its tasks."""
    props = job.get("Props") or {}
    tasks = list(tasks)
    by_state = [int(t.get("Stat", 0) or 0) for t in tasks]
    frames_total = sum(frame_count(t.get("Frames", "")) for t in tasks)
    frames_done = 0.0
    measured_s = 0.0
    measured_frames = 0
    last_done: datetime | None = None
    for task, stat in zip(tasks, by_state, strict=True):
        n = frame_count(task.get("Frames", ""))
        if stat == TASK_COMPLETED:
            frames_done += n
            start, end = parse_date(task.get("StartRen")), parse_date(task.get("Comp"))
            if start and end and end > start:
                measured_s += (end - start).total_seconds()
                measured_frames += n
            if end and (last_done is None or end > last_done):
                last_done = end
        elif stat == TASK_RENDERING:
            m = re.match(r"\s*(\d+(?:\.\d+)?)", str(task.get("Prog") or "0"))
            frames_done += n * min(float(m.group(1)) if m else 0.0, 100.0) / 100.0
    rendering = by_state.count(TASK_RENDERING)
    sequential = bool(props.get("Seq", False))
    spf = measured_s / measured_frames if measured_frames else None
    eta = None
    if spf is not None:
        lanes = 1 if sequential else max(1, rendering)
        eta = (frames_total - frames_done) * spf / lanes
    submitted = parse_date(job.get("Date"))
    return JobView(
        job_id=str(job.get("_id", "")),
        name=str(props.get("Name", "")),
        project=str((props.get("Env") or {}).get("AYON_PROJECT_NAME", ""))
        if isinstance(props.get("Env"), dict)
        else "",
        batch=str(props.get("Batch", "")),
        state=JOB_STATES.get(int(job.get("Stat", 0) or 0), "Unknown"),
        priority=int(props.get("Pri", 50)),
        pool=str(props.get("Pool") or "none"),
        secondary_pool=str(props.get("SecPool") or ""),
        group=str(props.get("Grp") or "none"),
        sequential=sequential,
        concurrent_tasks=int(props.get("Conc", 1) or 1),
        submitted=submitted,
        last_progress=max(d for d in (submitted, last_done) if d) if submitted or last_done else None,
        tasks_total=len(tasks),
        tasks_done=by_state.count(TASK_COMPLETED),
        tasks_queued=by_state.count(TASK_QUEUED),
        tasks_rendering=rendering,
        tasks_failed=by_state.count(TASK_FAILED),
        frames_total=frames_total,
        frames_done=frames_done,
        seconds_per_frame=spf,
        eta_seconds=eta,
    )


def read_queue(client: DeadlineClient, *, include_completed: bool = False) -> QueueView:
    """The AIRoto jobs grouped by batch; failed tasks carry the last line of their last error report."""
    states = (*OPEN_JOB_STATES, "Completed") if include_completed else OPEN_JOB_STATES
    jobs = [j for j in client.get_jobs(states=states) if j.get("Plug") == ROTO_PLUGIN]
    batches: dict[str, BatchView] = {}
    for job in sorted(jobs, key=lambda j: (str(j.get("Props", {}).get("Batch", "")), str(j.get("Date", "")))):
        tasks = client.get_tasks(str(job["_id"]))
        view = job_view(job, tasks)
        for task in tasks:
            if int(task.get("Stat", 0) or 0) == TASK_FAILED:
                task_id = int(task.get("TaskID", 0))
                view.failed.append(
                    FailedTask(
                        task_id=task_id,
                        frames=str(task.get("Frames", "")),
                        worker=str(task.get("Slave") or ""),
                        errors=int(task.get("Errs", 0) or 0),
                        last_error=_last_line(client.task_reports(view.job_id, task_id)),
                    )
                )
        name = view.batch or view.name
        batches.setdefault(name, BatchView(name=name)).jobs.append(view)
    return QueueView(farm="deadline", batches=list(batches.values()))
