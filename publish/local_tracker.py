"""``LocalTracker``: the embedded default tracker — AYON's entities in SQLite, files in AYON's anatomy layout.

A studio without AYON (or a test, or the demo) still gets versioned, hashed, idempotent publishes. The catalogue
lives at ``{root}/.rotofarm/catalogue.sqlite`` next to the published files; a UNIQUE (product, version) index plays
the part of AYON's, so concurrent publishers really collide and take the next number. The catalogue keeps
SQLite's default rollback journal (WAL needs shared memory, which network filesystems do not give across
machines); a studio with many farm machines publishing at once is better served by AYON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ayon_api.utils import create_entity_id

from publish.errors import AlreadyPublished, PublishError, TrackerUnavailable, VersionTaken
from publish.templates import DEFAULT_TEMPLATES
from publish.tracker import (
    DATA_KEY,
    STATE_COMPLETE,
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
from roto_core.sequences import frame_path, has_frame_token

CATALOGUE = Path(".rotofarm") / "catalogue.sqlite"
SHOT = "Shot"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (name TEXT PRIMARY KEY, code TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY, project TEXT NOT NULL, path TEXT NOT NULL, folder_type TEXT, attrib TEXT NOT NULL,
    UNIQUE (project, path));
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, folder_id TEXT NOT NULL REFERENCES folders(id), name TEXT NOT NULL,
    task_type TEXT NOT NULL, UNIQUE (folder_id, name));
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, folder_id TEXT NOT NULL REFERENCES folders(id), name TEXT NOT NULL,
    product_type TEXT NOT NULL, UNIQUE (folder_id, name));
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY, product_id TEXT NOT NULL REFERENCES products(id), version INTEGER NOT NULL,
    task_id TEXT, author TEXT, attrib TEXT NOT NULL, data TEXT NOT NULL, status TEXT, thumbnail BLOB,
    created_at TEXT NOT NULL, UNIQUE (product_id, version));
CREATE TABLE IF NOT EXISTS representations (
    id TEXT PRIMARY KEY, version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    name TEXT NOT NULL, files TEXT NOT NULL, attrib TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    input_id TEXT NOT NULL, output_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
    link_type TEXT NOT NULL, UNIQUE (input_id, output_id, link_type));
CREATE TABLE IF NOT EXISTS thumbnails (id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


def _loads(text: str) -> Any:
    return json.loads(text)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


class LocalTracker:
    """The ``Tracker`` protocol over SQLite; ``root`` is the anatomy's ``{root[work]}``."""

    name = "local"

    def __init__(self, root: str | Path, templates: dict[str, Any] | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.templates = templates or DEFAULT_TEMPLATES
        self.db_path = self.root / CATALOGUE
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            try:
                db.executescript(_SCHEMA)
            finally:
                db.close()
        except (OSError, sqlite3.Error) as exc:
            raise TrackerUnavailable(f"cannot open the local tracker catalogue: {exc}", path=self.db_path) from None

    # -- connection -------------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    @contextmanager
    def _typed(self) -> Iterator[None]:
        """A catalogue that cannot be read or written (full disk, read-only, corrupt) is one typed line; unique
        violations stay ``IntegrityError`` for ``create_version`` to tell apart."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise TrackerUnavailable(f"the local tracker catalogue failed: {exc}", path=self.db_path) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken immediately so two writers queue instead of failing on upgrade."""
        with self._typed():
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                db.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._typed():
            db = self._connect()
            try:
                yield db
            finally:
                db.close()

    # -- project, folders, tasks ------------------------------------------------------------------------------
    def create_project(self, project: str, code: str | None = None) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO projects (name, code) VALUES (?, ?)", (project, code or project))

    def open_project(self, project: str) -> Anatomy:
        """The local tracker creates a project on first use: its only setting is the code (the name)."""
        self.create_project(project)
        with self._read() as db:
            code = db.execute("SELECT code FROM projects WHERE name = ?", (project,)).fetchone()["code"]
        return Anatomy(self.templates, {"work": str(self.root)}, code)

    def _folder_row(self, db: sqlite3.Connection, project: str, path: str) -> sqlite3.Row | None:
        return db.execute("SELECT * FROM folders WHERE project = ? AND path = ?", (project, path)).fetchone()

    @staticmethod
    def _folder(row: sqlite3.Row) -> FolderRef:
        return FolderRef(row["id"], row["path"], row["folder_type"], _loads(row["attrib"]))

    def create_folder(
        self, project: str, path: str, folder_type: str | None = None, attrib: dict[str, Any] | None = None
    ) -> FolderRef:
        """Create ``path`` and its missing parents (typed as ``folder_type_at`` says); an existing folder gets
        ``attrib``."""
        self.create_project(project)
        parts = path.strip("/").split("/")
        with self._write() as db:
            for depth in range(1, len(parts) + 1):
                sub = "/" + "/".join(parts[:depth])
                leaf = depth == len(parts)
                kind = (folder_type or "Folder") if leaf else folder_type_at(depth, len(parts))
                db.execute(
                    "INSERT OR IGNORE INTO folders (id, project, path, folder_type, attrib) VALUES (?, ?, ?, ?, ?)",
                    (create_entity_id(), project, sub, kind, _dumps((attrib or {}) if leaf else {})),
                )
            if attrib:
                db.execute(
                    "UPDATE folders SET attrib = ? WHERE project = ? AND path = ?", (_dumps(attrib), project, path)
                )
            return self._folder(self._folder_row(db, project, path))

    def resolve_folder(
        self, project: str, path: str, *, create: bool = False, attrib: dict[str, Any] | None = None
    ) -> FolderRef:
        with self._read() as db:
            row = self._folder_row(db, project, path)
        if row is not None:
            return self._folder(row)
        if not create:
            raise PublishError(
                f"folder {path} does not exist in project {project}",
                where=f"local:{self.root}",
                hint="create it in the tracker or publish with --create-folders",
            )
        return self.create_folder(project, path, SHOT, attrib)

    def resolve_task(self, project: str, folder: FolderRef, name: str, task_type: str, *, create: bool) -> str | None:
        with self._write() as db:
            if create:
                db.execute(
                    "INSERT OR IGNORE INTO tasks (id, folder_id, name, task_type) VALUES (?, ?, ?, ?)",
                    (create_entity_id(), folder.id, name, task_type),
                )
            row = db.execute("SELECT id FROM tasks WHERE folder_id = ? AND name = ?", (folder.id, name)).fetchone()
        return row["id"] if row else None

    # -- products and versions --------------------------------------------------------------------------------
    def ensure_product(self, project: str, folder: FolderRef, name: str, product_type: str) -> ProductRef:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO products (id, folder_id, name, product_type) VALUES (?, ?, ?, ?)",
                (create_entity_id(), folder.id, name, product_type),
            )
            row = db.execute("SELECT * FROM products WHERE folder_id = ? AND name = ?", (folder.id, name)).fetchone()
        if row["product_type"] != product_type:
            raise PublishError(f"product {name} of {folder.path} is a {row['product_type']}, not a {product_type}")
        return ProductRef(row["id"], name, product_type, folder)

    def last_version_number(self, project: str, product: ProductRef) -> int:
        with self._read() as db:
            row = db.execute("SELECT MAX(version) AS v FROM versions WHERE product_id = ?", (product.id,)).fetchone()
        return int(row["v"] or 0)

    def _version(self, db: sqlite3.Connection, row: sqlite3.Row, product: ProductRef) -> VersionRef:
        reps = tuple(
            RepresentationDraft(
                r["id"],
                r["name"],
                tuple(FileRecord(**f) for f in _loads(r["files"])),
                _loads(r["attrib"]),
                _loads(r["data"]),
            )
            for r in db.execute("SELECT * FROM representations WHERE version_id = ? ORDER BY rowid", (row["id"],))
        )
        return VersionRef(row["id"], row["version"], product, _loads(row["data"]), reps)

    def versions(self, project: str, product: ProductRef) -> list[VersionRef]:
        with self._read() as db:
            rows = db.execute("SELECT * FROM versions WHERE product_id = ? ORDER BY version", (product.id,))
            return [self._version(db, row, product) for row in rows.fetchall()]

    def find_version_by_job(
        self, project: str, product: ProductRef, job_id: str, version_id: str | None = None
    ) -> VersionRef | None:
        versions = self.versions(project, product)
        return next((v for v in versions if v.id == version_id), None) or next(
            (v for v in versions if v.job_id == job_id), None
        )

    def create_version(self, project: str, product: ProductRef, draft: VersionDraft) -> VersionRef:
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO versions (id, product_id, version, task_id, author, attrib, data, status, thumbnail,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        draft.id,
                        product.id,
                        draft.version,
                        draft.task_id,
                        draft.author,
                        _dumps(draft.attrib),
                        _dumps(draft.data),
                        draft.status,
                        draft.thumbnail_id,
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                )
                for rep in draft.representations:
                    db.execute(
                        "INSERT INTO representations (id, version_id, name, files, attrib, data)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            rep.id,
                            draft.id,
                            rep.name,
                            _dumps([f.to_dict() for f in rep.files]),
                            _dumps(rep.attrib),
                            _dumps(rep.data),
                        ),
                    )
        except sqlite3.IntegrityError as exc:
            with self._read() as db:
                if db.execute("SELECT 1 FROM versions WHERE id = ?", (draft.id,)).fetchone():
                    raise AlreadyPublished(draft.id) from None
            if "versions.product_id, versions.version" in str(exc):
                raise VersionTaken(draft.version) from None
            raise PublishError(f"the local catalogue refused the version: {exc}", path=self.db_path) from None
        return VersionRef(draft.id, draft.version, product, draft.data, draft.representations)

    def upload_thumbnail(self, project: str, image: Path) -> str:
        """Thumbnails live in the catalogue, as AYON keeps them in its database, not among published files."""
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise PublishError(f"cannot read the thumbnail: {exc.strerror or exc}", path=image) from None
        thumbnail_id = hashlib.sha256(data).hexdigest()[:32]
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO thumbnails (id, data) VALUES (?, ?)", (thumbnail_id, data))
        return thumbnail_id

    def thumbnail(self, version: VersionRef) -> bytes | None:
        with self._read() as db:
            row = db.execute(
                "SELECT t.data FROM versions v JOIN thumbnails t ON t.id = v.thumbnail WHERE v.id = ?", (version.id,)
            ).fetchone()
        return row["data"] if row else None

    def status_of(self, version: VersionRef) -> str | None:
        with self._read() as db:
            row = db.execute("SELECT status FROM versions WHERE id = ?", (version.id,)).fetchone()
        return row["status"] if row else None

    def link_inputs(self, project: str, version: VersionRef, input_ids: list[str], link_type: str) -> None:
        with self._write() as db:
            for source in input_ids:
                db.execute(
                    "INSERT OR IGNORE INTO links (input_id, output_id, link_type) VALUES (?, ?, ?)",
                    (source, version.id, link_type),
                )

    def inputs_of(self, version: VersionRef) -> list[tuple[str, str]]:
        with self._read() as db:
            rows = db.execute("SELECT input_id, link_type FROM links WHERE output_id = ?", (version.id,))
            return [(r["input_id"], r["link_type"]) for r in rows.fetchall()]

    # -- shots and plates -------------------------------------------------------------------------------------
    def register_shot(
        self,
        project: str,
        folder_path: str,
        attrib: dict[str, Any],
        plate: str | None = None,
        plate_product: str = "plateMain",
    ) -> FolderRef:
        """Make a Shot folder with its attributes and, given a plate (``####`` pattern or a movie), a ``plate``
        product version listing its frames the way an ingest publish would, so ``shotlist_from_tracker`` and the
        plate link have something to read."""
        folder = self.create_folder(project, folder_path, SHOT, attrib)
        if plate is None:
            return folder
        first = int(attrib["frameStart"]) - int(attrib.get("handleStart", 0))
        last = int(attrib["frameEnd"]) + int(attrib.get("handleEnd", 0))
        frames = list(range(first, last + 1)) if has_frame_token(plate) else [None]
        records = []
        for frame in frames:
            path = frame_path(plate, frame) if frame is not None else Path(plate)
            size = path.stat().st_size if path.is_file() else 0
            records.append(FileRecord(create_entity_id(), path.name, str(path), size, ""))
        context = {"frame": str(first).zfill(4)} if frames[0] is not None else {}
        rep = RepresentationDraft(
            create_entity_id(),
            Path(plate).suffix.lstrip(".") or "plate",
            tuple(records),
            {"path": records[0].path},
            {"context": context},
        )
        product = self.ensure_product(project, folder, plate_product, "plate")
        draft = VersionDraft(
            create_entity_id(),
            self.last_version_number(project, product) + 1,
            None,
            None,
            {},
            {DATA_KEY: {"state": STATE_COMPLETE}},
            None,
            (rep,),
        )
        self.create_version(project, product, draft)
        return folder

    def latest_plate(self, project: str, folder: FolderRef, product_type: str) -> PlateRef | None:
        with self._read() as db:
            row = db.execute(
                "SELECT v.*, p.name AS pname FROM versions v JOIN products p ON v.product_id = p.id"
                " WHERE p.folder_id = ? AND p.product_type = ? ORDER BY v.created_at DESC, v.version DESC LIMIT 1",
                (folder.id, product_type),
            ).fetchone()
            if row is None:
                return None
            version = self._version(db, row, ProductRef(row["product_id"], row["pname"], product_type, folder))
        if not version.representations:
            return None
        rep = version.representations[0]
        return PlateRef(version, rep.attrib.get("path") or rep.files[0].path)

    def shot_folders(self, project: str, paths: list[str], plate_product_type: str) -> list[ShotFolder]:
        found: dict[str, FolderRef] = {}
        with self._read() as db:
            for path in paths:
                prefix = path.rstrip("/")
                rows = db.execute(
                    "SELECT * FROM folders WHERE project = ? AND folder_type = ?"
                    " AND (path = ? OR substr(path, 1, ?) = ?) ORDER BY path",
                    (project, SHOT, prefix, len(prefix) + 1, f"{prefix}/"),
                ).fetchall()
                if not rows and self._folder_row(db, project, prefix) is None:
                    raise PublishError(f"folder {path} does not exist in project {project}", where=f"local:{self.root}")
                for row in rows:
                    found.setdefault(row["path"], self._folder(row))
        return [ShotFolder(f, self.latest_plate(project, f, plate_product_type)) for f in found.values()]
