"""Where each file of a version goes: anatomy template → rootless and local paths → the version draft.

AYON stores rootless paths (``{root[work]}/...``) so every site resolves them against its own roots; the
representation's ``data.context`` holds the values that filled the template, as ayon-core's integrator writes
them, so AYON's loaders can rebuild any path from ``attrib.template``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ayon_api.utils import create_entity_id

from publish.collect import ProductPlan, PublishPlan, RepresentationPlan, SourceFile
from publish.hashing import HASH_TYPE
from publish.templates import PublishTemplate
from publish.tracker import (
    DATA_KEY,
    STATE_STAGING,
    Anatomy,
    FileRecord,
    FolderRef,
    ProductRef,
    RepresentationDraft,
    VersionDraft,
)

_ROOTLESS = {"work": "{root[work]}"}


@dataclass(frozen=True)
class Transfer:
    source: SourceFile
    destination: Path


@dataclass(frozen=True)
class VersionLayout:
    draft: VersionDraft
    transfers: tuple[Transfer, ...]


def _context(
    anatomy: Anatomy, plan: PublishPlan, folder: FolderRef, product: ProductRef, version: int, task_type: str
) -> dict[str, Any]:
    return {
        "project": {"name": plan.project, "code": anatomy.project_code},
        "hierarchy": folder.hierarchy,
        "folder": {"name": folder.name, "type": folder.folder_type or "Shot", "path": folder.path},
        "product": {"name": product.name, "type": product.product_type},
        "task": {"name": plan.manifest.tracker.task, "type": task_type},
        "version": version,
    }


def _fill_paths(template: PublishTemplate, context: dict[str, Any], extra: dict[str, Any]) -> str:
    """The rootless file path for one file of a representation."""
    data = {**context, **extra, "root": _ROOTLESS}
    return f"{template.directory_for(data)}/{template.file_for(data)}"


def _representation(
    anatomy: Anatomy, template: PublishTemplate, context: dict[str, Any], rep: RepresentationPlan
) -> tuple[RepresentationDraft, list[Transfer]]:
    files: list[FileRecord] = []
    transfers: list[Transfer] = []
    for source in rep.sources:
        extra: dict[str, Any] = {"ext": rep.ext, "representation": rep.name}
        if source.frame is not None:
            extra["frame"] = source.frame
        rootless = _fill_paths(template, context, extra)
        files.append(
            FileRecord(
                create_entity_id(),
                rootless.rsplit("/", 1)[-1],
                rootless,
                source.digest.size,
                source.digest.sha256,
                HASH_TYPE,
            )
        )
        transfers.append(Transfer(source, anatomy.absolute(rootless)))
    rep_context = {**context, "ext": rep.ext, "representation": rep.name}
    if rep.is_sequence:
        rep_context["frame"] = rep.sources[0].frame
    attrib = {"path": files[0].path, "template": template.path}
    draft = RepresentationDraft(create_entity_id(), rep.name, tuple(files), attrib, {"context": rep_context})
    return draft, transfers


def version_layout(
    anatomy: Anatomy,
    plan: PublishPlan,
    product_plan: ProductPlan,
    product: ProductRef,
    version: int,
    task_id: str | None,
    status: str | None,
) -> VersionLayout:
    """The draft of version ``version`` of ``product`` and the copies that put its files in place."""
    context = _context(anatomy, plan, product.folder, product, version, plan.task_type)
    reps: list[RepresentationDraft] = []
    transfers: list[Transfer] = []
    template = anatomy.publish_template(product_plan.template)
    for rep in product_plan.representations:
        draft, moves = _representation(anatomy, template, context, rep)
        reps.append(draft)
        transfers.extend(moves)
    data = {DATA_KEY: {**plan.data, "state": STATE_STAGING}}
    attrib = dict(plan.attrib)
    draft = VersionDraft(
        id=create_entity_id(),
        version=version,
        task_id=task_id,
        author=plan.author,
        attrib=attrib,
        data=data,
        status=status,
        representations=tuple(reps),
    )
    return VersionLayout(draft, tuple(transfers))
