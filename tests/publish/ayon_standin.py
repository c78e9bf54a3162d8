"""A stand-in for an AYON server at the ayon_api.ServerAPI boundary, for AyonTracker unit tests.

It keeps entities in memory and answers the ServerAPI methods AyonTracker calls. Batches arrive where
``OperationsSession.commit`` sends them (``send_background_batch_operations``) and are applied all-or-nothing
with the server's unique indexes and primary keys; a refused batch is reported exactly as the server reports it (409,
``unique-violation``, the detail text of ayon-backend's postgres exception parser) and raised through ayon_api's
own ``ServerAPI._validate_operations_result``, so the ``FailedOperations`` AyonTracker sees is the real one.
"""

from __future__ import annotations

import copy
import logging
import uuid
from pathlib import Path
from typing import Any

import requests
from ayon_api import ServerAPI
from ayon_api.exceptions import HTTPRequestError

ANATOMY_TEMPLATES = {
    "common": {
        "version_padding": 3,
        "version": "v{version:0>{@version_padding}}",
        "frame_padding": 4,
        "frame": "{frame:0>{@frame_padding}}",
    },
    "publish": {
        "default": {
            "directory": "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/"
            "{product[name]}/{@version}",
            "file": "{project[code]}_{folder[name]}_{product[name]}_{@version}<_{output}><.{@frame}><_{udim}>.{ext}",
            "path": "{@directory}/{@file}",
        }
    },
}


class _Refused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        self.status, self.code, self.detail = status, code, detail


