"""JSON, Nuke and Silhouette files: each read back by our own reader equals what was written, and the
format facts of FORMATS.md hold in the text (hex floats, y up, normalised by height, relative key frames)."""

from __future__ import annotations

import gc
import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from roto_core.errors import InputError
from roto_core.exporters import (
    read_fxs,
    read_nk,
    read_shapes_json,
    write_fxs,
    write_nk,
    write_shapes_json,
)
from roto_core.exporters.nuke import nk_float, nk_words, parse_tcl
from roto_core.exporters.silhouette import fxs_text
from roto_core.exporters.tree_building import collector_paused
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, ShapeDocument, rasterise


def _doc() -> ShapeDocument:
    rng = np.random.default_rng(7)
    base = np.zeros((5, 3, 2))
    angles = np.linspace(0, 2 * np.pi, 5, endpoint=False)
    base[:, POINT] = np.stack([300 + 80 * np.cos(angles), 200 + 60 * np.sin(angles)], axis=1)
    base[:, RIGHT] = np.stack([-20 * np.sin(angles), 15 * np.cos(angles)], axis=1)
    base[:, LEFT] = -base[:, RIGHT]
    keys = np.stack([base + rng.normal(0, 3, base.shape) for _ in range(3)])
    hole = np.stack([base * [1, 1] for _ in range(2)])
    hole[:, :, POINT] = 300 + (hole[:, :, POINT] - 300) * 0.3
    hole[:, :, (LEFT, RIGHT)] *= 0.3
    corners = np.array([True, False, False, True, False])
    return ShapeDocument(
        640,
        400,
        1001,
        1050,
        [
            Shape("hero_1", "hero", "add", 1001, 1050, [1001, 1020, 1050], keys, corners),
            Shape("hero_1_hole1", "hero", "subtract", 1005, 1040, [1005, 1040], hole),
            Shape("prop_1", "prop", "add", 1010, 1012, [1011], keys[:1] * 0.5),
        ],
        source="masks.####.exr",
        tolerance_px=1.5,
    )


def _same(a: ShapeDocument, b: ShapeDocument, atol: float) -> None:
    assert (a.width, a.height) == (b.width, b.height)
    assert [(s.name, s.object, s.mode, s.first_frame, s.last_frame) for s in a.shapes] == [
        (s.name, s.object, s.mode, s.first_frame, s.last_frame) for s in b.shapes
    ]
    for sa, sb in zip(a.shapes, b.shapes, strict=True):
        assert sa.key_frames.tolist() == sb.key_frames.tolist()
        np.testing.assert_allclose(sb.keys, sa.keys, atol=atol)


def test_json_round_trip_and_schema(tmp_path: Path) -> None:
    doc = _doc()
    path = write_shapes_json(doc, tmp_path / "s.json")
    back = read_shapes_json(path)
    _same(doc, back, 1e-4)
    assert back.shapes[0].corners.tolist() == [True, False, False, True, False]
    assert (back.first_frame, back.last_frame, back.source, back.tolerance_px) == (1001, 1050, "masks.####.exr", 1.5)
    data = json.loads(path.read_text())
    assert (data["schema"], data["version"]) == ("rotofarm.shapes", 1)
    assert [f["frame"] for f in data["frames"]] == [1001, 1005, 1011, 1020, 1040, 1050]
    point = data["frames"][0]["objects"]["hero"]["hero_1"][0]
    assert set(point) == {"x", "y", "in", "out"}
    assert point["x"] == pytest.approx(doc.shapes[0].keys[0, 0, POINT, 0], abs=1e-4)
    assert not list(tmp_path.glob(".*tmp*")), "atomic write leaves no temporary behind"


