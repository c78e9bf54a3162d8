"""Knowing where it failed: confidence → re-key frames, per chunk and merged over a job."""

from __future__ import annotations

from pathlib import Path

from roto_core.backends.confidence import rekey_frames
from roto_core.chunks import load_models, run_chunk
from roto_core.chunks.flags import merge_flags, rekey_line, segmentation_flags
from roto_core.contracts import ChunkResult
from tests.roto.conftest import make_job


def test_one_rekey_per_run_of_low_frames() -> None:
    conf = {10: 0.9, 11: 0.4, 12: 0.3, 13: 0.8, 14: 0.2, 20: 0.1, 21: 0.1}
    assert rekey_frames(conf) == [11, 14, 20]  # 20 follows a gap in the frames: a new run
    assert rekey_frames({1: 0.5, 2: 0.99}) == []


def _chunk(first: int, last: int, conf: dict[int, float]) -> ChunkResult:
    return ChunkResult(first_frame=first, last_frame=last, confidence={"hero": conf})


def test_a_failure_across_a_chunk_boundary_is_one_rekey() -> None:
    a = _chunk(1, 3, {1: 1.0, 2: 0.9, 3: 0.2})
    b = _chunk(4, 6, {4: 0.1, 5: 0.3, 6: 0.2})
    flags = merge_flags([a, b])
    assert flags == {"rekey_frames": {"hero": [3]}, "confidence_min": {"hero": 0.1}}
    assert rekey_line(flags) == "frames that need a new key: hero at 3"
    assert rekey_line(merge_flags([_chunk(1, 2, {1: 1.0, 2: 0.9})])) is None


def test_chunk_reports_carry_confidence_and_finalize_reads_them_back(tmp_path: Path, small_shot) -> None:
    manifest, job, _ = make_job(tmp_path, small_shot, chunk_size=5)
    models = load_models(manifest.pipeline, "cpu")
    first = run_chunk(manifest, job, 1001, 1005, models)
    second = run_chunk(manifest, job, 1006, 1010, models)
    for result, frames in ((first, range(1001, 1006)), (second, range(1006, 1011))):
        assert set(result.confidence) == {"obj1", "obj2"}
        assert all(set(c) == set(frames) for c in result.confidence.values())
        assert all(0.0 <= v <= 1.0 for c in result.confidence.values() for v in c.values())
    stored = ChunkResult.load(job.chunk_report(1006, 1010))
    assert stored.confidence == second.confidence and stored.rekey_frames == second.rekey_frames
    flags = segmentation_flags(job)
    assert flags == merge_flags([first, second])
    # The synthetic objects are tracked cleanly over these frames: nothing to re-key.
    assert flags["rekey_frames"] == {"obj1": [], "obj2": []}
    assert min(flags["confidence_min"].values()) >= 0.5
