"""Typed views of the farm shared by ``rotofarm farm workers|queue|balance`` (and their ``--json`` output)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Gpu(_View):
    index: int
    model: str
    memory_mb: int | None = None


class WorkerView(_View):
    """One worker as the admin needs to see it.

    ``gpu_affinity`` empty means "no override: every GPU"; ``concurrent_tasks`` is None when the service did not
    report the setting (nothing is then assumed about it); ``gpus_known`` is False when the service reported no GPU
    field, and ``gpu_count`` is then None ("unknown"), never 0.
    """

    name: str
    state: str
    enabled: bool = True
    gpus: list[Gpu] = Field(default_factory=list)
    gpus_known: bool = True
    gpu_affinity: list[int] = Field(default_factory=list)
    override_gpu_affinity: bool = False
    concurrent_tasks: int | None = 1
    pools: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    job_id: str = ""
    job_name: str = ""
    job_plugin: str = ""
    task_id: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gpu_count(self) -> int | None:
        return len(self.gpus) if self.gpus_known else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idle(self) -> bool:
        return self.enabled and self.state == "Idle"

    def serves(self, pool: str, secondary_pool: str, group: str) -> bool:
        """Deadline's rule: a worker takes a job when it is in the job's pool (or secondary pool) and group."""
        pools = {p.lower() for p in self.pools} | {"none"}
        groups = {g.lower() for g in self.groups} | {"none"}
        pool_ok = pool.lower() in pools or (bool(secondary_pool) and secondary_pool.lower() in pools)
        return pool_ok and group.lower() in groups


class FailedTask(_View):
    task_id: int
    frames: str
    worker: str = ""
    errors: int = 0
    last_error: str = ""


class JobView(_View):
    """One roto job with its progress; ``seconds_per_frame`` is measured on its finished chunks only."""

    job_id: str
    name: str
    project: str = ""
    batch: str = ""
    state: str
    priority: int = 50
    pool: str = "none"
    secondary_pool: str = ""
    group: str = "none"
    sequential: bool = False
    concurrent_tasks: int = 1
    submitted: datetime | None = None
    last_progress: datetime | None = None
    tasks_total: int = 0
    tasks_done: int = 0
    tasks_queued: int = 0
    tasks_rendering: int = 0
    tasks_failed: int = 0
    frames_total: int = 0
    frames_done: float = 0.0
    seconds_per_frame: float | None = None
    eta_seconds: float | None = None
    failed: list[FailedTask] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float:
        return self.frames_done / self.frames_total if self.frames_total else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def waiting(self) -> bool:
        """Tasks are queued and nothing of the job renders."""
        return self.state == "Active" and self.tasks_queued > 0 and self.tasks_rendering == 0


class BatchView(_View):
    name: str
    jobs: list[JobView] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def frames_total(self) -> int:
        return sum(j.frames_total for j in self.jobs)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def frames_done(self) -> float:
        return sum(j.frames_done for j in self.jobs)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def eta_seconds(self) -> float | None:
        """Shots run side by side on the farm, so a batch is done when its slowest unfinished job is."""
        pending = [j for j in self.jobs if j.frames_done < j.frames_total]
        if any(j.eta_seconds is None for j in pending):
            return None
        return max((j.eta_seconds or 0.0 for j in pending), default=0.0)


class QueueView(_View):
    farm: Literal["deadline", "local"]
    batches: list[BatchView] = Field(default_factory=list)


ChangeKind = Literal["add_pool", "add_group", "gpu_per_task", "priority", "local_device"]


class Change(_View):
    """One proposed change, its target, the values before/after as the admin reads them, and why."""

    kind: ChangeKind
    target: str
    before: str
    after: str
    reason: str
    pool: str | None = None
    group: str | None = None
    concurrent_tasks: int | None = None
    gpu_affinity: list[int] | None = None
    priority: int | None = None
    job_id: str | None = None


class Plan(_View):
    farm: Literal["deadline", "local"]
    changes: list[Change] = Field(default_factory=list)


Outcome = Literal["applied", "refused", "cannot apply", "not sent"]


class ApplyResult(_View):
    change: Change
    outcome: Outcome
    detail: str = ""
    requests: list[str] = Field(default_factory=list)
