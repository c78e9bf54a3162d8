"""All shape files of one result rendered in memory first, then written one by one atomically.

Rendering everything before the first write means a bad shape or a bug in one exporter leaves the output folder
untouched, and each write is a rename, so a killed process never leaves half a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roto_core.atomic import write_bytes
from roto_core.contracts import ShapeSettings
from roto_core.exporters.json_shapes import shapes_json_text
from roto_core.exporters.nuke import nk_text
from roto_core.exporters.silhouette import fxs_text
from roto_core.shapes.model import ShapeDocument


@dataclass
class ExportBundle:
    """File contents by destination path."""

    files: dict[Path, bytes]

    def write(self) -> list[Path]:
        return [write_bytes(path, data) for path, data in self.files.items()]


def render_exports(
    doc: ShapeDocument,
    settings: ShapeSettings,
    *,
    json_path: Path,
    nk_path: Path,
    fxs_path: Path,
    qa_path: Path,
    qa: dict[str, Any],
    node_name: str,
    mattes: str | None,
) -> ExportBundle:
    """JSON, .nk, .fxs and the QA report of ``doc``, ready to write."""
    return ExportBundle(
        {
            json_path: shapes_json_text(doc).encode("utf-8"),
            nk_path: nk_text(doc, node_name, mattes).encode("utf-8"),
            fxs_path: fxs_text(doc, frame_offset=settings.fxs_frame_offset),
            qa_path: (json.dumps(qa, indent=2) + "\n").encode("utf-8"),
        }
    )
