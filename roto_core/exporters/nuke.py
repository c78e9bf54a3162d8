"""Nuke ``.nk`` export: a ``Read`` node for the EXR mattes and a ``Roto`` node with every shape animated.

Layout follows FORMATS.md § Nuke (Roto ``curves`` knob, format version 1.2): numbers as ``x`` + big-endian IEEE
single in hex (0 and 1 plain), pixels with the origin bottom-left and **y up**, tangents relative to their point
(cc flag 8192), no feather (``idem``), a constant shape transform centred on the shape, the key times shared by
all points in the ``px`` header and one animation curve per coordinate.

UNVERIFIED, each behind one switch below:
- ``KEY_ENTRY``: how a keyed value is written. ``"auto"`` writes ``{v -}`` (value, automatic tangents), which
  is documented from real scripts but a file using it everywhere has not been load-tested in Nuke; ``"bare"``
  writes the value alone. Nuke's automatic tangents interpolate smoothly through the same keys where our JSON
  interpolates linearly, so between keys the Nuke shape can differ slightly from the QA'd one: Natron's
  maintainers made "Smooth" the default for roto keys to match Nuke (NatronGitHub/Natron#597, #599), and Nuke's
  SMOOTH is Catmull-Rom with its slopes clamped to the keys' values (nuke.AnimationKey). Drawn that way through
  the same keys, DAVIS ground-truth shapes lose at most 0.003 IoU (median and 10th percentile, 12 sequences,
  bench/nk_inbetweens.py), though a point may sit up to 7 px off its linear place on a fast frame.

Settled by evidence (FORMATS.md "Evidence gathered"):
- Lifetimes: ``ltt 4`` is "frame range" with ``ltn``/``ltm`` as first/last frame, so a shape or hole renders
  exactly over its frames and nowhere else.
- Holes: a Roto layer lists its shapes topmost first and composites the topmost last (10+ real nodes), so each
  object's layer lists the document's shapes (drawing order, bottom first) in reverse: a hole above the shapes it
  cuts, an island in a hole above that hole. Their blend mode is ``bm 12``: the public
  Nuke → Silhouette exporter magnoborgo/NukeFXSExporter reads the ``bm`` attribute of a Nuke shape with the
  mapping {0 Add, 12 Subtract, 13 Difference, 4 Max, 5 Inside}; real files show 0 over, 2 multiply, 3
  color-burn, and nothing shows 1 as minus.
- One ``Roto`` node per object, its shapes in one layer named after the object (``{layer NAME {f 512} {t cx cy}
  {a} ...}`` as the Root layer), so an object's articulated shapes stay grouped and its holes cut only its own
  shapes. A Roto layer groups shapes but does not confine their blend modes: Natron's RotoPaint, the open
  implementation of Nuke's Roto model, renders every shape of every layer in one merge chain, each with its own
  operator over everything below it (``RotoContext::getCurvesByRenderOrder`` flattens the layers,
  ``RotoContext::refreshRotoPaintTree`` chains the merges, Natron's Engine/RotoContext.cpp; each item's merge
  takes as its B input the merge of the item before it, found past any layer boundary:
  ``RotoDrawableItem::refreshNodesConnections``, ``findPreviousInHierarchy``). One node for all
  objects let an object's hole cut the objects listed under it: a ball seen through a ring's gap vanished from the
  node's alpha. A single object's node is named ``name``; with several, ``name_OBJECT``, OBJECT the object's
  name as a Tcl word, kept unique within the script (shapes.naming.shape_prefixes). The reader takes the object
  name from the layer.
- Pixel aspect: the ``format`` knob's seventh word.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from roto_core.atomic import write_text
from roto_core.errors import InputError
from roto_core.shapes.model import LEFT, POINT, RIGHT, Shape, ShapeDocument
from roto_core.shapes.naming import shape_prefixes

KEY_ENTRY = "auto"
LIFETIME_TYPE = 4
SUBTRACT_ATTRIBUTES = ("bm", 12)
CURVES_VERSION = "x3f99999a"
FLAG_RENDERABLE = 512
FLAG_RELATIVE_TANGENTS = 8192
TOOL_BEZIER = 4
# Node graph columns between the per-object Roto nodes (Nuke's default node is 80 units wide).
NODE_SPACING = 110


def nk_float(value: float) -> str:
    """Nuke's number spelling: plain 0 and 1, otherwise ``x`` + the big-endian single precision bits."""
    v = float(np.float32(value))
    if v in (0.0, 1.0):
        return str(int(v))
    return "x" + struct.pack(">f", v).hex()


