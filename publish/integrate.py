"""Integrate: give each product one version per farm job, its files first and the tracker entities last.

Order, so that a kill leaves nothing visible half-done and a requeued farm task never makes a second version:

1. The job's version is looked up; when it exists only the (idempotent) plate link is redone.
2. A version number is claimed on the publish storage (``NumberClaims``); this job gets its own claim back.
3. The files are copied into the claimed version's folder (temporary name, hash check, rename; a file already
   in place with the right hash is kept, so a rerun after a kill copies only what is missing).
4. The version and all its representations are created in one tracker operation (one AYON operations batch,
   rolled back whole on error; one SQLite transaction). Before it nothing is visible, after it everything is.
5. The plate link (a kill between 4 and 5 is repaired by the rerun, which finds the version at step 1).

The version's entity id is derived from the job (``version_id_for``), so at step 4 a second process of the same
job is refused by the tracker's primary key: its files are byte-identical to the winner's and stay; it reports
"already published by this job". A number taken by a publisher that does not claim (an artist's ayon-core
publish) makes us remove our copies, give the claim back and claim the next number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from publish.claims import NumberClaims, version_id_for
from publish.collect import ProductPlan, PublishPlan, SourceFile
from publish.config import TrackerSettings
from publish.errors import AlreadyPublished, PublishError, VersionTaken
from publish.layout import VersionExtras, VersionLayout, version_layout
from publish.tracker import Anatomy, FolderRef, PlateRef, ProductRef, RepresentationDraft, Tracker, VersionRef
from publish.transfer import FileTransaction, Observer

CLAIMS_DIR = (".rotofarm", "claims")


@dataclass(frozen=True)
class PublishContext:
    """What validate resolved once for every product of the publish."""

    anatomy: Anatomy
    folder: FolderRef
    task_id: str | None
    plate: PlateRef | None
    plate_version_id: str | None = None
    extras: VersionExtras = field(default_factory=VersionExtras)


@dataclass(frozen=True)
class PublishedVersion:
    product: str
    product_type: str
    version: int
    version_id: str
    created: bool
    directory: str
    representations: tuple[RepresentationDraft, ...] = ()


def _published(product: ProductRef, version: VersionRef, created: bool, anatomy: Anatomy) -> PublishedVersion:
    first = version.representations[0].files[0].path if version.representations else ""
    directory = str(anatomy.absolute(first).parent) if first else ""
    return PublishedVersion(
        product.name, product.product_type, version.version, version.id, created, directory, version.representations
    )


def _link(
    tracker: Tracker,
    plan: PublishPlan,
    ctx: PublishContext,
    version: VersionRef,
    settings: TrackerSettings,
    notify: Observer,
) -> None:
    if ctx.plate_version_id is not None:
        tracker.link_inputs(plan.project, version, [ctx.plate_version_id], settings.link_type)
        notify("link", version.product.name)


def _claims(plan: PublishPlan, ctx: PublishContext, product: ProductRef) -> NumberClaims:
    root = ctx.anatomy.work_root.joinpath(*CLAIMS_DIR)
    return NumberClaims(root, plan.project, ctx.folder.path, product.name)


def _claim(
    tracker: Tracker, plan: PublishPlan, claims: NumberClaims, product: ProductRef, after: int, notify: Observer
) -> int:
    """This job's number: its earlier claim if any (and above ``after``), else the first free one.

    The highest number is read before this job's own claim is looked for: a twin process that claims and
    commits in between is then found by the look-up, instead of its version pushing us one number higher."""
    base = max(tracker.last_version_number(plan.project, product), claims.highest(), after)
    mine = claims.claimed_by(plan.job_id)
    if mine is not None and mine > after:
        return mine
    number = base + 1
    for _ in range(10_000):
        if claims.try_claim(number, plan.job_id):
            notify("claim", f"{product.name} v{number:03d}")
            return number
        notify("taken", f"{product.name} v{number:03d}")
        number += 1
    raise PublishError(f"no free version number for {product.name}", where=f"{plan.project}{plan.folder_path}")


def _create(tracker: Tracker, plan: PublishPlan, product: ProductRef, layout: VersionLayout) -> VersionRef | None:
    """Step 4; None when a twin process of this job created the version first."""
    try:
        return tracker.create_version(plan.project, product, layout.draft)
    except AlreadyPublished:
        return None


def integrate_product(
    tracker: Tracker,
    plan: PublishPlan,
    ctx: PublishContext,
    product_plan: ProductPlan,
    settings: TrackerSettings,
    notify: Observer,
) -> PublishedVersion:
    product = tracker.ensure_product(plan.project, ctx.folder, product_plan.name, product_plan.product_type)
    version_id = version_id_for(plan.project, ctx.folder.path, product.name, plan.job_id)
    existing = tracker.find_version_by_job(plan.project, product, plan.job_id, version_id)
    if existing is not None:
        notify("found", f"{product.name} v{existing.version:03d}")
        _link(tracker, plan, ctx, existing, settings, notify)
        return _published(product, existing, False, ctx.anatomy)
    # Every path this version would have is checked against the root before a number is claimed for it.
    version_layout(ctx.anatomy, plan, product_plan, product, 1, version_id, ctx.task_id, ctx.extras)
    claims = _claims(plan, ctx, product)
    number = 0
    for _ in range(settings.max_version_attempts):
        number = _claim(tracker, plan, claims, product, number, notify)
        layout = version_layout(ctx.anatomy, plan, product_plan, product, number, version_id, ctx.task_id, ctx.extras)
        files = FileTransaction(layout.transfers, notify)
        try:
            files.run()
            version = _create(tracker, plan, product, layout)
        except VersionTaken:
            notify("taken", f"{product.name} v{number:03d}")
            files.rollback()
            claims.release(number, plan.job_id)
            continue
        except BaseException:
            # The files stay claimed by this job: a rerun keeps the complete ones and copies the rest.
            files.rollback_temporaries()
            raise
        if version is None:
            found = tracker.find_version_by_job(plan.project, product, plan.job_id, version_id)
            if found is None:
                raise PublishError(f"{product.name}: the tracker refused version {version_id} yet does not list it")
            if found.version != number:  # not reached while claims hold; never leave copies no version lists
                files.rollback()
                claims.release(number, plan.job_id)
            notify("found", f"{product.name} v{found.version:03d}")
            _link(tracker, plan, ctx, found, settings, notify)
            return _published(product, found, False, ctx.anatomy)
        notify("complete", f"{product.name} v{version.version:03d}")
        _link(tracker, plan, ctx, version, settings, notify)
        return _published(product, version, True, ctx.anatomy)
    raise PublishError(
        f"no free version number for {product.name} after {settings.max_version_attempts} attempts "
        f"(last tried v{number:03d}): the tracker kept refusing the claimed numbers",
        where=f"{plan.project}{plan.folder_path}",
        hint="raise max_version_attempts in tracker.yaml",
    )


def with_sources(product_plan: ProductPlan, name: str, sources: tuple[SourceFile, ...]) -> ProductPlan:
    """``product_plan`` with representation ``name`` reading other source files (the published .nk)."""
    reps = tuple(replace(r, sources=sources) if r.name == name else r for r in product_plan.representations)
    return replace(product_plan, representations=reps)
