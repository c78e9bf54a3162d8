"""Editorial ingest: a cut (EDL, OTIO, FCP 7 XML, AAF, ALE) → a ShotList, through OpenTimelineIO and its adapters."""

from __future__ import annotations

from pathlib import Path

from otio_ingest.errors import EditorialError
from otio_ingest.options import IngestOptions
from roto_core.contracts import ShotList

__all__ = ["EditorialError", "IngestOptions", "ingest_file"]


def ingest_file(path: str | Path, options: IngestOptions | None = None) -> ShotList:
    """Read the cut at ``path`` and return its shots; ``options`` default to configs/ingest.yaml."""
    from otio_ingest.shots import shotlist_from_file

    return shotlist_from_file(Path(path), options if options is not None else IngestOptions.from_config())
