"""``rotofarm demo``: the whole product on one machine, from a synthetic cut to published versions.

A newcomer has no plates, no farm and no tracker, so the demo makes each of them under one folder: synthetic shots
with exact ground truth, an EDL whose LOC markers carry the roto prompts (as an editor would turn over), the same
ingest → plan → local farm (openjd-sessions) → finalize → publish path a coordinator's ``rotofarm submit`` takes,
and a LocalTracker. Because the ground truth is known, the summary can state how good the roto is, not only
that it ran. Running it again publishes the next version of every product.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from otio_ingest import IngestOptions, ingest_file
from publish.config import load_tracker_settings
from publish.local_tracker import LocalTracker
from roto_core.atomic import write_text
from roto_core.contracts import JobManifest, PipelineSettings, ShotList
from roto_core.jobfolder import JobFolder
from roto_core.maskio import read_mask_exr
from roto_core.metrics import evaluate_sequences
from roto_core.sequences import frame_path
from roto_core.synthetic import SyntheticShot, make_shot
from submitters.farm_config import FarmConfig
from submitters.local_farm import ShotOutcome
from submitters.plan import JobPlan, plan_submission

PROJECT = "rotofarm_demo"
FPS = 24
HANDLES = 8
CUT_FRAMES = 40
CHUNK_SIZE = 24
WIDTH, HEIGHT = 480, 270
SHOTS = (("sq010_sh010", 11), ("sq010_sh020", 23))
# What "good" means on the demo's synthetic shots (clean edges, exact ground truth): the classical backend reaches
# J&F ≈ 0.95 and shape IoU ≈ 0.98 there, so falling under these bars means something is broken, not hard footage.
GOOD_JF = 0.90
GOOD_SHAPE_IOU = 0.95
_RECORD_START = 3600 * FPS  # 01:00:00:00
_SOURCE_START = 10 * 3600 * FPS  # 10:00:00:00


@dataclass(frozen=True)
class DemoLayout:
    """Everything the demo makes lives under ``out``."""

    out: Path

    @property
    def plates(self) -> Path:
        return self.out / "plates"

    @property
    def cut(self) -> Path:
        return self.out / "cut" / "rotofarm_demo.edl"

    @property
    def jobs_root(self) -> Path:
        return self.out / "jobs"

    @property
    def tracker_root(self) -> Path:
        return self.out / "tracker"

    def plate_template(self) -> str:
        return str(self.plates / "{shot}" / "plate" / "{shot}.####.exr")


@dataclass
class ShotReport:
    shot: str
    job_id: str
    job_folder: str
    ok: bool
    error: str = ""
    versions: dict[str, int] = field(default_factory=dict)
    published_dirs: list[Path] = field(default_factory=list)
    j_mean: float | None = None
    f_mean: float | None = None
    jf_mean: float | None = None
    shape_iou_median: float | None = None
    keys_per_100_frames: float | None = None
    points_per_shape_max: int | None = None
    qa_verdict: str | None = None
    thumbnail: Path | None = None

    @property
    def to_open(self) -> list[Path]:
        """The published files an artist opens: the Nuke script and the Silhouette file."""
        return sorted(p for d in self.published_dirs for p in d.glob("*") if p.suffix in (".nk", ".fxs"))

    def verdict(self) -> tuple[bool, str]:
        """Whether the numbers are good, said against the bars the demo's synthetic shots are expected to pass."""
        if self.jf_mean is None:
            return False, "no result"
        faults = []
        if self.jf_mean < GOOD_JF:
            faults.append(f"J&F {self.jf_mean:.3f} < {GOOD_JF}")
        if self.shape_iou_median is not None and self.shape_iou_median < GOOD_SHAPE_IOU:
            faults.append(f"shape IoU {self.shape_iou_median:.3f} < {GOOD_SHAPE_IOU}")
        if faults:
            return False, "needs review: " + ", ".join(faults)
        shape = f", shapes match the masks (IoU ≥ {GOOD_SHAPE_IOU})" if self.shape_iou_median is not None else ""
        return True, f"good: J&F ≥ {GOOD_JF} against the exact ground truth{shape}"


