"""The ``Tracker`` protocol: what publishing needs from a production tracker, and the records it exchanges.

Two implementations share it: ``AyonTracker`` (ayon-python-api) and ``LocalTracker`` (SQLite + the same anatomy
layout on a local root), so the whole publish flow — version numbering, idempotent reruns, rollback — is one
piece of code tested against the local one and run against AYON.

Version numbers are claimed on the publish storage first (``publish.claims``); the tracker's unique index is the
last word: ``VersionTaken`` when another publisher's version holds the number, ``AlreadyPublished`` when the
version id derived from this job exists. Our own data lives under ``data["rotofarm"]`` of the version: the farm
job id (for idempotent reruns), the QA verdict, models and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from publish.errors import PublishError
from publish.templates import PublishTemplate

DATA_KEY = "rotofarm"
STATE_COMPLETE = "complete"


@dataclass(frozen=True)
class Anatomy:
    """Where a project's publishes go: its anatomy templates, root values, project code."""

    templates: dict[str, Any]
    roots: dict[str, str]
    project_code: str

    def publish_template(self, name: str) -> PublishTemplate:
        return PublishTemplate.from_anatomy(self.templates, name)

    def absolute(self, rootless: str) -> Path:
        """``{root[work]}/p/...`` → a path on this machine."""
        try:
            return Path(rootless.format(root=self.roots))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise PublishError(f"path {rootless!r} names a root this project lacks ({exc})") from None

    @property
    def work_root(self) -> Path:
        """The ``work`` root on this machine: every published file, and the version claims, live below it."""
        if not self.roots.get("work"):
            raise PublishError("the project has no 'work' root for this machine")
        return Path(self.roots["work"])


def folder_type_at(depth: int, levels: int) -> str:
    """The folder type ``--create-folders`` gives each level of ``/episode/sequence/shot``: the leaf is a Shot,
    its parent a Sequence, the level above an Episode (AYON's default folder types), anything higher a Folder."""
    return {0: "Shot", 1: "Sequence", 2: "Episode"}.get(levels - depth, "Folder")


@dataclass(frozen=True)
class FolderRef:
    id: str
    path: str
    folder_type: str | None = None
    attrib: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def hierarchy(self) -> str:
        """Parent folder names joined by '/', as AYON's ``{hierarchy}`` template key."""
        return "/".join(self.path.strip("/").split("/")[:-1])


@dataclass(frozen=True)
class ProductRef:
    id: str
    name: str
    product_type: str
    folder: FolderRef


@dataclass(frozen=True)
class FileRecord:
    """A representation file as AYON stores it: rootless path, size and hash."""

    id: str
    name: str
    path: str
    size: int
    hash: str
    hash_type: str = "sha256"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "size": self.size,
            "hash": self.hash,
            "hash_type": self.hash_type,
        }


@dataclass(frozen=True)
class RepresentationDraft:
    id: str
    name: str
    files: tuple[FileRecord, ...]
    attrib: dict[str, Any]
    data: dict[str, Any]


@dataclass(frozen=True)
class VersionDraft:
    """A version to create together with its representations, in one tracker operation."""

    id: str
    version: int
    task_id: str | None
    author: str | None
    attrib: dict[str, Any]
    data: dict[str, Any]
    status: str | None
    representations: tuple[RepresentationDraft, ...]
    thumbnail_id: str | None = None


@dataclass(frozen=True)
class VersionRef:
    id: str
    version: int
    product: ProductRef
    data: dict[str, Any]
    representations: tuple[RepresentationDraft, ...] = ()

    @property
    def job_id(self) -> str | None:
        return (self.data.get(DATA_KEY) or {}).get("jobId")

    @property
    def complete(self) -> bool:
        return (self.data.get(DATA_KEY) or {}).get("state") == STATE_COMPLETE


@dataclass(frozen=True)
class PlateRef:
    """The shot's latest ``plate`` version and the path of its first representation (frame token kept)."""

    version: VersionRef
    path: str


@dataclass(frozen=True)
class ShotFolder:
    """A folder of type Shot with the attributes ``submit --from-tracker`` needs."""

    folder: FolderRef
    plate: PlateRef | None


class Tracker(Protocol):
    """What publish needs from a tracker. Errors: ``TrackerUnavailable``, ``PublishError``, ``VersionTaken``."""

    name: str

    def open_project(self, project: str) -> Anatomy:
        """Check the tracker answers and the project exists; return its publish anatomy."""
        ...

    def resolve_folder(
        self, project: str, path: str, *, create: bool = False, attrib: dict[str, Any] | None = None
    ) -> FolderRef:
        """The folder at ``path``; with ``create`` a missing one is made (typed levels, the shot's ``attrib``)."""
        ...

    def resolve_task(self, project: str, folder: FolderRef, name: str, task_type: str, *, create: bool) -> str | None:
        """The task id, created when ``create``; None when absent (a version may have no task)."""
        ...

    def ensure_product(self, project: str, folder: FolderRef, name: str, product_type: str) -> ProductRef: ...

    def last_version_number(self, project: str, product: ProductRef) -> int:
        """The highest version number of the product, 0 when it has none."""
        ...

    def find_version_by_job(
        self, project: str, product: ProductRef, job_id: str, version_id: str | None = None
    ) -> VersionRef | None:
        """The version with id ``version_id``, or (published before ids were derived) with this job id."""
        ...

    def create_version(self, project: str, product: ProductRef, draft: VersionDraft) -> VersionRef:
        """Create the version and its representations in one operation, visible all at once or not at all.

        ``AlreadyPublished`` when ``draft.id`` exists, ``VersionTaken`` when another version has the number."""
        ...

    def upload_thumbnail(self, project: str, image: Path) -> str:
        """Store a thumbnail image; its id goes on the version when the version is created."""
        ...

    def link_inputs(self, project: str, version: VersionRef, input_ids: list[str], link_type: str) -> None:
        """Link each input version to ``version`` (idempotent: an existing link is kept, not doubled)."""
        ...

    def latest_plate(self, project: str, folder: FolderRef, product_type: str) -> PlateRef | None: ...

    def shot_folders(self, project: str, paths: list[str], plate_product_type: str) -> list[ShotFolder]:
        """Folders of type Shot at or under each path, in path order."""
        ...
