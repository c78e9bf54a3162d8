"""``shotlist_from_tracker``: the other door into the farm — shots listed by the tracker instead of a cut.

A coordinator picks ``/sq010`` in AYON and submits every Shot under it: frame range, handles, fps and resolution
come from the folder attributes, the plate from the shot's latest ``plate`` product, exactly as an ingest publish
left them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from publish.config import TrackerSettings, load_tracker_settings
from publish.errors import PublishError
from publish.tracker import Anatomy, PlateRef, ShotFolder, Tracker
from roto_core.contracts import Shot, ShotList
from roto_core.errors import InputError

_FRAME_IN_NAME = re.compile(r"(?<=[._])(\d+)(\.[A-Za-z0-9]+)$")


def plate_pattern(plate: PlateRef, anatomy: Anatomy) -> str:
    """An absolute plate path; a sequence representation becomes a ``####`` pattern of its frame padding."""
    path = plate.path
    if "{root[" in path:
        path = str(anatomy.absolute(path))
    files = plate.version.representations[0].files if plate.version.representations else ()
    if len(files) > 1 or "frame" in (plate.version.representations[0].data.get("context") or {}):
        path = _FRAME_IN_NAME.sub(lambda m: "#" * len(m.group(1)) + m.group(2), path)
    return path


def _int_attr(attrib: dict[str, Any], key: str, folder: str, default: int | None = None) -> int:
    value = attrib.get(key, default)
    if value is None:
        raise InputError(f"shot folder has no {key} attribute", where=folder)
    return int(value)


def _shot(found: ShotFolder, anatomy: Anatomy) -> Shot:
    folder, attrib = found.folder, found.folder.attrib
    if found.plate is None:
        raise InputError(
            "shot has no plate product to rotoscope", where=folder.path, hint="publish the plate to the tracker first"
        )
    start, end = _int_attr(attrib, "frameStart", folder.path), _int_attr(attrib, "frameEnd", folder.path)
    handle_start = _int_attr(attrib, "handleStart", folder.path, 0)
    handle_end = _int_attr(attrib, "handleEnd", folder.path, 0)
    width, height = attrib.get("resolutionWidth"), attrib.get("resolutionHeight")
    return Shot(
        name=folder.name,
        folder_path=folder.path,
        plate=plate_pattern(found.plate, anatomy),
        first_frame=start - handle_start,
        last_frame=end + handle_end,
        handles=min(handle_start, handle_end),
        fps=float(attrib.get("fps") or 24.0),
        width=int(width) if width else None,
        height=int(height) if height else None,
        pixel_aspect=float(attrib.get("pixelAspect") or 1.0),
        metadata={"trackerFolderId": folder.id, "plateVersionId": found.plate.version.id},
    )


def shotlist_from_tracker(
    tracker: str | Tracker,
    project: str,
    paths: list[str],
    *,
    local_root: str | Path | None = None,
    settings: TrackerSettings | None = None,
) -> ShotList:
    """Every folder of type Shot at or under ``paths`` as a ``ShotList`` (``tracker``: "local", "ayon" or one)."""
    settings = settings or load_tracker_settings()
    if not paths:
        raise InputError("no tracker folder given: name at least one path such as /sq010")
    trk = _open(tracker, local_root, settings) if isinstance(tracker, str) else tracker
    anatomy = trk.open_project(project)
    found = trk.shot_folders(project, paths, settings.plate_product_type)
    if not found:
        raise PublishError(f"no folder of type Shot under {', '.join(paths)}", where=f"{trk.name}:{project}")
    shots = [_shot(f, anatomy) for f in found]
    return ShotList(source=f"{trk.name}:{project}:{','.join(paths)}", fps=shots[0].fps, shots=shots)


def _open(kind: str, local_root: str | Path | None, settings: TrackerSettings) -> Tracker:
    if kind == "local":
        from publish.local_tracker import LocalTracker

        return LocalTracker(local_root or settings.resolved_local_root(), settings.templates or None)
    if kind == "ayon":
        from publish.ayon_tracker import AyonTracker

        return AyonTracker.from_environment()
    raise InputError(f"unknown tracker {kind!r}: use local or ayon")
