"""The segmentation flags of a whole job: every chunk's confidence and re-key frames, gathered for the QA report.

Chunks run apart (and may be rerun with other sizes), so the flags are recomputed from the merged per-frame
confidence rather than concatenated: a failure that spans a chunk boundary is one re-key, not two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roto_core.backends.confidence import rekey_frames
from roto_core.contracts import ChunkResult
from roto_core.errors import InputError
from roto_core.jobfolder import JobFolder


def merge_flags(results: Iterable[ChunkResult]) -> dict[str, Any]:
    """``{"rekey_frames": {object: [frames]}, "confidence_min": {object: float}}`` over chunk results in order."""
    merged: dict[str, dict[int, float]] = {}
    for result in results:
        for obj, per_frame in result.confidence.items():
            merged.setdefault(obj, {}).update(per_frame)
    return {
        "rekey_frames": {obj: rekey_frames(c) for obj, c in merged.items()},
        "confidence_min": {obj: round(min(c.values()), 3) for obj, c in merged.items() if c},
    }


def segmentation_flags(job: JobFolder) -> dict[str, Any]:
    """The merged flags of the chunk reports in ``job`` (what finalize puts in ``qa["segmentation"]``)."""
    results = []
    for report in job.root.glob("chunks/*/report.json"):
        try:
            results.append(ChunkResult.load(report))
        except InputError:
            continue
    return merge_flags(sorted(results, key=lambda r: (r.first_frame, r.last_frame)))


def rekey_line(flags: dict[str, Any]) -> str | None:
    """One line for people naming the frames to key again, or None when every frame is trusted."""
    parts = [f"{obj} at {', '.join(map(str, frames))}" for obj, frames in flags["rekey_frames"].items() if frames]
    return f"frames that need a new key: {'; '.join(parts)}" if parts else None
