"""Names the exporters give an object's shapes, layers and nodes.

Every exporter names shapes from the object's name: Nuke curvegroup, layer and node names are Tcl words, and a
.json or .fxs names each shape once. Object names are letters, digits, '_' and '-' (contracts), so two of them
can become one name; ``shape_prefixes`` keeps them apart within a document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from roto_core.shapes.model import Shape


def shape_prefix(obj: str) -> str:
    """Object name made safe for every exporter's shape names (Nuke curvegroups are Tcl words)."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", obj) or "object"
    return safe if safe[0].isalpha() else f"o{safe}"


# Names an export gives to something beside the objects: the .nk's Read of the mattes is ``NAME_mattes``, beside
# the Roto nodes ``NAME_OBJECT``.
RESERVED = frozenset({"mattes"})


def shape_prefixes(objects: Iterable[str]) -> dict[str, str]:
    """Each object's ``shape_prefix``, unique within one document (``objects`` in its drawing order).

    Object names may differ only where ``shape_prefix`` replaces a character ("car-1" and "car_1" are both valid
    names): one prefix for both would give two Nuke nodes one name and two shapes one name, and a .json whose
    shapes cannot be told apart. The later object takes the first ``_2``, ``_3``, ... that no object's own
    prefix is; so does an object whose prefix is RESERVED.
    """
    objects = list(objects)
    own = {obj: shape_prefix(obj) for obj in objects}
    mine: dict[str, str] = {}
    for obj in objects:
        prefix, number = own[obj], 1
        while prefix in RESERVED or prefix in mine.values() or (prefix != own[obj] and prefix in own.values()):
            number += 1
            prefix = f"{own[obj]}_{number}"
        mine[obj] = prefix
    return mine


def named_apart(traced: Mapping[str, list[Shape]]) -> list[Shape]:
    """All objects' shapes in drawing order (``traced`` in it, each object's shapes named with its own
    ``shape_prefix``), renamed where ``shape_prefixes`` gave the object another prefix."""
    shapes: list[Shape] = []
    for obj, prefix in shape_prefixes(traced).items():
        for shape in traced[obj]:
            shape.name = prefix + shape.name.removeprefix(shape_prefix(obj))
        shapes.extend(traced[obj])
    return shapes
