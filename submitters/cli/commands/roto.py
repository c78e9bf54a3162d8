"""``rotofarm run-chunk`` / ``worker`` (farm tasks), ``rotofarm roto`` (one shot, this machine), ``rotofarm eval``."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from roto_core.atomic import write_json
from roto_core.contracts import JobManifest, PipelineSettings, Prompt, Shot, TrackerTarget
from roto_core.errors import InputError
from roto_core.jobfolder import JobFolder

_PROMPT = re.compile(r"^(?P<obj>[^@=]+)@(?P<frame>-?\d+)=(?P<value>.*)$", re.S)
_TOKEN = re.compile(r"[._-]*(#+|%0?\d*d)[._-]*")

DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu or cuda:N.")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.command("run-chunk")(run_chunk_cmd)
    app.command("worker")(worker_cmd)
    app.command("roto")(roto_cmd)
    app.command("eval")(eval_cmd)


def _frames(text: str) -> tuple[int, int]:
    from roto_core.chunks import parse_range

    try:
        return parse_range(text)
    except ValueError as exc:
        raise InputError(str(exc), where="--frames") from None


def _open_job(manifest_path: Path) -> tuple[JobManifest, JobFolder]:
    manifest = JobManifest.load(manifest_path)
    return manifest, JobFolder(Path(manifest.output_dir), manifest.shot.name)


def _device(option: str | None, manifest: JobManifest) -> str:
    return option if option is not None else manifest.pipeline.device


def run_chunk_cmd(
    manifest: Annotated[Path, typer.Argument(help="The job's manifest.json.")],
    frames: Annotated[str, typer.Option("--frames", help="Inclusive frame range of the chunk, e.g. 1001-1050.")],
    device: Annotated[
        str | None, typer.Option("--device", help="auto, cpu or cuda:N (default: the manifest's).")
    ] = None,
) -> None:
    """Run one chunk of a farm job: masks, state for the next chunk, chunks/A-B/report.json."""
    from roto_core.chunks import load_models, progress_printer, run_chunk
    from roto_core.chunks.lock import BUSY_EXIT_CODE, ChunkBusyError, ChunkLock

    first, last = _frames(frames)
    job_manifest, job = _open_job(manifest)
    lock = ChunkLock(job.chunk_dir(first, last))
    try:
        lock.acquire()
    except ChunkBusyError as exc:  # rendered elsewhere: a retryable failure, see roto_core.chunks.lock
        typer.echo(f"error: {exc.format()}", err=True)
        raise typer.Exit(BUSY_EXIT_CODE) from None
    models = load_models(job_manifest.pipeline, _device(device, job_manifest))
    try:
        result = run_chunk(job_manifest, job, first, last, models, progress_printer(sys.stdout))
    finally:
        models.close()
        lock.release()
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {len(result.frames)} masks, report {job.chunk_report(first, last)}")


def worker_cmd(
    manifest: Annotated[Path, typer.Argument(help="The job's manifest.json.")],
    device: Annotated[
        str | None, typer.Option("--device", help="auto, cpu or cuda:N (default: the manifest's).")
    ] = None,
) -> None:
    """Keep the models loaded and run the chunk ranges read from stdin (one `A-B` per line) until EOF."""
    from roto_core.chunks import load_models, serve

    job_manifest, job = _open_job(manifest)
    models = load_models(job_manifest.pipeline, _device(device, job_manifest))
    try:
        serve(job_manifest, job, models, sys.stdin, sys.stdout)
    finally:
        models.close()


def _parse_prompt(kind: str, text: str) -> tuple[str, int, str]:
    m = _PROMPT.match(text)
    if not m:
        raise InputError(f"{text!r} must look like OBJECT@FRAME=VALUE", where=f"--{kind}")
    return m.group("obj"), int(m.group("frame")), m.group("value")


def _numbers(kind: str, text: str, value: str, counts: tuple[int, ...]) -> list[float]:
    try:
        nums = [float(v) for v in value.split(",")]
    except ValueError:
        nums = []
    if len(nums) not in counts:
        raise InputError(
            f"{text!r}: expected {' or '.join(map(str, counts))} comma-separated numbers", where=f"--{kind}"
        )
    return nums


def build_prompts(
    boxes: list[str], points: list[str], texts: list[str], masks: list[str] | None = None
) -> list[Prompt]:
    """Prompts from the command line; several ``--point`` for one OBJ@FRAME become one multi-click prompt.

    An object may have keys on several frames, of any kind (a box on the first frame, a mask where it drifted).
    """
    out: list[Prompt] = []
    clicks: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
    try:
        for text in boxes:
            obj, frame, value = _parse_prompt("box", text)
            x0, y0, x1, y1 = _numbers("box", text, value, (4,))
            out.append(Prompt(object=obj, frame=frame, box=(x0, y0, x1, y1)))
        for text in points:
            obj, frame, value = _parse_prompt("point", text)
            nums = _numbers("point", text, value, (2, 3))
            label = int(nums[2]) if len(nums) == 3 else 1
            clicks.setdefault((obj, frame), []).append((nums[0], nums[1], label))
        for (obj, frame), pts in clicks.items():
            out.append(Prompt(object=obj, frame=frame, points=pts))
        for text in texts:
            obj, frame, value = _parse_prompt("text", text)
            out.append(Prompt(object=obj, frame=frame, text=value.strip().strip('"')))
        for text in masks or []:
            obj, frame, value = _parse_prompt("mask", text)
            if not value.strip():
                raise InputError(f"{text!r}: no mask file after '='", where="--mask")
            out.append(Prompt(object=obj, frame=frame, mask=str(Path(value).expanduser().absolute())))
    except ValidationError as exc:
        raise InputError(f"bad prompt: {_first_error(exc)}") from None
    return out


def _first_error(exc: ValidationError) -> str:
    """pydantic's first complaint as one line: ``where: what``."""
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def plate_name(plate: str) -> str:
    """``/x/sh010_plate.####.exr`` → ``sh010_plate``: the name the mask files are given."""
    stem = Path(plate).name
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = _TOKEN.sub("", stem)
    name = re.sub(r"[^A-Za-z0-9_-]", "_", stem).strip("_")
    return name or "plate"