def parse_number(token: str) -> float:
    if token.startswith("x"):
        return struct.unpack(">f", bytes.fromhex(token[1:]))[0]
    return float(token)


def nk_words(values: np.ndarray) -> np.ndarray:
    """``nk_float`` of every value at once (the same words, an array of ``values``' shape): a shape's keys are
    thousands of numbers, and one ``struct.pack`` each was most of writing a script."""
    single = np.asarray(values, dtype=np.float32)
    raw = single.astype(">f4").tobytes().hex()
    words = np.array(["x" + raw[i : i + 8] for i in range(0, len(raw), 8)], dtype=object).reshape(single.shape)
    words[single == 0.0] = "0"
    words[single == 1.0] = "1"
    return words


def _entries(words: np.ndarray) -> np.ndarray:
    """Each key's entry for its word (``KEY_ENTRY``), all at once: numpy adds strings of an object array in one
    loop, where a call per word was a third of writing a script."""
    return "{" + words + " -}" if KEY_ENTRY == "auto" else words


def _curve(entries: list[str], constant: bool) -> str:
    """One coordinate's animation curve from its keys' ``entries``: one entry where all keys hold the same
    single-precision value (``constant``)."""
    return "{" + (entries[0] if constant else " ".join(entries)) + "}"


def _to_nuke(keys: np.ndarray, height: int) -> np.ndarray:
    """Our keys (y down, origin top-left) → Nuke's (y up, origin bottom-left); offsets only flip."""
    out = keys.copy()
    out[..., 1] *= -1.0
    out[..., POINT, 1] += height
    return out


def _curvegroup(shape: Shape, doc: ShapeDocument) -> str:
    keys = _to_nuke(shape.keys, doc.height)
    single = np.float32(keys)
    words = nk_words(single)
    constant = np.all(single == single[:1], axis=0)
    times = [str(int(f)) for f in shape.key_frames]
    header = times[0] if len(times) == 1 else "{" + " ".join(times) + "}"
    # Per point, slot and coordinate: its keys' entries, and whether they all hold one value.
    entries = np.moveaxis(_entries(words), 0, -1).tolist()
    same = constant.tolist()
    slots = []
    for i in range(shape.point_count):
        for slot in (LEFT, POINT, RIGHT):
            x, y = (_curve(entries[i][slot][k], same[i][slot][k]) for k in (0, 1))
            slots.append("{" + x + " " + y + "}")
    centre = keys[0, :, POINT].mean(axis=0)
    attrs = [
        ("osw", nk_float(10.0)),
        ("osf", "0"),
        ("str", "1"),
        ("spx", nk_float(doc.width / 2)),
        ("spy", nk_float(doc.height / 2)),
        ("sb", "1"),
        ("ltt", str(LIFETIME_TYPE)),
        ("ltn", str(shape.first_frame)),
        ("ltm", str(shape.last_frame)),
        ("tt", nk_float(TOOL_BEZIER)),
    ]
    if shape.mode == "subtract":
        attrs.append((SUBTRACT_ATTRIBUTES[0], nk_float(SUBTRACT_ATTRIBUTES[1])))
    points = "\n       ".join(slots)
    return (
        f"    {{curvegroup {shape.name} {FLAG_RENDERABLE} bezier\n"
        f"     {{{{cc\n      {{f {FLAG_RELATIVE_TANGENTS}}}\n      {{px {header}\n       {points}}}}}\n      idem}}\n"
        f"     {{tx {times[0]} {nk_float(centre[0])} {nk_float(centre[1])}}}\n"
        f"     {{a {' '.join(f'{k} {v}' for k, v in attrs)}}}}}"
    )


def _layer(obj: str, label: str, doc: ShapeDocument) -> str:
    """The object's layer (named ``label``): its shapes topmost (drawn last) first, so each hole lies above what
    it cuts."""
    groups = "\n".join(_curvegroup(s, doc) for s in reversed(doc.shapes_of(obj)))
    return (
        f"   {{layer {label}\n    {{f {FLAG_RENDERABLE}}}\n"
        f"    {{t {nk_float(doc.width / 2)} {nk_float(doc.height / 2)}}}\n    {{a}}\n{groups}}}"
    )


def _format(doc: ShapeDocument) -> str:
    aspect = f"{doc.pixel_aspect:g}"
    return f'"{doc.width} {doc.height} 0 0 {doc.width} {doc.height} {aspect} rotofarm_{doc.width}x{doc.height}"'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "/").replace('"', '\\"') + '"'


