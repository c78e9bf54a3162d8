"""The two shapes jobs: any mask sequence → files in a folder, and a farm job's masks → its job folder.

Both read the masks twice (once to trace, once for QA) instead of keeping a shot's masks in memory, render every
output in memory, and only then write, one atomic rename per file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roto_core.chunks.flags import segmentation_flags
from roto_core.contracts import ChunkResult, JobManifest, ShapeSettings
from roto_core.errors import InputError
from roto_core.exporters.bundle import render_exports
from roto_core.frames import read_frame
from roto_core.jobfolder import JobFolder
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import ShapeDocument
from roto_core.shapes.qa import measure, verdict
from roto_core.shapes.thumbnail import best_frame, thumbnail_jpeg
from roto_core.shapes.trace import trace_shapes

Progress = Callable[[str, int, int], None]
THUMBNAIL_SIZE = 512


@dataclass
class ShapesResult:
    doc: ShapeDocument
    qa: dict[str, Any]
    written: list[Path]


def _stage(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _trace_and_measure(
    masks: MaskSequence, settings: ShapeSettings, source: str, progress: Progress | None
) -> tuple[ShapeDocument, dict[str, Any]]:
    doc = trace_shapes(masks, settings, name=source, progress=_stage(progress, "tracing"))
    if not doc.shapes:
        raise InputError(
            f"no mask component of at least {settings.min_area_px} px in frames {doc.first_frame}-{doc.last_frame}"
            " (mattes are inside from half way up their edge)",
            path=source,
        )
    qa = measure(doc, masks.read, settings.min_area_px, progress=_stage(progress, "measuring"))
    return doc, qa


def shapes_from_sequence(
    pattern: str | Path,
    first: int,
    last: int,
    out_dir: str | Path,
    name: str,
    settings: ShapeSettings,
    progress: Progress | None = None,
) -> ShapesResult:
    """``rotofarm shapes``: write ``name``.json/.nk/.fxs and qa.json into ``out_dir``."""
    masks = MaskSequence(pattern, first, last, default_object=name)
    doc, qa = _trace_and_measure(masks, settings, str(pattern), progress)
    qa["verdict"] = verdict(qa, settings.max_points)
    out = Path(out_dir)
    bundle = render_exports(
        doc,
        settings,
        json_path=out / f"{name}.json",
        nk_path=out / f"{name}.nk",
        fxs_path=out / f"{name}.fxs",
        qa_path=out / "qa.json",
        qa=qa,
        node_name=f"Roto_{name}",
        mattes=str(Path(pattern).absolute()),
    )
    return ShapesResult(doc, qa, bundle.write())


def _chunk_checkpoints(job: JobFolder) -> dict[str, Any]:
    """Model checkpoints the chunks recorded in their reports' QA, so the published version names them."""
    found: dict[str, Any] = {}
    for report in sorted(job.root.glob("chunks/*/report.json")):
        try:
            result = ChunkResult.load(report)
        except InputError:
            continue
        checkpoints = result.qa.get("checkpoints")
        if isinstance(checkpoints, dict):
            found.update(checkpoints)
    return found


def job_shape_settings(manifest: JobManifest, masks_width: int) -> ShapeSettings:
    """A job's shape settings for its masks, at the tolerance ``masks_tolerance`` gives them."""
    settings = manifest.pipeline.shapes
    shot = manifest.shot
    if not (shot.width and shot.height):
        return settings
    plate = (shot.width, shot.height)
    tolerance = masks_tolerance(settings.tolerance_px, plate, manifest.pipeline.max_resolution, masks_width)
    if tolerance != settings.tolerance_px:
        settings = settings.model_copy(update={"tolerance_px": tolerance})
    return settings


def masks_tolerance(tolerance_px: float, plate: tuple[int, int], max_resolution: int | None, masks_width: int) -> float:
    """The tolerance, in the masks' pixels, for a job's masks. ``tolerance_px`` is meant at plate resolution for
    plates the models see whole; on a plate larger than ``max_resolution`` the models see it that much smaller and
    the chunk runner upscales their masks, jitter and all, so the tolerance grows by the same factor (the shapes
    then follow the masks as closely as on a plate the models see whole). Masks computed smaller than the plate get
    a proportionally finer one.

    DAVIS dev, rotofarm roto's masks upscaled to a 3840x2160 plate by the runner's own code (bench/shapes_4k.py):
    held to the 2.25 px meant for an 854 px plate, the shapes key the upscaled jitter; at 2.25 x 3840 / 1024 they
    have fewer shapes, keys and boil and the same IoU against the real matte (bench/RESULTS.md, "Shapes on 4K
    plates")."""
    upscaled = max(1.0, max(plate) / max_resolution) if max_resolution else 1.0
    return max(tolerance_px * upscaled * masks_width / plate[0], 0.05)


def finalize_job(manifest_path: str | Path, progress: Progress | None = None) -> ShapesResult:
    """``rotofarm finalize``: shapes, exports, QA report and thumbnail of a farm job, in its job folder."""
    manifest = JobManifest.load(manifest_path)
    shot = manifest.shot
    job = JobFolder(Path(manifest.output_dir), shot.name)
    masks = MaskSequence(job.mask_pattern, shot.first_frame, shot.last_frame, default_object="matte")
    settings = job_shape_settings(manifest, masks.width)
    doc, qa = _trace_and_measure(masks, settings, str(job.mask_pattern), progress)
    checkpoints = _chunk_checkpoints(job)
    if checkpoints:
        qa["checkpoints"] = checkpoints
    qa["job_id"] = manifest.job_id
    qa["segmentation"] = segmentation_flags(job)  # confidence and re-key frames of the chunks (issue 12)
    if shot.width and shot.height and (shot.width, shot.height) != (doc.width, doc.height):
        doc = doc.scaled(shot.width, shot.height)
        qa["exports_scaled_to_plate"] = [shot.width, shot.height]
    qa["verdict"] = verdict(qa, settings.max_points)
    doc.pixel_aspect = shot.pixel_aspect  # the plate's, for the .nk format and the .fxs x scale
    frame = best_frame(doc)
    plate = read_frame(shot.plate, frame, max_size=THUMBNAIL_SIZE)
    thumbnail = thumbnail_jpeg(plate, doc, frame)
    bundle = render_exports(
        doc,
        settings,
        json_path=job.shapes_json,
        nk_path=job.nk,
        fxs_path=job.fxs,
        qa_path=job.qa_report,
        qa=qa,
        node_name=f"Roto_{shot.name}",
        mattes=str(job.mask_pattern),
    )
    bundle.files[job.thumbnail] = thumbnail
    written = bundle.write()
    return ShapesResult(doc, qa, written)


__all__ = ["ShapesResult", "finalize_job", "shapes_from_sequence"]
