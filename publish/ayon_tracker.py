"""``AyonTracker``: the ``Tracker`` protocol through ayon-python-api (REST, operations and GraphQL reads).

Writes go through ``OperationsSession``: a version and its representations are one batch the server applies or
rolls back whole, created after every file is in place. ayon_api reports the server's 409 ``unique-violation`` as
``FailedOperations``; a real 1.16 server words the two cases ``Version with id '…' already exists.`` (the id we
derive from the job: ``AlreadyPublished``) and ``Version with product_id, version '…' already exists.`` (another
publisher's number: ``VersionTaken``), and we tell them apart by reading the version id back. Credentials come
only from ``AYON_SERVER_URL`` / ``AYON_API_KEY`` and appear in no message we write.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ayon_api
import requests
from ayon_api.exceptions import (
    FailedOperations,
    GraphQlQueryFailed,
    HTTPRequestError,
    ServerError,
    UnauthorizedError,
)
from ayon_api.operations import OperationsSession

from publish.errors import AlreadyPublished, PublishError, TrackerUnavailable, VersionTaken
from publish.templates import PublishTemplate
from publish.tracker import (
    DATA_KEY,
    Anatomy,
    FileRecord,
    FolderRef,
    PlateRef,
    ProductRef,
    RepresentationDraft,
    ShotFolder,
    VersionDraft,
    VersionRef,
    folder_type_at,
)

URL_ENV = "AYON_SERVER_URL"
KEY_ENV = "AYON_API_KEY"
SHOT = "Shot"
_VERSION_FIELDS = {"id", "version", "productId", "data", "createdAt"}
_REP_FIELDS = {"id", "name", "attrib", "data", "files"}
_FOLDER_FIELDS = {"id", "path", "folderType", "attrib"}
# ayon_api logs every failed request with its response body; our error line already says what failed.
_AYON_API_LOGGERS = ("ServerAPI", "GlobalServerAPI", "RestApiResponse")


def public_url(url: str) -> str:
    """The server URL without any ``user:password@`` part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def is_unique_violation(exc: FailedOperations) -> bool:
    """ayon_api puts the server's detail after ``Detail:``; a duplicate version reads '... already exists.'"""
    text = str(exc)
    return "unique-violation" in text or "already exists" in text.rsplit("Detail:", 1)[-1]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if "Detail:" in text:
        text = text.rsplit("Detail:", 1)[-1].strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class AyonTracker:
    name = "ayon"

    def __init__(self, con: Any, url: str | None = None) -> None:
        """``con``: an ``ayon_api.ServerAPI`` (or a stand-in with the same methods in tests)."""
        self.con = con
        self.url = public_url(url or con.get_base_url())
        self._users: dict[str, bool] = {}

    @classmethod
    def from_environment(cls) -> AyonTracker:
        url, key = os.environ.get(URL_ENV), os.environ.get(KEY_ENV)
        if not url or not key:
            raise TrackerUnavailable(
                f"{URL_ENV} and {KEY_ENV} must be set to publish to AYON", hint="or publish with --tracker local"
            )
        shown = public_url(url)
        for name in _AYON_API_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        with _translate(shown, "connect"):
            con = ayon_api.ServerAPI(url, token=key, site_id=None, sender_type="rotofarm", max_retries=2)
            if not con.has_valid_token:
                raise TrackerUnavailable(f"AYON at {shown} refused the API key (401)", hint=f"check {KEY_ENV}")
        return cls(con, url)

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        with _translate(self.url, what):
            yield

    # -- project, folders, tasks ------------------------------------------------------------------------------
    def open_project(self, project: str) -> Anatomy:
        with self._call(f"read project {project}"):
            entity = self.con.get_project(project)
            if entity is None:
                raise PublishError(f"project {project} does not exist on {self.url}")
            roots = self.con.get_project_roots_by_site_id(project)
        templates = (entity.get("config") or {}).get("templates") or {}
        PublishTemplate.from_anatomy(templates)  # a project without a usable publish template fails here, early
        return Anatomy(templates, dict(roots), entity.get("code") or project)

    @staticmethod
    def _folder(entity: dict[str, Any]) -> FolderRef:
        return FolderRef(entity["id"], entity["path"], entity.get("folderType"), dict(entity.get("attrib") or {}))

    def resolve_folder(
        self, project: str, path: str, *, create: bool = False, attrib: dict[str, Any] | None = None
    ) -> FolderRef:
        with self._call(f"read folder {path}"):
            entity = self.con.get_folder_by_path(project, path, fields=_FOLDER_FIELDS)
        if entity is not None:
            return self._folder(entity)
        if not create:
            raise PublishError(
                f"folder {path} does not exist in AYON project {project}",
                where=self.url,
                hint="create it in AYON or publish with --create-folders",
            )
        return self._create_folders(project, path, attrib or {})

    def _create_folders(self, project: str, path: str, attrib: dict[str, Any]) -> FolderRef:
        parts = path.strip("/").split("/")
        parent_id: str | None = None
        with self._call(f"create folder {path}"):
            for depth in range(1, len(parts) + 1):
                sub = "/" + "/".join(parts[:depth])
                entity = self.con.get_folder_by_path(project, sub, fields=_FOLDER_FIELDS)
                if entity is None:
                    session = OperationsSession(con=self.con)
                    kind = folder_type_at(depth, len(parts))
                    own = attrib if depth == len(parts) else {}
                    op = session.create_folder(
                        project, parts[depth - 1], folder_type=kind, parent_id=parent_id, attrib=own or None
                    )
                    session.commit()
                    entity = {"id": op.entity_id, "path": sub, "folderType": kind, "attrib": dict(own)}
                parent_id = entity["id"]
        return self._folder(entity)

    def resolve_task(self, project: str, folder: FolderRef, name: str, task_type: str, *, create: bool) -> str | None:
        with self._call(f"read task {name}"):
            task = self.con.get_task_by_name(project, folder.id, name, fields={"id"})
            if task is not None:
                return task["id"]
            if not create:
                return None
            session = OperationsSession(con=self.con)
            op = session.create_task(project, name, task_type, folder_id=folder.id)
            session.commit()
            return op.entity_id

    # -- products and versions --------------------------------------------------------------------------------
    def ensure_product(self, project: str, folder: FolderRef, name: str, product_type: str) -> ProductRef:
        with self._call(f"product {name}"):
            entity = self.con.get_product_by_name(project, name, folder.id, fields={"id", "productType"})
            if entity is None:
                session = OperationsSession(con=self.con)
                session.create_product(project, name, product_type, folder.id)
                try:
                    session.commit()
                except FailedOperations as exc:
                    if not is_unique_violation(exc):  # another publisher created it a moment ago: use theirs
                        raise
                entity = self.con.get_product_by_name(project, name, folder.id, fields={"id", "productType"})
        if entity.get("productType", product_type) != product_type:
            raise PublishError(f"product {name} of {folder.path} is a {entity['productType']}, not a {product_type}")
        return ProductRef(entity["id"], name, product_type, folder)

    def last_version_number(self, project: str, product: ProductRef) -> int:
        with self._call(f"latest version of {product.name}"):
            last = self.con.get_last_version_by_product_id(project, product.id, fields={"version"})
        return int(last["version"]) if last else 0

    def _representations(self, project: str, version_id: str) -> tuple[RepresentationDraft, ...]:
        reps = self.con.get_representations(project, version_ids=[version_id], fields=_REP_FIELDS)
        return tuple(
            RepresentationDraft(
                r["id"],
                r["name"],
                tuple(
                    FileRecord(
                        f["id"],
                        f["name"],
                        f["path"],
                        int(f.get("size") or 0),
                        f.get("hash") or "",
                        f.get("hash_type") or f.get("hashType") or "sha256",
                    )
                    for f in r.get("files") or []
                ),
                dict(r.get("attrib") or {}),
                dict(r.get("data") or {}),
            )
            for r in reps
        )

    def _version_ref(self, project: str, product: ProductRef, entity: dict[str, Any]) -> VersionRef:
        reps = self._representations(project, entity["id"])
        return VersionRef(entity["id"], int(entity["version"]), product, dict(entity.get("data") or {}), reps)

    def find_version_by_job(
        self, project: str, product: ProductRef, job_id: str, version_id: str | None = None
    ) -> VersionRef | None:
        with self._call(f"versions of {product.name}"):
            if version_id is not None:
                entity = self.con.get_version_by_id(project, version_id, fields=_VERSION_FIELDS)
                if entity is not None:
                    return self._version_ref(project, product, entity)
            for entity in self.con.get_versions(project, product_ids=[product.id], fields=_VERSION_FIELDS):
                data = entity.get("data") or {}
                if (data.get(DATA_KEY) or {}).get("jobId") == job_id:
                    return self._version_ref(project, product, entity)
        return None

    def operations(self, project: str, product: ProductRef, draft: VersionDraft) -> OperationsSession:
        """The one batch that creates a version and its representations (and names its thumbnail)."""
        session = OperationsSession(con=self.con)
        session.create_version(
            project,
            draft.version,
            product.id,
            task_id=draft.task_id,
            author=draft.author,
            attrib=draft.attrib,
            data=draft.data,
            status=draft.status,
            thumbnail_id=draft.thumbnail_id,
            version_id=draft.id,
        )
        for rep in draft.representations:
            session.create_representation(
                project,
                rep.name,
                draft.id,
                files=[f.to_dict() for f in rep.files],
                attrib=rep.attrib,
                data=rep.data,
                representation_id=rep.id,
            )
        return session

    def _is_user(self, name: str) -> bool:
        """Whether the server knows user ``name`` (a 1.16 server answers an unknown ``X-as-user`` with HTTP 500)."""
        if name not in self._users:
            self._users[name] = self.con.get(f"users/{name}").status_code == 200
        return self._users[name]

    @contextmanager
    def _as_author(self, author: str | None) -> Iterator[None]:
        """Act as the submitting artist when our key is a service key (AYON's ``X-as-user``); a personal key, or
        a submitter the server does not know, publishes as the key's user, the ``author`` field still naming the
        submitter."""
        if author and hasattr(self.con, "as_username") and self._is_user(author):
            with self.con.as_username(author, ignore_service_error=True):
                yield
        else:
            yield

    def create_version(self, project: str, product: ProductRef, draft: VersionDraft) -> VersionRef:
        session = self.operations(project, product, draft)
        with self._call(f"create {product.name} v{draft.version:03d}"):
            try:
                with self._as_author(draft.author):
                    session.commit()
            except FailedOperations as exc:
                if not is_unique_violation(exc):
                    raise
                if self.con.get_version_by_id(project, draft.id, fields={"id"}) is not None:
                    raise AlreadyPublished(draft.id) from None
                raise VersionTaken(draft.version) from None
        return VersionRef(draft.id, draft.version, product, draft.data, draft.representations)

    def upload_thumbnail(self, project: str, image: Path) -> str:
        with self._call("upload the thumbnail"):
            return str(self.con.create_thumbnail(project, str(image)))

    def link_inputs(self, project: str, version: VersionRef, input_ids: list[str], link_type: str) -> None:
        with self._call(f"links of {version.product.name} v{version.version:03d}"):
            existing = {
                link.get("entityId")
                for link in self.con.get_version_links(project, version.id, link_types=[link_type], link_direction="in")
            }
            for source in input_ids:
                if source not in existing:
                    self.con.create_link(project, link_type, source, "version", version.id, "version")

    # -- shots and plates -------------------------------------------------------------------------------------
    def latest_plate(self, project: str, folder: FolderRef, product_type: str) -> PlateRef | None:
        with self._call(f"plate of {folder.path}"):
            products = {
                p["id"]: p
                for p in self.con.get_products(
                    project, folder_ids=[folder.id], product_types=[product_type], fields={"id", "name"}
                )
            }
            if not products:
                return None
            latest = self.con.get_last_versions(project, list(products), fields=_VERSION_FIELDS)
            versions = [v for v in latest.values() if v]
            if not versions:
                return None
            entity = max(versions, key=lambda v: (v.get("createdAt") or "", v["version"]))
            reps = self._representations(project, entity["id"])
        if not reps:
            return None
        product = ProductRef(entity["productId"], products[entity["productId"]]["name"], product_type, folder)
        version = VersionRef(entity["id"], int(entity["version"]), product, dict(entity.get("data") or {}), reps)
        return PlateRef(version, reps[0].attrib.get("path") or reps[0].files[0].path)

    def shot_folders(self, project: str, paths: list[str], plate_product_type: str) -> list[ShotFolder]:
        found: dict[str, FolderRef] = {}
        with self._call(f"shots of {project}"):
            for path in paths:
                prefix = path.rstrip("/")
                if self.con.get_folder_by_path(project, prefix, fields={"id"}) is None:
                    raise PublishError(f"folder {path} does not exist in AYON project {project}", where=self.url)
                shots = self.con.get_folders(project, folder_types=[SHOT], fields=_FOLDER_FIELDS)
                for entity in sorted(shots, key=lambda e: e["path"]):
                    if entity["path"] == prefix or entity["path"].startswith(prefix + "/"):
                        found.setdefault(entity["path"], self._folder(entity))
        return [ShotFolder(f, self.latest_plate(project, f, plate_product_type)) for f in found.values()]


