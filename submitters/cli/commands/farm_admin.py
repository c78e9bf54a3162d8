"""``rotofarm farm workers | queue | balance``: the farm admin's view of GPU workers and the roto queue.

Joined to the ``farm`` group by :mod:`submitters.cli.commands.farm` through ``register(farm_app)``. The logic lives in
:mod:`submitters.admin`; this module reads the config, picks the farm, and prints rich tables or ``--json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from roto_core.errors import RotofarmError
from submitters.admin.models import ApplyResult, Plan, QueueView, WorkerView
from submitters.farm_config import FarmConfig

if TYPE_CHECKING:
    from submitters.deadline.client import DeadlineClient


class AdminFarm(StrEnum):
    deadline = "deadline"
    local = "local"


FarmOpt = Annotated[
    AdminFarm | None,
    typer.Option("--farm", help="deadline (the Web Service) or local (this machine) (default: farm.yaml's farm)."),
]
ConfigOpt = Annotated[Path | None, typer.Option("--farm-config", help="A farm.yaml to use.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PoolOpt = Annotated[str | None, typer.Option("--pool", help="Only this Deadline pool (checked against the server).")]


def register(farm_app: typer.Typer) -> None:
    farm_app.command("workers")(workers)
    farm_app.command("queue")(queue)
    farm_app.command("balance")(balance)


def _farm(farm: AdminFarm | None, config: FarmConfig) -> AdminFarm:
    """The farm named, else farm.yaml's (the same default as submit; bundles go to a farm seen through Deadline)."""
    return farm or (AdminFarm.local if config.farm == "local" else AdminFarm.deadline)


def _out() -> Console:
    return Console(width=200)


def _client(config: FarmConfig) -> DeadlineClient:
    from submitters.deadline.jobs import client_from_config

    return client_from_config(config)


def _print_json(payload: object) -> None:
    typer.echo(json.dumps(payload, indent=2))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


def _gpus(w: WorkerView) -> str:
    if not w.gpus_known:
        return "unknown"
    if not w.gpus:
        return "-"
    models = sorted({g.model for g in w.gpus})
    memory = {g.memory_mb for g in w.gpus if g.memory_mb}
    mem = f" {max(memory) / 1024:.0f} GiB" if memory else ""
    return f"{w.gpu_count}× {', '.join(models)}{mem}"


def workers(
    farm: FarmOpt = None,
    pool: PoolOpt = None,
    as_json: JsonOpt = False,
    farm_config: ConfigOpt = None,
) -> None:
    """Every worker: state, GPUs, GPU affinity, concurrent tasks, pools, groups and the job/task it runs."""
    config = FarmConfig.load(farm_config)
    farm = _farm(farm, config)
    if farm is AdminFarm.local:
        from submitters.admin.local_state import local_gpus, local_worker

        views = [local_worker(config, local_gpus())]
    else:
        from submitters.admin.deadline_state import check_pool, read_workers

        client = _client(config)
        views = read_workers(client, check_pool(client, pool) if pool else None)
    if as_json:
        _print_json([w.model_dump(mode="json") for w in views])
        return
    table = Table(
        "worker",
        "state",
        "GPUs",
        "affinity",
        "concurrent",
        "pools",
        "groups",
        "job / task",
        title=f"{farm.value} workers ({len(views)})",
    )
    for w in views:
        affinity = ",".join(map(str, w.gpu_affinity)) if w.override_gpu_affinity else "all"
        job = f"{w.job_name or w.job_id} / {w.task_id}" if w.job_id else "-"
        state = w.state if w.enabled else f"{w.state} (disabled)"
        table.add_row(
            w.name,
            state,
            _gpus(w),
            affinity if w.gpus or not w.gpus_known else "-",
            str(w.concurrent_tasks or "?"),
            ", ".join(w.pools) or "-",
            ", ".join(w.groups) or "-",
            job,
        )
    _out().print(table)


def _read_queue(farm: AdminFarm, config: FarmConfig, include_completed: bool, jobs_root: Path | None) -> QueueView:
    if farm is AdminFarm.local:
        from submitters.admin.local_state import read_local_queue

        return read_local_queue(jobs_root or config.jobs_root_path, include_completed=include_completed)
    from submitters.admin.deadline_state import read_queue

    return read_queue(_client(config), include_completed=include_completed)


