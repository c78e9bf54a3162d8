"""The jobs and tasks of the test Web Service (:mod:`tests.farm.fake_deadline`): seeding them and their endpoints.

Kept apart from the worker side so what a submission or a Monitor command does to a job can be read on its own.
Jobs and tasks are stored as the documents of :mod:`tests.farm.fake_deadline_documents`.

``/api/jobs`` takes a single submission (``JobInfo``, ``PluginInfo``, ``AuxFiles``, ``IdOnly``) or several at once
(``Jobs`` with ``DependsOnPrevious``, ``Dependent``) and the job commands of ``PUT``; ``/api/tasks`` answers
``{"ID", "Tasks"}`` and takes the task commands. The errors are the real service's (see the notes in
:mod:`tests.farm.fake_deadline`): a JobInfo without ``Plugin`` is a 400, an unknown command or job id a 500.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tests.farm.fake_deadline_documents import (
    JOB_STAT,
    NO_DATE,
    TASK_STAT,
    WORKER_STAT,
    iso_date,
    new_job,
    object_id,
    recount,
    release_pending,
    truthy,
)


class JobStore:
    """The job and task half of :class:`~tests.farm.fake_deadline.FakeDeadline`'s repository."""

    user: str | None
    jobs: dict[str, dict[str, Any]]
    tasks: dict[str, list[dict[str, Any]]]
    workers: dict[str, dict[str, Any]]
    submitted: list[dict[str, Any]]
    _lock: threading.RLock
    _ids: itertools.count[int]
    _machine: str

    # -- seeding ---------------------------------------------------------------------------------------------------

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
            recount(self.jobs[job_id], self.tasks[job_id])
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
            task["StartRen"] = iso_date(started)
            task["Comp"] = iso_date(completed)
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
            recount(self.jobs[job_id], self.tasks[job_id])

    def _create_job(
        self, info: dict[str, Any], plugin: dict[str, Any], depends: list[str], when: datetime | None = None
    ) -> str:
        job_id = object_id(when or datetime.now(UTC), next(self._ids), self._machine)
        job, tasks = new_job(job_id, info, plugin, depends, when, self.user or "deadline")
        self.jobs[job_id] = job
        self.tasks[job_id] = tasks
        recount(job, tasks)
        return job_id

    # -- /api/jobs and /api/tasks (called from the request handling, under the lock) --------------------------------

    def _jobs(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET":
            if truthy(q.get("IdOnly")):
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
                    chained = entry.get("DependsOnPrevious") or truthy(body.get("Dependent"))
                    chain = [ids[-1]] if ids and chained else []
                    ids.append(self._create_job(dict(entry["JobInfo"]), dict(entry.get("PluginInfo", {})), chain))
                return 200, [self.jobs[i] for i in ids]
            info = body.get("JobInfo")
            if not isinstance(info, dict) or "Plugin" not in info:
                return 400, "Bad Request: the JobInfo has no Plugin"
            self.submitted.append(body)
            job_id = self._create_job(dict(info), dict(body.get("PluginInfo", {})), [])
            return 200, {"_id": job_id} if truthy(body.get("IdOnly")) else self.jobs[job_id]
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
        recount(job, tasks)
        release_pending(self.jobs)
        return 200, "Success"

    def _tasks(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = q.get("JobID") if method == "GET" else (body or {}).get("JobID")
        if not job_id:
            return 400, "Bad Request: no JobID"
        if job_id not in self.jobs:
            return 500, f"Error: no job with ID {job_id!r}"
        tasks = self.tasks[job_id]
        if method == "GET":
            if truthy(q.get("IdOnly")):
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
            recount(self.jobs[job_id], tasks)
            release_pending(self.jobs)
            return 200, "Success"
        return 501, "Not Implemented"
