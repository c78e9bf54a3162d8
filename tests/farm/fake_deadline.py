"""A stand-in for the Deadline 10 Web Service: a real HTTP server on 127.0.0.1 with a small repository behind it.

Deadline cannot run on these machines, so the client, the submitter and the farm-admin commands are tested
against this. It speaks the same endpoints, JSON shapes and errors as Thinkbox's Web Service for what we use:

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

Errors as the real service gives them: 401 without the right basic-auth credentials, 400 for a POST without a body
or a JobInfo without ``Plugin``, 400 for a PUT without ``Command``, 500 for an unknown command or job id. Tests
inject failures with :meth:`FakeDeadline.fail_next` (HTTP status), :meth:`FakeDeadline.drop_next` (the connection
is closed with no answer) and :meth:`FakeDeadline.answer_next` (any status, body and headers: an HTML login page,
``{not json``, a redirect to an SSO page).

Reports follow Thinkbox's REST pages for job and task reports: ``Data=error|log|requeue|all`` answer report
documents, ``Data=allerrorcontents|alllogcontents|allcontents`` the reports' texts; with no such report the answer
is a text message, not JSON. A worker writes a log report for every task it renders and an error report for every
failed attempt; an error report's text is sectioned like Deadline's (``Error``, ``Type``, ``Stack Trace``, ``Log``
under ``=====`` banners, the task log last), its ``Error`` section holding the plugin's FailRender message.

Scheduling: ``Sequential`` orders dequeueing (the lowest queued task first); Deadline does not document that it
waits for an earlier task that is rendering elsewhere or was requeued, so this does not wait either: a later
chunk may start while an earlier one is rendering or has failed.

Unverified, stated so nobody relies on it: which fields of ``Data=info`` carry a worker's GPUs. No public document
or script shows them; this fake puts them in ``Info.VideoCard`` (comma-separated card names) and ``Info.GpuMemMB``
by default, or in none (``add_worker(report_gpus=False)``), and the reader must cope with both.
``Settings.GpuAffinity`` (device indices), ``Settings.OverrideGpuAffinity`` and ``Settings.Conc`` (concurrent
tasks) mirror the plugin API's ``GpuAffinity()``/``OverrideGpuAffinity()`` and Monitor's settings.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import ssl
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

JOB_STAT = {"Unknown": 0, "Active": 1, "Suspended": 2, "Completed": 3, "Failed": 4, "Pending": 6}
TASK_STAT = {"Queued": 2, "Suspended": 3, "Rendering": 4, "Completed": 5, "Failed": 6, "Pending": 8}
WORKER_STAT = {"Unknown": 0, "Rendering": 1, "Idle": 2, "Offline": 3, "Stalled": 4, "StartingJob": 8}
NO_DATE = "0001-01-01T00:00:00Z"


def _iso(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") if when else NO_DATE


def object_id(when: datetime, counter: int, machine: str) -> str:
    """A MongoDB ObjectId as Deadline's ``_id``: 4 bytes of seconds, 5 of machine/process, 3 of counter."""
    return f"{int(when.timestamp()) & 0xFFFFFFFF:08x}{machine}{counter & 0xFFFFFF:06x}"


BANNER = "=" * 55
NO_REPORTS = "No {kind}reports for the {what}"


def error_report_text(message: str, log: str) -> str:
    """An error report's contents, sectioned as Deadline writes them (the task log last)."""
    sections = [
        ("Error", f"Error: FailRenderException : {message}\n   at Deadline.Plugins.DeadlinePlugin.FailRender(String)"),
        ("Type", "RenderPluginException"),
        ("Stack Trace", "   at Deadline.Plugins.SandboxedPlugin.d(DeadlineMessage bgt, CancellationToken bgu)"),
        ("Log", log),
    ]
    return "\n".join(f"{BANNER}\n{name}\n{BANNER}\n{text}\n" for name, text in sections)


def _truthy(value: Any) -> bool:
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


@dataclass
class Injection:
    remaining: int
    status: int | None  # None: drop the connection
    method: str | None
    path: str | None
    skip: int = 0
    lost_answer: bool = False
    body: str | None = None  # answer this raw text instead of the injected error
    headers: dict[str, str] = field(default_factory=dict)
    acted: bool = False  # the service acts on the request before the answer is replaced

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None = None


