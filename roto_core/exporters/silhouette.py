"""Silhouette ``.fxs`` export (XML), per FORMATS.md § Silhouette.

One ``Layer`` per object, one Bezier ``Shape`` per shape, under ``<Property id="objects" constant="True"
expanded="True">`` as both public writers mark it. Point coordinates are normalised by the image **height**
with the origin at the image centre and y down: ``xn = (x - W/2) / H * pixel_aspect``, ``yn = (y - H/2) / H``
(the plate's pixel aspect, ``ShapeDocument.pixel_aspect``); handles are absolute positions. Holes use ``mode``
Subtract. Each Layer carries its own ``invert`` false and ``mode`` Add, as NukeFXSExporter writes every layer
(``createLayers``). UNVERIFIED: that a layer with a blend mode of its own is blended in as a whole, so an
object's holes cut only its own layer's shapes (nothing public shows a Silhouette render either way). Shapes are
listed in the document's drawing order, bottom-most first, so a hole comes after the shapes it cuts and an island
in a hole after that hole: magnoborgo/NukeFXSExporter writes a Nuke layer's shapes in reverse of Nuke's
topmost-first list, so an .fxs lists bottom-most first.

Frames: keys are integers relative to ``sessionStartFrame``: ``key = frame - session_start + frame_offset``,
the session start being the document's first frame unless given. NukeFXSExporter writes the same (``f - first
frame of the range``). ayon-silhouette sets a task's session with ``session.startFrame = frameStart`` (handles
not included) and pixel aspect from the task's ``pixelAspect`` (``api/lib.py`` ``set_frame_range_from_entity``,
``set_resolution_from_entity``); its ShapesLoader imports the file into that session. So the default
``ShapeSettings.fxs_frame_offset`` 0 puts key 0 on frameStart when the exported range starts at frameStart;
for a range that includes ``handleStart`` handle frames, set the offset to ``-handleStart`` (the handle frames
then get negative keys, before the session start, as in Silhouette).

Lifetimes: ``opacity`` keys with ``interp="hold"`` (NukeFXSExporter writes opacity keys that way, value × 100):
0 on the frame before a shape begins, 100 from its first frame, 0 again from the frame after its last, so a
shape or hole is visible exactly over its frames.

UNVERIFIED (no real file is public): the order of the two handles on a cusped point. ``HANDLE_ORDER`` is
("in", "out") — the incoming handle first — and flipping it is the one change needed if Silhouette reads them
the other way.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np

from roto_core.atomic import write_bytes
from roto_core.errors import InputError
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, ShapeDocument

HANDLE_ORDER = ("in", "out")
_SLOT = {"in": LEFT, "out": RIGHT}
MODES = {"add": "Add", "subtract": "Subtract"}
# ElementTree's declaration for utf-8 output (xml.etree.ElementTree.write), the first line of every file written.
XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
# A Bezier point's text: the point, then its handles in HANDLE_ORDER, each normalised (x, y) to 7 decimals.
_POINT_TEXT = "(%.7f,%.7f),(%.7f,%.7f),(%.7f,%.7f)"
# What ElementTree escapes in text (_escape_cdata) and, besides, in an attribute (_escape_attrib); each character
# replaced once, in one pass.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
)


def _norm(xy: np.ndarray, doc: ShapeDocument, aspect: float) -> np.ndarray:
    out = np.empty_like(xy)
    out[..., 0] = (xy[..., 0] - doc.width / 2) / doc.height * aspect
    out[..., 1] = (xy[..., 1] - doc.height / 2) / doc.height
    return out


def _denorm(xy: np.ndarray, width: int, height: int, aspect: float) -> np.ndarray:
    out = np.empty_like(xy)
    out[..., 0] = xy[..., 0] * height / aspect + width / 2
    out[..., 1] = xy[..., 1] * height + height / 2
    return out


def _attrs(pairs: tuple[tuple[str, str], ...]) -> str:
    """Attributes as ElementTree writes them: in the order given, double-quoted, escaped as its ``_escape_attrib``
    escapes (``&``, ``<``, ``>``, ``"``, and CR, LF, TAB as character references)."""
    return "".join(f' {k}="{v.translate(_ATTRIBUTE_ESCAPES)}"' for k, v in pairs)


def _element(depth: int, tag: str, attrs: tuple[tuple[str, str], ...], body: list[str] | str) -> list[str]:
    """One element's lines at ``depth``, laid out as ``ET.indent(root, space=" ")`` lays them out: text inline,
    children one per line a space further in, an element with neither (or empty text) closed on its own (`` />``)."""
    pad = " " * depth
    if not body:
        return [f"{pad}<{tag}{_attrs(attrs)} />"]
    if isinstance(body, str):
        return [f"{pad}<{tag}{_attrs(attrs)}>{body.translate(_TEXT_ESCAPES)}</{tag}>"]
    return [f"{pad}<{tag}{_attrs(attrs)}>", *body, f"{pad}</{tag}>"]


def _constant(depth: int, ident: str, value: str) -> list[str]:
    return _element(depth, "Property", (("constant", "True"), ("id", ident)), _element(depth + 1, "Value", (), value))


def _path_texts(keys: np.ndarray, doc: ShapeDocument, aspect: float) -> list[list[str]]:
    """Each key's ``Point`` texts, all keys ``(K, N, 3, 2)`` of a shape normalised at once."""
    absolute = {
        "point": keys[:, :, POINT],
        "in": keys[:, :, POINT] + keys[:, :, _SLOT["in"]],
        "out": keys[:, :, POINT] + keys[:, :, _SLOT["out"]],
    }
    order = ("point", *HANDLE_ORDER)
    # One row of six plain floats per point: formatting Python floats costs a fraction of numpy scalars', and one
    # %-format of the row less than an f-string of six fields (0.127 s against 0.158 s for 114,000 points).
    rows = np.concatenate([_norm(absolute[k], doc, aspect) for k in order], axis=2).tolist()
    return [[_POINT_TEXT % tuple(point) for point in key] for key in rows]


def _opacity_keys(shape: Shape, doc: ShapeDocument) -> list[tuple[int, float]]:
    keys: list[tuple[int, float]] = []
    if shape.first_frame > doc.first_frame:
        keys += [(shape.first_frame - 1, 0.0), (shape.first_frame, 100.0)]
    if shape.last_frame < doc.last_frame:
        keys += [(shape.last_frame, 100.0), (shape.last_frame + 1, 0.0)]
    return keys


def _shape_lines(shape: Shape, doc: ShapeDocument, rel: Callable[[int], str], aspect: float) -> list[str]:
    """One shape's ``Object`` element (depth 4, under its layer's ``objects``)."""
    props = [*_constant(6, "mode", MODES[shape.mode]), *_constant(6, "invert", "false")]
    opacity = _opacity_keys(shape, doc)
    if opacity:
        keys = [_element(7, "Key", (("frame", rel(f)), ("interp", "hold")), f"{v:g}")[0] for f, v in opacity]
        props += _element(6, "Property", (("id", "opacity"),), keys)
    else:
        props += _constant(6, "opacity", "100")
    path = []
    for frame, texts in zip(shape.key_frames.tolist(), _path_texts(shape.keys, doc, aspect), strict=True):
        # Depth 9, spelled out: numbers need no escaping, and a call per point would cost more than the line.
        points = [f"         <Point>{text}</Point>" for text in texts]
        bezier = _element(8, "Path", (("closed", "True"), ("type", "Bezier")), points)
        path += _element(7, "Key", (("frame", rel(frame)), ("interp", "linear")), bezier)
    props += _element(6, "Property", (("id", "path"),), path)
    attrs = (
        ("type", "Shape"),
        ("label", shape.name),
        ("shape_type", "Bezier"),
        ("hidden", "False"),
        ("locked", "False"),
    )
    return _element(4, "Object", attrs, _element(5, "Properties", (), props))


def fxs_text(
    doc: ShapeDocument, session_start: int | None = None, frame_offset: int = 0, pixel_aspect: float | None = None
) -> bytes:
    """The document's file bytes: what ElementTree writes for the file's tree, indented by ``ET.indent(root,
    space=" ")``, with its utf-8 declaration (tests/shapes/test_exporters.py reads the file back with
    ElementTree and writes it again, the same bytes). Written as lines, not as a tree: the tree of DAVIS
    paragliding-launch's ground truth (437 shapes, 113,992 points) took 0.44 s to build and write, the lines
    0.30 s, half of it formatting the numbers (best of five; bench/RESULTS.md, sixtieth pass)."""
    start = doc.first_frame if session_start is None else session_start
    aspect = doc.pixel_aspect if pixel_aspect is None else pixel_aspect

    def rel(frame: int) -> str:
        return str(int(frame) - start + frame_offset)

    layers = []
    for obj in doc.objects:
        shapes = [line for shape in doc.shapes_of(obj) for line in _shape_lines(shape, doc, rel, aspect)]
        objects = _element(3, "Property", (("id", "objects"), ("constant", "True"), ("expanded", "True")), shapes)
        props = [*_constant(3, "invert", "false"), *_constant(3, "mode", "Add"), *objects]
        layers += _element(1, "Layer", (("type", "Layer"), ("label", obj)), _element(2, "Properties", (), props))
    attrs = (
        ("width", str(doc.width)),
        ("height", str(doc.height)),
        ("workRangeStart", rel(doc.first_frame)),
        ("workRangeEnd", rel(doc.last_frame)),
        ("sessionStartFrame", str(start)),
    )
    lines = _element(0, "Silhouette", attrs, layers)
    return (XML_DECLARATION + "\n".join(lines) + "\n").encode("utf-8")


def write_fxs(
    doc: ShapeDocument,
    path: str | Path,
    session_start: int | None = None,
    frame_offset: int = 0,
    pixel_aspect: float | None = None,
) -> Path:
    return write_bytes(path, fxs_text(doc, session_start, frame_offset, pixel_aspect))


def _parse_point(text: str) -> np.ndarray:
    triples = text.replace(" ", "").strip("()").split("),(")
    return np.array([[float(v) for v in t.split(",")] for t in triples])


def _lifetime(prop: ET.Element | None, absolute, first: int, last: int) -> tuple[int, int]:
    if prop is None or prop.get("constant") == "True":
        return first, last
    keys = sorted((absolute(k.get("frame")), float(k.text or 0)) for k in prop.findall("Key"))
    on = [f for f, v in keys if v > 0]
    off_before = [f for f, v in keys if v == 0 and on and f < min(on)]
    off_after = [f for f, v in keys if v == 0 and on and f > max(on)]
    return (min(on) if off_before else first), (max(on) if off_after else last)


def read_fxs(path: str | Path, frame_offset: int = 0, pixel_aspect: float = 1.0) -> ShapeDocument:
    """Our own .fxs → shapes in pixels with absolute frames (the inverse of ``write_fxs``)."""
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
        width, height = int(root.get("width", "")), int(root.get("height", ""))
        start = int(root.get("sessionStartFrame", ""))

        def absolute(frame: str | None) -> int:
            return int(frame or "") + start - frame_offset

        first, last = absolute(root.get("workRangeStart")), absolute(root.get("workRangeEnd"))
        slot_of = {"point": POINT, **{name: _SLOT[name] for name in HANDLE_ORDER}}
        order = ("point", *HANDLE_ORDER)
        shapes: list[Shape] = []
        for layer in root.findall("Layer"):
            for node in layer.iterfind("Properties/Property[@id='objects']/Object"):
                props = {q.get("id"): q for q in node.find("Properties") or []}
                mode = {v: k for k, v in MODES.items()}[props["mode"].findtext("Value", "")]
                frames, keys = [], []
                for key in props["path"].findall("Key"):
                    pts = np.stack([_parse_point(pt.text or "") for pt in key.iterfind("Path/Point")])
                    pix = _denorm(pts, width, height, pixel_aspect)
                    ctrl = np.zeros((len(pts), 3, 2))
                    for j, name in enumerate(order):
                        ctrl[:, slot_of[name]] = pix[:, j]
                    ctrl[:, LEFT] -= ctrl[:, POINT]
                    ctrl[:, RIGHT] -= ctrl[:, POINT]
                    frames.append(absolute(key.get("frame")))
                    keys.append(ctrl)
                life = _lifetime(props.get("opacity"), absolute, first, last)
                shapes.append(
                    Shape(
                        node.get("label", ""), layer.get("label", ""), mode, *life, np.asarray(frames), np.stack(keys)
                    )
                )
    except (OSError, ET.ParseError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a rotofarm .fxs file: {exc!r}", path=p) from None
    return ShapeDocument(width, height, first, last, shapes)
