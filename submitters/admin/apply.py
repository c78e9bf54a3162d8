"""Carry out a balance plan through the Deadline Web Service, change by change, and say what became of each.

Only requests the Web Service documents are sent: ``PUT /api/pools`` and ``PUT /api/groups`` with ``Slave`` and
``Pool``/``Group`` (add to workers, never overwrite), ``PUT /api/jobs`` ``save`` with the job document read just
before (its ``Props.Pri`` changed), and ``PUT /api/slaves`` ``savesettings`` with the worker's settings document read
just before. The settings document's field names for concurrent tasks and GPU affinity are not in Thinkbox's REST
documentation, so a worker change only rewrites fields the service itself returned (:data:`WORKER_FIELDS`); when
they are absent the change is reported as "cannot apply" instead of sending a guessed field.

Every change ends as applied, refused (the service answered an error), cannot apply (no Web Service request does
it) or not sent (the service stopped answering or refused our credentials before its turn).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from submitters.admin.models import ApplyResult, Change
from submitters.deadline.client import DeadlineAuthError, DeadlineClient, DeadlineError, DeadlineUnreachable

WORKER_FIELDS = {"concurrent": "Conc", "affinity": "GpuAffinity", "override": "OverrideGpuAffinity"}
MONITOR_HINT = "set it in Monitor: Worker Properties → Concurrent Tasks and GPU Affinity"


class _CannotApply(Exception):
    """No documented Web Service request makes this change."""


def _add_pool(client: DeadlineClient, change: Change) -> list[str]:
    client.add_pools_to_workers([change.target], [change.pool or ""])
    return ["PUT /api/pools"]


def _add_group(client: DeadlineClient, change: Change) -> list[str]:
    client.add_groups_to_workers([change.target], [change.group or ""])
    return ["PUT /api/groups"]


def _gpu_per_task(client: DeadlineClient, change: Change) -> list[str]:
    docs = client.workers([change.target], data="settings")
    if not docs:
        raise _CannotApply(f"the service returned no settings for worker {change.target}")
    settings = dict(docs[0])
    missing = [f for f in WORKER_FIELDS.values() if f not in settings]
    if missing:
        raise _CannotApply(f"the worker settings document has no {', '.join(missing)} field; {MONITOR_HINT}")
    settings[WORKER_FIELDS["concurrent"]] = change.concurrent_tasks
    settings[WORKER_FIELDS["affinity"]] = list(change.gpu_affinity or [])
    settings[WORKER_FIELDS["override"]] = True
    client.save_worker_settings(settings)
    return ["GET /api/slaves?Data=settings", "PUT /api/slaves savesettings"]


def _priority(client: DeadlineClient, change: Change) -> list[str]:
    job = client.get_job(change.job_id or "")
    props = job.get("Props")
    if not isinstance(props, dict) or "Pri" not in props:
        raise _CannotApply("the job document has no Props.Pri to change; set the priority in Monitor")
    job["Props"] = {**props, "Pri": change.priority}
    client.save_job(job)
    return ["GET /api/jobs", "PUT /api/jobs save"]


APPLIERS: dict[str, Callable[[DeadlineClient, Change], list[str]]] = {
    "add_pool": _add_pool,
    "add_group": _add_group,
    "gpu_per_task": _gpu_per_task,
    "priority": _priority,
}


def apply_plan(client: DeadlineClient | None, changes: Iterable[Change]) -> list[ApplyResult]:
    """Try every change in order; a refusal does not stop the others, a lost service or credentials does."""
    results: list[ApplyResult] = []
    stopped: str | None = None
    for change in changes:
        if change.kind not in APPLIERS or client is None:
            results.append(ApplyResult(change=change, outcome="cannot apply", detail=_local_detail(change)))
            continue
        if stopped is not None:
            results.append(ApplyResult(change=change, outcome="not sent", detail=stopped))
            continue
        try:
            sent = APPLIERS[change.kind](client, change)
        except _CannotApply as exc:
            results.append(ApplyResult(change=change, outcome="cannot apply", detail=str(exc)))
        except (DeadlineUnreachable, DeadlineAuthError) as exc:
            results.append(ApplyResult(change=change, outcome="refused", detail=exc.format()))
            stopped = f"not sent after: {exc.message}"
        except DeadlineError as exc:
            results.append(ApplyResult(change=change, outcome="refused", detail=exc.format()))
        else:
            results.append(ApplyResult(change=change, outcome="applied", requests=sent))
    return results


def _local_detail(change: Change) -> str:
    if change.kind == "local_device":
        return "a local farm setting: edit local.device in farm.yaml"
    return "no Deadline Web Service to send it to"