def test_writers_pause_the_collector_and_leave_it_as_they_found_it(tmp_path: Path) -> None:
    """The JSON writer builds its data with the cyclic collector paused (tree_building.py): it is on again after
    the writers, and one a caller paused stays paused, an error inside included."""
    doc = _doc()
    seen: list[bool] = []
    with collector_paused():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    write_shapes_json(doc, tmp_path / "s.json")
    write_fxs(doc, tmp_path / "s.fxs")
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("inside")
        assert not gc.isenabled()
        assert read_shapes_json(write_shapes_json(doc, tmp_path / "t.json")).shapes[0].name == doc.shapes[0].name
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_json_reader_rejects_inconsistent_files(tmp_path: Path) -> None:
    path = write_shapes_json(_doc(), tmp_path / "s.json")
    data = json.loads(path.read_text())
    data["shapes"][0]["key_frames"] = [1001, 1050]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"bad\.json"):
        read_shapes_json(tmp_path / "bad.json")
    data["version"] = 9
    (tmp_path / "v9.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="version"):
        read_shapes_json(tmp_path / "v9.json")


def test_json_writer_refuses_what_the_file_cannot_hold(tmp_path: Path) -> None:
    """The writer validates the header and each shape's entry by the file's model, and checks the points finite
    (JSON has no NaN): either refusal leaves nothing written, an earlier file kept as it was."""
    path = write_shapes_json(_doc(), tmp_path / "s.json")
    before = path.read_bytes()
    doc = _doc()
    doc.shapes[1].keys[-1, 0, POINT, 1] = np.nan
    with pytest.raises(ValueError, match=doc.shapes[1].name):
        write_shapes_json(doc, path)
    doc = _doc()
    doc.shapes[0].corners = doc.shapes[0].corners[:2]
    doc.shapes[0].keys = doc.shapes[0].keys[:, :2]
    with pytest.raises(ValidationError, match="point_count"):
        write_shapes_json(doc, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_nuke_round_trip_and_format_facts(tmp_path: Path) -> None:
    doc = _doc()
    path = write_nk(doc, tmp_path / "s.nk", name="Roto_sh010", mattes="/jobs/p/sh010/j1/masks/sh010_mask.####.exr")
    back, mattes = read_nk(path)
    _same(doc, back, 2e-3)
    assert mattes == "/jobs/p/sh010/j1/masks/sh010_mask.####.exr"
    text = path.read_text()
    assert "curves {{{v x3f99999a}" in text and "{layer Root" in text and "idem}" in text
    tree = parse_tcl(text)
    assert tree[0] == "Read" and tree[2] == "Roto"
    # y up: the first point of the first key, flipped about the height, spelled as a big-endian single.
    x, y = doc.shapes[0].keys[0, 0, POINT]
    assert f"{{{nk_float(x)} -}}" in text
    assert nk_float(400 - y) in text
    assert struct.unpack(">f", bytes.fromhex(nk_float(400 - y)[1:]))[0] == pytest.approx(400 - y, abs=1e-3)
    assert nk_float(0.0) == "0" and nk_float(1.0) == "1" and nk_float(1.2) == "x3f99999a"
    assert "{px {1001 1020 1050}" in text and "{px 1011" in text
    assert "ltn 1005 ltm 1040" in text


def test_nuke_words_for_a_whole_shape_are_each_values_own_spelling() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate(
        ([0.0, -0.0, 1.0, 1.0 + 1e-9, 0.999999999, 1.2, -1.0, 853.25, 1e-7], rng.normal(0, 500, 40))
    )
    keys = values.reshape(7, 1, 1, 7)
    words = nk_words(keys)
    assert words.shape == keys.shape
    assert [str(w) for w in words.ravel()] == [nk_float(v) for v in values]
    assert list(words.ravel()[:4]) == ["0", "0", "1", "1"]


def test_nuke_reader_refuses_foreign_scripts(tmp_path: Path) -> None:
    (tmp_path / "x.nk").write_text("Blur {\n size 3\n name Blur1\n}\n")
    with pytest.raises(InputError, match=r"x\.nk"):
        read_nk(tmp_path / "x.nk")
    (tmp_path / "y.nk").write_text("Roto { curves {{{v x3f99999a}")
    with pytest.raises(InputError, match=r"y\.nk"):
        read_nk(tmp_path / "y.nk")


@pytest.mark.parametrize("offset", [0, 1])
def test_silhouette_round_trip_and_format_facts(tmp_path: Path, offset: int) -> None:
    doc = _doc()
    path = write_fxs(doc, tmp_path / "s.fxs", frame_offset=offset)
    back = read_fxs(path, frame_offset=offset)
    _same(doc, back, 2e-3)
    root = ET.parse(path).getroot()
    assert root.get("sessionStartFrame") == "1001" and root.get("workRangeStart") == str(offset)
    layers = root.findall("Layer")
    assert [layer.get("label") for layer in layers] == ["hero", "prop"]
    hero = layers[0].find("Properties/Property[@id='objects']/Object[@label='hero_1']")
    keys = hero.findall("Properties/Property[@id='path']/Key")
    assert [k.get("frame") for k in keys] == [str(f - 1001 + offset) for f in (1001, 1020, 1050)]
    first = keys[0].find("Path/Point").text
    x, y = doc.shapes[0].keys[0, 0, POINT]
    xn, yn = (float(v) for v in first.split("),(")[0].strip("()").split(","))
    assert xn == pytest.approx((x - 320) / 400, abs=1e-6) and yn == pytest.approx((y - 200) / 400, abs=1e-6)
    hole = layers[0].find("Properties/Property[@id='objects']/Object[@label='hero_1_hole1']")
    assert hole.find("Properties/Property[@id='mode']/Value").text == "Subtract"
    opacity = [(k.get("frame"), k.text) for k in hole.findall("Properties/Property[@id='opacity']/Key")]
    assert opacity == [(str(f - 1001 + offset), v) for f, v in ((1004, "0"), (1005, "100"), (1040, "100"), (1041, "0"))]


def test_fxs_bytes_are_element_trees_own_utf8_output() -> None:
    """fxs_text writes the file as lines; the bytes are what ElementTree writes for the same tree indented by
    ET.indent, its utf-8 declaration included, also for names beyond ASCII and names that need escaping in an
    attribute (read back, indented again and written by ElementTree: the same bytes)."""
    doc = _doc()
    doc.shapes[0].object = 'héros & <co> "q"\tx'
    doc.shapes[1].name = "a\nb > c"
    written = fxs_text(doc)
    root = ET.fromstring(written)
    assert root.find("Layer").get("label") == doc.shapes[0].object
    ET.indent(root, space=" ")
    assert ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n" == written
    assert written.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n") and "héros".encode() in written


def test_fxs_writes_empty_elements_as_element_tree_does() -> None:
    """A document without shapes is one empty ``Silhouette`` element, closed as ElementTree closes it."""
    doc = ShapeDocument(640, 400, 1001, 1010, [])
    written = fxs_text(doc)
    root = ET.fromstring(written)
    ET.indent(root, space=" ")
    assert ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n" == written
    assert written.endswith(b' sessionStartFrame="1001" />\n')


def test_every_export_rasterises_like_the_source(tmp_path: Path) -> None:
    doc = _doc()
    nk, _ = read_nk(write_nk(doc, tmp_path / "s.nk"))
    fxs = read_fxs(write_fxs(doc, tmp_path / "s.fxs"))
    js = read_shapes_json(write_shapes_json(doc, tmp_path / "s.json"))
    for frame in (1001, 1011, 1030, 1045):
        want = rasterise(doc.shapes_of("hero"), frame, (400, 640))
        for other in (nk, fxs, js):
            got = rasterise(other.shapes_of("hero"), frame, (400, 640))
            assert (got ^ want).sum() <= 2


def _donut_doc(tmp_path: Path) -> tuple[ShapeDocument, np.ndarray]:
    """A ring traced from its mask: the outer shape and its hole (a subtract shape)."""
    from roto_core.contracts import ShapeSettings
    from roto_core.shapes import synthetic as syn
    from roto_core.shapes.trace import InMemoryMasks, trace_shapes

    size = (200, 260)
    ring = syn.SyntheticObject(syn.ellipse(80, 70), lambda f: (130 + f, 100, 0.0, 1.0), holes=(syn.ellipse(35, 30),))
    masks = syn.sequence({"ring": ring}, range(1, 6), size)
    doc = trace_shapes(InMemoryMasks(masks, size[1], size[0]), ShapeSettings())
    return doc, masks[3]["ring"]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_donut_hole_is_listed_above_its_outer_shape_and_subtracts_in_nuke(tmp_path: Path) -> None:
    doc, mask = _donut_doc(tmp_path)
    assert sorted(s.mode for s in doc.shapes) == ["add", "subtract"]
    text = write_nk(doc, tmp_path / "d.nk").read_text()
    hole = next(s for s in doc.shapes if s.mode == "subtract")
    outer = next(s for s in doc.shapes if s.mode == "add")
    # Topmost first: the hole stands before (above) the shape it cuts, inside the object's layer.
    layer, hole_at = text.index("{layer ring"), text.index(f"{{curvegroup {hole.name} ")
    assert layer < hole_at < text.index(f"{{curvegroup {outer.name} ")
    # bm 12 (Subtract), spelled as Nuke spells numbers other than 0 and 1.
    assert text.count(f" bm {nk_float(12)}") == 1 and nk_float(12) == "x41400000"
    back, _ = read_nk(tmp_path / "d.nk")
    assert [(s.name, s.object, s.mode) for s in back.shapes] == [(s.name, "ring", s.mode) for s in doc.shapes]
    raster = rasterise(back.shapes, 3, mask.shape)
    assert not raster[100, 133], "the hole's centre is cut out"
    assert _iou(raster, mask) >= 0.97


def test_fxs_objects_property_hold_lifetimes_and_pixel_aspect(tmp_path: Path) -> None:
    doc = _doc()
    doc.pixel_aspect = 2.0
    root = ET.parse(write_fxs(doc, tmp_path / "a.fxs")).getroot()
    for prop in root.iter("Property"):
        if prop.get("id") == "objects":
            assert (prop.get("constant"), prop.get("expanded")) == ("True", "True")
    opacity = [p for p in root.iter("Property") if p.get("id") == "opacity" and p.get("constant") != "True"]
    hole_keys = [(int(k.get("frame")), k.get("interp"), float(k.text)) for k in opacity[0].findall("Key")]
    # The hole lives 1005-1040 in a session starting at 1001: off before, on over its frames, off after.
    assert hole_keys == [(3, "hold", 0.0), (4, "hold", 100.0), (39, "hold", 100.0), (40, "hold", 0.0)]
    first = root.find(".//Point").text
    x = float(first.split(",")[0].strip("("))
    expected = (doc.shapes[0].keys[0, 0, POINT, 0] - 320) / 400 * 2.0
    assert abs(x - expected) < 1e-6, "x is normalised by height and multiplied by the pixel aspect"
    back = read_fxs(tmp_path / "a.fxs", pixel_aspect=2.0)
    assert np.allclose(back.shapes[0].keys, doc.shapes[0].keys, atol=1e-3)
    nk_text = write_nk(doc, tmp_path / "a.nk").read_text()
    assert 'format "640 400 0 0 640 400 2 rotofarm_640x400"' in nk_text
    assert read_nk(tmp_path / "a.nk")[0].pixel_aspect == 2.0
