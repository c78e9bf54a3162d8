"""Where each file of a version goes: anatomy template → rootless and local paths → the version draft.

AYON stores rootless paths (``{root[work]}/...``) so every site resolves them against its own roots; the
representation's ``data.context`` holds the values that filled the template, as ayon-core's integrator
(``plugins/publish/integrate.py``) writes them, so AYON's loaders can rebuild any path from ``attrib.template``:
``context.frame`` is the first frame as a string zero-padded to the anatomy's ``frame_padding`` (ayon-nuke's
LoadClip turns its length into the ``####`` of the Read node), ``attrib.template`` the rootless path template.
Every filled path is checked to lie inside the root before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.claims import representation_id_for
from publish.collect import ProductPlan, PublishPlan, RepresentationPlan, SourceFile
from publish.errors import PublishError
from publish.hashing import HASH_TYPE
from publish.names import inside_root
from publish.templates import PublishTemplate, frame_padding
from publish.tracker import (
    DATA_KEY,
    STATE_COMPLETE,
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
class VersionExtras:
    """Version fields decided once per publish: the status and comment the QA verdict asks for, the thumbnail."""

    status: str | None = None
    comment: str = ""
    thumbnail_id: str | None = None


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
        # ayon-core keeps only the publishing user's name in the context (``user.name`` and ``username``)
        **({"user": {"name": plan.author}, "username": plan.author} if plan.author else {}),
    }


def _fill_paths(template: PublishTemplate, context: dict[str, Any], extra: dict[str, Any]) -> str:
    """The rootless file path for one file of a representation."""
    data = {**context, **extra, "root": _ROOTLESS}
    return f"{template.directory_for(data)}/{template.file_for(data)}"


def _representation(
    anatomy: Anatomy, template: PublishTemplate, context: dict[str, Any], rep: RepresentationPlan, version_id: str
) -> tuple[RepresentationDraft, list[Transfer]]:
    files: list[FileRecord] = []
    transfers: list[Transfer] = []
    for source in rep.sources:
        extra: dict[str, Any] = {"ext": rep.ext, "representation": rep.name}
        if source.frame is not None:
            extra["frame"] = source.frame
        rootless = _fill_paths(template, context, extra)
        destination = inside_root(anatomy.absolute(rootless), anatomy.work_root, what=f"{rep.name} file")
        files.append(
            FileRecord(
                representation_id_for(version_id, rootless),
                rootless.rsplit("/", 1)[-1],
                rootless,
                source.digest.size,
                source.digest.sha256,
                HASH_TYPE,
            )
        )
        transfers.append(Transfer(source, destination))
    if len({t.destination for t in transfers}) != len(transfers):
        raise PublishError(
            f"publish template {template.file!r} gives every frame of {rep.name} the same file name: "
            "it needs a frame token such as {@frame}"
        )
    rep_context = {**context, "ext": rep.ext, "representation": rep.name}
    if rep.is_sequence:
        first = rep.sources[0].frame
        rep_context["frame"] = str(first).zfill(frame_padding(anatomy.templates))
    attrib = {"path": files[0].path, "template": template.path}
    rep_id = representation_id_for(version_id, rep.name)
    draft = RepresentationDraft(rep_id, rep.name, tuple(files), attrib, {"context": rep_context})
    return draft, transfers


def version_layout(
    anatomy: Anatomy,
    plan: PublishPlan,
    product_plan: ProductPlan,
    product: ProductRef,
    version: int,
    version_id: str,
    task_id: str | None,
    extra: VersionExtras,
) -> VersionLayout:
    """The draft of version ``version`` of ``product`` (entity id ``version_id``, derived from the job) and the
    copies that put its files in place."""
    context = _context(anatomy, plan, product.folder, product, version, plan.task_type)
    reps: list[RepresentationDraft] = []
    transfers: list[Transfer] = []
    template = anatomy.publish_template(product_plan.template)
    for rep in product_plan.representations:
        draft, moves = _representation(anatomy, template, context, rep, version_id)
        reps.append(draft)
        transfers.extend(moves)
    data = {DATA_KEY: {**plan.data, "state": STATE_COMPLETE}}
    attrib = dict(plan.attrib)
    if extra.comment:
        attrib["comment"] = extra.comment
    draft = VersionDraft(
        id=version_id,
        version=version,
        task_id=task_id,
        author=plan.author,
        attrib=attrib,
        data=data,
        status=extra.status,
        representations=tuple(reps),
        thumbnail_id=extra.thumbnail_id,
    )
    return VersionLayout(draft, tuple(transfers))