def _roto_node(doc: ShapeDocument, objects: list[str], name: str, xpos: int) -> str:
    """A Roto node drawing ``objects``' layers (one object, or none for an empty document)."""
    labels = shape_prefixes(doc.objects)
    layers = "\n".join(_layer(obj, labels[obj], doc) for obj in objects)
    root = (
        f"   {{layer Root\n    {{f {FLAG_RENDERABLE}}}\n"
        f"    {{t {nk_float(doc.width / 2)} {nk_float(doc.height / 2)}}}\n    {{a}}\n{layers}}}"
    )
    return (
        "Roto {\n inputs 0\n output alpha\n cliptype none\n"
        f" curves {{{{{{v {CURVES_VERSION}}}\n  {{f 0}}\n  {{n\n{root}}}}}}}\n"
        f" format {_format(doc)}\n name {name}\n xpos {xpos}\n ypos 0\n}}\n"
    )


def nk_text(doc: ShapeDocument, name: str = "Roto1", mattes: str | None = None) -> str:
    """The .nk script: a Read of ``mattes`` (when given) and a Roto node per object (``name``, or ``name_OBJECT``
    where there are several), side by side in the node graph."""
    parts = []
    if mattes is not None:
        parts.append(
            "Read {\n inputs 0\n"
            f" file {_quote(mattes)}\n format {_format(doc)}\n"
            f" first {doc.first_frame}\n last {doc.last_frame}\n"
            f" origfirst {doc.first_frame}\n origlast {doc.last_frame}\n origset true\n"
            f" name {name}_mattes\n xpos 0\n ypos -120\n}}\n"
        )
    labels = shape_prefixes(doc.objects)
    if len(labels) < 2:
        parts.append(_roto_node(doc, list(labels), name, 0))
    else:
        parts.extend(
            _roto_node(doc, [obj], f"{name}_{label}", NODE_SPACING * i) for i, (obj, label) in enumerate(labels.items())
        )
    return "".join(parts)


def write_nk(doc: ShapeDocument, path: str | Path, name: str = "Roto1", mattes: str | None = None) -> Path:
    return write_text(path, nk_text(doc, name, mattes))


Tree = list["Tree | str"]


def _tokens(text: str) -> Iterator[str]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "{}":
            yield c
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            yield text[i : j + 1]
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{}":
                j += 1
            yield text[i:j]
            i = j


