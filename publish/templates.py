"""AYON anatomy templates: ``{key[sub]}`` fields, ``{@name}`` references, ``<...>`` optional parts.

Published files must land where AYON's loaders and ayon-core's own publishes put them, so the path comes from
the project's anatomy (AyonTracker) or the same default templates (LocalTracker), never from a path we invent.
"""

from __future__ import annotations

import posixpath
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from publish.errors import PublishError

_REFERENCE = re.compile(r"\{@([A-Za-z0-9_]+)\}")

_PUBLISH_DIRECTORY = (
    "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/{@version}"
)
# AYON's default anatomy (preset "_"), the parts publishing reads.
DEFAULT_TEMPLATES: dict[str, Any] = {
    "common": {
        "version_padding": 3,
        "frame_padding": 4,
        "version": "v{version:0>{@version_padding}}",
        "frame": "{frame:0>{@frame_padding}}",
    },
    "publish": {
        "default": {
            "directory": _PUBLISH_DIRECTORY,
            "file": "{project[code]}_{folder[name]}_{product[name]}_{@version}<_{output}><.{@frame}><_{udim}>.{ext}",
        },
        "render": {
            "directory": _PUBLISH_DIRECTORY,
            "file": "{project[code]}_{folder[name]}_{product[name]}_{@version}<_{output}><.{@frame}>.{ext}",
        },
    },
}


def expand_references(template: str, templates: Mapping[str, Any]) -> str:
    """Replace ``{@name}`` with the anatomy's entry, recursively (``{@version}`` holds ``{@version_padding}``)."""
    original = template
    for _ in range(10):
        new = _REFERENCE.sub(lambda m: str(_lookup_reference(m.group(1), templates, original)), template)
        if new == template:
            return new
        template = new
    raise PublishError(f"anatomy template references loop: {original!r}")


def _lookup_reference(name: str, templates: Mapping[str, Any], template: str) -> Any:
    """AYON keeps ``version``/``frame`` and their paddings in ``templates.common``; older anatomies at the top."""
    for group in (templates, templates.get("common"), templates.get("defaults")):
        if isinstance(group, Mapping) and name in group and not isinstance(group[name], Mapping):
            return group[name]
    raise PublishError(f"anatomy template {template!r} refers to {{@{name}}}, which the anatomy lacks")


def _format(text: str, data: Mapping[str, Any]) -> str:
    return string.Formatter().vformat(text, (), dict(data))


def _split_optional(template: str) -> list[tuple[str, bool]]:
    """Split into (text, optional) pieces; ``<`` and ``>`` count only outside ``{...}`` (``{frame:0>4}`` has one)."""
    pieces: list[tuple[str, bool]] = []
    depth, start, inside = 0, 0, False
    for i, char in enumerate(template):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and char == "<" and not inside:
            pieces.append((template[start:i], False))
            start, inside = i + 1, True
        elif depth == 0 and char == ">" and inside:
            pieces.append((template[start:i], True))
            start, inside = i + 1, False
    if inside:
        raise PublishError(f"anatomy template {template!r} has an unclosed '<'")
    pieces.append((template[start:], False))
    return [p for p in pieces if p[0]]


def fill(template: str, data: Mapping[str, Any]) -> str:
    """Fill a template; an optional ``<...>`` part whose keys are missing is dropped, a missing required key is an
    error naming it."""
    out: list[str] = []
    for text, optional in _split_optional(template):
        try:
            out.append(_format(text, data))
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            if not optional:
                raise PublishError(
                    f"anatomy template {template!r} needs {exc} which this publish does not provide"
                ) from None
        except ValueError as exc:
            raise PublishError(f"anatomy template {template!r} cannot be filled: {exc}") from None
    return "".join(out)


def frame_padding(templates: Mapping[str, Any]) -> int:
    """The anatomy's frame padding (``templates.common.frame_padding``; AYON's default is 4)."""
    for group in (templates.get("common"), templates):
        if isinstance(group, Mapping) and isinstance(group.get("frame_padding"), int):
            return max(1, min(int(group["frame_padding"]), 12))
    return 4


@dataclass(frozen=True)
class PublishTemplate:
    """The publish directory and file templates of one project, references already expanded."""

    directory: str
    file: str

    @classmethod
    def from_anatomy(cls, templates: Mapping[str, Any], name: str = "default") -> PublishTemplate:
        """Read ``templates.publish[name]``, falling back to ``default`` as ayon-core does for unnamed profiles."""
        publish = templates.get("publish")
        if not isinstance(publish, Mapping):
            raise PublishError("the project anatomy has no publish template")
        entry = publish.get(name) or publish.get("default")
        if not isinstance(entry, Mapping):
            raise PublishError(f"the project anatomy has no publish template {name!r} nor 'default'")
        directory, file = entry.get("directory"), entry.get("file")
        if not isinstance(directory, str) or not isinstance(file, str) or not directory or not file:
            raise PublishError(f"publish template {name!r} lacks 'directory' or 'file'")
        return cls(expand_references(directory, templates), expand_references(file, templates))

    @property
    def path(self) -> str:
        return f"{self.directory}/{self.file}"

    def directory_for(self, data: Mapping[str, Any]) -> str:
        return fill(self.directory, data)

    def file_for(self, data: Mapping[str, Any]) -> str:
        return fill(self.file, data)


_SAMPLE_ROOT = "/rotofarm-root"


def _sample(product: str, product_type: str, ext: str, frame: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "root": {"work": _SAMPLE_ROOT},
        "project": {"name": "proj", "code": "prj"},
        "hierarchy": "sq010",
        "folder": {"name": "sh010", "type": "Shot", "path": "/sq010/sh010"},
        "product": {"name": product, "type": product_type},
        "task": {"name": "roto", "type": "Roto"},
        "version": 1,
        "ext": ext,
        "representation": ext,
    }
    if frame is not None:
        data["frame"] = frame
    return data


def check_publish_templates(templates: Mapping[str, Any], shapes: str, matte: str) -> None:
    """Fill the shapes and matte templates once with sample values, before any publish relies on them: a key
    the publish does not provide, a bad format spec, a path that leaves ``{root[work]}`` or a matte file name
    without a frame token (every frame would overwrite the last) is a ``PublishError`` naming the template."""
    for name, product_type, exts, frames in (
        (shapes, "matteshapes", ("nk", "fxs", "json"), (None,)),
        (matte, "render", ("exr",), (1001, 1002)),
    ):
        template = PublishTemplate.from_anatomy(templates, name)
        paths = []
        for ext in exts:
            for frame in frames:
                data = _sample("rotoMain", product_type, ext, frame)
                path = f"{template.directory_for(data)}/{template.file_for(data)}"
                normal = posixpath.normpath(path)
                if not normal.startswith(_SAMPLE_ROOT + "/"):
                    raise PublishError(f"publish template {name!r} puts files outside {{root[work]}}: {path!r}")
                paths.append(normal)
        if len(set(paths)) != len(paths):
            what = "a frame token such as {@frame}" if len(frames) > 1 else "{ext}"
            raise PublishError(f"publish template {name!r} gives several files one name: its file part needs {what}")
