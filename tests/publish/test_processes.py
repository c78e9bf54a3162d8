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
from tests.publish.conftest import PLATE, SHOT_ATTRIB
from tests.publish.jobkit import files_under, make_manifest

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


KILL_POINTS = [
    "validate",
    "claim",
    "copy",
    "verify",
    "rename",
    "rename:5",
    "thumbnail",
    "link",
    "complete",
    "claim:2",
    "rename:7",
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

    result = publish_manifest(manifest, tracker)
    assert [v.version for v in result.versions] == [1, 1]
    folder = tracker.resolve_folder("demo", "/sq010/sh010")
    for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render")):
        versions = tracker.versions("demo", tracker.ensure_product("demo", folder, name, kind))
        assert [(v.version, v.complete, v.job_id) for v in versions] == [(1, True, "job-a")]
    assert files_under(publish_root) == _referenced_files(tracker)
    assert len(files_under(publish_root)) == 3 + 4


def test_killed_publish_whose_job_files_changed_is_replaced_not_resumed(jobs_root: Path, publish_root: Path) -> None:
    tracker = LocalTracker(publish_root)
    tracker.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    manifest = make_manifest(jobs_root, publish_root)
    job = JobFolder(Path(manifest.output_dir), "sh010")
    proc = _start(job.manifest, "--kill-at", "rename:2")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    job.nk.write_text(job.nk.read_text() + "# finalize ran again\n")

    events: list[tuple[str, str]] = []
    result = publish_manifest(manifest, tracker, observer=lambda s, d: events.append((s, d)))
    assert ("discard", "rotoMain v001") in events
    assert [v.version for v in result.versions] == [1, 1]
    published = publish_root / "demo/sq010/sh010/publish/matteshapes/rotoMain/v001/demo_sh010_rotoMain_v001.nk"
    assert published.read_text() == job.nk.read_text()
    assert files_under(publish_root) == _referenced_files(tracker)
