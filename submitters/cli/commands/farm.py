"""``rotofarm submit`` (the coordinator's command) and the ``rotofarm farm`` command group.

``submit`` reads a cut (or a tracker selection), plans one roto job and one finalize+publish job per shot, writes
every manifest to its job folder, and hands the plan to a farm: ``local`` (this machine, openjd-sessions),
``deadline`` (the Web Service; ``--dry-run DIR`` writes the request bodies instead) or ``openjd-bundle`` (job
bundles for AWS Deadline Cloud). ``rotofarm farm`` gathers commands about the farm itself; farm-admin commands
live in submitters.cli.commands.farm_admin.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from roto_core.errors import InputError, RotofarmError
from submitters.cli.checks import output_dir, project_name
from submitters.cli.commands import farm_admin
from submitters.cli.ingest_options import (
    FolderTemplateOpt,
    FpsOpt,
    HandlesOpt,
    HeightOpt,
    MergeRepeatsOpt,
    NameRegexOpt,
    PlatesOpt,
    PromptsOpt,
    SequenceOpt,
    SequenceRegexOpt,
    StartFrameOpt,
    TrackOpt,
    WidthOpt,
    ingest_options_from_params,
)
from submitters.cli.interrupt import kept_on_interrupt
from submitters.farm_config import FarmConfig

if TYPE_CHECKING:
    from roto_core.contracts import ShotList
    from submitters.deadline.client import DeadlineClient
    from submitters.local_farm import ShotOutcome
    from submitters.plan import JobPlan

farm_app = typer.Typer(
    name="farm", help="The render farm: check the Deadline connection, see and balance workers.", no_args_is_help=True
)


class Farm(StrEnum):
    local = "local"
    deadline = "deadline"
    openjd_bundle = "openjd-bundle"


def register(app: typer.Typer) -> None:
    """Add ``submit`` and the ``farm`` group to ``app``."""
    app.command("submit")(submit)
    farm_app.command("check")(check)
    farm_admin.register(farm_app)
    app.add_typer(farm_app, name="farm")


def _console() -> Console:
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, width=200)


def _load_config(
    farm_config: Path | None,
    jobs_root: Path | None,
    chunk_size: int | None,
    tracker: str | None,
    create_folders: bool | None,
) -> FarmConfig:
    config = FarmConfig.load(farm_config)
    updates: dict[str, object] = {}
    if jobs_root is not None:
        updates["jobs_root"] = str(jobs_root)
    if chunk_size is not None:
        updates["chunk_size"] = chunk_size
    if tracker is not None:
        if tracker not in ("local", "ayon"):
            raise InputError(f"--tracker must be local or ayon, not {tracker!r}")
        updates["tracker"] = tracker
    if create_folders is not None:
        updates["create_folders"] = create_folders
    return config.model_copy(update=updates) if updates else config


def submit(
    cut: Annotated[
        Path | None, typer.Argument(help="Editorial file (.edl .otio .xml .aaf .ale); omit with --from-tracker.")
    ] = None,
    project: Annotated[str, typer.Option("--project", help="Tracker project of the shots.")] = ...,
    farm: Annotated[Farm | None, typer.Option("--farm", help="Where the jobs run (default: farm.yaml's farm).")] = None,
    dry_run: Annotated[
        Path | None, typer.Option("--dry-run", help="Deadline: write each request body under DIR, submit nothing.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="openjd-bundle: folder for the job bundles.")] = None,
    from_tracker: Annotated[
        list[str] | None, typer.Option("--from-tracker", help="Tracker folder(s) whose shots to submit, e.g. /sq010.")
    ] = None,
    tracker: Annotated[str | None, typer.Option("--tracker", help="local or ayon (default: farm.yaml).")] = None,
    tracker_root: Annotated[
        Path | None, typer.Option("--tracker-root", help="Root of the local tracker (default: tracker.yaml).")
    ] = None,
    create_folders: Annotated[
        bool | None, typer.Option("--create-folders/--no-create-folders", help="Publish creates missing folders.")
    ] = None,
    farm_config: Annotated[Path | None, typer.Option("--farm-config", help="A farm.yaml to use.")] = None,
    jobs_root: Annotated[Path | None, typer.Option("--jobs-root", help="Shared job folders root.")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", min=1, help="Frames per task.")] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Job and version comment.")] = None,
    track: TrackOpt = None,
    start_frame: StartFrameOpt = None,
    handles: HandlesOpt = None,
    fps: FpsOpt = None,
    name_regex: NameRegexOpt = None,
    sequence: SequenceOpt = None,
    sequence_regex: SequenceRegexOpt = None,
    folder_template: FolderTemplateOpt = None,
    plates: PlatesOpt = None,
    prompts: PromptsOpt = None,
    merge_repeats: MergeRepeatsOpt = None,
    width: WidthOpt = None,
    height: HeightOpt = None,
) -> None:
    """Roto every shot of a cut on the farm: one GPU job per shot, then finalize and publish."""
    from submitters.plan import plan_submission

    config = _load_config(farm_config, jobs_root, chunk_size, tracker, create_folders)
    farm = farm or Farm(config.farm)
    if dry_run is not None and farm is not Farm.deadline:
        raise InputError("--dry-run writes Deadline requests: use it with --farm deadline", where="--dry-run")
    if farm is Farm.openjd_bundle and out is None:
        raise InputError("--farm openjd-bundle needs --out DIR for the bundles", where="--out")
    _check_outputs(project, config, dry_run=dry_run, out=out, jobs_root_given=jobs_root is not None)
    if tracker_root is not None and dry_run is None:
        output_dir(tracker_root, "--tracker-root")
    console = _console()
    if from_tracker:
        if cut is not None:
            raise InputError("give a cut or --from-tracker, not both", where=str(cut))
        from publish import shotlist_from_tracker

        if config.tracker == "local":
            _require_local_project(project, tracker_root)
        shots = shotlist_from_tracker(config.tracker, project, list(from_tracker), local_root=tracker_root)
        if prompts is not None:  # the tracker knows frames and plates, the prompts come from the sidecar
            from otio_ingest.shots import with_sidecar_prompts

            shots = shots.model_copy(update={"shots": with_sidecar_prompts(shots.shots, prompts)})
    else:
        if cut is None:
            raise InputError("no cut given: name an editorial file, or use --from-tracker FOLDER")
        from otio_ingest import ingest_file

        options = ingest_options_from_params(locals())
        shots = ingest_file(cut, options)
        for warning in shots.editorial.get("warnings", []):
            typer.echo(f"warning: {warning}", err=True)
    if not shots.shots:
        raise InputError("the cut has no shots to submit", where=shots.source)
    doubts = _preflight(shots, project, config, tracker_root, strict=farm is Farm.local)
    client = None
    if farm is Farm.deadline and dry_run is None:
        from submitters.deadline.jobs import client_from_config, validate_names

        client = client_from_config(config)
        if config.deadline.validate_names:
            validate_names(client, [config.roto_job, config.finalize_job])

    if doubts:
        from submitters.preflight import summary

        typer.echo(f"warning: {summary(doubts, 'problem(s) the farm will meet')}", err=True)
    with _ProgressBar(console, "planning", len(shots.shots)) as advance:
        plan = plan_submission(
            shots,
            project,
            config,
            tracker_root=str(tracker_root) if tracker_root else None,
            comment=comment,
            progress=advance,
            write_manifests=dry_run is None,
        )
    Console(width=200).print(f"planned [bold]{len(plan.shots)}[/] shots as batch [bold]{plan.batch_name}[/]")
    if farm is Farm.deadline:
        _deadline(plan, config, client, dry_run, console)
    elif farm is Farm.openjd_bundle:
        _bundles(plan, config, out, console)
    else:
        _local(plan, config, console)


def _check_outputs(
    project: str, config: FarmConfig, *, dry_run: Path | None, out: Path | None, jobs_root_given: bool
) -> None:
    """Every folder this submission will write, checked before any work (a dry run writes only under DIR)."""
    project_name(project)
    if dry_run is not None:
        output_dir(dry_run, "--dry-run")
        return
    if out is not None:
        output_dir(out, "--out")
    output_dir(config.jobs_root_path, "--jobs-root" if jobs_root_given else "farm.yaml: jobs_root")


def _local_tracker_root(tracker_root: Path | None) -> Path:
    from publish.config import load_tracker_settings

    return Path(tracker_root or load_tracker_settings().resolved_local_root()).expanduser()


def _require_local_project(project: str, tracker_root: Path | None) -> None:
    """A --from-tracker lookup in the local tracker reads only: an unknown project is an error, not a new one."""
    from submitters.preflight import local_project_exists

    root = _local_tracker_root(tracker_root)
    if not local_project_exists(root, project):
        raise InputError(f"project {project!r} is not in the local tracker at {root}", where="--from-tracker")


def _preflight(
    shots: ShotList, project: str, config: FarmConfig, tracker_root: Path | None, *, strict: bool
) -> list[str]:
    """Refuse a batch whose configuration, plates, prompts or tracker folders would fail it on the farm.

    Plates and folders are errors on the local farm; for a remote farm (whose workers may map paths) they are
    one warning line (the returned problems), while configuration faults are errors everywhere."""
    from roto_core.config import load_config
    from roto_core.contracts import PipelineSettings
    from submitters import preflight

    errors = preflight.pipeline_problems(load_config(PipelineSettings, "pipeline.yaml"), shots)
    doubts = [problem for shot in shots.shots for problem in preflight.shot_problems(shot)]
    if config.tracker == "local" and not config.create_folders:
        doubts += preflight.local_folder_problems(_local_tracker_root(tracker_root), project, shots)
    if config.tracker == "ayon" and not config.create_folders:
        doubts += preflight.ayon_folder_problems(project, shots)
    if strict:
        errors, doubts = errors + doubts, []
    if errors:
        raise InputError(preflight.summary(errors, "problem(s), nothing submitted"), where="submit")
    return doubts


class _ProgressBar:
    """A transient progress bar whose ``advance`` callable the planner and submitter call per shot."""

    def __init__(self, console: Console, label: str, total: int) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,  # off a terminal rich ends with an empty line before any error line
        )
        self.task = self.progress.add_task(label, total=total)

    def __enter__(self):
        self.progress.start()
        return lambda n=1: self.progress.advance(self.task, n)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _deadline(
    plan: JobPlan, config: FarmConfig, client: DeadlineClient | None, dry_run: Path | None, console: Console
) -> None:
    from submitters.deadline.jobs import submit_plan, write_dry_run
    from submitters.plan import record_submission

    if dry_run is not None:
        files = write_dry_run(plan, config, dry_run)
        Console(width=200).print(
            f"dry run: wrote {len(files)} request bodies under {dry_run} (nothing submitted; each finalize body "
            "depends on a placeholder id, <id of SHOT/1_roto>, that submission replaces with the roto job's id)"
        )
        return
    assert client is not None
    with _ProgressBar(console, "submitting to Deadline", len(plan.shots)) as advance:
        result = submit_plan(client, plan, config, validate=False, progress=advance)
    record_submission(plan, "deadline", result.job_ids)
    table = Table("shot", "roto job", "finalize+publish job", title=f"Deadline batch {plan.batch_name}")
    for shot, ids in zip(plan.shots, result.job_ids, strict=True):
        table.add_row(shot.shot, ids["roto"], ids["finalize"])
    Console(width=200).print(table)


def _bundles(plan: JobPlan, config: FarmConfig, out: Path | None, console: Console) -> None:
    from submitters.openjd_backend import write_bundles

    assert out is not None
    bundles = write_bundles(plan, out, config.executable)
    console.print(f"wrote {len(bundles)} OpenJD job bundles under {out} (template.yaml + parameter_values.yaml)")


class _RichReporter:
    """The local farm's live display: one line per shot, and a bar over every task of the batch."""

    def __init__(self, progress: Progress, total_tasks: int) -> None:
        self.progress = progress
        self.overall = progress.add_task("[bold]batch", total=total_tasks)
        self.rows: dict[str, int] = {}
        self.lock = threading.Lock()

    def shot_started(self, shot: str, total: int) -> None:
        with self.lock:
            self.rows[shot] = self.progress.add_task(shot, total=total * 100)

    def task_started(self, shot: str, label: str) -> None:
        with self.lock:
            task = self.progress.tasks[self.rows[shot]]
            done = int(task.completed // 100) * 100
            self.progress.update(self.rows[shot], description=f"{shot}: {label}", completed=done)

    def task_progress(self, shot: str, percent: float) -> None:
        with self.lock:
            task = self.progress.tasks[self.rows[shot]]
            base = int(task.completed // 100) * 100
            self.progress.update(self.rows[shot], completed=base + min(percent, 99.0))

    def task_done(self, shot: str) -> None:
        with self.lock:
            task = self.progress.tasks[self.rows[shot]]
            self.progress.update(self.rows[shot], completed=(int(task.completed // 100) + 1) * 100)
            self.progress.advance(self.overall)

    def shot_finished(self, shot: str, ok: bool, message: str) -> None:
        with self.lock:
            mark = "[green]done[/]" if ok else f"[red]failed[/] {message}"
            self.progress.update(self.rows[shot], description=f"{shot}: {mark}")


def run_local_with_progress(plan: JobPlan, config: FarmConfig, console: Console) -> list[ShotOutcome]:
    """Run ``plan`` on this machine through openjd-sessions behind a live display; the outcomes, failed or not."""
    from submitters.local_farm import run_plan_locally
    from submitters.plan import record_submission

    total = sum(len(s.roto.chunks()) + len(s.finalize.chunks()) for s in plan.shots)
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    )
    with kept_on_interrupt(lambda: _kept(plan)), progress:
        reporter = _RichReporter(progress, total)
        record_submission(plan, "local", [{"session": f"{s.shot}-{s.job_id}"} for s in plan.shots])
        return run_plan_locally(
            plan,
            rotofarm=config.local_executable(),
            device=config.local.device,
            max_parallel_shots=config.local.max_parallel_shots,
            reporter=reporter,
        )


def _kept(plan: JobPlan) -> list[str]:
    """What an interrupted local run leaves: per shot, its finished chunks (a rerun of the job redoes the rest)."""
    lines = []
    for shot in plan.shots:
        folder = Path(shot.job_folder)
        done = len(list(folder.glob("chunks/*/report.json")))
        lines.append(f"{shot.shot}: {done} of {len(shot.roto.chunks())} chunks finished in {folder}")
    return lines


def _local(plan: JobPlan, config: FarmConfig, console: Console) -> None:
    outcomes = run_local_with_progress(plan, config, console)
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        console.print(f"{o.shot}: {'published' if o.ok else 'FAILED at ' + o.failed_task} ({o.seconds:.1f}s)")
    if failed:
        detail = "; ".join(f"{o.shot} at {o.failed_task}: {o.error}" for o in failed)
        raise RotofarmError(f"{len(failed)} of {len(outcomes)} shots failed: {detail}", where="--farm local")


def check(
    farm_config: Annotated[Path | None, typer.Option("--farm-config", help="A farm.yaml to use.")] = None,
) -> None:
    """Reach the Deadline Web Service with farm.yaml's settings and list its pools, groups and limits."""
    from submitters.deadline.jobs import client_from_config

    config = FarmConfig.load(farm_config)
    client = client_from_config(config)
    table = Table("kind", "names", title=f"Deadline Web Service {client.url}")
    table.add_row("pools", ", ".join(client.pool_names()))
    table.add_row("groups", ", ".join(client.group_names()))
    table.add_row("limits", ", ".join(client.limit_names()))
    table.add_row("workers", str(len(client.worker_names())))
    Console(width=200).print(table)
