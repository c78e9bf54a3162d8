"""The farm side of the test Web Service (:mod:`tests.farm.fake_deadline`): workers, pools, groups, limits.

Kept apart from the jobs because it is the part the farm-admin commands read and change, and the part a test's
simulated worker (:mod:`tests.farm.farm_worker`) drives: seeding workers, the scheduler's choice of a task, a
task's end, and the ``/api/slaves``, ``/api/pools``, ``/api/groups`` and ``/api/limitgroups`` endpoints.

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

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tests.farm.fake_deadline_documents import (
    JOB_STAT,
    NO_DATE,
    TASK_STAT,
    WORKER_STAT,
    iso_date,
    recount,
    release_pending,
    truthy,
)
from tests.farm.fake_deadline_reports import error_report_text


class WorkerSide:
    """The worker, pool, group and limit half of :class:`~tests.farm.fake_deadline.FakeDeadline`'s repository."""

    pools: list[str]
    groups: list[str]
    limits: dict[str, dict[str, Any]]
    jobs: dict[str, dict[str, Any]]
    tasks: dict[str, list[dict[str, Any]]]
    workers: dict[str, dict[str, Any]]
    reports: dict[str, list[dict[str, Any]]]
    _lock: threading.RLock

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
            "StatDate": iso_date(datetime.now(UTC)),
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
                        task.update(Stat=TASK_STAT["Rendering"], Slave=worker, StartRen=iso_date(datetime.now(UTC)))
                        if job["DateStart"] == NO_DATE:
                            job["DateStart"] = iso_date(datetime.now(UTC))
                        w["Info"].update(
                            Stat=WORKER_STAT["Rendering"],
                            JobId=job["_id"],
                            JobName=props["Name"],
                            JobPlug=job["Plug"],
                            TskId=str(task["TaskID"]),
                        )
                        recount(job, tasks)
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
            when = iso_date(datetime.now(UTC))
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
            recount(job, self.tasks[job_id])
            release_pending(self.jobs)

    # -- /api/slaves, /api/pools, /api/groups, /api/limitgroups (called from the request handling, under the lock) --

    def _slaves(self, method: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET":
            if truthy(q.get("NamesOnly")):
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
                current = [] if truthy(body.get("OverWrite")) else list(s[info_key])
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
            if truthy(q.get("NamesOnly")):
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
