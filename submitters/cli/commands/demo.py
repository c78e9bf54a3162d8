"""``rotofarm demo``: synthetic cut → local farm → local tracker, with a measured summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from roto_core.errors import RotofarmError


def _fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _version(number: int | None) -> str:
    return "-" if number is None else f"v{number:03d}"


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for everything the demo makes (plates, jobs, tracker).")
    ] = Path("rotofarm-demo"),
) -> None:
    """Run the whole product on this machine: a synthetic two-shot cut with LOC-marker prompts is ingested, rotoed
    on the local farm (classical backend, in chunks), turned into shapes and exports, and published into a local
    tracker. Run it again to publish version 2."""
    from submitters.cli.checks import output_dir
    from submitters.cli.commands.farm import run_local_with_progress
    from submitters.cli.interrupt import kept_on_interrupt
    from submitters.demo import run_demo

    target = output_dir(out, "--out")
    console = Console(stderr=False)
    console.print(f"[bold]rotofarm demo[/] → {target}")
    kept = [f"{target}: plates and cut (reused by the next run), job folders with their finished chunks"]
    with kept_on_interrupt(lambda: kept):
        report = run_demo(out, lambda plan, config: run_local_with_progress(plan, config, console))

    table = Table(title="rotofarm demo: what was published", title_justify="left")
    table.add_column("")
    for shot in report.shots:
        table.add_column(shot.shot, justify="right")
    products = sorted({name for shot in report.shots for name in shot.versions})
    rows: list[tuple[str, list[str]]] = [
        *(
            (f"{name} version", [_version(s.versions.get(name)) if s.ok else "[red]failed[/]" for s in report.shots])
            for name in products
        ),
        ("J&F vs ground truth", [_fmt(s.jf_mean) for s in report.shots]),
        ("  J (IoU)", [_fmt(s.j_mean) for s in report.shots]),
        ("  F (boundary)", [_fmt(s.f_mean) for s in report.shots]),
        ("shape vs mask IoU, median", [_fmt(s.shape_iou_median) for s in report.shots]),
        ("keys per 100 frames", [_fmt(s.keys_per_100_frames, 1) for s in report.shots]),
        ("points per shape, max", [_fmt(s.points_per_shape_max) for s in report.shots]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    console.print(table)
    for shot in report.shots:
        if not shot.ok:
            console.print(f"[red]{shot.shot} failed:[/] {shot.error}")
    for shot in report.shots:
        if shot.ok:
            good, line = shot.verdict()
            console.print(f"{shot.shot}: [{'green' if good else 'yellow'}]{line}[/]", soft_wrap=True)
            if shot.qa_verdict:
                console.print(f"  shape QA: {shot.qa_verdict}", soft_wrap=True)
    console.print(f"open these (under {report.out}):", soft_wrap=True)
    for shot in report.shots:
        for path in shot.to_open:
            console.print(f"  {path.relative_to(report.out)}", soft_wrap=True, highlight=False)
        if shot.thumbnail is not None:
            console.print(f"  {shot.thumbnail.relative_to(report.out)}  (thumbnail)", soft_wrap=True, highlight=False)
    console.print(f"everything is under {report.out}:")
    console.print(f"  cut with LOC-marker prompts  {report.cut.relative_to(report.out)}")
    console.print(f"  farm job folders             {report.jobs_root.relative_to(report.out)}/")
    console.print(f"  local tracker                {report.tracker_root.relative_to(report.out)}/")
    for shot in report.shots:
        for folder in shot.published_dirs:
            console.print(f"    {folder.relative_to(report.out)}/")
    console.print(
        f"the jobs in the farm's view: rotofarm farm queue --farm local --completed --jobs-root {report.jobs_root}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(f"finished in {report.seconds:.1f} s")
    if not report.ok:
        failed = ", ".join(s.shot for s in report.shots if not s.ok)
        raise RotofarmError(f"the demo did not finish for {failed}", where=str(report.jobs_root))


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
