"""The balance plan: what to change so roto tasks stop waiting while GPUs sit idle.

Three findings, each a :class:`Change` with its reason:

- idle GPU workers that cannot take waiting roto tasks because they lack the job's pool or group: add them, only
  as many as the waiting jobs can use (a sequential job — chunks carrying state — uses one worker at a time);
- multi-GPU workers that run fewer concurrent tasks than they have GPUs: one task per GPU with GPU affinity (the
  AIRoto plugin gives task thread ``t`` the affinity's ``t``-th GPU as ``CUDA_VISIBLE_DEVICES``);
- starving jobs, waiting with nothing rendering for longer than a threshold: raise their priority.

The planner is a pure function of the views so it can be tested on any farm state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from submitters.admin.models import Change, JobView, Plan, WorkerView


@dataclass(frozen=True)
class BalanceRules:
    starving_after_s: float = 30 * 60
    priority_step: int = 20
    max_priority: int = 100


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _demand(job: JobView) -> int:
    """Workers a waiting job could use now: one for a sequential job with nothing rendering, else its queue."""
    if job.state != "Active" or job.tasks_queued == 0:
        return 0
    if job.sequential:
        return 1 if job.tasks_rendering == 0 else 0
    return job.tasks_queued


def _recruit(workers: list[WorkerView], jobs: list[JobView]) -> list[Change]:
    idle_gpu = sorted((w for w in workers if w.idle and w.gpu_count), key=lambda w: (-w.gpu_count, w.name))
    taken: set[str] = set()
    changes: list[Change] = []
    for job in sorted(jobs, key=lambda j: (-j.priority, j.submitted or datetime.max.replace(tzinfo=UTC))):
        need = _demand(job)
        ready = [w for w in idle_gpu if w.name not in taken and w.serves(job.pool, job.secondary_pool, job.group)]
        for w in ready[:need]:
            taken.add(w.name)
        need -= min(need, len(ready))
        for w in [w for w in idle_gpu if w.name not in taken][:need]:
            taken.add(w.name)
            why = f"idle with {w.gpu_count} GPU(s) while {job.name} waits ({job.tasks_queued} queued task(s))"
            if job.pool.lower() != "none" and not w.serves(job.pool, job.secondary_pool, "none"):
                changes.append(
                    Change(
                        kind="add_pool",
                        target=w.name,
                        before=", ".join(w.pools) or "-",
                        after=", ".join([*w.pools, job.pool]),
                        pool=job.pool,
                        reason=f"{why} in pool {job.pool}",
                    )
                )
            if job.group.lower() != "none" and job.group.lower() not in {g.lower() for g in w.groups}:
                changes.append(
                    Change(
                        kind="add_group",
                        target=w.name,
                        before=", ".join(w.groups) or "-",
                        after=", ".join([*w.groups, job.group]),
                        group=job.group,
                        reason=f"{why} in group {job.group}",
                    )
                )
    return changes


def _one_task_per_gpu(
    workers: list[WorkerView], jobs: list[JobView], recruited: set[str], pool: str | None
) -> list[Change]:
    sequential = [j.name for j in jobs if j.sequential and j.state in ("Active", "Pending")]
    changes: list[Change] = []
    for w in workers:
        count = w.gpu_count  # None (unknown): nothing is proposed on a guess
        if count is None or count < 2 or w.concurrent_tasks is None or w.concurrent_tasks >= count or not w.enabled:
            continue
        if pool is not None and pool.lower() not in {p.lower() for p in w.pools} and w.name not in recruited:
            continue
        gpus = list(range(w.gpu_count))
        affinity = ",".join(map(str, w.gpu_affinity)) if w.override_gpu_affinity else "all"
        reason = (
            f"{w.gpu_count} GPUs but {w.concurrent_tasks} concurrent task(s): one task per GPU with GPU affinity "
            f"runs {w.gpu_count} roto tasks at once instead of {w.concurrent_tasks} (jobs need ConcurrentTasks "
            f">= {w.gpu_count} and GPUsPerTask=1)"
        )
        if sequential:
            reason += (
                f"; sequential jobs ({len(sequential)}) still run one task at a time each: for those, one Worker "
                "instance per GPU is a launcher setting the Web Service cannot change"
            )
        changes.append(
            Change(
                kind="gpu_per_task",
                target=w.name,
                before=f"concurrent {w.concurrent_tasks}, affinity {affinity}",
                after=f"concurrent {w.gpu_count}, affinity {','.join(map(str, gpus))}",
                concurrent_tasks=w.gpu_count,
                gpu_affinity=gpus,
                reason=reason,
            )
        )
    return changes


def _starving(jobs: list[JobView], rules: BalanceRules, now: datetime) -> list[Change]:
    changes: list[Change] = []
    for job in jobs:
        if not job.waiting or job.last_progress is None or job.priority >= rules.max_priority:
            continue
        waited = (now - job.last_progress).total_seconds()
        if waited <= rules.starving_after_s:
            continue
        new = min(rules.max_priority, job.priority + rules.priority_step)
        changes.append(
            Change(
                kind="priority",
                target=f"{job.name} ({job.job_id})",
                before=str(job.priority),
                after=str(new),
                priority=new,
                job_id=job.job_id,
                reason=(
                    f"waiting {_duration(waited)} (threshold {_duration(rules.starving_after_s)}) with "
                    f"{job.tasks_queued} queued task(s) and none rendering"
                ),
            )
        )
    return changes


def plan_balance(
    workers: list[WorkerView],
    jobs: list[JobView],
    *,
    pool: str | None = None,
    rules: BalanceRules | None = None,
    now: datetime | None = None,
) -> Plan:
    """The changes for a Deadline farm; ``pool`` limits the plan to the roto jobs and workers of one pool."""
    rules = rules or BalanceRules()
    now = now or datetime.now(UTC)
    if pool is not None:
        jobs = [j for j in jobs if pool.lower() in (j.pool.lower(), j.secondary_pool.lower())]
    recruit = _recruit(workers, jobs)
    recruited = {c.target for c in recruit if c.kind == "add_pool"}
    return Plan(
        farm="deadline",
        changes=[*recruit, *_one_task_per_gpu(workers, jobs, recruited, pool), *_starving(jobs, rules, now)],
    )
