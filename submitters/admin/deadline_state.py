"""Read the workers and the roto queue from the Deadline Web Service into :mod:`submitters.admin.models`.

Field names are those of the documents the Web Service returns (``/api/slaves?Data=infosettings``, ``/api/jobs``,
``/api/tasks``, ``/api/taskreports``). State codes are Deadline's enums: worker ``Info.Stat`` 1 Rendering, 2 Idle,
3 Offline, 4 Stalled, 8 StartingJob; job ``Stat`` 1 Active, 2 Suspended, 3 Completed, 4 Failed, 6 Pending; task
``Stat`` 2 Queued, 3 Suspended, 4 Rendering, 5 Completed, 6 Failed, 8 Pending.

A failed task's reason is read from its error reports (``Data=allerrorcontents``): each is sectioned under
``=====`` banners (``Error``, ``Type``, ``Stack Trace``, ``Log``, the task log last), so the reason is in the
``Error`` section, where the AIRoto plugin's FailRender message (``rotofarm exited with code N: ...``) lands; with
no error report the service answers a text message, which is no reason at all.

GPUs: which ``Data=info`` fields carry a worker's GPUs is not documented and no public script reads them, so every
plausible field is read (:data:`GPU_NAME_FIELDS`, :data:`GPU_COUNT_FIELDS`); a worker with none of them has an
unknown GPU count, shown as such, never as 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from roto_core.errors import InputError
from submitters.admin.models import BatchView, FailedTask, Gpu, JobView, QueueView, WorkerView
from submitters.deadline.client import DeadlineClient, is_job_id

ROTO_PLUGIN = "AIRoto"
WORKER_STATES = {0: "Unknown", 1: "Rendering", 2: "Idle", 3: "Offline", 4: "Stalled", 8: "StartingJob"}
JOB_STATES = {0: "Unknown", 1: "Active", 2: "Suspended", 3: "Completed", 4: "Failed", 6: "Pending"}
TASK_QUEUED, TASK_RENDERING, TASK_COMPLETED, TASK_FAILED = 2, 4, 5, 6
OPEN_JOB_STATES = ("Active", "Suspended", "Failed", "Pending")
GPU_NAME_FIELDS = ("VideoCard", "VideoCards", "Vid", "GPUs", "Gpus", "GpuNames")
GPU_COUNT_FIELDS = ("GpuCount", "GPUCount", "NumGpus", "GPUs", "Gpus")
GPU_MEMORY_FIELDS = ("GpuMemMB", "GPUMemMB", "VideoMemMB")
SECTION = re.compile(r"^={5,}\s*\n(?P<name>[^\n=]+?)\s*\n={5,}\s*$", re.MULTILINE)
REASON = re.compile(r"rotofarm (?:exited with code -?\d+|worker failed \S+): .*")


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


def _int(value: Any, default: int = 0) -> int:
    """An integer field of a document; anything else (garbage from a proxy, a missing field) is ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _gpus(info: Mapping[str, Any]) -> list[Gpu] | None:
    """The worker's GPUs from whichever plausible field its info carries; None when none is there."""
    memory = next((_int(info[k]) for k in GPU_MEMORY_FIELDS if k in info), 0) or None
    for key in GPU_NAME_FIELDS:
        value = info.get(key)
        if isinstance(value, str):
            return [Gpu(index=i, model=card, memory_mb=memory) for i, card in enumerate(_names(value))]
        if isinstance(value, list):
            cards = [str(c.get("Name", "?")) if isinstance(c, Mapping) else str(c) for c in value]
            return [Gpu(index=i, model=card, memory_mb=memory) for i, card in enumerate(cards)]
    for key in GPU_COUNT_FIELDS:
        if key in info and not isinstance(info[key], bool) and _int(info[key], -1) >= 0:
            return [Gpu(index=i, model="?", memory_mb=memory) for i in range(_int(info[key]))]
    return None


