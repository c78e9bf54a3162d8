"""Collect: what a finished job folder holds for the tracker, as a plan of products and representations.

Mirrors ayon-core's collect step: nothing is written here; every source file is hashed once so the copy can be
verified and the representation can record size and hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.config import TrackerSettings
from publish.hashing import Digest, digest
from publish.names import check_folder_path, check_name, check_project
from roto_core.contracts import JobManifest
from roto_core.errors import InputError
from roto_core.jobfolder import JobFolder


@dataclass(frozen=True)
class SourceFile:
    path: Path
    digest: Digest
    frame: int | None = None


@dataclass(frozen=True)
class RepresentationPlan:
    """One representation: its name, file extension and source files (one, or one per frame)."""

    name: str
    ext: str
    sources: tuple[SourceFile, ...]

    @property
    def is_sequence(self) -> bool:
        return any(s.frame is not None for s in self.sources)


@dataclass(frozen=True)
class ProductPlan:
    name: str
    product_type: str
    representations: tuple[RepresentationPlan, ...]
    template: str = "default"


@dataclass(frozen=True)
class PublishPlan:
    """Everything integrate needs; built from the manifest and the job folder only."""

    manifest: JobManifest
    products: tuple[ProductPlan, ...]
    attrib: dict[str, Any]
    data: dict[str, Any]
    author: str | None
    thumbnail: SourceFile | None = None
    task_type: str = "Roto"
    verdict: dict[str, Any] | None = None

    @property
    def project(self) -> str:
        return self.manifest.tracker.project

    @property
    def folder_path(self) -> str:
        return self.manifest.tracker.folder_path

    @property
    def job_id(self) -> str:
        return self.manifest.job_id


def job_folder_of(manifest: JobManifest) -> JobFolder:
    return JobFolder(Path(manifest.output_dir), manifest.shot.name)


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputError(f"{what} is missing: run `rotofarm finalize` for this job first", path=path)
    return path


def _single(name: str, ext: str, path: Path) -> RepresentationPlan:
    return RepresentationPlan(name, ext, (SourceFile(path, digest(path)),))


def _matte_frames(manifest: JobManifest, job: JobFolder) -> tuple[str, list[Path]]:
    """Mattes when matting ran, otherwise the binary masks: both are the EXR sequence comp loads."""
    shot = manifest.shot
    use_mattes = manifest.pipeline.matting and job.mattes_dir.is_dir()
    frames = range(shot.first_frame, shot.last_frame + 1)
    paths = [job.matte_path(f) if use_mattes else job.mask_path(f) for f in frames]
    what = "matte" if use_mattes else "mask"
    for path in paths:
        _require(path, f"{what} frame")
    return what, paths


def _read_qa(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable QA report ({exc})", path=path) from None
    if not isinstance(data, dict):
        raise InputError("QA report must be a JSON object", path=path)
    return data


def _qa_numbers(qa: dict[str, Any]) -> dict[str, float]:
    """The QA figures worth showing in the tracker: top-level and ``summary`` numbers."""
    numbers: dict[str, float] = {}
    for source in (qa, qa.get("summary") if isinstance(qa.get("summary"), dict) else {}):
        for key, value in source.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers[key] = value
    return numbers


def _checkpoints(qa: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Model checkpoints and their sha256 as the finalize step recorded them (``checkpoints`` in the QA report)."""
    raw = qa.get("checkpoints")
    if not isinstance(raw, dict):
        return {}
    return {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in raw.items() if isinstance(v, dict)}


def _author(manifest: JobManifest) -> str | None:
    """The submitting user recorded at submit (never the farm process's ``$USER``, which is the render user)."""
    return manifest.tracker.author or None