def roto_cmd(
    plate: Annotated[str, typer.Argument(help="Plate: a #### / %04d sequence (EXR, DPX, TIFF, PNG, JPEG) or a movie.")],
    frames: Annotated[str, typer.Option("--frames", help="Inclusive frame range, e.g. 1001-1100.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: masks/ and report.json go here.")],
    box: Annotated[list[str] | None, typer.Option("--box", help="OBJ@FRAME=x0,y0,x1,y1 (repeatable).")] = None,
    point: Annotated[
        list[str] | None, typer.Option("--point", help="OBJ@FRAME=x,y or x,y,0 for a negative click.")
    ] = None,
    text: Annotated[list[str] | None, typer.Option("--text", help='OBJ@FRAME="a prompt" (Grounding DINO).')] = None,
    mask: Annotated[
        list[str] | None,
        typer.Option(
            "--mask",
            help="OBJ@FRAME=PATH: a mask image (PNG/TIFF/JPEG/EXR; a matte from half way up its edge, labels where"
            " non-zero) as key.",
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="classical, sam2 or cutie.")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Frames per chunk.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda:N.")] = None,
) -> None:
    """Roto one shot on this machine with the farm's pipeline (no farm, no tracker)."""
    from roto_core.chunks import chunk_ranges, load_models, run_chunk
    from roto_core.chunks.flags import merge_flags, rekey_line
    from roto_core.config import load_config
    from submitters.cli.checks import output_dir
    from submitters.cli.interrupt import kept_on_interrupt

    first, last = _frames(frames)
    output_dir(out, "--out")
    prompts = build_prompts(box or [], point or [], text or [], mask or [])
    if not prompts:
        raise InputError("give at least one --box, --point, --mask or --text prompt")
    settings = load_config(PipelineSettings, "pipeline.yaml")
    updates = {k: v for k, v in {"backend": backend, "chunk_size": chunk_size}.items() if v is not None}
    try:
        settings = PipelineSettings.model_validate({**settings.model_dump(), **updates})
        shot = Shot(
            name=plate_name(plate),
            folder_path="/local",
            plate=plate,
            first_frame=first,
            last_frame=last,
            prompts=prompts,
        )
    except ValidationError as exc:
        raise InputError(_first_error(exc)) from None
    _check_masks(shot)
    job = JobFolder(out, shot.name)
    manifest = JobManifest(
        job_id="local",
        shot=shot,
        pipeline=settings,
        output_dir=str(out),
        tracker=TrackerTarget(project="local", folder_path="/local"),
    )
    manifest.save(job.manifest)
    models = load_models(settings, device or settings.device)
    console = Console(stderr=True)
    results = []
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

    def kept() -> list[str]:
        masks = [p for p in job.masks_dir.glob("*") if not p.name.startswith(".")] if job.masks_dir.is_dir() else []
        chunks = f"{len(results)} finished chunks" if results else "no finished chunk"
        return [f"{len(masks)} of {shot.frame_count} masks in {job.masks_dir} ({chunks}; no report.json)"]

    try:
        with (
            kept_on_interrupt(kept),
            Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar,
        ):
            task = bar.add_task(f"roto {shot.name}", total=shot.frame_count)
            done_before = 0
            for a, b in chunk_ranges(first, last, settings.chunk_size):

                def advance(done: int, total: int, base: int = done_before) -> None:
                    bar.update(task, completed=base + done)

                results.append(run_chunk(manifest, job, a, b, models, advance))
                done_before += b - a + 1
    finally:
        models.close()
    elapsed = time.perf_counter() - started
    flags = merge_flags(results)
    report = {
        "shot": shot.name,
        "plate": plate,
        "frames": [first, last],
        "backend": settings.backend,
        "device": models.device,
        "masks": str(job.mask_pattern),
        "seconds": round(elapsed, 3),
        "fps": round(shot.frame_count / elapsed, 3) if elapsed > 0 else None,
        "warnings": [w for r in results for w in r.warnings],
        "rekey_frames": flags["rekey_frames"],
        "confidence_min": flags["confidence_min"],
        "chunks": [r.model_dump() for r in results],
    }
    write_json(out / "report.json", report)
    for warning in report["warnings"]:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"wrote {shot.frame_count} masks to {job.mask_pattern} ({report['fps']} fps), report {out / 'report.json'}"
    )
    line = rekey_line(flags)
    typer.echo(line or "every frame above the re-key confidence")


