"""Planning a cut: manifests in job folders, chunks, ordering, batch name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from roto_core.contracts import JobManifest, Prompt
from roto_core.errors import ConfigError
from roto_core.jobfolder import JobFolder
from submitters.farm_config import FarmConfig
from submitters.plan import chunks_are_independent, plan_submission, record_submission, split_chunks
from tests.farm.helpers import PIPELINE, farm_config, shot, shotlist

WHEN = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)


def test_plan_writes_each_manifest_to_its_job_folder(tmp_path: Path) -> None:
    config = farm_config(tmp_path)
    plan = plan_submission(shotlist(2), "demo", config, PIPELINE, submitted_at=WHEN)
    assert plan.batch_name == f"reel1_v003 {WHEN.astimezone():%Y-%m-%d %H:%M}"  # in the submitter's time zone
    assert [s.shot for s in plan.shots] == ["sh010", "sh020"]
    for s in plan.shots:
        folder = JobFolder.for_job(tmp_path / "jobs", "demo", s.shot, s.job_id)
        manifest = JobManifest.load(folder.manifest)
        assert manifest.job_id == s.job_id and manifest.shot.name == s.shot
        assert manifest.tracker.project == "demo" and manifest.tracker.folder_path == f"/sq010/{s.shot}"
        assert manifest.pipeline.chunk_size == 25 and manifest.output_dir == str(folder.root)
    assert plan.shots[0].job_id != plan.shots[1].job_id


def test_roto_job_runs_the_chunk_command_over_the_shot_range(tmp_path: Path) -> None:
    plan = plan_submission(shotlist(1), "demo", farm_config(tmp_path), PIPELINE, submitted_at=WHEN)
    roto = plan.shots[0].roto
    chunks = roto.chunks()
    assert [c.frames for c in chunks] == ["1001-1025", "1026-1050", "1051-1075", "1076-1100"]
    (cmd,) = roto.commands_for(chunks[1])
    assert cmd == ["rotofarm", "run-chunk", plan.shots[0].manifest_path, "--frames", "1026-1050", "--device", "auto"]
    fin = plan.shots[0].finalize
    assert [fin.commands_for(c)[0][1] for c in fin.chunks()] == ["finalize", "publish"]
    assert fin.commands_for(fin.chunks()[1])[0][-2:] == ["--tracker", "local"]


def test_a_single_key_makes_the_chunks_carry_state() -> None:
    assert not chunks_are_independent(shot(), 25, 0)
    assert split_chunks(1, 10, 4)[-1].frames == "9-10"


def test_text_prompts_or_a_key_in_every_chunk_let_chunks_run_in_parallel(tmp_path: Path) -> None:
    text = shot(prompts=[Prompt(object="car", frame=1001, text="red car")])
    keys = shot(prompts=[Prompt(object="hero", frame=f, box=(1, 1, 9, 9)) for f in (1001, 1030, 1060, 1090)])
    assert chunks_are_independent(text, 25, 0)
    assert chunks_are_independent(keys, 25, 0)
    assert not chunks_are_independent(keys, 25, 5)  # overlap reads the previous chunk's state
    from roto_core.contracts import ShotList

    plan = plan_submission(ShotList(source="a.edl", fps=24, shots=[text]), "demo", farm_config(tmp_path), PIPELINE)
    assert plan.shots[0].roto.sequential is False


def test_job_ids_are_recorded_in_the_manifests(tmp_path: Path) -> None:
    plan = plan_submission(shotlist(2), "demo", farm_config(tmp_path), PIPELINE, submitted_at=WHEN)
    record_submission(plan, "deadline", [{"roto": "a1", "finalize": "a2"}, {"roto": "b1", "finalize": "b2"}])
    second = JobManifest.load(plan.shots[1].manifest_path)
    assert second.submission is not None
    assert second.submission.job_ids == {"roto": "b1", "finalize": "b2"}
    assert second.submission.batch_name == plan.batch_name and second.submission.farm == "deadline"


def test_farm_config_rejects_unknown_keys_and_bad_templates(tmp_path: Path) -> None:
    bad = tmp_path / "farm.yaml"
    bad.write_text("roto_job:\n  pool: roto\n  gpu_per_task: 2\n")
    with pytest.raises(ConfigError, match="gpu_per_task"):
        FarmConfig.load(bad)
    bad.write_text("batch_name: '{cutt}'\n")
    with pytest.raises(ConfigError, match="batch_name"):
        FarmConfig.load(bad)
