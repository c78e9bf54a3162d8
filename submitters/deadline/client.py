"""A small client for the Deadline 10 Web Service REST API.

Hand-written on ``requests`` because Thinkbox's own ``DeadlineConnect`` builds JSON by string concatenation, has
no timeouts, no TLS options and no retries. Endpoint shapes follow Thinkbox's REST documentation and its
standalone Python API: ``/api/jobs``, ``/api/tasks``, ``/api/jobreports``, ``/api/taskreports``, ``/api/slaves``,
``/api/pools``, ``/api/groups``, ``/api/limitgroups``.

Retries: connection failures and 5xx answers are retried a bounded number of times with exponential backoff; a 4xx
is the caller's mistake and is never retried. A POST (a submission) whose connection broke after it was sent is not
resent either, since the service may have created the job: the error says so (:class:`DeadlineUncertain`), and the
submitter looks for such a job by its rotofarm id before rolling back.

Every failure is a :class:`DeadlineError` that names the URL and what to check. The password is only ever handed to
``requests`` for basic auth: it is not logged, not in ``repr`` and not in any error text; credentials written into
the URL itself (``http://user:secret@host``) are redacted from every message and log line (see
:mod:`submitters.deadline.errors`).

Answers are checked, not trusted: the Web Service answers JSON (or a plain ``Success``), never HTML and never a
redirect, so a login page, an SSO redirect or text that does not parse where JSON is due is a
:class:`DeadlineBadReply`. A job is created only when the answer carries a job id of Deadline's form (a MongoDB
ObjectId, :func:`is_job_id`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from submitters.deadline.errors import (
    DeadlineAuthError,
    DeadlineBadReply,
    DeadlineError,
    DeadlineRequestError,
    DeadlineServerError,
    DeadlineUncertain,
    DeadlineUnreachable,
    checked_url,
    checked_verify,
    excerpt,
    is_job_id,
    job_id_time,
    redact_url,
)

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

log = logging.getLogger(__name__)

JOB_STATES = ("Active", "Suspended", "Completed", "Failed", "Pending")
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


def _never_sent(exc: Exception) -> bool:
    """True when no byte of the request can have reached the service (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):
            return True
        stack.extend(
            a
            for a in (*getattr(item, "args", ()), getattr(item, "reason", None), item.__cause__, item.__context__)
            if isinstance(a, BaseException)
        )
    return False


def _csv(values: str | Iterable[str]) -> str:
    return values if isinstance(values, str) else ",".join(values)


class DeadlineClient:
    """Talks to one Web Service, e.g. ``DeadlineClient("https://deadline:8082", user="render", password=...)``.

    ``verify`` is True (system CAs), False (only for a lab; logged as a warning) or a CA bundle path.
    ``timeout`` is (connect, read) seconds. ``retries`` counts extra attempts after the first one.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        verify: bool | str = True,
        timeout: tuple[float, float] = (5.0, 60.0),
        retries: int = 3,
        backoff_s: float = 0.5,
        session: requests.Session | None = None,
    ) -> None:
        self._base = checked_url(url)
        self.url = redact_url(self._base)
        self.user = user
        self._auth = (user, password or "") if user else None
        self.verify = checked_verify(verify)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._session = session or requests.Session()
        if verify is False:
            log.warning("TLS verification is off for %s", self.url)

    def __repr__(self) -> str:
        return f"DeadlineClient({self.url!r}, user={self.user!r})"

    # -- transport -----------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None) -> Any:
        """One call with retries; returns the decoded JSON (or the text when the answer is not JSON)."""
        url = f"{self._base}{path}"
        shown = f"{self.url}{path}"
        if params:
            shown += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        attempt = 0
        while True:
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    auth=self._auth,
                    verify=self.verify,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise DeadlineUnreachable(
                    f"TLS handshake failed: {type(exc).__name__}",
                    url=shown,
                    hint="check the certificate, or point deadline.ca_bundle at the studio CA bundle",
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if method == "POST" and not _never_sent(exc):
                    raise DeadlineUncertain(
                        f"the connection broke after the request was sent ({type(exc).__name__}); not resent, "
                        "since the service may have acted on it",
                        url=shown,
                        hint="check Monitor for the job before submitting again",
                    ) from None
                if attempt < self.retries:
                    self._sleep(attempt, method, shown, type(exc).__name__)
                    attempt += 1
                    continue
                raise DeadlineUnreachable(
                    f"the Web Service does not answer ({type(exc).__name__} after {attempt + 1} attempts)",
                    url=shown,
                    hint="check deadline.url (host and port) and that the Deadline Web Service is running",
                ) from None
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                raise DeadlineRequestError(
                    f"the request could not be made ({type(exc).__name__})",
                    url=shown,
                    hint="check deadline.url and deadline.ca_bundle in farm.yaml",
                ) from None
            if resp.status_code >= 500 and attempt < self.retries:
                self._sleep(attempt, method, shown, f"HTTP {resp.status_code}")
                attempt += 1
                continue
            return self._decode(resp, method, shown)

    def _sleep(self, attempt: int, method: str, shown: str, why: str) -> None:
        delay = self.backoff_s * (2**attempt)
        log.info("%s %s failed (%s); retry %d/%d in %.2fs", method, shown, why, attempt + 1, self.retries, delay)
        time.sleep(delay)

    def _decode(self, resp: requests.Response, method: str, shown: str) -> Any:
        text = resp.text.strip()
        detail = excerpt(text.splitlines()[0]) if text else resp.reason
        status = resp.status_code
        if 300 <= status < 400:
            raise DeadlineBadReply(
                f"HTTP {status}: the Web Service redirected to {excerpt(resp.headers.get('Location', '?'))}",
                url=shown,
                status=status,
                hint="a login or SSO page stands in front of the Web Service; point deadline.url at the service itself",
            )
        if status in (401, 403):
            raise DeadlineAuthError(
                f"HTTP {status}: credentials refused",
                url=shown,
                status=status,
                hint="check deadline.user and the password variable named by deadline.password_env",
            )
        if 400 <= status < 500:
            raise DeadlineRequestError(f"{method} refused, HTTP {status}: {detail}", url=shown, status=status)
        if status >= 500:
            raise DeadlineServerError(
                f"HTTP {status} after {self.retries + 1} attempts: {detail}",
                url=shown,
                status=status,
                hint="see the Web Service log on the Deadline server",
            )
        if not text:
            return None
        if text.startswith("<"):
            raise DeadlineBadReply(
                f"HTTP {status}: the answer is an HTML page, not the Web Service's ({excerpt(text)})",
                url=shown,
                status=status,
                hint="a login or proxy page answers at deadline.url; point it at the Deadline Web Service itself",
            )
        try:
            return resp.json()
        except ValueError:
            return text

    def _list(self, answer: Any, path: str, item: type | tuple[type, ...]) -> list[Any]:
        """``answer`` as the list the Web Service sends for ``path`` (``null`` is an empty one), or a bad reply."""
        if answer is None:
            return []
        if not isinstance(answer, list) or not all(isinstance(x, item) for x in answer):
            raise DeadlineBadReply(
                f"expected a JSON list, the service answered {excerpt(answer)!r}", url=f"{self.url}{path}"
            )
        return answer

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