def worker_view(doc: Mapping[str, Any]) -> WorkerView:
    """One ``{"Info": ..., "Settings": ...}`` document of ``Data=infosettings``."""
    info = doc.get("Info") if isinstance(doc.get("Info"), Mapping) else {}
    settings = doc.get("Settings") if isinstance(doc.get("Settings"), Mapping) else {}
    gpus = _gpus(info)
    affinity = settings.get("GpuAffinity")
    return WorkerView(
        name=str(info.get("Name") or settings.get("Name") or ""),
        state=WORKER_STATES.get(_int(info.get("Stat")), "Unknown"),
        enabled=bool(settings.get("Enable", True)),
        gpus=gpus or [],
        gpus_known=gpus is not None,
        gpu_affinity=[_int(g) for g in affinity] if isinstance(affinity, list) else [],
        override_gpu_affinity=bool(settings.get("OverrideGpuAffinity", False)),
        concurrent_tasks=_int(settings["Conc"], 1) if settings.get("Conc") is not None else None,
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


def error_section(report: str) -> str:
    """The text of a sectioned report's ``Error`` section ("" when the text has no such section)."""
    marks = list(SECTION.finditer(report))
    for i, mark in enumerate(marks):
        if mark.group("name").strip().lower() == "error":
            end = marks[i + 1].start() if i + 1 < len(marks) else len(report)
            return report[mark.end() : end].strip()
    return ""


def failure_reason(answer: Any) -> str:
    """rotofarm's reason for the newest error report of ``answer`` (``Data=allerrorcontents``): the
    ``rotofarm exited with code N: ...`` line of its Error section, else that section's first line. A text answer
    is the service's "no reports" message, not a report."""
    reports = [r for r in answer if isinstance(r, str)] if isinstance(answer, list) else []
    for report in reversed(reports):
        error = error_section(report)
        if not error:
            continue
        found = REASON.search(error)
        if found:
            return found.group(0).strip()
        first = error.splitlines()[0].strip()
        return re.sub(r"^(Error:\s*)?(\w+Exception\s*:\s*)?", "", first)
    return ""


def job_view(job: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]]) -> JobView:
    """Progress, measured seconds per frame and ETA of one job from its document and its tasks."""
    props = job.get("Props") if isinstance(job.get("Props"), Mapping) else {}
    tasks = list(tasks)
    by_state = [_int(t.get("Stat")) for t in tasks]
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
        state=JOB_STATES.get(_int(job.get("Stat")), "Unknown"),
        priority=_int(props.get("Pri"), 50),
        pool=str(props.get("Pool") or "none"),
        secondary_pool=str(props.get("SecPool") or ""),
        group=str(props.get("Grp") or "none"),
        sequential=sequential,
        concurrent_tasks=max(1, _int(props.get("Conc"), 1)),
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
    """The AIRoto jobs grouped by batch; failed tasks carry rotofarm's reason from their newest error report."""
    states = (*OPEN_JOB_STATES, "Completed") if include_completed else OPEN_JOB_STATES
    jobs = [j for j in client.get_jobs(states=states) if j.get("Plug") == ROTO_PLUGIN and is_job_id(j.get("_id"))]
    views = sorted(((job, job_view(job, [])) for job in jobs), key=lambda jv: (jv[1].batch, str(jv[0].get("Date"))))
    batches: dict[str, BatchView] = {}
    for job, _ in views:
        tasks = client.get_tasks(str(job["_id"]))
        view = job_view(job, tasks)
        for task in tasks:
            if _int(task.get("Stat")) == TASK_FAILED:
                task_id = _int(task.get("TaskID"))
                view.failed.append(
                    FailedTask(
                        task_id=task_id,
                        frames=str(task.get("Frames", "")),
                        worker=str(task.get("Slave") or ""),
                        errors=_int(task.get("Errs")),
                        last_error=failure_reason(client.task_reports(view.job_id, task_id, "allerrorcontents")),
                    )
                )
        name = view.batch or view.name
        batches.setdefault(name, BatchView(name=name)).jobs.append(view)
    return QueueView(farm="deadline", batches=list(batches.values()))