@dataclass
class FakeDeadline:
    """The repository state plus the HTTP server. Use as a context manager; ``url`` is the base URL."""

    user: str | None = "render"
    password: str = "s3cret-pw"
    pools: list[str] = field(default_factory=lambda: ["none"])
    groups: list[str] = field(default_factory=lambda: ["none"])
    limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    log: list[Recorded] = field(default_factory=list)
    tls: tuple[str, str] | None = None  # (certificate, key) PEM paths: serve HTTPS

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._machine = os.urandom(5).hex()
        self._injections: list[Injection] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for name in list(self.limits):
            self.add_limit(name, **self.limits[name])

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeDeadline:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeDeadline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{port}"

    # -- failure injection -----------------------------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, status: int = 500, method: str | None = None, path: str | None = None, after: int = 0
    ) -> None:
        """After ``after`` matching requests pass, the next ``count`` answer ``status`` without touching the state."""
        with self._lock:
            self._injections.append(Injection(count, status, method, path, after))

    def drop_next(
        self, count: int = 1, method: str | None = None, path: str | None = None, after_handling: bool = False
    ) -> None:
        """The next ``count`` matching requests get their connection closed with no answer; ``after_handling``:
        the service acts on the request first (a job is created) and the answer is lost on the way back."""
        with self._lock:
            self._injections.append(Injection(count, None, method, path, lost_answer=after_handling))

    def answer_next(
        self,
        body: str,
        *,
        status: int = 200,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
        acted: bool = False,
        after: int = 0,
    ) -> None:
        """After ``after`` matching requests pass, the next ``count`` get ``status`` with ``body`` as raw text (and
        ``headers``): a login page, a redirect, garbage. ``acted``: the service does the request first (a job is
        created) and the answer is replaced on the way back."""
        with self._lock:
            self._injections.append(
                Injection(count, status, method, path, after, body=body, headers=dict(headers or {}), acted=acted)
            )

    def _take_injection(self, method: str, path: str) -> Injection | None:
        with self._lock:
            for inj in self._injections:
                if inj.remaining > 0 and inj.matches(method, path):
                    if inj.skip > 0:
                        inj.skip -= 1
                        continue
                    inj.remaining -= 1
                    return inj
        return None

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.log if r.method == method and r.path == path]

    # -- seeding ---------------------------------------------------------------------------------------------------

    def add_pool(self, *names: str) -> None:
        for n in names:
            if n.lower() not in self.pools:
                self.pools.append(n.lower())

    def add_group(self, *names: str) -> None:
        for n in names:
            if n.lower() not in self.groups:
                self.groups.append(n.lower())

    def add_limit(self, name: str, limit: int = 1, in_use: int = 0) -> None:
        self.limits[name] = {"Name": name, "Limit": limit, "InUse": in_use, "Slaves": [], "White": False}

    def add_worker(
        self,
        name: str,
        *,
        state: str = "Idle",
        pools: Sequence[str] = (),
        groups: Sequence[str] = (),
        gpus: int = 0,
        gpu_model: str = "NVIDIA RTX A6000",
        gpu_memory_mb: int = 49140,
        gpu_affinity: Sequence[int] = (),
        override_gpu_affinity: bool | None = None,
        concurrent_tasks: int = 1,
        cpus: int = 32,
        ram_mb: int = 131072,
        enabled: bool = True,
        report_gpus: bool = True,
    ) -> dict[str, Any]:
        """A worker; its pools and groups are created if missing. Returns its ``{"Info", "Settings"}``.
        ``report_gpus=False``: its info carries no GPU field at all (see the module notes)."""
        self.add_pool(*pools)
        self.add_group(*groups)
        info = {
            "Name": name,
            "Host": name,
            "Stat": WORKER_STAT[state],
            "StatDate": _iso(datetime.now(UTC)),
            "Procs": cpus,
            "RAM": ram_mb * 1024 * 1024,
            "Pools": ",".join(p.lower() for p in pools),
            "Grps": ",".join(g.lower() for g in groups),
            "JobId": "",
            "JobName": "",
            "JobPlug": "",
            "TskId": "",
            "TskProg": "",
        }
        if report_gpus:
            info.update(VideoCard=", ".join([gpu_model] * gpus), GpuMemMB=gpu_memory_mb if gpus else 0)
        settings = {
            "Name": name,
            "Enable": enabled,
            "Pools": [p.lower() for p in pools],
            "Grps": [g.lower() for g in groups],
            "Conc": concurrent_tasks,
            "GpuAffinity": list(gpu_affinity),
            "OverrideGpuAffinity": bool(gpu_affinity) if override_gpu_affinity is None else override_gpu_affinity,
        }
        with self._lock:
            self.workers[name] = {"Info": info, "Settings": settings}
        return self.workers[name]

    def add_job(
        self,
        job_info: dict[str, Any],
        plugin_info: dict[str, Any] | None = None,
        *,
        state: str | None = None,
        submitted_at: datetime | None = None,
        task_states: Sequence[str] | None = None,
        depends_on: Sequence[str] = (),
    ) -> str:
        """Seed a job straight into the repository (no HTTP); ``task_states`` sets each task's state in order."""
        with self._lock:
            job_id = self._create_job(dict(job_info), dict(plugin_info or {}), list(depends_on), submitted_at)
            if state is not None:
                self.jobs[job_id]["Stat"] = JOB_STAT[state]
            for task, tstate in zip(self.tasks[job_id], task_states or (), strict=False):
                task["Stat"] = TASK_STAT[tstate]
            self._recount(job_id)
            return job_id

    def set_task(
        self,
        job_id: str,
        task_id: int,
        state: str,
        *,
        worker: str = "",
        started: datetime | None = None,
        completed: datetime | None = None,
        progress: int | None = None,
    ) -> None:
        with self._lock:
            task = self.tasks[job_id][task_id]
            task["Stat"] = TASK_STAT[state]
            task["Slave"] = worker
            task["StartRen"] = _iso(started)
            task["Comp"] = _iso(completed)
            if progress is not None:
                task["Prog"] = f"{progress} %"
            if worker and worker in self.workers and state == "Rendering":
                info = self.workers[worker]["Info"]
                info.update(
                    Stat=WORKER_STAT["Rendering"],
                    JobId=job_id,
                    JobName=self.jobs[job_id]["Props"]["Name"],
                    JobPlug=self.jobs[job_id]["Plug"],
                    TskId=str(task_id),
                )
            self._recount(job_id)

    # -- the worker side (what Deadline's workers do through the database) ----------------------------------------

    def dequeue(self, worker: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Give ``worker`` the next task it may render, the way Deadline's scheduler would, or None."""
        with self._lock:
            w = self.workers[worker]
            if not w["Settings"]["Enable"]:
                return None
            serves_pools = set(w["Settings"]["Pools"]) | {"none"}
            serves_groups = set(w["Settings"]["Grps"]) | {"none"}
            candidates = sorted(
                (j for j in self.jobs.values() if j["Stat"] == JOB_STAT["Active"]),
                key=lambda j: (-j["Props"]["Pri"], j["Date"]),
            )
            for job in candidates:
                props = job["Props"]
                if props["Pool"] not in serves_pools and props["SecPool"] not in serves_pools:
                    continue
                if props["Grp"] not in serves_groups:
                    continue
                listed = worker in props["ListedSlaves"]
                if (props["White"] and not listed) or (not props["White"] and listed):
                    continue
                tasks = self.tasks[job["_id"]]
                rendering_on = {t["Slave"] for t in tasks if t["Stat"] == TASK_STAT["Rendering"]}
                if props["MachLmt"] and worker not in rendering_on and len(rendering_on) >= props["MachLmt"]:
                    continue
                for task in tasks:  # in TaskID order: with Sequential, the lowest queued task, without waiting
                    if task["Stat"] == TASK_STAT["Queued"]:
                        task.update(Stat=TASK_STAT["Rendering"], Slave=worker, StartRen=_iso(datetime.now(UTC)))
                        if job["DateStart"] == NO_DATE:
                            job["DateStart"] = _iso(datetime.now(UTC))
                        w["Info"].update(
                            Stat=WORKER_STAT["Rendering"],
                            JobId=job["_id"],
                            JobName=props["Name"],
                            JobPlug=job["Plug"],
                            TskId=str(task["TaskID"]),
                        )
                        self._recount(job["_id"])
                        return json.loads(json.dumps(job)), dict(task)
            return None

    def report_progress(self, job_id: str, task_id: int, percent: float) -> None:
        with self._lock:
            self.tasks[job_id][task_id]["Prog"] = f"{round(percent)} %"

    def finish_task(self, job_id: str, task_id: int, *, ok: bool, error: str = "", log: str = "") -> None:
        """The worker reports a task done (``ok``) or errored; errors beyond the job's limit fail the task. Every
        attempt leaves a log report (``log``: the task's output); a failed one also an error report."""
        with self._lock:
            job, task = self.jobs[job_id], self.tasks[job_id][task_id]
            worker = task["Slave"]
            if worker in self.workers:
                self.workers[worker]["Info"].update(
                    Stat=WORKER_STAT["Idle"], JobId="", JobName="", JobPlug="", TskId="", TskProg=""
                )
            when = _iso(datetime.now(UTC))
            base = {"JobID": job_id, "TaskID": task_id, "Slave": worker, "Date": when}
            log_text = f"0: INFO: Executing plugin command of type 'Render Task'\n{log}".rstrip()
            if ok:
                task.update(Stat=TASK_STAT["Completed"], Comp=when, Prog="100 %")
            else:
                task["Errs"] += 1
                job["Errs"] += 1
                text = error_report_text(error, log_text)
                self.reports.setdefault(job_id, []).append({**base, "Type": "error", "Contents": text})
                limit = job["Props"]["TskFailErr"] if job["Props"]["TskFailOvr"] else 5
                task["Stat"] = TASK_STAT["Failed"] if limit and task["Errs"] >= limit else TASK_STAT["Queued"]
                if task["Stat"] == TASK_STAT["Failed"]:
                    job["Stat"] = JOB_STAT["Failed"]
            self.reports.setdefault(job_id, []).append({**base, "Type": "log", "Contents": log_text})
            self._recount(job_id)
            self._settle()

    # -- internals -------------------------------------------------------------------------------------------------

    def _create_job(
        self, info: dict[str, Any], plugin: dict[str, Any], depends: list[str], when: datetime | None = None
    ) -> str:
        job_id = object_id(when or datetime.now(UTC), next(self._ids), self._machine)
        deps = [d for d in str(info.get("JobDependencies", "")).split(",") if d.strip()] + depends
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
                "User": str(info.get("UserName", self.user or "deadline")),
                "Dept": str(info.get("Department", "")),
                "Cmmt": str(info.get("Comment", "")),
                "Frames": str(info.get("Frames", "0")),
                "Chunk": chunk,
                "Seq": _truthy(info.get("Sequential", False)),
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
                "TskFailOvr": _truthy(info.get("OverrideTaskFailureDetection", False)),
                "TskFailErr": int(info.get("FailureDetectionTaskErrors", 0)),
                "MaxTime": int(info.get("TaskTimeoutMinutes", 0)) * 60,
                "Conc": int(info.get("ConcurrentTasks", 1)),
            },
            "Plug": str(info["Plugin"]),
            "Stat": stat,
            "Date": _iso(when or datetime.now(UTC)),
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
        self.jobs[job_id] = job
        self.tasks[job_id] = tasks
        self._recount(job_id)
        return job_id

    def _recount(self, job_id: str) -> None:
        job, tasks = self.jobs[job_id], self.tasks[job_id]
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
            job["DateComp"] = _iso(datetime.now(UTC))

    def _settle(self) -> None:
        """Release pending jobs whose dependencies all completed (ResumeOnCompleteDependencies, the default)."""
        for job in self.jobs.values():
            if job["Stat"] == JOB_STAT["Pending"]:
                deps = [self.jobs.get(d["JobID"]) for d in job["Props"]["Dep"]]
                if all(d is not None and d["Stat"] == JOB_STAT["Completed"] for d in deps):
                    job["Stat"] = JOB_STAT["Active"]

    def _job_or_none(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.get(job_id)

    # -- request handling (called from the HTTP handler, under the lock) -------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        routes = {
            "/api/jobs": self._jobs,
            "/api/tasks": self._tasks,
            "/api/jobreports": self._jobreports,
            "/api/taskreports": self._taskreports,
            "/api/slaves": self._slaves,
            "/api/pools": self._pools,
            "/api/groups": self._groups,
            "/api/limitgroups": self._limitgroups,
        }
        route = routes.get(path.rstrip("/"))
        if route is None:
            return 404, "Not Found"
        if method in ("POST", "PUT") and body is None:
            return 400, "Bad Request: no message body"
        if (
            method == "PUT"
            and (not isinstance(body, dict) or "Command" not in body)
            and path not in ("/api/pools", "/api/groups")
        ):
            return 400, "Bad Request: the message body has no Command"
        with self._lock:
            return route(method, query, body)

    def _jobs(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET":
            if _truthy(q.get("IdOnly")):
                return 200, list(self.jobs)
            jobs = list(self.jobs.values())
            if "JobID" in q:
                wanted = q["JobID"].split(",")
                jobs = [self.jobs[i] for i in wanted if i in self.jobs]
            if "States" in q:
                states = {JOB_STAT.get(s.strip(), -1) for s in q["States"].split(",")}
                jobs = [j for j in jobs if j["Stat"] in states]
            return 200, jobs
        if method == "POST":
            if "Jobs" in body:
                entries = body["Jobs"]
                if not all(isinstance(e, dict) and "Plugin" in e.get("JobInfo", {}) for e in entries):
                    return 400, "Bad Request: a JobInfo has no Plugin"
                self.submitted.extend(entries)
                ids: list[str] = []
                for entry in entries:
                    chained = entry.get("DependsOnPrevious") or _truthy(body.get("Dependent"))
                    chain = [ids[-1]] if ids and chained else []
                    ids.append(self._create_job(dict(entry["JobInfo"]), dict(entry.get("PluginInfo", {})), chain))
                return 200, [self.jobs[i] for i in ids]
            info = body.get("JobInfo")
            if not isinstance(info, dict) or "Plugin" not in info:
                return 400, "Bad Request: the JobInfo has no Plugin"
            self.submitted.append(body)
            job_id = self._create_job(dict(info), dict(body.get("PluginInfo", {})), [])
            return 200, {"_id": job_id} if _truthy(body.get("IdOnly")) else self.jobs[job_id]
        if method == "PUT":
            return self._job_command(body)
        if method == "DELETE":
            ids = [i for i in q.get("JobID", "").split(",") if i]
            if not ids:
                return 400, "Bad Request: no JobID"
            for i in ids:
                self.jobs.pop(i, None)
                self.tasks.pop(i, None)
            return 200, "Success"
        return 501, "Not Implemented"

    def _job_command(self, body: dict[str, Any]) -> tuple[int, Any]:
        command = str(body["Command"]).lower()
        if command == "save":
            doc = body.get("Job") or {}
            job = self.jobs.get(doc.get("_id", ""))
            if job is None:
                return 500, "Error: job not found"
            job["Props"].update({k: v for k, v in doc.get("Props", {}).items() if k in job["Props"]})
            return 200, "Success"
        job = self.jobs.get(str(body.get("JobID", "")))
        if job is None:
            return 500, f"Error: no job with ID {body.get('JobID')!r}"
        tasks = self.tasks[job["_id"]]

        def set_tasks(from_states: Iterable[str], to: str) -> None:
            codes = {TASK_STAT[s] for s in from_states}
            for t in tasks:
                if t["Stat"] in codes:
                    t["Stat"] = TASK_STAT[to]
                    if to == "Queued":
                        t.update(Slave="", Prog="0 %", StartRen=NO_DATE, Comp=NO_DATE)

        if command == "suspend":
            set_tasks(["Queued", "Rendering"], "Suspended")
            job["Stat"] = JOB_STAT["Suspended"]
        elif command == "resume":
            set_tasks(["Suspended"], "Queued")
            job["Stat"] = JOB_STAT["Active"]
        elif command == "resumefailed":
            set_tasks(["Failed"], "Queued")
            job["Stat"] = JOB_STAT["Active"]
        elif command == "requeue":
            set_tasks(["Rendering", "Completed", "Failed", "Suspended"], "Queued")
            job["Stat"], job["DateComp"] = JOB_STAT["Active"], NO_DATE
        elif command == "pend":
            job["Stat"] = JOB_STAT["Pending"]
        elif command == "releasepending":
            job["Stat"] = JOB_STAT["Active"]
        elif command == "complete":
            set_tasks(["Queued", "Rendering", "Failed", "Suspended", "Pending"], "Completed")
        elif command == "fail":
            set_tasks(["Queued", "Rendering", "Suspended", "Pending"], "Failed")
            job["Stat"] = JOB_STAT["Failed"]
        elif command == "archive":
            self.jobs.pop(job["_id"])
            self.tasks.pop(job["_id"])
            return 200, "Success"
        elif command == "setjobmachinelimit":
            job["Props"]["MachLmt"] = int(body.get("Limit", 0))
            job["Props"]["ListedSlaves"] = list(body.get("SlaveList", []))
            job["Props"]["White"] = bool(body.get("WhiteListFlag", False))
        elif command == "setjobframerange":
            return 500, "Error: setjobframerange is not supported by this test service"
        else:
            return 500, f"Error: invalid command {command!r}"
        self._recount(job["_id"])
        self._settle()
        return 200, "Success"

    def _tasks(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID") if method == "GET" else (body or {}).get("JobID")
        if not job_id:
            return 400, "Bad Request: no JobID"
        if job_id not in self.jobs:
            return 500, f"Error: no job with ID {job_id!r}"
        tasks = self.tasks[job_id]
        if method == "GET":
            if _truthy(q.get("IdOnly")):
                return 200, [t["TaskID"] for t in tasks]
            if "TaskID" in q:
                return 200, [t for t in tasks if str(t["TaskID"]) == q["TaskID"]]
            return 200, {"ID": job_id, "Tasks": tasks}
        if method == "PUT":
            targets = body.get("TaskList")
            chosen = [t for t in tasks if targets is None or t["TaskID"] in set(targets)]
            to = {
                "requeue": "Queued",
                "complete": "Completed",
                "suspend": "Suspended",
                "resume": "Queued",
                "fail": "Failed",
                "resumefailed": "Queued",
                "pend": "Pending",
                "releasepending": "Queued",
            }
            command = str(body["Command"]).lower()
            if command not in to:
                return 500, f"Error: invalid command {command!r}"
            for t in chosen:
                t["Stat"] = TASK_STAT[to[command]]
            self._recount(job_id)
            self._settle()
            return 200, "Success"
        return 501, "Not Implemented"

    def _report_answer(self, reports: list[dict[str, Any]], data: str, what: str) -> tuple[int, Any]:
        kinds = {"all": None, "error": "error", "log": "log", "requeue": "requeue"}
        contents = {"allcontents": None, "allerrorcontents": "error", "alllogcontents": "log"}
        if data not in kinds and data not in contents:
            return 400, f"Bad Request: invalid Data {data!r}"
        kind = kinds.get(data, contents.get(data))
        chosen = [r for r in reports if kind is None or r["Type"] == kind]
        if not chosen:
            return 200, NO_REPORTS.format(kind=f"{kind} " if kind else "", what=what)
        if data in contents:
            return 200, [r["Contents"] for r in chosen]
        return 200, [{k: v for k, v in r.items() if k != "Contents"} for r in chosen]

    def _jobreports(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID", "")
        if job_id not in self.jobs:
            return 500 if job_id else 400, "Error: no such job"
        return self._report_answer(self.reports.get(job_id, []), q.get("Data", "all").lower(), "Job")

    def _taskreports(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID", "")
        if job_id not in self.jobs:
            return 500 if job_id else 400, "Error: no such job"
        if not q.get("TaskID", "").isdigit():
            return 400, "Bad Request: TaskID must be an integer"
        reports = [r for r in self.reports.get(job_id, []) if str(r["TaskID"]) == q["TaskID"]]
        return self._report_answer(reports, q.get("Data", "all").lower(), "Job Task")

    def _slaves(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET":
            if _truthy(q.get("NamesOnly")):
                return 200, list(self.workers)
            names = q["Name"].split(",") if "Name" in q else list(self.workers)
            chosen = [self.workers[n] for n in names if n in self.workers]
            data = q.get("Data", "infosettings").lower()
            if data == "info":
                return 200, [w["Info"] for w in chosen]
            if data == "settings":
                return 200, [w["Settings"] for w in chosen]
            if data == "infosettings":
                return 200, chosen
            return 400, f"Bad Request: invalid Data {data!r}"
        if method == "PUT":
            if str(body["Command"]).lower() != "savesettings":
                return 500, f"Error: invalid command {body['Command']!r}"
            new = body.get("SlaveSettings")
            if not isinstance(new, dict) or new.get("Name") not in self.workers:
                return 500, "Error: unknown worker in SlaveSettings"
            worker = self.workers[new["Name"]]
            worker["Settings"].update({k: v for k, v in new.items() if k in worker["Settings"]})
            worker["Info"]["Pools"] = ",".join(worker["Settings"]["Pools"])
            worker["Info"]["Grps"] = ",".join(worker["Settings"]["Grps"])
            return 200, "Success"
        return 501, "Not Implemented"

    def _membership(self, method: str, q: dict[str, str], body: Any, kind: str) -> tuple[int, Any]:
        names, key, info_key = (self.pools, "Pool", "Pools") if kind == "pool" else (self.groups, "Group", "Grps")
        if method == "GET":
            if key in q:
                wanted = {n.lower() for n in q[key].split(",")}
                return 200, [w for w, d in self.workers.items() if wanted & set(d["Settings"][info_key])]
            return 200, list(names)
        if method == "POST":
            for n in [body.get(key)] if isinstance(body.get(key), str) else body.get(key, []):
                (self.add_pool if kind == "pool" else self.add_group)(n)
            return 200, "Success"
        if method == "PUT":
            workers = body.get("Slave")
            wanted = body.get(key)
            workers = [workers] if isinstance(workers, str) else list(workers or [])
            wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
            unknown_w = [w for w in workers if w not in self.workers]
            unknown_n = [n for n in wanted if n.lower() not in names]
            if not workers or unknown_w or unknown_n:
                return 400, f"Bad Request: unknown worker(s) {unknown_w} or {kind}(s) {unknown_n}"
            for w in workers:
                s = self.workers[w]["Settings"]
                current = [] if _truthy(body.get("OverWrite")) else list(s[info_key])
                s[info_key] = current + [n.lower() for n in wanted if n.lower() not in current]
                self.workers[w]["Info"][info_key] = ",".join(s[info_key])
            return 200, "Success"
        if method == "DELETE":
            workers = q.get("Slaves", "").split(",")
            drop = {n.lower() for n in q.get(key, "").split(",")}
            for w in workers:
                if w in self.workers:
                    s = self.workers[w]["Settings"]
                    s[info_key] = [n for n in s[info_key] if n not in drop]
                    self.workers[w]["Info"][info_key] = ",".join(s[info_key])
            return 200, "Success"
        return 501, "Not Implemented"

    def _pools(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        return self._membership(method, q, body, "pool")

    def _groups(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        return self._membership(method, q, body, "group")

    def _limitgroups(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET":
            if _truthy(q.get("NamesOnly")):
                return 200, list(self.limits)
            names = q.get("Names") or q.get("Name")
            if not names:
                return 200, list(self.limits.values())
            return 200, [self.limits[n] for n in names.split(",") if n in self.limits]
        if method == "PUT":
            command = str(body["Command"]).lower()
            if command == "set":
                name = body.get("Name")
                if not name:
                    return 400, "Bad Request: no Name"
                if name not in self.limits:
                    self.add_limit(name, limit=0)
                entry = self.limits[name]
                if "Limit" in body:
                    entry["Limit"] = int(body["Limit"])
                return 200, "Success"
            return 500, f"Error: invalid command {command!r}"
        return 501, "Not Implemented"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDeadline
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; do not wait for delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _authorised(self) -> bool:
        if self.fake.user is None:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.fake.user and password == self.fake.password

    def _serve(self) -> None:
        parsed = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._answer(400, "Bad Request: the body is not JSON", parsed.path, query, None)
                return
        record = Recorded(self.command, parsed.path, query, body)
        self.fake.log.append(record)
        injection = self.fake._take_injection(self.command, parsed.path)
        if injection is not None and injection.status is None:
            if injection.lost_answer and self._authorised():
                record.status = self.fake.handle(self.command, parsed.path, query, body)[0]
            self.close_connection = True
            self.connection.close()
            return
        if injection is not None and injection.body is not None:
            if injection.acted and self._authorised():
                self.fake.handle(self.command, parsed.path, query, body)
            record.status = injection.status
            self._send(injection.status or 200, injection.body, extra=injection.headers, raw=True)
            return
        if injection is not None:
            record.status = injection.status
            self._send(injection.status, "Internal Server Error: injected")
            return
        if not self._authorised():
            record.status = 401
            self._send(401, "Unauthorized", extra={"WWW-Authenticate": 'Basic realm="Deadline"'})
            return
        status, payload = self.fake.handle(self.command, parsed.path, query, body)
        record.status = status
        self._send(status, payload)

    def _answer(self, status: int, payload: Any, path: str, query: dict[str, str], body: Any) -> None:
        self.fake.log.append(Recorded(self.command, path, query, body, status))
        self._send(status, payload)

    def _send(self, status: int, payload: Any, extra: dict[str, str] | None = None, raw: bool = False) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status)
        if not raw or not any(k.lower() == "content-type" for k in extra or {}):
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def seconds_ago(seconds: float) -> datetime:
    """Convenience for seeding: a UTC time ``seconds`` before now."""
    return datetime.now(UTC) - timedelta(seconds=seconds)
