"""``rotofarm ingest``: editorial file → shots, as a table for a person or as ShotList JSON for a pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from roto_core.contracts import Shot, ShotList
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


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("ingest")(ingest)


def ingest(
    cut: Annotated[Path, typer.Argument(help="Editorial file: .edl .otio .otioz .otiod .xml (FCP 7) .aaf .ale")],
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the ShotList JSON instead of a table.")] = False,
) -> None:
    """Read a cut and list its shots: frame ranges with handles, timecodes, retimes, prompts."""
    from otio_ingest import ingest_file

    options = ingest_options_from_params(locals())
    shotlist = ingest_file(cut, options)
    for warning in shotlist.editorial.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    if plates is None:
        typer.echo(
            f"warning: plate paths come from the template {options.plates!r} (ingest.yaml) and were not checked;"
            " give --plates to point at the real plates",
            err=True,
        )
    if as_json:
        typer.echo(shotlist.to_json())
    else:
        console = Console()
        if not console.is_terminal:
            # Piped into a file or a farm log: do not squeeze the columns to the 80-column default.
            console = Console(width=200)
        console.print(shot_table(shotlist))


def shot_table(shotlist: ShotList) -> Table:
    editorial = shotlist.editorial
    skipped = ", ".join(f"{count} {reason}" for reason, count in editorial.get("skipped", {}).items() if count)
    title = f"{shotlist.source} — {len(shotlist.shots)} shots at {shotlist.fps:g} fps"
    if editorial.get("track"):
        title += f", track {editorial['track']}"
    if skipped:
        title += f" (skipped: {skipped})"
    table = Table(title=title)
    for column in ("shot", "folder", "frames", "cut", "handles", "src in", "rec in", "retime", "prompts"):
        table.add_column(column, justify="right" if column in ("cut", "handles") else "left", no_wrap=True)
    for shot in shotlist.shots:
        table.add_row(
            shot.name,
            shot.folder_path,
            f"{shot.first_frame}-{shot.last_frame}",
            str(shot.metadata.get("cut_frames", "")),
            str(shot.handles),
            shot.source_in_tc or "",
            shot.record_in_tc or "",
            _retime(shot),
            _prompts(shot),
        )
    return table


def _retime(shot: Shot) -> str:
    retime = shot.metadata.get("retime")
    if not retime:
        return ""
    if retime["kind"] == "freeze":
        return "freeze"
    return f"{retime['speed'] * 100:g}%"


def _prompts(shot: Shot) -> str:
    if not shot.prompts:
        return ""
    return f"{len(shot.prompts)} ({', '.join(shot.objects)})"