def _check_masks(shot: Shot) -> None:
    """Every mask key checked before any work: a bad file named now, not after the chunks before it ran."""
    from roto_core.backends.mask_prompt import check_mask_prompt
    from roto_core.sequences import probe_size

    masks = [p for p in shot.prompts if p.mask is not None]
    if masks:
        size = probe_size(shot.plate, shot.first_frame)
        for p in masks:
            check_mask_prompt(p, size, f"--mask {p.object}@{p.frame}")


def eval_cmd(
    pred: Annotated[str, typer.Argument(help="Predicted masks: #### pattern of mask EXRs or PNG/TIFF/JPEG images.")],
    gt: Annotated[str, typer.Argument(help="Ground-truth masks: #### pattern of mask EXRs or PNG/TIFF/JPEG.")],
    frames: Annotated[
        str | None, typer.Option("--frames", help="Frame range to score (default: every GT frame).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Score masks against ground truth: J, F (DAVIS), J&F and F at a 2 px tolerance, per object."""
    from roto_core.metrics import evaluate_sequences
    from submitters.cli.checks import frame_pattern

    frame_pattern(pred, "PRED")
    frame_pattern(gt, "GT")
    span = None
    if frames is not None:
        a, b = _frames(frames)
        span = range(a, b + 1)
    table = evaluate_sequences(pred, gt, span).table()
    if as_json:
        typer.echo(json.dumps(table, indent=2))
        return
    view = Table(title=f"{pred} vs {gt}")
    for col in ("object", "J", "F", "J&F", "F@2px", "frames"):
        view.add_column(col, justify="left" if col == "object" else "right")
    for name, row in table.items():
        view.add_row(name, *(f"{row[k]:.4f}" for k in ("J", "F", "J&F", "F@2px")), str(row["frames"]))
    Console().print(view)
