"""The ``Tracker`` protocol: what publishing needs from a production tracker, and the records it exchanges.

Two implementations share it: ``AyonTracker`` (ayon-python-api) and ``LocalTracker`` (SQLite + the same anatomy
layout on a local root), so the whole publish flow — version numbering, idempotent reruns, rollback — is one
piece of code tested against the local one and run against AYON.

Version numbers follow a lock-free protocol: read the latest, create latest+1, and when another publisher got
there first the tracker raises ``VersionTaken`` and the caller tries the next number. Our own data lives under
``data["rotofarm"]`` of the version: the farm job id (for idempotent reruns) and the publish state (``staging``
until every file is verified in place, then ``complete``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from publish.templates import PublishTemplate

DATA_KEY = "rotofarm"
STATE_STAGING = "staging"
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
        return Path(rootless.format(root=self.roots))


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

    def resolve_folder(self, project: str, path: str, *, create: bool = False) -> FolderRef: ...

    def resolve_task(self, project: str, folder: FolderRef, name: str, task_type: str, *, create: bool) -> str | None:
        """The task id, created when ``create``; None when absent (a version may have no task)."""
        ...

    def ensure_product(self, project: str, folder: FolderRef, name: str, product_type: str) -> ProductRef: ...

    def last_version_number(self, project: str, product: ProductRef) -> int:
        """The highest version number of the product, 0 when it has none."""
        ...

    def find_version_by_job(self, project: str, product: ProductRef, job_id: str) -> VersionRef | None: ...

    def create_version(self, project: str, product: ProductRef, draft: VersionDraft) -> VersionRef:
        """Create the version and its representations in one operation; ``VersionTaken`` on a unique violation."""
        ...

    def set_thumbnail(self, project: str, version: VersionRef, image: Path) -> None: ...

    def link_inputs(self, project: str, version: VersionRef, inputs: list[VersionRef], link_type: str) -> None:
        """Link each input version to ``version`` (idempotent: an existing link is kept, not doubled)."""
        ...

    def mark_complete(self, project: str, version: VersionRef) -> VersionRef: ...

    def delete_version(self, project: str, version: VersionRef) -> None: ...

    def latest_plate(self, project: str, folder: FolderRef, product_type: str) -> PlateRef | None: ...

    def shot_folders(self, project: str, paths: list[str], plate_product_type: str) -> list[ShotFolder]:
        """Folders of type Shot at or under each path, in path order."""
        ...
