"""Objects whose names differ only in characters an export cannot carry keep apart in every export.

Object names may use letters, digits, '_' and '-' (roto_core.contracts); Nuke node, layer and curve names are
Tcl words, so "car-1" and "car_1" both became ``car_1``. Before ``shape_prefixes`` the two objects' shapes shared
the name ``car_1_1``, the .nk held two Roto nodes named alike (its reader kept one of them), and the .json could
not be read back ("key frames [1, 4] do not match [4]"). An object named "mattes" gave its Roto node the name of
the .nk's Read of the mattes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.exporters import read_fxs, read_nk_composites, write_fxs, write_nk
from roto_core.exporters.json_shapes import read_shapes_json, write_shapes_json
from roto_core.shapes.model import rasterise
from roto_core.shapes.naming import shape_prefixes
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (200, 260)
FRAMES = range(1, 5)


def _mattes(frame: int) -> dict[str, np.ndarray]:
    disc = np.zeros(SIZE, np.uint8)
    cv2.circle(disc, (70, 100), 40, 255, -1)
    box = np.zeros(SIZE, np.uint8)
    cv2.rectangle(box, (150 + frame, 60), (220 + frame, 140), 255, -1)
    return {"car-1": disc > 0, "car_1": box > 0}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_prefixes_stay_apart_and_skip_a_name_another_object_has() -> None:
    assert shape_prefixes(["car-1", "car_1", "car_1_2", "1car", "o1car"]) == {
        "car-1": "car_1",
        "car_1": "car_1_3",
        "car_1_2": "car_1_2",
        "1car": "o1car",
        "o1car": "o1car_2",
    }
    assert shape_prefixes(["matte"]) == {"matte": "matte"}
    assert shape_prefixes(["mattes", "hero"]) == {"mattes": "mattes_2", "hero": "hero"}


def test_an_object_named_mattes_gets_its_own_node_beside_the_read(tmp_path: Path) -> None:
    renamed = {"car-1": "mattes", "car_1": "hero"}
    masks = {f: {renamed[obj]: matte for obj, matte in _mattes(f).items()} for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    path = write_nk(doc, tmp_path / "shot.nk", name="Roto_sh010", mattes="/plates/sh010_mattes.####.exr")
    names = [line.split()[1] for line in path.read_text().splitlines() if line.startswith(" name ")]
    assert names == ["Roto_sh010_mattes", "Roto_sh010_mattes_2", "Roto_sh010_hero"]
    nodes = read_nk_composites(path)
    assert _iou(rasterise(nodes["Roto_sh010_mattes_2"], 2, SIZE), masks[2]["mattes"]) > 0.97


def test_objects_named_alike_keep_their_own_node_shapes_and_json(tmp_path: Path) -> None:
    masks = {f: _mattes(f) for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    assert doc.objects == ["car-1", "car_1"]
    names = [s.name for s in doc.shapes]
    assert len(set(names)) == len(names), names

    nodes = read_nk_composites(write_nk(doc, tmp_path / "shot.nk", name="Roto_sh010"))
    assert sorted(nodes) == ["Roto_sh010_car_1", "Roto_sh010_car_1_2"]
    for f in FRAMES:
        assert _iou(rasterise(nodes["Roto_sh010_car_1"], f, SIZE), masks[f]["car-1"]) > 0.97, f
        assert _iou(rasterise(nodes["Roto_sh010_car_1_2"], f, SIZE), masks[f]["car_1"]) > 0.97, f

    back = read_shapes_json(write_shapes_json(doc, tmp_path / "shot.json"))
    assert [(s.name, s.object) for s in back.shapes] == [(s.name, s.object) for s in doc.shapes]
    fxs = read_fxs(write_fxs(doc, tmp_path / "shot.fxs"))
    assert [(s.name, s.object) for s in fxs.shapes] == [(s.name, s.object) for s in doc.shapes]
