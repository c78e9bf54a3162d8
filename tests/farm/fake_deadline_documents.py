"""Deadline's repository documents as the test Web Service (:mod:`tests.farm.fake_deadline`) stores and answers them.

Kept apart from the service so the document shapes, state codes and id form that the client and the admin views
read are written down in one place, as plain functions a test can call without a server:

- jobs are documents ``{"_id", "Props": {"Name", "Batch", "User", "Dept", "Cmmt", "Frames", "Chunk", "Seq", "Pri",
  "Pool", "SecPool", "Grp", "Limits", "MachLmt", "White", "ListedSlaves", "Dep", "Tasks", "PlugInfo", "Env",
  "ExDic", "TskFailOvr", "TskFailErr", "MaxTime"}, "Plug", "Stat", "QueuedChunks", "RenderingChunks",
  "PendingChunks", "CompletedChunks", "SuspendedChunks", "FailedChunks", "Errs", "Date", "DateStart", "DateComp",
  "OutDir", "OutFile"}``; job ``Stat``: 1 Active, 2 Suspended, 3 Completed, 4 Failed, 6 Pending;
- ``GET /api/tasks?JobID=`` answers ``{"Tasks": [...]}``, a task being ``{"_id", "JobID", "TaskID", "Frames",
  "Slave", "Stat", "Prog", "Errs", "StartRen", "Comp"}``; task ``Stat``: 2 Queued, 3 Suspended, 4 Rendering,
  5 Completed, 6 Failed, 8 Pending;
- workers answer ``{"Info": {...}, "Settings": {...}}`` for ``Data=infosettings``; worker ``Info.Stat``:
  0 Unknown, 1 Rendering, 2 Idle, 3 Offline, 4 Stalled, 8 StartingJob.

Job ids have Deadline's form: the repository is MongoDB and a job's ``_id`` is an ObjectId, 24 hex digits whose
first 8 are the creation time (:func:`object_id`), so code that reads the time from an id can be tested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

JOB_STAT = {"Unknown": 0, "Active": 1, "Suspended": 2, "Completed": 3, "Failed": 4, "Pending": 6}
TASK_STAT = {"Queued": 2, "Suspended": 3, "Rendering": 4, "Completed": 5, "Failed": 6, "Pending": 8}
WORKER_STAT = {"Unknown": 0, "Rendering": 1, "Idle": 2, "Offline": 3, "Stalled": 4, "StartingJob": 8}
NO_DATE = "0001-01-01T00:00:00Z"


def iso_date(when: datetime | None) -> str:
    """A date as the repository's documents carry it (UTC, milliseconds, ``Z``); :data:`NO_DATE` for none."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") if when else NO_DATE


def object_id(when: datetime, counter: int, machine: str) -> str:
    """A MongoDB ObjectId as Deadline's ``_id``: 4 bytes of seconds, 5 of machine/process, 3 of counter."""
    return f"{int(when.timestamp()) & 0xFFFFFFFF:08x}{machine}{counter & 0xFFFFFF:06x}"


def truthy(value: Any) -> bool:
    """A JobInfo or query flag as the service reads it: ``true``, ``1``, ``yes`` or ``on`` in any case."""
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_frames(frames: str) -> list[int]:
    """Deadline frame lists we emit: ``1001-1100``, ``1,3,5``, ``1-9x2``."""
    out: list[int] = []
    for item in filter(None, re.split(r"[,\s]+", frames.strip())):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", item)
        if not m:
            raise ValueError(f"bad frame list item {item!r}")
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        step = int(m.group(3) or 1)
        out.extend(range(first, last + 1, step))
    return out


def _chunks(frames: list[int], size: int) -> list[str]:
    parts = []
    for i in range(0, len(frames), max(1, size)):
        chunk = frames[i : i + size]
        parts.append(str(chunk[0]) if len(chunk) == 1 else f"{chunk[0]}-{chunk[-1]}")
    return parts