@dataclass
class DemoReport:
    out: Path
    seconds: float
    cut: Path
    tracker_root: Path
    jobs_root: Path
    shots: list[ShotReport]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.shots)


def _timecode(frames: int) -> str:
    h, rest = divmod(frames, 3600 * FPS)
    m, rest = divmod(rest, 60 * FPS)
    s, f = divmod(rest, FPS)
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


def _make_plates(layout: DemoLayout) -> list[SyntheticShot]:
    """Render each synthetic shot once; a second run reuses them (they are deterministic)."""
    made: list[SyntheticShot] = []
    frames = CUT_FRAMES + 2 * HANDLES
    for name, seed in SHOTS:
        root = layout.plates / name
        stamp = root / ".complete"
        if stamp.is_file():
            made.append(_existing_shot(root, name, frames))
            continue
        shutil.rmtree(root, ignore_errors=True)
        made.append(make_shot(root, frames=frames, width=WIDTH, height=HEIGHT, objects=2, seed=seed, name=name))
        write_text(stamp, "ok\n")
    return made


def _existing_shot(root: Path, name: str, frames: int) -> SyntheticShot:
    return SyntheticShot(
        name=name,
        plate=str(root / "plate" / f"{name}.####.exr"),
        gt=str(root / "gt" / f"{name}_gt.####.exr"),
        first_frame=1001,
        last_frame=1000 + frames,
        width=WIDTH,
        height=HEIGHT,
        objects=["obj1", "obj2"],
    )


def _box(mask: np.ndarray, margin: int = 4) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask > 0.5)
    if xs.size == 0:
        return None
    h, w = mask.shape
    return (
        max(int(xs.min()) - margin, 0),
        max(int(ys.min()) - margin, 0),
        min(int(xs.max()) + margin, w - 1),
        min(int(ys.max()) + margin, h - 1),
    )


def write_cut(layout: DemoLayout, shots: list[SyntheticShot]) -> Path:
    """An EDL with one event per shot and a ``roto-box`` LOC marker per object on the first frame of the cut.

    The boxes come from the ground truth of that frame, as a coordinator would draw them in review.
    """
    lines = ["TITLE: ROTOFARM DEMO", "FCM: NON-DROP FRAME", ""]
    record = _RECORD_START
    for number, shot in enumerate(shots, start=1):
        source_in = _SOURCE_START + number * 1000 + HANDLES
        key = shot.first_frame + HANDLES
        lines.append(
            f"{number:03d}  A{number:03d}C001 V     C        {_timecode(source_in)} "
            f"{_timecode(source_in + CUT_FRAMES)} {_timecode(record)} {_timecode(record + CUT_FRAMES)}"
        )
        lines.append(f"* FROM CLIP NAME: {shot.name}_plate_v001")
        truth = read_mask_exr(frame_path(shot.gt, key))
        for obj in shot.objects:
            box = _box(truth[obj])
            if box is not None:
                lines.append(f"* LOC: {_timecode(record)} RED     roto-box: {obj}: {box[0]} {box[1]} {box[2]} {box[3]}")
        record += CUT_FRAMES
    return write_text(layout.cut, "\n".join(lines) + "\n")


def demo_config(layout: DemoLayout) -> FarmConfig:
    base = FarmConfig.load()
    return base.model_copy(
        update={
            "jobs_root": str(layout.jobs_root),
            "chunk_size": CHUNK_SIZE,
            "tracker": "local",
            "create_folders": True,
            "comment": "rotofarm demo",
        }
    )


