"""Our own shapes file, ``rotofarm.shapes`` version 1: the source every other export is made from.

Layout (all coordinates in pixels, origin at the top-left corner of the image, y down, pixel centres at +0.5)::

    {
      "schema": "rotofarm.shapes", "version": 1,
      "width": 1920, "height": 1080, "first_frame": 1001, "last_frame": 1100,
      "interpolation": "linear",            # between keys, every coordinate; held outside the keys
      "tolerance_px": 1.5, "source": "masks/sh010_mask.####.exr",
      "shapes": [                           # one per shape, in drawing order (bottom first: a hole clears what
                                            # is listed before it, an island in it comes after it)
        {"name": "hero_1", "object": "hero", "mode": "add" | "subtract",
         "first_frame": 1001, "last_frame": 1100,    # lifetime: the shape is off outside it
         "point_count": 9, "corners": [true, false, ...], "key_frames": [1001, 1040, 1100]}
      ],
      "frames": [                           # key frames only, ascending
        {"frame": 1001, "objects": {"hero": {"hero_1": [
            {"x": 812.5, "y": 300.25, "in": [-4.0, 10.5], "out": [4.0, -10.5]}, ...]}}}
      ]
    }

``in`` / ``out`` are the incoming and outgoing tangent handles relative to the point. A shape appears in a
frame's entry exactly when that frame is one of its ``key_frames``, with ``point_count`` points in the same
order (clockwise on screen) on every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from roto_core.atomic import write_text
from roto_core.errors import InputError
from roto_core.exporters.tree_building import collector_paused
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, ShapeDocument

SCHEMA = "rotofarm.shapes"
VERSION = 1
DECIMALS = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JsonPoint(_Strict):
    x: float
    y: float
    in_: tuple[float, float] = Field(alias="in")
    out: tuple[float, float]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class JsonShapeInfo(_Strict):
    name: str
    object: str
    mode: Literal["add", "subtract"]
    first_frame: int
    last_frame: int
    point_count: int = Field(ge=3)
    corners: list[bool]
    key_frames: list[int] = Field(min_length=1)


class JsonFrame(_Strict):
    frame: int
    objects: dict[str, dict[str, list[JsonPoint]]]


class ShapesFile(_Strict):
    schema_: Literal["rotofarm.shapes"] = Field(SCHEMA, alias="schema")
    version: Literal[1] = VERSION
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    first_frame: int
    last_frame: int
    interpolation: Literal["linear"] = "linear"
    tolerance_px: float | None = None
    source: str | None = None
    shapes: list[JsonShapeInfo]
    frames: list[JsonFrame]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _keys(shape: Shape) -> list[list[dict]]:
    """Each key's points as plain data in the file's layout (``JsonPoint``'s fields, aliases spelled out), all keys
    of the shape rounded at once."""
    return [
        [{"x": p[POINT][0], "y": p[POINT][1], "in": p[LEFT], "out": p[RIGHT]} for p in key]
        for key in np.round(shape.keys, DECIMALS).tolist()
    ]


def _file_data(doc: ShapeDocument) -> dict:
    """The file's content as plain data, in its fields' order. The header and every shape's entry are validated by
    ``ShapesFile`` (a point count under 3 or a shape without keys raises ValidationError); the points are rounded
    floats of the shapes' own arrays, checked finite here. Validating the points as models too took longer than
    writing them: DAVIS paragliding-launch's ground truth, 437 shapes and 113,992 points, 0.67 s written through
    the model, 0.38 s so (best of five), the same bytes (bench/RESULTS.md, sixtieth pass)."""
    frames: dict[int, dict[str, dict[str, list[dict]]]] = {}
    infos = []
    for s in doc.shapes:
        if not np.isfinite(s.keys).all():
            raise ValueError(f"shape {s.name}: a key holds a coordinate that is not a finite number")
        infos.append(
            {
                "name": s.name,
                "object": s.object,
                "mode": s.mode,
                "first_frame": s.first_frame,
                "last_frame": s.last_frame,
                "point_count": s.point_count,
                "corners": [bool(c) for c in s.corners],
                "key_frames": [int(f) for f in s.key_frames],
            }
        )
        for frame, points in zip(s.key_frames.tolist(), _keys(s), strict=True):
            frames.setdefault(frame, {}).setdefault(s.object, {})[s.name] = points
    header = {
        "width": doc.width,
        "height": doc.height,
        "first_frame": doc.first_frame,
        "last_frame": doc.last_frame,
        "tolerance_px": doc.tolerance_px,
        "source": doc.source,
        "shapes": infos,
        "frames": [],
    }
    data = ShapesFile.model_validate(header).model_dump(by_alias=True)
    data["frames"] = [{"frame": f, "objects": frames[f]} for f in sorted(frames)]
    return data


def shapes_json_text(doc: ShapeDocument) -> str:
    """The document's file text, written by pydantic's serializer as ``ShapesFile.model_dump_json`` writes it
    (one space of indent); its data built with the collector paused (tree_building.py: a collection once it
    runs again would walk the whole tree, were it still alive)."""
    with collector_paused():
        return pydantic_core.to_json(_file_data(doc), indent=1).decode("utf-8") + "\n"


def write_shapes_json(doc: ShapeDocument, path: str | Path) -> Path:
    """Write ``doc`` atomically as a ``rotofarm.shapes`` v1 file."""
    return write_text(path, shapes_json_text(doc))


def from_model(model: ShapesFile) -> ShapeDocument:
    """Rebuild the document; raises ValueError when keys and the shape index disagree."""
    keys: dict[str, dict[int, np.ndarray]] = {}
    for entry in model.frames:
        for shapes in entry.objects.values():
            for name, points in shapes.items():
                arr = np.array([[p.in_, (p.x, p.y), p.out] for p in points], dtype=np.float64)
                keys.setdefault(name, {})[entry.frame] = arr
    shapes: list[Shape] = []
    for info in model.shapes:
        found = keys.get(info.name, {})
        if sorted(found) != sorted(info.key_frames):
            raise ValueError(f"shape {info.name}: key frames {sorted(found)} do not match {info.key_frames}")
        ctrl = np.stack([found[f] for f in info.key_frames])
        if ctrl.shape[1] != info.point_count or len(info.corners) != info.point_count:
            raise ValueError(f"shape {info.name}: point count differs from {info.point_count}")
        shapes.append(
            Shape(
                info.name,
                info.object,
                info.mode,
                info.first_frame,
                info.last_frame,
                np.asarray(info.key_frames),
                ctrl,
                np.asarray(info.corners, bool),
            )
        )
    return ShapeDocument(
        model.width, model.height, model.first_frame, model.last_frame, shapes, model.source, model.tolerance_px
    )


def read_shapes_json(path: str | Path) -> ShapeDocument:
    """Read a ``rotofarm.shapes`` file; a malformed one is an InputError naming it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read shapes file: {exc.strerror or exc}", path=p) from None
    try:
        return from_model(ShapesFile.model_validate_json(text))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise InputError(f"not a rotofarm.shapes v1 file: {where}: {err['msg']}", path=p) from None
    except ValueError as exc:
        raise InputError(f"inconsistent shapes file: {exc}", path=p) from None
