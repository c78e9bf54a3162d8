"""``rotofarm shapes`` (any mask sequence → editable roto) and ``rotofarm finalize`` (a farm job's masks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from roto_core.contracts import ShapeSettings
from roto_core.errors import InputError

_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("shapes")(shapes)
    app.command("finalize")(finalize)


def parse_frames(text: str) -> tuple[int, int]:
    """``A-B`` (inclusive) → (A, B); a bad range is an InputError naming the option."""
    match = _RANGE.match(text)
    if not match or int(match.group(2)) < int(match.group(1)):
        raise InputError(f"--frames must look like 1001-1100 (first-last), not {text!r}")
    return int(match.group(1)), int(match.group(2))


STAGE_SPAN = {"tracing": (0.0, 60.0), "measuring": (60.0, 95.0)}


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich bar per stage on a terminal; elsewhere (a farm log) ``Progress: NN%`` lines on stdout."""
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        tasks: dict[str, int] = {}
        last_printed = [-1]

        def update(stage: str, done: int, total: int) -> None:
            if console.is_terminal:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)
                return
            low, high = STAGE_SPAN.get(stage, (0.0, 100.0))
            percent = int(low + (high - low) * done / max(total, 1))
            if percent >= last_printed[0] + 5:
                last_printed[0] = percent
                typer.echo(f"Progress: {percent}%")

        yield update
    if not console.is_terminal:
        typer.echo("Progress: 100%")


def _report(written: list[Path], qa: dict) -> None:
    for path in written:
        typer.echo(f"wrote {path}")
    summary = qa["summary"]
    iou_med, iou_min = summary["shape_iou_median"], summary["shape_iou_min"]
    typer.echo(
        f"shapes {summary['shapes']}  points/shape max {summary['points_per_shape_max']}  "
        f"keys/100 frames {summary['keys_per_100_frames']:.1f}  boil {summary['boil_px_rms']:.3f} px "
        f"(on rigid parts {summary['boil_rigid_px_rms']:.3f})  "
        f"IoU median {iou_med:.4f} min {iou_min:.4f}"
        if iou_med is not None
        else f"shapes {summary['shapes']}  (no frame to measure)"
    )
    verdict = qa["verdict"]
    typer.echo(f"verdict {verdict['line']}")
    for obj, frames in verdict["frames_below"].items():
        typer.echo(f"frames below threshold ({obj}): {_ranges(frames)}")
    for obj, summary in qa["objects"].items():
        if summary.get("frames_self_crossing"):
            typer.echo(f"frames where a shape crosses itself ({obj}): {_ranges(summary['frames_self_crossing'])}")
        if summary.get("left_out"):
            frames = sorted(int(f) for f in summary["left_out"])
            typer.echo(f"frames traced in part, the smallest specks left out ({obj}): {_ranges(frames)}")


def _ranges(frames: list[int]) -> str:
    """1001 1002 1003 1007 → '1001-1003 1007'."""
    out: list[str] = []
    start = prev = frames[0]
    for f in [*frames[1:], None]:
        if f is not None and f == prev + 1:
            prev = f
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if f is not None:
            start = prev = f
    return " ".join(out)


def shapes(
    masks: Annotated[str, typer.Argument(help="Mask sequence: a #### or %04d pattern of PNG, TIFF or EXR files.")],
    frames: Annotated[str, typer.Option("--frames", help="Inclusive frame range, e.g. 1001-1100.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")],
    name: Annotated[str, typer.Option("--name", help="Base name of the output files and of the object.")] = "roto",
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            help="Fit tolerance in pixels at mask resolution (default: that of the rotofarm job whose masks these"
            " are, else 1.5).",
        ),
    ] = None,
) -> None:
    """Turn a mask sequence into editable roto: NAME.nk, NAME.fxs, NAME.json and qa.json in OUT.

    Float data (EXR, float TIFF) is inside from 0.5 up, and an 8- or 16-bit matte (mostly at full scale) from half its
    full scale up, where a soft edge is half way; other integer images (labels) wherever non-zero. PNG/TIFF: one
    channel, or the alpha. EXR: one object per `<obj>.A` channel, else the `A` (or only) channel.
    """
    from roto_core.shapes.jobs import shapes_from_sequence
    from submitters.cli.checks import frame_pattern, output_dir
    from submitters.cli.interrupt import kept_on_interrupt

    first, last = parse_frames(frames)
    target = output_dir(out, "--out")
    frame_pattern(masks, "MASKS")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise InputError(f"--name {name!r} must use only letters, digits, '_' and '-'")
    try:
        settings = _settings_for(masks, first) if tolerance is None else ShapeSettings(tolerance_px=tolerance)
    except ValueError:
        raise InputError(f"--tolerance {tolerance} must be above 0 and at most 10 pixels") from None
    kept = [f"nothing: {target} is written only once every frame is traced"]
    with kept_on_interrupt(lambda: kept), _progress() as progress:
        result = shapes_from_sequence(masks, first, last, out, name, settings, progress)
    _report(result.written, result.qa)


def _settings_for(masks: str, first: int) -> ShapeSettings:
    """The shape settings of the rotofarm job that wrote ``masks`` (``rotofarm roto`` and farm jobs keep their
    manifest beside the ``masks`` folder; the pipeline traces its segmenter's masks at a wider tolerance than a
    hand-made matte needs, so the shapes do not key the masks' frame-to-frame jitter), else ShapeSettings'
    defaults. A manifest that does not load is not ours to judge here: the defaults stand."""
    from roto_core.contracts import JobManifest
    from roto_core.jobfolder import JobFolder
    from roto_core.shapes.jobs import job_shape_settings
    from roto_core.shapes.maskseq import MaskSequence

    folder = Path(masks).parent
    manifest = folder.parent / "manifest.json"
    if folder.name != "masks" or not manifest.is_file():
        return ShapeSettings()
    try:
        job = JobManifest.load(manifest)
    except InputError:
        return ShapeSettings()
    written = JobFolder(folder.parent, job.shot.name).mask_pattern.name
    if not Path(masks).name.startswith(written[: written.index("#")]):
        return ShapeSettings()
    settings = job_shape_settings(job, MaskSequence(masks, first, first).width)
    typer.echo(f"shape settings of the job that wrote the masks ({manifest}): tolerance {settings.tolerance_px} px")
    return settings


def finalize(
    manifest: Annotated[Path, typer.Argument(help="The job's manifest.json.")],
) -> None:
    """Shapes, .nk/.fxs/.json exports, QA report and thumbnail of a farm job, written into its job folder."""
    from roto_core.shapes.jobs import finalize_job

    with _progress() as progress:
        result = finalize_job(manifest, progress)
    _report(result.written, result.qa)
