"""A stand-in for the Deadline 10 Web Service: a real HTTP server on 127.0.0.1 with a small repository behind it.

Deadline cannot run on these machines, so the client, the submitter and the farm-admin commands are tested
against this. It speaks the same endpoints, JSON shapes and errors as Thinkbox's Web Service for what we use.
Tests import everything from here; the parts live beside it, each with the evidence for what it does:

- :mod:`tests.farm.fake_deadline_documents`: the job, task and worker documents, their state codes, and job ids
  of Deadline's form (MongoDB ObjectIds whose first 8 hex digits are the creation time);
- :mod:`tests.farm.fake_deadline_jobs`: seeding jobs and tasks, ``/api/jobs`` and ``/api/tasks``;
- :mod:`tests.farm.fake_deadline_workers`: workers, pools, groups and limits, the scheduler's choice of a task
  (and what is unverified about a worker's GPU fields), ``/api/slaves``, ``/api/pools``, ``/api/groups``,
  ``/api/limitgroups``;
- :mod:`tests.farm.fake_deadline_reports`: job and task reports, sectioned like Deadline's;
- :mod:`tests.farm.fake_deadline_http`: the server, basic auth, the request log and failure injection.

Errors as the real service gives them: 401 without the right basic-auth credentials, 400 for a POST without a body
or a JobInfo without ``Plugin``, 400 for a PUT without ``Command``, 500 for an unknown command or job id. Tests
inject failures with :meth:`FakeDeadline.fail_next` (HTTP status), :meth:`FakeDeadline.drop_next` (the connection
is closed with no answer) and :meth:`FakeDeadline.answer_next` (any status, body and headers: an HTML login page,
``{not json``, a redirect to an SSO page).
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

from tests.farm.fake_deadline_documents import JOB_STAT, TASK_STAT, WORKER_STAT, parse_frames
from tests.farm.fake_deadline_http import FailureInjection, Injection, LocalServer, Recorded
from tests.farm.fake_deadline_jobs import JobStore
from tests.farm.fake_deadline_reports import ReportRoutes, error_report_text
from tests.farm.fake_deadline_workers import WorkerSide

__all__ = [
    "JOB_STAT",
    "TASK_STAT",
    "WORKER_STAT",
    "FakeDeadline",
    "error_report_text",
    "parse_frames",
    "seconds_ago",
]


@dataclass
class FakeDeadline(LocalServer, FailureInjection, JobStore, ReportRoutes, WorkerSide):
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


def seconds_ago(seconds: float) -> datetime:
    """Convenience for seeding: a UTC time ``seconds`` before now."""
    return datetime.now(UTC) - timedelta(seconds=seconds)