def plan_demo(layout: DemoLayout) -> tuple[list[SyntheticShot], ShotList, JobPlan, FarmConfig]:
    """Plates, cut, ingest and plan: everything before the farm runs."""
    synthetic = _make_plates(layout)
    cut = write_cut(layout, synthetic)
    options = IngestOptions(plates=layout.plate_template(), handles=HANDLES, start_frame=1001, fps=FPS)
    shots = ingest_file(cut, options)
    config = demo_config(layout)
    pipeline = PipelineSettings(backend="classical", chunk_size=CHUNK_SIZE, device="cpu")
    plan = plan_submission(shots, PROJECT, config, pipeline, tracker_root=str(layout.tracker_root))
    return synthetic, shots, plan, config


def _quality(manifest: JobManifest, truth: SyntheticShot, report: ShotReport) -> None:
    """J&F of the farm's masks against the ground truth, and the shape QA that finalize wrote."""
    folder = JobFolder(Path(manifest.output_dir), manifest.shot.name)
    frames = range(manifest.shot.first_frame, manifest.shot.last_frame + 1)
    mean = evaluate_sequences(folder.mask_pattern, truth.gt, frames).table()["mean"]
    report.j_mean, report.f_mean, report.jf_mean = mean["J"], mean["F"], mean["J&F"]
    if folder.qa_report.is_file():
        qa = json.loads(folder.qa_report.read_text())
        overall = qa.get("summary", {})
        report.shape_iou_median = overall.get("shape_iou_median")
        report.keys_per_100_frames = overall.get("keys_per_100_frames")
        report.points_per_shape_max = overall.get("points_per_shape_max")
        verdict = qa.get("verdict")
        report.qa_verdict = verdict.get("line") if isinstance(verdict, dict) else None
    if folder.thumbnail.is_file():
        report.thumbnail = folder.thumbnail


def _versions(manifest: JobManifest, report: ShotReport) -> None:
    """The versions this job published, found in the local tracker by the job id they carry."""
    settings = load_tracker_settings()
    root = Path(manifest.tracker.local_root) if manifest.tracker.local_root else settings.resolved_local_root()
    tracker = LocalTracker(root, settings.templates or None)
    project, target = manifest.tracker.project, manifest.tracker
    anatomy = tracker.open_project(project)
    folder = tracker.resolve_folder(project, target.folder_path)
    names = settings.product_names(manifest.shot.objects, target.shapes_product, target.matte_product)
    for name, product_type in zip(names, (settings.shapes.product_type, settings.matte.product_type), strict=True):
        ref = tracker.ensure_product(project, folder, name, product_type)
        version = tracker.find_version_by_job(project, ref, manifest.job_id)
        if version is None:
            continue
        report.versions[name] = version.version
        folders = {anatomy.absolute(f.path).parent for r in version.representations for f in r.files}
        report.published_dirs.extend(sorted(folders))


def run_demo(out: Path, run_farm: Callable[[JobPlan, FarmConfig], list[ShotOutcome]]) -> DemoReport:
    """Make the demo under ``out`` and run it with ``run_farm`` (the CLI's local farm with its progress display)."""
    start = time.perf_counter()
    layout = DemoLayout(out.resolve())
    synthetic, _, plan, config = plan_demo(layout)
    outcomes = run_farm(plan, config)
    truth = {s.name: s for s in synthetic}
    reports: list[ShotReport] = []
    for shot, outcome in zip(plan.shots, outcomes, strict=True):
        manifest = JobManifest.load(shot.manifest_path)
        rep = ShotReport(shot.shot, shot.job_id, shot.job_folder, outcome.ok, outcome.error or "")
        if outcome.ok:
            _quality(manifest, truth[shot.shot], rep)
            _versions(manifest, rep)
        reports.append(rep)
    return DemoReport(
        out=layout.out,
        seconds=time.perf_counter() - start,
        cut=layout.cut,
        tracker_root=layout.tracker_root,
        jobs_root=layout.jobs_root,
        shots=reports,
    )
