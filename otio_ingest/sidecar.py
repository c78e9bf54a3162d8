"""The prompts sidecar (``--prompts prompts.yaml``): prompts per shot and object, kept beside the cut.

Markers carry a text or a box; everything else (points, masks, several keys per object) lives here. Format::

    # shot name (as ingest names it) → object name → prompts
    sh010:
      hero:
        - {cut_frame: 12, text: man in the red jacket}   # cut_frame: frames after the first cut frame
        - {frame: 1040, box: [812, 440, 1290, 760]}      # frame: shot frame (handles included)
      car:
        - {frame: 1009, points: [[512, 300, 1], [600, 310, 0]]}   # label 1 inside, 0 outside
        - {frame: 1050, mask: masks/sh010_car.1050.exr}           # relative to this file's folder

Each prompt has exactly one of ``frame`` / ``cut_frame`` and one of ``text`` / ``box`` / ``points`` / ``mask``.
Pixel coordinates, origin top-left. A shot the cut does not have is an error (a typo would otherwise lose prompts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from otio_ingest.bounds import check_cut_file, read_bounded
from otio_ingest.errors import EditorialError

_LINES = "__lines__"


class SidecarPrompt(BaseModel):
    """One entry of the sidecar, before its frame is known as a shot frame."""

    model_config = ConfigDict(extra="forbid")

    frame: int | None = None
    cut_frame: int | None = None
    text: str | None = None
    box: tuple[float, float, float, float] | None = None
    points: list[tuple[float, float, int]] | None = None
    mask: str | None = None

    @model_validator(mode="after")
    def _one_frame(self) -> SidecarPrompt:
        if (self.frame is None) == (self.cut_frame is None):
            raise ValueError("give exactly one of frame / cut_frame")
        return self

    def shot_frame(self, first_frame: int, handles: int) -> int:
        return self.frame if self.frame is not None else first_frame + handles + (self.cut_frame or 0)


class SidecarEntry(BaseModel):
    """A validated sidecar prompt with where it came from, for error messages."""

    shot: str
    object: str
    prompt: SidecarPrompt
    line: int


class Sidecar(BaseModel):
    """The whole file: every prompt, and every shot it names (with its line) even where its lists are empty."""

    path: Path
    shots: dict[str, int]
    entries: list[SidecarEntry]


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping key, so an error can point at the entry."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"key {key.value!r} appears twice (first on line {seen[key.value]}); "
                        "YAML would keep only the last, losing the prompts of the first",
                        problem_mark=key.start_mark,
                    )
                seen[key.value] = key.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINES] = {
            key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)
        }
        mapping[_LINES][None] = node.start_mark.line + 1
        return mapping


def read_sidecar(path: Path) -> Sidecar:
    """Every prompt in the sidecar, validated; mask paths made absolute against the sidecar's folder."""
    check_cut_file(path, "the prompts YAML")  # a FIFO or /dev/zero would block or never end
    try:
        text = read_bounded(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditorialError(f"cannot read prompts sidecar: not UTF-8 text ({exc.reason})", path=path) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise EditorialError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path=path, line=line) from None
    if data is None:
        return Sidecar(path=path, shots={}, entries=[])
    if not isinstance(data, dict):
        raise EditorialError("top level must map shot names to objects", path=path)
    entries: list[SidecarEntry] = []
    shots: dict[str, int] = {}
    for shot, objects in _items(data):
        line = data[_LINES].get(shot)
        shots[str(shot)] = line or 0
        if not isinstance(objects, dict):
            raise EditorialError(f"shot {shot!r} must map object names to lists of prompts", path=path, line=line)
        for obj, prompts in _items(objects):
            line = objects[_LINES].get(obj)
            if not isinstance(prompts, list):
                raise EditorialError(f"{shot}/{obj}: prompts must be a list", path=path, line=line)
            for raw in prompts:
                entry_line = raw.get(_LINES, {}).get(None, line) if isinstance(raw, dict) else line
                entries.append(_entry(path, str(shot), str(obj), raw, entry_line))
    return Sidecar(path=path, shots=shots, entries=entries)


def _items(mapping: dict[Any, Any]) -> list[tuple[Any, Any]]:
    return [(k, v) for k, v in mapping.items() if k != _LINES]


def _entry(path: Path, shot: str, obj: str, raw: Any, line: int | None) -> SidecarEntry:
    if not isinstance(raw, dict):
        raise EditorialError(f"{shot}/{obj}: each prompt must be a mapping", path=path, line=line)
    fields = {k: v for k, v in raw.items() if k != _LINES}
    try:
        prompt = SidecarPrompt.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        detail = f"{key}: {err['msg']}" if key else err["msg"]
        raise EditorialError(f"{shot}/{obj}: {detail}", path=path, line=line) from None
    if prompt.mask is not None and not Path(prompt.mask).is_absolute():
        prompt = prompt.model_copy(update={"mask": str((path.parent / prompt.mask).resolve())})
    return SidecarEntry(shot=shot, object=obj, prompt=prompt, line=line or 0)