def new_job(
    job_id: str,
    info: dict[str, Any],
    plugin: dict[str, Any],
    deps: list[str],
    when: datetime | None,
    default_user: str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The job document and its task documents for a submitted JobInfo/PluginInfo (the per-state chunk counts are
    :func:`recount`'s).

    ``deps`` are job ids to add to the JobInfo's own ``JobDependencies``; with any, an active job starts Pending.
    ``when``: the submission time (now when None); ``default_user``: the ``User`` when the JobInfo names none.
    """
    deps = [d for d in str(info.get("JobDependencies", "")).split(",") if d.strip()] + deps
    frames = parse_frames(str(info.get("Frames", "0")))
    chunk = int(info.get("ChunkSize", 1))
    env = {}
    extra = {}
    for key, value in info.items():
        if key.startswith("EnvironmentKeyValue"):
            k, _, v = str(value).partition("=")
            env[k] = v
        if key.startswith("ExtraInfoKeyValue"):
            k, _, v = str(value).partition("=")
            extra[k] = v
    out_dirs = [info[k] for k in sorted(info) if re.fullmatch(r"OutputDirectory\d+", k)]
    out_files = [info[k] for k in sorted(info) if re.fullmatch(r"OutputFilename\d+", k)]
    initial = str(info.get("InitialStatus", "Active"))
    stat = JOB_STAT["Suspended"] if initial == "Suspended" else JOB_STAT["Active"]
    if deps and stat == JOB_STAT["Active"]:
        stat = JOB_STAT["Pending"]
    job = {
        "_id": job_id,
        "Props": {
            "Name": str(info.get("Name", "Untitled")),
            "Batch": str(info.get("BatchName", "")),
            "User": str(info.get("UserName", default_user)),
            "Dept": str(info.get("Department", "")),
            "Cmmt": str(info.get("Comment", "")),
            "Frames": str(info.get("Frames", "0")),
            "Chunk": chunk,
            "Seq": truthy(info.get("Sequential", False)),
            "Pri": int(info.get("Priority", 50)),
            "Pool": str(info.get("Pool", "none")).lower() or "none",
            "SecPool": str(info.get("SecondaryPool", "")).lower(),
            "Grp": str(info.get("Group", "none")).lower() or "none",
            "Limits": [x for x in str(info.get("LimitGroups", "")).split(",") if x],
            "MachLmt": int(info.get("MachineLimit", 0)),
            "White": bool(info.get("Whitelist")),
            "ListedSlaves": [x for x in str(info.get("Whitelist") or info.get("Blacklist") or "").split(",") if x],
            "Dep": [{"JobID": d} for d in deps],
            "Tasks": 0,
            "PlugInfo": plugin,
            "Env": env,
            "ExDic": extra,
            "TskFailOvr": truthy(info.get("OverrideTaskFailureDetection", False)),
            "TskFailErr": int(info.get("FailureDetectionTaskErrors", 0)),
            "MaxTime": int(info.get("TaskTimeoutMinutes", 0)) * 60,
            "Conc": int(info.get("ConcurrentTasks", 1)),
        },
        "Plug": str(info["Plugin"]),
        "Stat": stat,
        "Date": iso_date(when or datetime.now(UTC)),
        "DateStart": NO_DATE,
        "DateComp": NO_DATE,
        "Errs": 0,
        "OutDir": out_dirs,
        "OutFile": out_files,
    }
    tasks = [
        {
            "_id": f"{job_id}_{i}",
            "JobID": job_id,
            "TaskID": i,
            "Frames": fr,
            "Slave": "",
            "Stat": TASK_STAT["Queued"],
            "Prog": "0 %",
            "Errs": 0,
            "StartRen": NO_DATE,
            "Comp": NO_DATE,
        }
        for i, fr in enumerate(_chunks(frames, chunk))
    ]
    job["Props"]["Tasks"] = len(tasks)
    return job, tasks


def recount(job: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    """Refresh the job's per-state chunk counts from its tasks; a job whose tasks all completed is Completed."""
    names = {
        "QueuedChunks": "Queued",
        "RenderingChunks": "Rendering",
        "PendingChunks": "Pending",
        "CompletedChunks": "Completed",
        "SuspendedChunks": "Suspended",
        "FailedChunks": "Failed",
    }
    for key, state in names.items():
        job[key] = sum(1 for t in tasks if t["Stat"] == TASK_STAT[state])
    if tasks and job["CompletedChunks"] == len(tasks) and job["Stat"] != JOB_STAT["Completed"]:
        job["Stat"] = JOB_STAT["Completed"]
        job["DateComp"] = iso_date(datetime.now(UTC))


def release_pending(jobs: Mapping[str, dict[str, Any]]) -> None:
    """Release pending jobs whose dependencies all completed (ResumeOnCompleteDependencies, the default)."""
    for job in jobs.values():
        if job["Stat"] == JOB_STAT["Pending"]:
            deps = [jobs.get(d["JobID"]) for d in job["Props"]["Dep"]]
            if all(d is not None and d["Stat"] == JOB_STAT["Completed"] for d in deps):
                job["Stat"] = JOB_STAT["Active"]
