"""Several objects in one .nk: each object's holes cut only its own shapes.

A Roto layer groups shapes but does not confine their blend modes: Natron's RotoPaint, the open implementation of
Nuke's Roto model, renders every shape of every layer of a node in one merge chain, topmost last, each shape's
operator applied to everything below it (Engine/RotoContext.cpp: ``getCurvesByRenderOrder`` flattens the layers,
``refreshRotoPaintTree`` chains the merges); ``read_nk_composites`` reads each node's shapes in that order. With
every object in one node, a ring listed above a ball seen through its gap cut the ball out of the node's alpha
(IoU 0.884 against the two mattes); with a node per object, each node's alpha is its object's matte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

from roto_core.contracts import ShapeSettings
from roto_core.exporters import read_fxs, read_nk, read_nk_composites, write_fxs, write_nk
from roto_core.exporters.nuke import _roto_node
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SIZE = (200, 260)
FRAMES = range(1, 7)


def _mattes(frame: int) -> dict[str, np.ndarray]:
    """A ring (radius 80, gap 50) in front, and behind it a ball moving about inside the gap."""
    ring = np.zeros(SIZE, np.uint8)
    cv2.circle(ring, (130, 100), 80, 255, -1)
    cv2.circle(ring, (130, 100), 50, 0, -1)
    ball = np.zeros(SIZE, np.uint8)
    cv2.circle(ball, (122 + 3 * frame, 100), 22, 255, -1)
    return {"ring": ring > 0, "ball": (ball > 0) & (ring == 0)}


def _node_alphas(path: Path, frame: int) -> dict[str, np.ndarray]:
    return {node: rasterise(shapes, frame, SIZE) for node, shapes in read_nk_composites(path).items()}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_an_objects_hole_does_not_cut_the_object_behind_it(tmp_path: Path) -> None:
    masks = {f: _mattes(f) for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    assert doc.objects == ["ring", "ball"]
    assert any(s.mode == "subtract" for s in doc.shapes_of("ring"))
    path = write_nk(doc, tmp_path / "shot.nk", name="Roto_sh010")
    for f in FRAMES:
        alphas = _node_alphas(path, f)
        union = masks[f]["ring"] | masks[f]["ball"]
        assert _iou(np.logical_or.reduce(list(alphas.values())), union) > 0.97, f
        assert sorted(alphas) == ["Roto_sh010_ball", "Roto_sh010_ring"]
        for obj in ("ring", "ball"):
            assert _iou(alphas[f"Roto_sh010_{obj}"], masks[f][obj]) > 0.95, (f, obj)
    back, _ = read_nk(path)
    assert [(s.name, s.object, s.mode) for s in back.shapes] == [(s.name, s.object, s.mode) for s in doc.shapes]


def test_in_one_node_a_layer_does_not_confine_its_holes(tmp_path: Path) -> None:
    """The layout before: both objects' layers in one node. Composited as one chain, the ring's hole (its layer
    listed first, so drawn last) clears the ball behind it."""
    masks = {f: _mattes(f) for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    path = tmp_path / "one.nk"
    path.write_text(_roto_node(doc, doc.objects, "Roto1", 0), encoding="utf-8")
    (shapes,) = read_nk_composites(path).values()
    assert shapes[-1].object == "ring" and shapes[-1].mode == "subtract"
    for f in FRAMES:
        union = masks[f]["ring"] | masks[f]["ball"]
        assert _iou(rasterise(shapes, f, SIZE), union) < 0.90, f
        assert not (rasterise(shapes, f, SIZE) & masks[f]["ball"]).any(), f


def test_a_single_objects_node_keeps_the_given_name(tmp_path: Path) -> None:
    masks = {f: {"ring": _mattes(f)["ring"]} for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    path = write_nk(doc, tmp_path / "ring.nk", name="Roto_sh010")
    assert sorted(_node_alphas(path, 1)) == ["Roto_sh010"]


def test_every_silhouette_layer_is_added_whole(tmp_path: Path) -> None:
    masks = {f: _mattes(f) for f in FRAMES}
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings(), name="shot")
    path = write_fxs(doc, tmp_path / "shot.fxs")
    layers = ET.parse(path).getroot().findall("Layer")
    assert [layer.get("label") for layer in layers] == ["ring", "ball"]
    for layer in layers:
        props = {p.get("id"): p.findtext("Value") for p in layer.findall("Properties/Property")}
        assert props["mode"] == "Add" and props["invert"] == "false"
    back = read_fxs(path)
    assert [(s.name, s.object, s.mode) for s in back.shapes] == [(s.name, s.object, s.mode) for s in doc.shapes]