def queue(
    farm: FarmOpt = None,
    completed: Annotated[bool, typer.Option("--completed", help="Include completed jobs.")] = False,
    jobs_root: Annotated[Path | None, typer.Option("--jobs-root", help="local: job folders root.")] = None,
    as_json: JsonOpt = False,
    farm_config: ConfigOpt = None,
) -> None:
    """Roto batches and jobs: progress, failed tasks with their last error line, ETA from measured s/frame."""
    config = FarmConfig.load(farm_config)
    farm = _farm(farm, config)
    view = _read_queue(farm, config, completed, jobs_root)
    if as_json:
        _print_json(view.model_dump(mode="json"))
        return
    out = _out()
    if not view.batches:
        out.print(f"no roto jobs on the {farm.value} farm")
        return
    table = Table(
        "batch / job", "project", "state", "pri", "tasks", "frames", "progress", "s/frame", "ETA", title="roto queue"
    )
    failures = Table("job", "task", "frames", "worker", "errors", "last error", title="failed tasks")
    for batch in view.batches:
        done = batch.frames_done / batch.frames_total if batch.frames_total else 0.0
        table.add_row(
            f"[bold]{batch.name}[/]",
            "",
            "",
            "",
            "",
            f"{batch.frames_done:.0f}/{batch.frames_total}",
            f"{done:.0%}",
            "",
            _duration(batch.eta_seconds),
        )
        for job in batch.jobs:
            tasks = f"{job.tasks_done}/{job.tasks_total}"
            if job.tasks_rendering:
                tasks += f" ({job.tasks_rendering} rendering)"
            if job.tasks_failed:
                tasks += f" [red]{job.tasks_failed} failed[/]"
            spf = f"{job.seconds_per_frame:.2f}" if job.seconds_per_frame is not None else "-"
            table.add_row(
                f"  {job.name}",
                job.project or "-",
                job.state,
                str(job.priority),
                tasks,
                f"{job.frames_done:.0f}/{job.frames_total}",
                f"{job.progress:.0%}",
                spf,
                _duration(job.eta_seconds),
            )
            for f in job.failed:
                failures.add_row(job.name, str(f.task_id), f.frames, f.worker or "-", str(f.errors), f.last_error)
    out.print(table)
    if failures.row_count:
        out.print(failures)


def balance(
    farm: FarmOpt = None,
    pool: PoolOpt = None,
    starving_after: Annotated[
        float, typer.Option("--starving-after", min=0, help="Minutes a job may wait with nothing rendering.")
    ] = 30.0,
    priority_step: Annotated[
        int, typer.Option("--priority-step", min=1, max=100, help="Priority added to a starving job.")
    ] = 20,
    apply: Annotated[bool, typer.Option("--apply", help="Send the changes the Web Service supports.")] = False,
    as_json: JsonOpt = False,
    farm_config: ConfigOpt = None,
) -> None:
    """Propose (and with --apply make) the changes that stop roto tasks waiting while GPUs sit idle."""
    from submitters.admin.apply import apply_plan

    config = FarmConfig.load(farm_config)
    farm = _farm(farm, config)
    client = None
    if farm is AdminFarm.local:
        from submitters.admin.local_state import local_gpus, local_worker, plan_local

        plan = plan_local(local_worker(config, local_gpus()), config)
    else:
        from submitters.admin.balance import BalanceRules, plan_balance
        from submitters.admin.deadline_state import check_pool, read_queue, read_workers

        client = _client(config)
        chosen = check_pool(client, pool or config.roto_job.pool)
        jobs = [j for b in read_queue(client).batches for j in b.jobs]
        rules = BalanceRules(starving_after_s=starving_after * 60, priority_step=priority_step)
        plan = plan_balance(read_workers(client), jobs, pool=chosen, rules=rules, now=datetime.now(UTC))
    results = apply_plan(client, plan.changes) if apply else None
    if as_json:
        payload = plan.model_dump(mode="json")
        if results is not None:
            payload["results"] = [r.model_dump(mode="json", exclude={"change"}) for r in results]
        _print_json(payload)
    else:
        _print_plan(plan, results)
    if results is not None:
        _fail_on_refusals(results)


def _print_plan(plan: Plan, results: list[ApplyResult] | None) -> None:
    out = _out()
    if not plan.changes:
        out.print(f"nothing to balance on the {plan.farm} farm")
        return
    columns = ["change", "target", "before", "after", "reason"]
    if results is not None:
        columns += ["outcome", "detail"]
    table = Table(*columns, title=f"balance plan ({len(plan.changes)} changes)")
    colours = {"applied": "green", "refused": "red", "cannot apply": "yellow", "not sent": "red"}
    for i, change in enumerate(plan.changes):
        row = [change.kind, change.target, change.before, change.after, change.reason]
        if results is not None:
            r = results[i]
            row += [f"[{colours[r.outcome]}]{r.outcome}[/]", r.detail or ", ".join(r.requests)]
        table.add_row(*row)
    out.print(table)
    if results is not None:
        counts = {k: sum(1 for r in results if r.outcome == k) for k in colours}
        out.print(
            f"applied {counts['applied']} of {len(results)}; not applied: {counts['refused']} refused, "
            f"{counts['not sent']} not sent, {counts['cannot apply']} cannot be applied through the Web Service"
        )
    else:
        out.print("nothing changed: run with --apply to send the changes the Web Service supports")


def _fail_on_refusals(results: list[ApplyResult]) -> None:
    bad = [r for r in results if r.outcome in ("refused", "not sent")]
    if bad:
        detail = "; ".join(f"{r.change.kind} {r.change.target}: {r.outcome}" for r in bad)
        raise RotofarmError(f"{len(bad)} of {len(results)} changes were not applied ({detail})", where="--apply")
