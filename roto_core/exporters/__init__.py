"""Writers (and readers of our own output) for roto shape files: JSON (ours), Nuke .nk, Silhouette .fxs."""

from roto_core.exporters.json_shapes import read_shapes_json, shapes_json_text, write_shapes_json
from roto_core.exporters.nuke import nk_text, read_nk, read_nk_composites, write_nk
from roto_core.exporters.silhouette import fxs_text, read_fxs, write_fxs

__all__ = [
    "fxs_text",
    "nk_text",
    "read_fxs",
    "read_nk",
    "read_nk_composites",
    "read_shapes_json",
    "shapes_json_text",
    "write_fxs",
    "write_nk",
    "write_shapes_json",
]
