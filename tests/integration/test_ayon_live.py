"""The publish scenario against a real AYON server (skipped unless one is configured).

Run with ``ROTOFARM_INTEGRATION=1 AYON_SERVER_URL=... AYON_API_KEY=...`` (an admin key: the test creates a
throw-away project, points its work root at a temporary folder, and deletes the project at the end).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not (os.environ.get("AYON_SERVER_URL") and os.environ.get("AYON_API_KEY")),
    reason="needs a real AYON server: set ROTOFARM_INTEGRATION=1, AYON_SERVER_URL and AYON_API_KEY",
)

PROC = Path(__file__).parents[1] / "publish" / "publisher_proc.py"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, object]]:
    from ayon_api.operations import OperationsSession

    from publish.ayon_tracker import AyonTracker

    tracker = AyonTracker.from_environment()
    con = tracker.con
    name = f"rotofarmit{uuid.uuid4().hex[:8]}"
    con.create_project(name, name[-6:])
    try:
        anatomy = con.get_project_anatomy(name)
        root = str(tmp_path / "ayon-work")
        anatomy["roots"] = [{"name": "work", "windows": root, "linux": root, "darwin": root}]
        con.set_project_anatomy(name, anatomy)
        session = OperationsSession(con=con)
        seq = session.create_folder(name, "sq010", folder_type="Sequence")
        shot = session.create_folder(name, "sh010", folder_type="Shot", parent_id=seq.entity_id,
                                     attrib={"frameStart": 1002, "frameEnd": 1003, "handleStart": 1,
                                             "handleEnd": 1, "fps": 24.0})
        session.create_task(name, "roto", "Roto", folder_id=shot.entity_id)
        session.commit()
        yield name, tracker
    finally:
        con.delete_project(name)


def _versions(tracker, project: str, product: str) -> list[tuple[int, str]]:
    folder = tracker.resolve_folder(project, "/sq010/sh010")
    entity = tracker.con.get_product_by_name(project, product, folder.id, fields={"id"})
    versions = tracker.con.get_versions(project, product_ids=[entity["id"]], fields={"version", "data"})
    return sorted((v["version"], v["data"]["rotofarm"]["jobId"]) for v in versions)


def test_publish_scenario_on_a_real_server(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import publish_manifest
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    jobs, unused_local = tmp_path / "jobs", tmp_path / "local"
    first = publish_manifest(make_manifest(jobs, unused_local, "job-1", project=name), tracker)
    second = publish_manifest(make_manifest(jobs, unused_local, "job-2", project=name), tracker)
    assert [v.version for v in first.versions] == [1, 1] and [v.version for v in second.versions] == [2, 2]

    manifests = [make_manifest(jobs, unused_local, f"job-p{i}", project=name) for i in range(4)]
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(PROC), str(Path(m.output_dir) / "manifest.json"),
                               "--tracker", "ayon", "--wait-for", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for m in manifests]
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]

    rerun = publish_manifest(make_manifest(jobs, unused_local, "job-1", project=name, write_files=False), tracker)
    assert [(v.version, v.created) for v in rerun.versions] == [(1, False), (1, False)]
    for product in ("rotoMain", "rotoMatteMain"):
        versions = _versions(tracker, name, product)
        assert [v for v, _ in versions] == [1, 2, 3, 4, 5, 6]
        assert sorted(job for _, job in versions[2:]) == [f"job-p{i}" for i in range(4)]
    print("collisions resolved:", sum(int(out.split("taken=")[1]) for out, _ in outputs))
