"""``rotofarm publish``: a finished job folder → versioned products in AYON or the local tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from roto_core.errors import InputError

_EVENTS = {
    "claim": "[green]claimed[/]",
    "taken": "[yellow]taken by another publisher, trying the next number:[/]",
    "found": "[cyan]already published by this job:[/]",
    "complete": "[green]published[/]",
}
_FILE_STEPS = {"rename", "kept"}


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("publish")(publish)


def publish(
    manifest: Annotated[Path, typer.Argument(help="The job's manifest.json (in its job folder).")],
    tracker: Annotated[
        str | None, typer.Option("--tracker", help="local (embedded, SQLite) or ayon (default: farm.yaml's tracker).")
    ] = None,
    create_folders: Annotated[
        bool | None,
        typer.Option(
            "--create-folders/--no-create-folders",
            help="Create the shot folder and task when the tracker lacks them (default: farm.yaml's create_folders).",
        ),
    ] = None,
) -> None:
    """Publish the shot's shapes (nk, fxs, json) and matte EXR sequence as new versions; a rerun of the same job
    returns the versions it already made."""
    from publish import publish_manifest
    from publish.config import load_tracker_settings
    from roto_core.contracts import JobManifest
    from submitters.farm_config import FarmConfig

    defaults = FarmConfig.load()
    tracker = tracker or defaults.tracker
    create_folders = defaults.create_folders if create_folders is None else create_folders
    if tracker not in ("local", "ayon"):
        raise InputError(f"--tracker must be local or ayon, not {tracker!r}")
    job = JobManifest.load(manifest)
    settings = load_tracker_settings()
    console, events = Console(stderr=True), Console()
    files = job.shot.frame_count + len(settings.shapes.representations)
    # Off a terminal (a farm log) rich's Progress would end with an empty line before any error line.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("copying files", total=files)

        def observe(step: str, detail: str) -> None:
            if step in _FILE_STEPS:
                progress.advance(task)
            elif step in _EVENTS:
                events.print(f"{_EVENTS[step]} {detail}")  # stdout: stderr carries only an error line

        result = publish_manifest(job, tracker, create_folders, settings=settings, observer=observe)

    table = Table(title=f"{result.tracker}: {result.project}{result.folder_path} (job {result.job_id})")
    for column in ("product", "type", "version", "", "folder"):
        table.add_column(column)
    for v in result.versions:
        table.add_row(v.product, v.product_type, f"v{v.version:03d}", "new" if v.created else "existing", v.directory)
    Console().print(table)
    if result.verdict is not None:
        status, line = result.verdict["status"], escape(result.verdict["line"])
        colour = "green" if status == "pass" else "yellow"
        Console().print(f"[{colour}]QA {status}[/]: {line} (recorded on the version)")
