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
        shot = session.create_folder(
            name,
            "sh010",
            folder_type="Shot",
            parent_id=seq.entity_id,
            attrib={"frameStart": 1002, "frameEnd": 1003, "handleStart": 1, "handleEnd": 1, "fps": 24.0},
        )
        session.create_task(name, "roto", "Roto", folder_id=shot.entity_id)
        plate = session.create_product(name, "plateMain", "plate", shot.entity_id)
        plate_version = session.create_version(name, 1, plate.entity_id)
        frames = range(1001, 1005)
        files = [
            {
                "id": uuid.uuid4().hex,
                "name": f"sh010_plate.{f}.exr",
                "size": 1,
                "hash": "0",
                "path": f"{{root[work]}}/{name}/plates/sh010_plate.{f}.exr",
            }
            for f in frames
        ]
        session.create_representation(
            name,
            "exr",
            plate_version.entity_id,
            files=files,
            attrib={"path": files[0]["path"]},
            data={"context": {"frame": 1001}},
        )
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
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(PROC),
                str(Path(m.output_dir) / "manifest.json"),
                "--tracker",
                "ayon",
                "--wait-for",
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in manifests
    ]
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

    con = tracker.con
    folder = tracker.resolve_folder(name, "/sq010/sh010")
    plate = tracker.latest_plate(name, folder, "plate")
    version = con.get_version_by_name(name, 1, con.get_product_by_name(name, "rotoMain", folder.id)["id"])
    assert version["thumbnailId"]
    links = con.get_version_links(name, version["id"], link_direction="in")
    assert [link["entityId"] for link in links] == [plate.version.id]
    (rep,) = con.get_representations(name, version_ids=[version["id"]], representation_names=["nk"])
    local_nk = Path(rep["files"][0]["path"].format(root=con.get_project_roots_by_site_id(name)))
    assert local_nk.read_text() == (jobs / name / "sh010" / "job-1" / "exports" / "sh010.nk").read_text()


def test_shotlist_from_a_real_server(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import shotlist_from_tracker

    name, tracker = project
    (shot,) = shotlist_from_tracker(tracker, name, ["/sq010"]).shots
    assert (shot.first_frame, shot.last_frame, shot.handles) == (1001, 1004, 1)
    assert shot.plate == str(tmp_path / "ayon-work" / name / "plates" / "sh010_plate.####.exr")


def test_killed_publish_resumes_to_one_version(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import publish_manifest
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    manifest = make_manifest(tmp_path / "jobs", tmp_path / "local", "job-k", project=name)
    proc = subprocess.run(
        [
            sys.executable,
            str(PROC),
            str(Path(manifest.output_dir) / "manifest.json"),
            "--tracker",
            "ayon",
            "--kill-at",
            "rename:5",
        ],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -9
    result = publish_manifest(manifest, tracker)
    assert [v.version for v in result.versions] == [1, 1]
    for product in ("rotoMain", "rotoMatteMain"):
        assert _versions(tracker, name, product) == [(1, "job-k")]
    published = {p for p in (tmp_path / "ayon-work").rglob("*") if p.is_file()}
    assert len(published) == 3 + 4 and not [p for p in published if ".tmp-" in p.name]


def test_wrong_key_and_missing_folder_are_clear(
    project: tuple[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publish import PublishError, TrackerUnavailable, publish_manifest
    from publish.ayon_tracker import AyonTracker
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    manifest = make_manifest(tmp_path / "jobs", tmp_path / "local", project=name, folder_path="/sq010/sh999")
    with pytest.raises(PublishError, match="--create-folders"):
        publish_manifest(manifest, tracker)
    monkeypatch.setenv("AYON_API_KEY", "not-a-key-" + "0" * 22)
    with pytest.raises(TrackerUnavailable, match="refused the API key"):
        AyonTracker.from_environment()
