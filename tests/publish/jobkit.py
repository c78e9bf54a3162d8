"""Real finished job folders for publish tests: EXR masks through roto_core.maskio, small real exports."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import (
    JobManifest,
    PipelineSettings,
    Prompt,
    ShapeSettings,
    Shot,
    Submission,
    TrackerTarget,
)
from roto_core.exporters.json_shapes import write_shapes_json
from roto_core.jobfolder import JobFolder
from roto_core.maskio import write_mask_exr
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import trace_shapes

FIRST, LAST = 1001, 1004
W, H = 32, 24

NK = """set cut_paste_input [stack 0]
Roto {
 curves {{{v x3f99999a}
  {f 0}
  {n {layer Root {f 2097152} {t x44000000 x43b40000}
   {curvegroup hero 512 bezier {{cc {f 8192} {px 1001 {0 0} {10 10} {0 0} {0 0} {20 10} {0 0}}}}}}}}}}
 name Roto_hero
}
"""
FXS = """<?xml version="1.0" encoding="UTF-8"?>
<Silhouette width="32" height="24" workRangeStart="1001" workRangeEnd="1004" sessionStartFrame="1001">
 <Layer type="Layer" label="rotofarm"><Properties><Property id="objects">
  <Object type="Shape" label="hero" shape_type="Bezier" hidden="False" locked="False"><Properties>
   <Property id="path"><Key frame="0" interp="linear"><Path closed="True" type="Bezier">
    <Point>(-0.3,-0.2),(-0.3,-0.2),(-0.3,-0.2)</Point><Point>(0.1,-0.2),(0.1,-0.2),(0.1,-0.2)</Point>
    <Point>(0.0,0.2),(0.0,0.2),(0.0,0.2)</Point></Path></Key></Property>
  </Properties></Object></Property></Properties></Layer>
</Silhouette>
"""


def disc(frame: int, first: int = FIRST) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return ((xx - 8 - (frame - first) * 2) ** 2 + (yy - 12) ** 2 <= 25).astype(np.float32)


def write_job_folder(
    folder: JobFolder, *, thumbnail: bool = True, first: int = FIRST, verdict: dict | None = None
) -> None:
    """Everything finalize leaves in a job folder: masks, shapes JSON, nk, fxs, QA report, thumbnail."""
    last = first + LAST - FIRST
    for frame in range(first, last + 1):
        write_mask_exr(folder.mask_path(frame), {"hero": disc(frame, first)})
    doc = trace_shapes(MaskSequence(folder.mask_pattern, first, last), ShapeSettings(min_area_px=16), name="hero")
    write_shapes_json(doc, folder.shapes_json)
    folder.nk.parent.mkdir(parents=True, exist_ok=True)
    folder.nk.write_text(NK)
    folder.fxs.write_text(FXS)
    folder.qa_report.parent.mkdir(parents=True, exist_ok=True)
    folder.qa_report.write_text(
        json.dumps(
            {
                "summary": {"mean_iou": 0.93, "flicker": 0.012},
                "frames": 4,
                "checkpoints": {"sam2.1_hiera_tiny": {"path": "/models/sam2.1_hiera_tiny.pt", "sha256": "ab" * 32}},
                **({"verdict": verdict} if verdict is not None else {}),
            }
        )
    )
    if thumbnail:
        image = (np.dstack([disc(FIRST)] * 3) * 255).astype(np.uint8)
        cv2.imwrite(str(folder.thumbnail), image)


def make_manifest(
    jobs_root: Path,
    publish_root: Path,
    job_id: str = "job-a",
    *,
    project: str = "demo",
    folder_path: str = "/sq010/sh010",
    write_files: bool = True,
    comment: str = "",
    first: int = FIRST,
    verdict: dict | None = None,
    author: str | None = "tester",
    metadata: dict | None = None,
) -> JobManifest:
    folder = JobFolder.for_job(jobs_root, project, "sh010", job_id)
    if write_files:
        write_job_folder(folder, first=first, verdict=verdict)
    shot = Shot(
        name="sh010",
        folder_path=folder_path,
        plate="/plates/sh010/sh010_plate.####.exr",
        first_frame=first,
        last_frame=first + LAST - FIRST,
        handles=1,
        fps=24.0,
        width=W,
        height=H,
        prompts=[Prompt(object="hero", frame=first, box=(3, 7, 13, 17))],
        metadata=metadata or {},
    )
    manifest = JobManifest(
        job_id=job_id,
        shot=shot,
        pipeline=PipelineSettings(),
        output_dir=str(folder.root),
        tracker=TrackerTarget(
            project=project, folder_path=folder_path, local_root=str(publish_root), comment=comment, author=author
        ),
        submission=Submission(
            farm="local",
            batch_name="demo sh010",
            submitted_at="2026-01-01T00:00:00+00:00",
            job_ids={"roto": "dl-123", "publish": "dl-124"},
        ),
    )
    manifest.save(folder.manifest)
    return manifest


def files_under(root: Path) -> set[Path]:
    """Every file of the publish tree (the catalogue folder aside)."""
    return {p for p in root.rglob("*") if p.is_file() and ".rotofarm" not in p.parts}