def _verdict(qa: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The shapes QA verdict (``{"status": "pass"|"review", "line": ..., "frames_below": ...}``), if finalize
    wrote one; a malformed one is an error, not a silent pass."""
    raw = qa.get("verdict")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("status") not in ("pass", "review") or not isinstance(raw.get("line"), str):
        raise InputError('QA verdict must be {"status": "pass"|"review", "line": "..."}', path=path)
    line = " ".join(raw["line"].split())[:300]
    return {"status": raw["status"], "line": line, "frames_below": raw.get("frames_below") or {}}


def check_target(manifest: JobManifest, where: str) -> None:
    """Names from the manifest that become publish paths: project, folder path, task and product names."""
    target = manifest.tracker
    check_project(target.project, where=where)
    check_folder_path(target.folder_path, where=where)
    check_name(target.task, "task", where=where)
    check_name(target.shapes_product, "shapes_product", where=where)
    check_name(target.matte_product, "matte_product", where=where)


def collect(manifest: JobManifest, settings: TrackerSettings) -> PublishPlan:
    """Build the plan; a missing export file is an InputError here, before anything is created anywhere."""
    job = job_folder_of(manifest)
    check_target(manifest, str(job.manifest))
    shot = manifest.shot
    exports = {
        "nk": (job.nk, "Nuke export"),
        "fxs": (job.fxs, "Silhouette export"),
        "json": (job.shapes_json, "shapes JSON"),
    }
    shapes = {name: _require(*exports[name]) for name in settings.shapes.representations}
    qa = _read_qa(_require(job.qa_report, "QA report"))
    matte_kind, matte_paths = _matte_frames(manifest, job)

    shapes_reps = tuple(_single(name, path.suffix.lstrip("."), path) for name, path in shapes.items())
    frames = range(shot.first_frame, shot.last_frame + 1)
    matte_rep = RepresentationPlan(
        settings.matte.representation,
        "exr",
        tuple(SourceFile(p, digest(p), f) for p, f in zip(matte_paths, frames, strict=True)),
    )
    shapes_name, matte_name = settings.product_names(
        shot.objects, manifest.tracker.shapes_product, manifest.tracker.matte_product
    )
    check_name(shapes_name, "shapes product", where=str(job.manifest))
    check_name(matte_name, "matte product", where=str(job.manifest))
    verdict = _verdict(qa, job.qa_report)
    products = (
        ProductPlan(shapes_name, settings.shapes.product_type, shapes_reps, settings.shapes.template),
        ProductPlan(matte_name, settings.matte.product_type, (matte_rep,), settings.matte.template),
    )
    thumb = SourceFile(job.thumbnail, digest(job.thumbnail)) if job.thumbnail.is_file() else None

    attrib: dict[str, Any] = {
        "frameStart": shot.first_frame + shot.handles,
        "frameEnd": shot.last_frame - shot.handles,
        "handleStart": shot.handles,
        "handleEnd": shot.handles,
        "fps": shot.fps,
        "source": shot.plate,
    }
    if shot.width and shot.height:
        attrib["resolutionWidth"] = shot.width
        attrib["resolutionHeight"] = shot.height
    attrib["pixelAspect"] = shot.pixel_aspect
    if manifest.tracker.comment:
        attrib["comment"] = manifest.tracker.comment
    pipeline = manifest.pipeline
    data: dict[str, Any] = {
        "jobId": manifest.job_id,
        "farm": manifest.submission.farm if manifest.submission else None,
        "farmJobIds": dict(manifest.submission.job_ids) if manifest.submission else {},
        "backend": pipeline.backend,
        "models": {
            "key": pipeline.key_model,
            "propagation": pipeline.propagation_model,
            "matting": pipeline.matting_model if pipeline.matting else None,
        },
        "checkpoints": _checkpoints(qa),
        "qa": _qa_numbers(qa),
        "sourcePlate": shot.plate,
        "objects": shot.objects,
        "matteKind": matte_kind,
        "qaVerdict": verdict,
    }
    return PublishPlan(
        manifest=manifest,
        products=products,
        attrib=attrib,
        data=data,
        author=_author(manifest),
        thumbnail=thumb,
        task_type=manifest.tracker.task_type,
        verdict=verdict,
    )
