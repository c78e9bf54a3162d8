"""A small client for the Deadline 10 Web Service REST API.

Hand-written on ``requests`` because Thinkbox's own ``DeadlineConnect`` builds JSON by string concatenation, has
no timeouts, no TLS options and no retries. Endpoint shapes follow Thinkbox's REST documentation and its
standalone Python API: ``/api/jobs``, ``/api/tasks``, ``/api/jobreports``, ``/api/taskreports``, ``/api/slaves``,
``/api/pools``, ``/api/groups``, ``/api/limitgroups``.

How each call is made (bounded retries with backoff, a POST never resent once it may have been acted on, typed
errors naming the URL, credentials kept out of every message, answers checked rather than trusted) is the
transport's part: :class:`~submitters.deadline.transport.WebServiceConnection`, which this client extends with the
endpoints. A job is created only when the answer carries a job id of Deadline's form (a MongoDB ObjectId,
:func:`is_job_id`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from submitters.deadline.errors import (
    DeadlineAuthError,
    DeadlineBadReply,
    DeadlineError,
    DeadlineRequestError,
    DeadlineServerError,
    DeadlineUncertain,
    DeadlineUnreachable,
    excerpt,
    is_job_id,
    job_id_time,
    redact_url,
)
from submitters.deadline.transport import WebServiceConnection

__all__ = [
    "DeadlineAuthError",
    "DeadlineBadReply",
    "DeadlineClient",
    "DeadlineError",
    "DeadlineRequestError",
    "DeadlineServerError",
    "DeadlineUncertain",
    "DeadlineUnreachable",
    "JobRequest",
    "is_job_id",
    "job_id_time",
    "redact_url",
]

JOB_COMMANDS = frozenset(
    {
        "suspend",
        "suspendnonrendering",
        "resume",
        "resumefailed",
        "requeue",
        "pend",
        "releasepending",
        "complete",
        "fail",
        "archive",
        "setjobmachinelimit",
        "setjobframerange",
        "save",
    }
)
TASK_COMMANDS = frozenset(
    {"requeue", "complete", "suspend", "resume", "fail", "resumefailed", "pend", "releasepending"}
)


@dataclass(frozen=True)
class JobRequest:
    """One job as the Web Service takes it; ``body()`` is exactly what is POSTed for a single submission."""

    job_info: dict[str, str]
    plugin_info: dict[str, str]
    aux_files: list[str] = field(default_factory=list)

    def body(self, id_only: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"JobInfo": self.job_info, "PluginInfo": self.plugin_info, "AuxFiles": self.aux_files}
        if id_only:
            out["IdOnly"] = True
        return out


def _csv(values: str | Iterable[str]) -> str:
    return values if isinstance(values, str) else ",".join(values)


class DeadlineClient(WebServiceConnection):
    """Talks to one Web Service, e.g. ``DeadlineClient("https://deadline:8082", user="render", password=...)``.

    The connection settings (``verify``, ``timeout``, ``retries``, ``backoff_s``, ``session``) are
    :class:`~submitters.deadline.transport.WebServiceConnection`'s; this class adds one method per endpoint call.
    """

    # -- jobs ------------------------------------------------------------------------------------------------------

    def submit_job(self, job: JobRequest) -> str:
        """Submit one job and return its id."""
        answer = self.request("POST", "/api/jobs", body=job.body(id_only=True))
        return self._job_id(answer)

    def submit_jobs(self, jobs: Sequence[JobRequest], depends_on_previous: Sequence[bool] | None = None) -> list[str]:
        """Submit several jobs in one request; ``depends_on_previous[i]`` chains job i on job i-1."""
        chain = list(depends_on_previous or [False] * len(jobs))
        body = {
            "Jobs": [
                {**job.body(id_only=False), "DependsOnPrevious": bool(dep)}
                for job, dep in zip(jobs, chain, strict=True)
            ],
            "Dependent": "false",
        }
        answer = self.request("POST", "/api/jobs", body=body)
        if not isinstance(answer, list) or len(answer) != len(jobs):
            raise DeadlineBadReply(
                f"expected {len(jobs)} submitted jobs, the service answered {excerpt(answer)!r}", url=self.url
            )
        return [self._job_id(item) for item in answer]

    def _job_id(self, answer: Any) -> str:
        """The id of a created job: the answer (or its ``_id``) must be a job id of Deadline's form."""
        found = answer.get("_id") if isinstance(answer, Mapping) else answer
        if is_job_id(found):
            return found
        raise DeadlineBadReply(
            f"the answer carries no job id of Deadline's form (24 hex digits): {excerpt(answer)!r}",
            url=f"{self.url}/api/jobs",
            hint="nothing may have been submitted; check Monitor",
        )

    def job_ids(self) -> list[str]:
        """Every job id in the repository (``IdOnly``: 24 characters per job, not the documents)."""
        return self._list(self.request("GET", "/api/jobs", params={"IdOnly": "true"}), "/api/jobs", str)

    def get_jobs(
        self, ids: Iterable[str] | None = None, *, states: Iterable[str] | None = None, details: bool = False
    ) -> list[dict[str, Any]]:
        params: dict[str, str] = {}
        if ids is not None:
            params["JobID"] = _csv(ids)
        if states is not None:
            params["States"] = _csv(states)
        if details:
            params["Details"] = "true"
        answer = self.request("GET", "/api/jobs", params=params or None)
        return self._list(answer, "/api/jobs", dict)

    def get_job(self, job_id: str) -> dict[str, Any]:
        jobs = self.get_jobs([job_id])
        if not jobs:
            raise DeadlineRequestError(f"no job {job_id}", url=f"{self.url}/api/jobs?JobID={job_id}", status=404)
        return jobs[0]

    def job_command(self, job_id: str, command: str, **extra: Any) -> Any:
        if command not in JOB_COMMANDS:
            raise DeadlineRequestError(f"unknown job command {command!r}", url=f"{self.url}/api/jobs")
        return self.request("PUT", "/api/jobs", body={"Command": command, "JobID": job_id, **extra})

    def suspend_job(self, job_id: str) -> Any:
        return self.job_command(job_id, "suspend")

    def resume_job(self, job_id: str) -> Any:
        return self.job_command(job_id, "resume")

    def resume_failed_job(self, job_id: str) -> Any:
        return self.job_command(job_id, "resumefailed")

    def requeue_job(self, job_id: str) -> Any:
        return self.job_command(job_id, "requeue")

    def set_job_machine_limit(self, job_id: str, limit: int, workers: Sequence[str] = (), whitelist: bool = False):
        return self.job_command(
            job_id, "setjobmachinelimit", Limit=limit, SlaveList=list(workers), WhiteListFlag=whitelist
        )

    def save_job(self, job: Mapping[str, Any]) -> Any:
        """Write back a job document as read from ``get_job`` (e.g. with a new ``Props.Pri``)."""
        return self.request("PUT", "/api/jobs", body={"Command": "save", "Job": dict(job)})

    def delete_job(self, job_id: str) -> Any:
        return self.request("DELETE", "/api/jobs", params={"JobID": job_id})

    # -- tasks and reports -----------------------------------------------------------------------------------------

    def get_tasks(self, job_id: str) -> list[dict[str, Any]]:
        answer = self.request("GET", "/api/tasks", params={"JobID": job_id})
        if isinstance(answer, Mapping):
            answer = answer.get("Tasks")
        return self._list(answer, "/api/tasks", dict)

    def task_command(self, job_id: str, command: str, task_ids: Iterable[int] | None = None) -> Any:
        if command not in TASK_COMMANDS:
            raise DeadlineRequestError(f"unknown task command {command!r}", url=f"{self.url}/api/tasks")
        body: dict[str, Any] = {"Command": command, "JobID": job_id}
        if task_ids is not None:
            body["TaskList"] = list(task_ids)
        return self.request("PUT", "/api/tasks", body=body)

    def job_reports(self, job_id: str, data: str = "allerrorcontents") -> Any:
        """``data``: log, error, requeue, all, alllogcontents, allerrorcontents (Thinkbox's names)."""
        return self.request("GET", "/api/jobreports", params={"JobID": job_id, "Data": data})

    def task_reports(self, job_id: str, task_id: int, data: str = "allcontents") -> Any:
        return self.request("GET", "/api/taskreports", params={"JobID": job_id, "TaskID": str(task_id), "Data": data})

    # -- workers ---------------------------------------------------------------------------------------------------

    def worker_names(self) -> list[str]:
        return self._list(self.request("GET", "/api/slaves", params={"NamesOnly": "true"}), "/api/slaves", str)

    def workers(self, names: Iterable[str] | None = None, data: str = "infosettings") -> list[dict[str, Any]]:
        """``data``: info, settings or infosettings (``{"Info": ..., "Settings": ...}`` per worker)."""
        params = {"Data": data}
        if names is not None:
            params["Name"] = _csv(names)
        return self._list(self.request("GET", "/api/slaves", params=params), "/api/slaves", dict)

    def save_worker_settings(self, settings: Mapping[str, Any]) -> Any:
        return self.request("PUT", "/api/slaves", body={"Command": "savesettings", "SlaveSettings": dict(settings)})

    # -- pools, groups, limits -------------------------------------------------------------------------------------

    def pool_names(self) -> list[str]:
        return self._list(self.request("GET", "/api/pools"), "/api/pools", str)

    def workers_in_pools(self, pools: Iterable[str]) -> list[str]:
        return self._list(self.request("GET", "/api/pools", params={"Pool": _csv(pools)}), "/api/pools", str)

    def add_pools_to_workers(self, workers: Sequence[str], pools: Sequence[str], overwrite: bool = False) -> Any:
        body = {"Slave": list(workers), "Pool": list(pools), "OverWrite": overwrite}
        return self.request("PUT", "/api/pools", body=body)

    def group_names(self) -> list[str]:
        return self._list(self.request("GET", "/api/groups"), "/api/groups", str)

    def workers_in_groups(self, groups: Iterable[str]) -> list[str]:
        return self._list(self.request("GET", "/api/groups", params={"Group": _csv(groups)}), "/api/groups", str)

    def add_groups_to_workers(self, workers: Sequence[str], groups: Sequence[str], overwrite: bool = False) -> Any:
        return self.request(
            "PUT", "/api/groups", body={"Slave": list(workers), "Group": list(groups), "OverWrite": overwrite}
        )

    def limit_names(self) -> list[str]:
        answer = self.request("GET", "/api/limitgroups", params={"NamesOnly": "true"})
        return self._list(answer, "/api/limitgroups", str)

    def limits(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        params = {"Names": _csv(names)} if names is not None else None
        return self._list(self.request("GET", "/api/limitgroups", params=params), "/api/limitgroups", dict)

    def set_limit(self, name: str, limit: int) -> Any:
        return self.request("PUT", "/api/limitgroups", body={"Command": "set", "Name": name, "Limit": limit})
