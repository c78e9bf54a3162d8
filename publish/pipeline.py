"""``publish_manifest``: collect → validate → integrate, the shape of ayon-core's publisher, for one job.

The matte product is integrated first, so the shapes product's ``.nk`` can be written to read the matte files of
this very publish (``publish.nk_rewrite``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publish.collect import collect
from publish.config import TrackerSettings, load_tracker_settings
from publish.errors import PublishError
from publish.integrate import PublishedVersion, integrate_product, with_sources
from publish.nk_rewrite import published_nk
from publish.tracker import Tracker
from publish.transfer import Observer, no_observer
from publish.validate import validate
from roto_core.contracts import JobManifest

TRACKERS = ("local", "ayon")


@dataclass(frozen=True)
class PublishResult:
    tracker: str
    project: str
    folder_path: str
    job_id: str
    versions: list[PublishedVersion] = field(default_factory=list)
    verdict: dict[str, Any] | None = None

    @property
    def created(self) -> bool:
        """True when this run created at least one version (False: a rerun found them all)."""
        return any(v.created for v in self.versions)

    def version_of(self, product: str) -> int:
        return next(v.version for v in self.versions if v.product == product)


def make_tracker(kind: str, manifest: JobManifest, settings: TrackerSettings) -> Tracker:
    """The tracker named on the command line; the local root comes from the manifest, else tracker.yaml."""
    if kind == "local":
        from publish.local_tracker import LocalTracker

        root = Path(manifest.tracker.local_root) if manifest.tracker.local_root else settings.resolved_local_root()
        return LocalTracker(root, settings.templates or None)
    if kind == "ayon":
        from publish.ayon_tracker import AyonTracker

        return AyonTracker.from_environment()
    raise PublishError(f"unknown tracker {kind!r}: use one of {', '.join(TRACKERS)}")


def publish_manifest(
    manifest: JobManifest,
    tracker: str | Tracker = "local",
    create_folders: bool = False,
    *,
    settings: TrackerSettings | None = None,
    observer: Observer = no_observer,
) -> PublishResult:
    """Publish a finished job: one version per product, or the existing ones when this job already published."""
    settings = settings or load_tracker_settings()
    plan = collect(manifest, settings)
    observer("collect", manifest.job_id)
    trk = make_tracker(tracker, manifest, settings) if isinstance(tracker, str) else tracker
    ctx = validate(trk, plan, settings, create_folders=create_folders)
    observer("validate", f"{plan.project}{plan.folder_path}")
    shapes_plan, matte_plan = plan.products
    matte = integrate_product(trk, plan, ctx, matte_plan, settings, observer)
    if any(r.name == "nk" for r in shapes_plan.representations):
        nk = published_nk(manifest, matte, trk.name, ctx.anatomy)
        shapes_plan = with_sources(shapes_plan, "nk", (nk,))
    shapes = integrate_product(trk, plan, ctx, shapes_plan, settings, observer)
    return PublishResult(trk.name, plan.project, plan.folder_path, manifest.job_id, [shapes, matte], plan.verdict)