class AyonStandIn:
    base_url = "http://ayon.test:5000"

    def __init__(self, root: Path, project: str = "demo", code: str = "dmo") -> None:
        self.log = logging.getLogger("AyonStandIn")
        self.root = root
        self.projects = {project: {"name": project, "code": code, "config": {"templates": ANATOMY_TEMPLATES}}}
        self.entities: dict[str, dict[str, dict[str, Any]]] = {
            k: {} for k in ("folder", "task", "product", "version", "representation")
        }
        self.thumbnails: dict[str, bytes] = {}
        self.links: list[dict[str, str]] = []
        self.batches: list[list[dict[str, Any]]] = []
        self.racers = 0  # the next N version batches lose to a competitor that takes their number first
        self.twins = 0  # the next N version batches lose to a twin process that commits the same version first
        self.outage_from: int | None = None  # batches from this index on fail with 503 until reset to None

    # -- helpers for tests --------------------------------------------------------------------------------------
    def add_folder(self, path: str, folder_type: str = "Shot", attrib: dict[str, Any] | None = None) -> str:
        parent = None
        parts = path.strip("/").split("/")
        for depth, name in enumerate(parts, 1):
            sub = "/" + "/".join(parts[:depth])
            found = next((f for f in self.entities["folder"].values() if f["path"] == sub), None)
            if found is None:
                fid = uuid.uuid4().hex
                found = {
                    "id": fid,
                    "name": name,
                    "path": sub,
                    "parentId": parent,
                    "attrib": {},
                    "folderType": folder_type if depth == len(parts) else "Folder",
                }
                self.entities["folder"][fid] = found
            parent = found["id"]
        if attrib:
            found["attrib"] = dict(attrib)
        return found["id"]

    def add_task(self, folder_id: str, name: str, task_type: str) -> str:
        tid = uuid.uuid4().hex
        self.entities["task"][tid] = {"id": tid, "name": name, "taskType": task_type, "folderId": folder_id}
        return tid

    def add_plate(self, folder_path: str, first: int, last: int) -> str:
        """A ``plate`` product with one version whose ``exr`` representation lists frames first..last."""
        folder = next(f for f in self.entities["folder"].values() if f["path"] == folder_path)
        pid, vid, rid = (uuid.uuid4().hex for _ in range(3))
        self.entities["product"][pid] = {
            "id": pid,
            "name": "plateMain",
            "productType": "plate",
            "folderId": folder["id"],
        }
        self.entities["version"][vid] = {
            "id": vid,
            "version": 3,
            "productId": pid,
            "data": {},
            "attrib": {},
            "createdAt": "2026-01-01T00:00:00",
        }
        files = [
            {
                "id": uuid.uuid4().hex,
                "name": f"sh010_plate.{f}.exr",
                "size": 1,
                "hash": "x",
                "path": f"{{root[work]}}/demo/plates/sh010_plate.{f}.exr",
            }
            for f in range(first, last + 1)
        ]
        self.entities["representation"][rid] = {
            "id": rid,
            "name": "exr",
            "versionId": vid,
            "files": files,
            "attrib": {"path": files[0]["path"]},
            "data": {"context": {"frame": first}},
        }
        return vid

    def active_versions(self, product_id: str) -> list[dict[str, Any]]:
        return sorted(
            (v for v in self.entities["version"].values() if v["productId"] == product_id), key=lambda v: v["version"]
        )

    # -- ServerAPI surface ------------------------------------------------------------------------------------
    def get_base_url(self) -> str:
        return self.base_url

    def get_project(self, project_name: str, fields: Any = None, own_attributes: bool = False) -> dict | None:
        return copy.deepcopy(self.projects.get(project_name))

    def get_project_roots_by_site_id(self, project_name: str, site_id: str | None = None) -> dict[str, str]:
        return {"work": str(self.root)}

    def get_folder_by_path(self, project_name: str, folder_path: str, fields: Any = None, **_: Any) -> dict | None:
        return copy.deepcopy(next((f for f in self.entities["folder"].values() if f["path"] == folder_path), None))

    def get_folders(self, project_name: str, folder_types: Any = None, fields: Any = None, **_: Any):
        for f in list(self.entities["folder"].values()):
            if folder_types is None or f["folderType"] in folder_types:
                yield copy.deepcopy(f)

    def get_task_by_name(self, project_name: str, folder_id: str, task_name: str, fields: Any = None, **_: Any):
        return copy.deepcopy(
            next(
                (t for t in self.entities["task"].values() if t["folderId"] == folder_id and t["name"] == task_name),
                None,
            )
        )

    def get_product_by_name(self, project_name: str, product_name: str, folder_id: str, fields: Any = None, **_):
        return copy.deepcopy(
            next(
                (
                    p
                    for p in self.entities["product"].values()
                    if p["folderId"] == folder_id and p["name"] == product_name
                ),
                None,
            )
        )

    def get_products(self, project_name: str, folder_ids: Any = None, product_types: Any = None, **_: Any):
        for p in list(self.entities["product"].values()):
            if (folder_ids is None or p["folderId"] in folder_ids) and (
                product_types is None or p["productType"] in product_types
            ):
                yield copy.deepcopy(p)

    def get_last_version_by_product_id(self, project_name: str, product_id: str, **_: Any) -> dict | None:
        versions = self.active_versions(product_id)
        return copy.deepcopy(versions[-1]) if versions else None

    def get_last_versions(self, project_name: str, product_ids: Any, **_: Any) -> dict[str, dict | None]:
        return {pid: self.get_last_version_by_product_id(project_name, pid) for pid in product_ids}

    def get_versions(self, project_name: str, product_ids: Any = None, **_: Any):
        for v in list(self.entities["version"].values()):
            if product_ids is None or v["productId"] in product_ids:
                yield copy.deepcopy(v)

    def get_version_by_id(self, project_name: str, version_id: str, **_: Any) -> dict | None:
        return copy.deepcopy(self.entities["version"].get(version_id))

    def get_representations(self, project_name: str, version_ids: Any = None, **_: Any):
        for r in list(self.entities["representation"].values()):
            if version_ids is None or r["versionId"] in version_ids:
                yield copy.deepcopy(r)

    def create_thumbnail(self, project_name: str, src_filepath: str, thumbnail_id: str | None = None) -> str:
        tid = thumbnail_id or uuid.uuid4().hex
        self.thumbnails[tid] = Path(src_filepath).read_bytes()
        return tid

    def get_version_links(
        self, project_name: str, version_id: str, link_types: Any = None, link_direction: Any = None
    ) -> list[dict[str, Any]]:
        return [
            {"entityId": link["input"], "entityType": "version", "linkType": link["type"], "direction": "in"}
            for link in self.links
            if link["output"] == version_id and (link_types is None or link["type"] in link_types)
        ]

    def create_link(
        self,
        project_name: str,
        link_type_name: str,
        input_id: str,
        input_type: str,
        output_id: str,
        output_type: str,
        **_: Any,
    ) -> dict[str, str]:
        link = {"id": uuid.uuid4().hex, "type": link_type_name, "input": input_id, "output": output_id}
        self.links.append(link)
        return {"id": link["id"]}

    def send_background_batch_operations(
        self,
        project_name: str,
        operations: list[dict[str, Any]],
        *,
        can_fail: bool = False,
        wait_for_events: bool = False,
        raise_on_fail: bool = True,
        wait: bool = False,
    ) -> dict[str, Any]:
        self.batches.append(copy.deepcopy(operations))
        if self.outage_from is not None and len(self.batches) > self.outage_from:
            response = requests.Response()
            response.status_code = 503
            response.url = f"{self.base_url}/api/projects/{project_name}/operations/background"
            raise HTTPRequestError(f"503 Server Error: Service Unavailable for url: {response.url}", response)
        self._race(operations)
        snapshot = copy.deepcopy(self.entities)
        results = []
        for op in operations:
            try:
                self._apply(op)
            except _Refused as refused:
                self.entities = snapshot
                results.append(
                    {
                        "id": op["id"],
                        "type": op["type"],
                        "entityType": op["entityType"],
                        "entityId": op.get("entityId"),
                        "success": False,
                        "status": refused.status,
                        "errorCode": refused.code,
                        "detail": refused.detail,
                    }
                )
                result = {"operations": results, "success": False}
                ServerAPI._validate_operations_result(self, result, operations)
            results.append(
                {
                    "id": op["id"],
                    "type": op["type"],
                    "entityType": op["entityType"],
                    "entityId": op.get("entityId"),
                    "success": True,
                    "status": 200,
                }
            )
        return {"id": uuid.uuid4().hex, "status": "completed", "result": {"operations": results, "success": True}}

    def _race(self, operations: list[dict[str, Any]]) -> None:
        """A competing publisher commits the same version number (or a twin the same version) just before this
        batch arrives."""
        for op in operations:
            if self.twins and op["type"] == "create" and op["entityType"] == "version":
                self.twins -= 1
                for twin_op in operations:
                    self._apply(copy.deepcopy(twin_op))
                return
            if self.racers and op["type"] == "create" and op["entityType"] == "version":
                self.racers -= 1
                vid = uuid.uuid4().hex
                self.entities["version"][vid] = {
                    "id": vid,
                    "version": op["data"]["version"],
                    "productId": op["data"]["productId"],
                    "data": {},
                    "attrib": {},
                    "createdAt": "2026-01-01T00:00:00",
                }

    def _apply(self, op: dict[str, Any]) -> None:
        kind, data = op["entityType"], op.get("data") or {}
        table = self.entities[kind]
        if op["type"] == "delete":
            table.pop(op["entityId"], None)
            if kind == "version":
                reps = self.entities["representation"]
                for rid in [r for r, rep in reps.items() if rep["versionId"] == op["entityId"]]:
                    del reps[rid]
            return
        if op["type"] == "update":
            table[op["entityId"]].update(copy.deepcopy(data))
            return
        entity = copy.deepcopy(data)
        entity.setdefault("attrib", {})
        entity.setdefault("data", {})
        entity["createdAt"] = f"2026-01-02T00:00:{len(table):02d}"
        if entity["id"] in table:  # the primary key; text as a real 1.16 server answers it
            raise _Refused(409, "unique-violation", f"{kind.capitalize()} with id '{entity['id']}' already exists.")
        if kind == "version":
            clash = [
                v for v in table.values() if v["productId"] == entity["productId"] and v["version"] == entity["version"]
            ]
            if clash:
                raise _Refused(
                    409,
                    "unique-violation",
                    f"Version with product_id, version '{entity['productId']}, {entity['version']}' already exists..",
                )
        if kind == "product" and any(
            p["folderId"] == entity["folderId"] and p["name"] == entity["name"] for p in table.values()
        ):
            raise _Refused(409, "unique-violation", "Product with folder_id, name already exists.")
        if kind == "folder":
            parent = self.entities["folder"].get(entity.get("parentId"))
            entity["path"] = (parent["path"] if parent else "") + "/" + entity["name"]
        table[entity["id"]] = entity