@contextmanager
def _translate(url: str, what: str) -> Iterator[None]:
    """Every failure of the server becomes one line naming the server and the step, never the key."""
    try:
        yield
    except (PublishError, VersionTaken, AlreadyPublished):
        raise
    except FailedOperations as exc:
        raise PublishError(f"AYON at {url} refused to {what}: {_first_line(exc)}") from None
    except UnauthorizedError:
        raise TrackerUnavailable(
            f"AYON at {url} refused the API key (401) while trying to {what}", hint=f"check {KEY_ENV}"
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
        raise TrackerUnavailable(
            f"AYON at {url} cannot be reached (while trying to {what})",
            hint=f"check {URL_ENV} and that the server is up",
        ) from None
    except requests.exceptions.RequestException as exc:
        raise TrackerUnavailable(f"AYON at {url} failed ({type(exc).__name__}) while trying to {what}") from None
    except ServerError as exc:
        raise TrackerUnavailable(f"AYON at {url} is not available: {_first_line(exc)}") from None
    except HTTPRequestError as exc:
        status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
        if status == 401:
            raise TrackerUnavailable(
                f"AYON at {url} refused the API key (401) while trying to {what}", hint=f"check {KEY_ENV}"
            ) from None
        if status is not None and int(status) >= 500:
            raise TrackerUnavailable(f"AYON at {url} failed with HTTP {status} while trying to {what}") from None
        raise PublishError(f"AYON at {url} refused to {what}: {_first_line(exc)}") from None
    except GraphQlQueryFailed as exc:
        raise PublishError(f"AYON at {url} refused a query to {what}: {_first_line(exc)}") from None
