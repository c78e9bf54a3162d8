"""Integrate: give each product a version in the tracker and its files in the publish folder.

Order matters for concurrency and for kills. The version number is claimed first (the tracker's unique index is
the only lock: a ``VersionTaken`` sends us to the next number), because only the claimer of ``vNNN`` may write in
its folder. The version is created in state ``staging`` with its representations in one operation; the files are
copied and verified; then the thumbnail, the plate link and ``complete``. A failure undoes both sides; a kill
leaves a ``staging`` version that the rerun (same farm job id) finds and finishes instead of creating another —
or, when finalize rewrote the job's files in between, removes and publishes afresh.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass

from publish.collect import ProductPlan, PublishPlan
from publish.config import TrackerSettings
from publish.errors import PublishError, VersionTaken
from publish.layout import Transfer, version_layout
from publish.tracker import Anatomy, FolderRef, PlateRef, ProductRef, Tracker, VersionRef
from publish.transfer import FileTransaction, Observer
from roto_core.atomic import remove_stale_temps


@dataclass(frozen=True)
class PublishContext:
    """What validate resolved once for every product of the publish."""

    anatomy: Anatomy
    folder: FolderRef
    task_id: str | None
    plate: PlateRef | None


@dataclass(frozen=True)
class PublishedVersion:
    product: str
    product_type: str
    version: int
    version_id: str
    created: bool
    directory: str


def _transfers_of(version: VersionRef, plan: ProductPlan, anatomy: Anatomy) -> list[Transfer] | None:
    """The copies of a staging version, rebuilt from what the tracker recorded (its paths win on a resume); None
    when the job folder no longer holds exactly those files (finalize ran again in between)."""
    by_name = {r.name: r for r in plan.representations}
    transfers: list[Transfer] = []
    for rep in version.representations:
        sources = by_name[rep.name].sources if rep.name in by_name else ()
        if len(sources) != len(rep.files):
            return None
        for source, record in zip(sources, rep.files, strict=True):
            if (record.size, record.hash) != (source.digest.size, source.digest.sha256):
                return None
            transfers.append(Transfer(source, anatomy.absolute(record.path)))
    return transfers


def _discard(tracker: Tracker, project: str, version: VersionRef, anatomy: Anatomy) -> None:
    """Remove a staging version of ours that cannot be resumed: its files, its temporaries, the entity."""
    folders = set()
    for rep in version.representations:
        for record in rep.files:
            path = anatomy.absolute(record.path)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
    for folder in folders:
        remove_stale_temps(folder)
        with contextlib.suppress(OSError):
            folder.rmdir()
    tracker.delete_version(project, version)


def _finish(
    tracker: Tracker,
    plan: PublishPlan,
    ctx: PublishContext,
    version: VersionRef,
    transfers: list[Transfer],
    settings: TrackerSettings,
    notify: Observer,
    *,
    undo_version: bool,
) -> VersionRef:
    files = FileTransaction(transfers, notify)
    try:
        files.run()
        if plan.thumbnail is not None:
            tracker.set_thumbnail(plan.project, version, plan.thumbnail.path)
            notify("thumbnail", version.product.name)
        if ctx.plate is not None:
            tracker.link_inputs(plan.project, version, [ctx.plate.version], settings.link_type)
            notify("link", version.product.name)
        done = tracker.mark_complete(plan.project, version)
        notify("complete", f"{version.product.name} v{version.version:03d}")
        return done
    except BaseException:
        files.rollback()
        if undo_version:
            # The original error matters more; if this fails too, a rerun finishes the staging version.
            with contextlib.suppress(Exception):
                tracker.delete_version(plan.project, version)
        raise


def _claim(
    tracker: Tracker,
    plan: PublishPlan,
    ctx: PublishContext,
    product_plan: ProductPlan,
    settings: TrackerSettings,
    notify: Observer,
    product: ProductRef,
) -> tuple[VersionRef, list[Transfer]]:
    """Create latest+1; on ``VersionTaken`` take the next number, with a little jitter, a bounded number of times."""
    tried = 0
    for attempt in range(settings.max_version_attempts):
        number = max(tracker.last_version_number(plan.project, product), tried) + 1
        layout = version_layout(ctx.anatomy, plan, product_plan, product, number, ctx.task_id, settings.status)
        try:
            version = tracker.create_version(plan.project, product, layout.draft)
        except VersionTaken:
            tried = number
            notify("taken", f"{product.name} v{number:03d}")
            time.sleep(random.uniform(0.0, 0.02 * (attempt + 1)))
            continue
        notify("claim", f"{product.name} v{number:03d}")
        return version, list(layout.transfers)
    raise PublishError(
        f"no free version number for {product.name} after {settings.max_version_attempts} attempts "
        f"(last tried v{tried:03d}): too many concurrent publishers",
        where=f"{plan.project}{plan.folder_path}",
        hint="raise max_version_attempts in tracker.yaml",
    )


def integrate_product(
    tracker: Tracker,
    plan: PublishPlan,
    ctx: PublishContext,
    product_plan: ProductPlan,
    settings: TrackerSettings,
    notify: Observer,
) -> PublishedVersion:
    product = tracker.ensure_product(plan.project, ctx.folder, product_plan.name, product_plan.product_type)
    existing = tracker.find_version_by_job(plan.project, product, plan.job_id)
    created = existing is None or not existing.complete
    transfers = _transfers_of(existing, product_plan, ctx.anatomy) if existing and not existing.complete else None
    if existing is not None and existing.complete:
        notify("found", f"{product.name} v{existing.version:03d}")
        version = existing
    elif existing is not None and transfers is not None:
        notify("resume", f"{product.name} v{existing.version:03d}")
        version = _finish(tracker, plan, ctx, existing, transfers, settings, notify, undo_version=False)
    else:
        if existing is not None:
            notify("discard", f"{product.name} v{existing.version:03d}")
            _discard(tracker, plan.project, existing, ctx.anatomy)
        claimed, transfers = _claim(tracker, plan, ctx, product_plan, settings, notify, product)
        version = _finish(tracker, plan, ctx, claimed, transfers, settings, notify, undo_version=True)
    first = version.representations[0].files[0].path if version.representations else ""
    directory = str(ctx.anatomy.absolute(first).parent) if first else ""
    return PublishedVersion(product.name, product.product_type, version.version, version.id, created, directory)
