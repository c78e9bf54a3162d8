"""Publishers as separate processes: racing for version numbers, and killed at every step then rerun."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from publish import publish_manifest
from publish.local_tracker import LocalTracker
from roto_core.jobfolder import JobFolder
from roto_core.maskio import write_mask_exr
from tests.publish.conftest import PLATE, SHOT_ATTRIB
from tests.publish.jobkit import FIRST, disc, files_under, make_manifest

PROC = Path(__file__).with_name("publisher_proc.py")


def _start(manifest_path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROC), str(manifest_path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _referenced_files(tracker: LocalTracker) -> set[Path]:
    paths: set[Path] = set()
    with tracker._read() as db:
        for (files,) in db.execute("SELECT files FROM representations"):
            for record in json.loads(files):
                if record["path"].startswith("{root[work]}"):
                    paths.add(Path(record["path"].format(root={"work": str(tracker.root)})))
    return paths


def test_four_concurrent_publishers_get_four_distinct_versions(
    jobs_root: Path, publish_root: Path, local: LocalTracker
) -> None:
    manifests = [make_manifest(jobs_root, publish_root, f"job-{i}") for i in range(4)]
    go = publish_root.parent / "go"
    procs = [_start(Path(m.output_dir) / "manifest.json", "--wait-for", str(go)) for m in manifests]
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    folder = local.resolve_folder("demo", "/sq010/sh010")
    for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render")):
        versions = local.versions("demo", local.ensure_product("demo", folder, name, kind))
        assert sorted(v.version for v in versions) == [1, 2, 3, 4]
        assert sorted(v.job_id for v in versions) == [f"job-{i}" for i in range(4)]
        assert all(v.complete for v in versions)
    assert files_under(publish_root) == _referenced_files(local)
    print("collisions resolved:", sum(int(out.split("taken=")[1]) for out, _ in outputs))


def test_eight_processes_of_the_same_job_make_one_version_without_orphans(
    jobs_root: Path, publish_root: Path, local: LocalTracker
) -> None:
    manifest = make_manifest(jobs_root, publish_root, "job-requeued")
    go = publish_root.parent / "go"
    procs = [_start(Path(manifest.output_dir) / "manifest.json", "--wait-for", str(go)) for _ in range(8)]
    go.touch()
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err[-2000:] for _, err in outputs]
    assert {out.split(" taken")[0] for out, _ in outputs} == {"rotoMain=v1 rotoMatteMain=v1"}
    folder = local.resolve_folder("demo", "/sq010/sh010")
    for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render")):
        versions = local.versions("demo", local.ensure_product("demo", folder, name, kind))
        assert [(v.version, v.job_id) for v in versions] == [(1, "job-requeued")]
    assert files_under(publish_root) == _referenced_files(local)
    assert [p for p in publish_root.rglob("*") if ".tmp-" in p.name] == []


def _visible_versions_are_whole(tracker: LocalTracker) -> None:
    """Every version the tracker shows has every file its representations list (nothing incomplete is latest)."""
    with tracker._read() as db:
        for (files,) in db.execute("SELECT files FROM representations"):
            for record in json.loads(files):
                if record["path"].startswith("{root[work]}"):
                    assert Path(record["path"].format(root={"work": str(tracker.root)})).is_file(), record["path"]


KILL_POINTS = [
    "validate",
    "claim",
    "copy",
    "verify",
    "rename",
    "rename:5",
    "complete",
    "link",
    "claim:2",
    "rename:7",
    "complete:2",
]


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_publish_killed_at_each_step_then_rerun_leaves_one_version_and_no_orphans(
    kill_at: str, jobs_root: Path, publish_root: Path
) -> None:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    manifest = make_manifest(jobs_root, publish_root)
    proc = _start(JobFolder(Path(manifest.output_dir), "sh010").manifest, "--kill-at", kill_at)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    _visible_versions_are_whole(tracker)

    result = publish_manifest(manifest, tracker)
    assert [v.version for v in result.versions] == [1, 1]
    folder = tracker.resolve_folder("demo", "/sq010/sh010")
    for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render")):
        versions = tracker.versions("demo", tracker.ensure_product("demo", folder, name, kind))
        assert [(v.version, v.complete, v.job_id) for v in versions] == [(1, True, "job-a")]
    assert files_under(publish_root) == _referenced_files(tracker)
    assert len(files_under(publish_root)) == 3 + 4


def test_killed_publish_whose_job_files_changed_publishes_the_new_files(jobs_root: Path, publish_root: Path) -> None:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    manifest = make_manifest(jobs_root, publish_root)
    job = JobFolder(Path(manifest.output_dir), "sh010")
    proc = _start(job.manifest, "--kill-at", "rename:2")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    write_mask_exr(job.mask_path(FIRST), {"hero": disc(FIRST + 2)})  # finalize ran again in between

    result = publish_manifest(manifest, tracker)
    assert [v.version for v in result.versions] == [1, 1]
    version_dir = publish_root / "demo/sq010/sh010/publish/render/rotoMatteMain/v001"
    published = version_dir / f"demo_sh010_rotoMatteMain_v001.{FIRST}.exr"
    assert published.read_bytes() == job.mask_path(FIRST).read_bytes()
    assert files_under(publish_root) == _referenced_files(tracker)