def parse_tcl(text: str) -> Tree:
    """Brace-nested words → nested lists (enough for the scripts we write)."""
    stack: list[Tree] = [[]]
    for tok in _tokens(text):
        if tok == "{":
            stack.append([])
        elif tok == "}":
            if len(stack) == 1:
                raise ValueError("unbalanced '}'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise ValueError("unbalanced '{'")
    return stack[0]


def _nodes(tree: Tree) -> list[tuple[str, Tree]]:
    """A script's top-level nodes as (class, body)."""
    return [(str(tree[i]), tree[i + 1]) for i in range(0, len(tree) - 1, 2) if isinstance(tree[i], str)]


def _knobs(body: Tree) -> dict[str, Tree | str]:
    return {str(body[i]): body[i + 1] for i in range(0, len(body) - 1, 2) if isinstance(body[i], str)}


def _expand(curve: Tree, count: int) -> np.ndarray:
    values: list[float] = []
    for entry in curve:
        if isinstance(entry, list) and entry and entry[0] == "x":
            repeat = int(entry[1])
            inner = entry[2]
            value = inner[0] if isinstance(inner, list) else inner
            values.extend([parse_number(str(value))] * repeat)
        elif isinstance(entry, list):
            values.append(parse_number(str(entry[0])))
        else:
            values.append(parse_number(entry))
    if len(values) == 1:
        values *= count
    if len(values) != count:
        raise ValueError(f"curve has {len(values)} values for {count} keys")
    return np.asarray(values)


def _shape_from(group: Tree, width: int, height: int, obj: str) -> Shape:
    name = str(group[1])
    cc = group[4][0]
    px = next(x for x in cc if isinstance(x, list) and x and x[0] == "px")
    times = [int(t) for t in (px[1] if isinstance(px[1], list) else [px[1]])]
    slots = px[2:]
    if len(slots) % 3:
        raise ValueError(f"curvegroup {name}: {len(slots)} tangent/point slots is not a multiple of 3")
    count = len(slots) // 3
    keys = np.zeros((len(times), count, 3, 2))
    for i, slot in enumerate(slots):
        keys[:, i // 3, i % 3, 0] = _expand(slot[0], len(times))
        keys[:, i // 3, i % 3, 1] = _expand(slot[1], len(times))
    attrs = next(x for x in group[5:] if isinstance(x, list) and x and x[0] == "a")
    a = {str(attrs[i]): str(attrs[i + 1]) for i in range(1, len(attrs) - 1, 2)}
    mode = "subtract" if a.get(SUBTRACT_ATTRIBUTES[0]) == nk_float(SUBTRACT_ATTRIBUTES[1]) else "add"
    keys = _to_nuke(keys, height)
    return Shape(name, obj, mode, int(a["ltn"]), int(a["ltm"]), np.asarray(times), keys)


def _node_shapes(roto: dict[str, Tree | str], w: int, h: int) -> list[Shape]:
    """One Roto node's shapes in drawing order. Listed topmost first; the model keeps drawing order (bottom
    first), so each layer is read bottom-up. Shapes straight under Root (scripts of earlier versions) take their
    object from the name (``obj_N``, ``obj_N_holeK``)."""
    curves = roto["curves"][0]
    root = next(x for x in curves if isinstance(x, list) and x[0] == "n")[1]
    layers = [(str(x[1]), x) for x in root if isinstance(x, list) and x and x[0] == "layer"]
    return [
        _shape_from(g, w, h, obj or str(g[1]).rsplit("_hole", 1)[0].rsplit("_", 1)[0])
        for obj, layer in [*layers, ("", root)]
        for g in reversed([x for x in layer if isinstance(x, list) and x and x[0] == "curvegroup"])
    ]


def _listed(layer: Tree, w: int, h: int, obj: str) -> list[Shape]:
    """A layer's shapes and those of the layers in it, depth first, as listed (topmost first)."""
    out: list[Shape] = []
    for item in layer:
        if isinstance(item, list) and item and item[0] == "curvegroup":
            out.append(_shape_from(item, w, h, obj))
        elif isinstance(item, list) and item and item[0] == "layer":
            out.extend(_listed(item, w, h, str(item[1])))
    return out


def read_nk_composites(path: str | Path) -> dict[str, list[Shape]]:
    """Per Roto node of our own .nk, its shapes in the order the node composites them: every layer's shapes in
    one chain, bottom first, each add filling and each minus clearing everything drawn before it, whatever its
    layer (Natron's RotoPaint, the open implementation of Nuke's Roto model: Engine/RotoContext.cpp
    ``getCurvesByRenderOrder`` flattens the layers, ``refreshRotoPaintTree`` chains the merges). ``rasterise``
    of a node's list is its alpha."""
    p = Path(path)
    try:
        tree = parse_tcl(p.read_text(encoding="utf-8"))
        out = {}
        for knobs in (_knobs(body) for kind, body in _nodes(tree) if kind == "Roto"):
            words = str(knobs["format"]).strip('"').split()
            root = next(x for x in knobs["curves"][0] if isinstance(x, list) and x[0] == "n")[1]
            out[str(knobs["name"])] = list(reversed(_listed(root, int(words[0]), int(words[1]), "")))
    except (OSError, ValueError, KeyError, IndexError, StopIteration, TypeError) as exc:
        raise InputError(f"not a rotofarm .nk script: {exc!r}", path=p) from None
    return out


def read_nk(path: str | Path) -> tuple[ShapeDocument, str | None]:
    """Our own .nk → (shapes of every Roto node, in file order, the Read node's file). Object names come from the
    layers (or, in scripts of earlier versions, from shape names)."""
    p = Path(path)
    try:
        tree = parse_tcl(p.read_text(encoding="utf-8"))
        nodes = _nodes(tree)
        rotos = [_knobs(body) for kind, body in nodes if kind == "Roto"]
        words = str(rotos[0]["format"]).strip('"').split()
        w, h = int(words[0]), int(words[1])
        aspect = float(words[6]) if len(words) > 6 else 1.0
        shapes = [s for roto in rotos for s in _node_shapes(roto, w, h)]
        reads = [_knobs(body) for kind, body in nodes if kind == "Read"]
        mattes = str(reads[0]["file"]).strip('"') if reads else None
    except (OSError, ValueError, KeyError, IndexError, StopIteration, TypeError) as exc:
        raise InputError(f"not a rotofarm .nk script: {exc!r}", path=p) from None
    first = min((s.first_frame for s in shapes), default=0)
    last = max((s.last_frame for s in shapes), default=0)
    return ShapeDocument(w, h, first, last, shapes, pixel_aspect=aspect), mattes
