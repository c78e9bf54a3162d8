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

from publish.claims import version_id_for
from roto_core.exporters.nuke import read_nk

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


def _publisher(manifest, go: Path) -> subprocess.Popen:
    """A publish process of ``manifest`` to AYON that starts its work when the file ``go`` appears."""
    args = [str(PROC), str(Path(manifest.output_dir) / "manifest.json"), "--tracker", "ayon", "--wait-for", str(go)]
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_publish_scenario_on_a_real_server(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import publish_manifest
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    jobs, unused_local = tmp_path / "jobs", tmp_path / "local"
    first = publish_manifest(make_manifest(jobs, unused_local, "job-1", project=name), tracker)
    second = publish_manifest(make_manifest(jobs, unused_local, "job-2", project=name), tracker)
    assert [v.version for v in first.versions] == [1, 1] and [v.version for v in second.versions] == [2, 2]
    assert version_id_for(name, "/sq010/sh010", "rotoMain", "job-1") == first.versions[0].version_id

    manifests = [make_manifest(jobs, unused_local, f"job-p{i}", project=name) for i in range(4)]
    go = tmp_path / "go"
    procs = [_publisher(m, go) for m in manifests]
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
    assert plate is not None
    version = con.get_version_by_name(name, 1, con.get_product_by_name(name, "rotoMain", folder.id)["id"])
    assert version["thumbnailId"]
    links = con.get_version_links(name, version["id"], link_direction="in")
    assert [link["entityId"] for link in links] == [plate.version.id]
    (rep,) = con.get_representations(name, version_ids=[version["id"]], representation_names=["nk"])
    roots = con.get_project_roots_by_site_id(name)
    local_nk = Path(rep["files"][0]["path"].format(root=roots))
    _, read_path = read_nk(local_nk)
    # ayon-core sets AYON_PROJECT_ROOT_WORK in the Nuke it launches; Nuke expands the [getenv] in the Read node
    assert read_path.startswith("[getenv AYON_PROJECT_ROOT_WORK]/") and "/rotoMatteMain/v001/" in read_path
    frames = [
        read_path.replace("[getenv AYON_PROJECT_ROOT_WORK]", roots["work"]).replace("####", f"{f:04d}")
        for f in (1001, 1004)
    ]
    assert all(Path(f).is_file() for f in frames)


def test_shotlist_from_a_real_server(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import shotlist_from_tracker

    name, tracker = project
    (shot,) = shotlist_from_tracker(tracker, name, ["/sq010"]).shots
    assert (shot.first_frame, shot.last_frame, shot.handles) == (1001, 1004, 1)
    assert shot.plate == str(tmp_path / "ayon-work" / name / "plates" / "sh010_plate.####.exr")


@pytest.mark.parametrize("kill_at", ["rename:3", "complete", "rename:6"])
def test_killed_publish_shows_nothing_incomplete_and_resumes_to_one_version(
    project: tuple[str, object], tmp_path: Path, kill_at: str
) -> None:
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
            kill_at,
        ],
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -9
    roots = tracker.con.get_project_roots_by_site_id(name)
    for rep in tracker.con.get_representations(name, fields={"files", "name"}):
        if rep["name"] in ("exr", "nk", "fxs", "json") and "plates" not in rep["files"][0]["path"]:
            # every version the server shows (a latest one, to a loader) has all its files
            assert all(Path(f["path"].format(root=roots)).is_file() for f in rep["files"])
    result = publish_manifest(manifest, tracker)
    assert [v.version for v in result.versions] == [1, 1]
    for product in ("rotoMain", "rotoMatteMain"):
        assert _versions(tracker, name, product) == [(1, "job-k")]
    published = {p for p in (tmp_path / "ayon-work").rglob("*") if p.is_file() and ".rotofarm" not in p.parts}
    assert len(published) == 3 + 4 and not [p for p in published if ".tmp-" in p.name]


def test_same_job_published_by_four_processes_at_once_is_one_version(
    project: tuple[str, object], tmp_path: Path
) -> None:
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    manifest = make_manifest(tmp_path / "jobs", tmp_path / "local", "job-requeued", project=name)
    go = tmp_path / "go"
    procs = [_publisher(manifest, go) for _ in range(4)]
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-2000:] for _, err in outputs]
    assert {out.split(" taken")[0] for out, _ in outputs} == {"rotoMain=v1 rotoMatteMain=v1"}
    for product in ("rotoMain", "rotoMatteMain"):
        assert _versions(tracker, name, product) == [(1, "job-requeued")]
    published = {p for p in (tmp_path / "ayon-work").rglob("*") if p.is_file() and ".rotofarm" not in p.parts}
    referenced = set()
    roots = tracker.con.get_project_roots_by_site_id(name)
    for rep in tracker.con.get_representations(name, fields={"files"}):
        referenced |= {Path(f["path"].format(root=roots)) for f in rep["files"]}
    assert published <= referenced  # no orphan, no temporary


def _loader_paths(rep: dict, roots: dict[str, str]) -> tuple[Path, str]:
    """What ayon-core's ``get_representation_path_with_roots`` and ayon-nuke's LoadClip make of a representation:
    ``attrib.template`` filled with ``context`` + roots, then the context's frame string turned into ``#``."""
    from publish.templates import fill

    context = dict(rep["context"])  # what get_representation_path reads; the server serves data.context here
    assert context == rep["data"]["context"]
    path = fill(rep["attrib"]["template"], {**context, "root": roots})
    frame = context.get("frame")
    pattern = path[: path.rfind(frame)] + "#" * len(frame) + path[path.rfind(frame) + len(frame) :] if frame else path
    return Path(path), pattern


@pytest.mark.parametrize("first", [1001, 1])
def test_loader_path_resolution_finds_every_published_file(
    project: tuple[str, object], tmp_path: Path, first: int
) -> None:
    from publish import publish_manifest
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    manifest = make_manifest(tmp_path / "jobs", tmp_path / "local", f"job-f{first}", project=name, first=first)
    result = publish_manifest(manifest, tracker)
    roots = tracker.con.get_project_roots_by_site_id(name)
    matte = next(v for v in result.versions if v.product == "rotoMatteMain")
    (rep,) = tracker.con.get_representations(
        name, version_ids=[matte.version_id], fields={"attrib", "data", "context", "files"}
    )
    assert rep["data"]["context"]["frame"] == f"{first:04d}"
    path, pattern = _loader_paths(rep, roots)
    assert path.is_file()
    frames = [Path(pattern.replace("####", f"{f:04d}")) for f in range(first, first + 4)]
    assert all(f.is_file() for f in frames), pattern  # a shot at frame 1 gives ####, not 000#
    assert sorted(frames) == sorted(Path(f["path"].format(root=roots)) for f in rep["files"])
    shapes = next(v for v in result.versions if v.product == "rotoMain")
    for rep in tracker.con.get_representations(
        name, version_ids=[shapes.version_id], fields={"attrib", "data", "context", "files", "name"}
    ):
        path, _ = _loader_paths(rep, roots)
        assert path.is_file() and path == Path(rep["files"][0]["path"].format(root=roots))


def test_verdict_author_and_create_folders_on_a_real_server(project: tuple[str, object], tmp_path: Path) -> None:
    from publish import publish_manifest
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    con = tracker.con
    artist = "rotoartist" + name[-4:]
    con.put(f"users/{artist}", attrib={"fullName": "Roto Artist"}, data={"isManager": True}).raise_for_status()
    verdict = {"status": "review", "line": "2 frames below the IoU threshold", "frames_below": {"hero": [1002, 1003]}}
    manifest = make_manifest(
        tmp_path / "jobs",
        tmp_path / "local",
        "job-v",
        project=name,
        folder_path="/sq020/sh020",
        verdict=verdict,
        author=artist,
    )
    result = publish_manifest(manifest, tracker, create_folders=True)
    version = con.get_version_by_id(name, result.versions[0].version_id, fields={"status", "author", "attrib", "data"})
    assert version["status"] == "Pending review" and version["author"] == artist
    assert "QA review: 2 frames below the IoU threshold" in version["attrib"]["comment"]
    assert version["data"]["rotofarm"]["qaVerdict"]["frames_below"] == {"hero": [1002, 1003]}
    seq = con.get_folder_by_path(name, "/sq020", fields={"folderType"})
    shot = con.get_folder_by_path(name, "/sq020/sh020", fields={"folderType", "attrib"})
    assert seq["folderType"] == "Sequence" and shot["folderType"] == "Shot"
    assert (shot["attrib"]["frameStart"], shot["attrib"]["frameEnd"], shot["attrib"]["fps"]) == (1002, 1003, 24.0)
    assert (shot["attrib"]["resolutionWidth"], shot["attrib"]["handleStart"]) == (32, 1)


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


def test_link_goes_to_the_plate_version_recorded_at_submit(project: tuple[str, object], tmp_path: Path) -> None:
    from ayon_api.operations import OperationsSession

    from publish import publish_manifest, shotlist_from_tracker
    from tests.publish.jobkit import make_manifest

    name, tracker = project
    (shot,) = shotlist_from_tracker(tracker, name, ["/sq010"]).shots
    used = shot.metadata["plateVersionId"]
    con = tracker.con
    folder = tracker.resolve_folder(name, "/sq010/sh010")
    plate = con.get_product_by_name(name, "plateMain", folder.id)
    session = OperationsSession(con=con)  # a newer plate version lands between submit and publish
    newer = session.create_version(name, 2, plate["id"])
    session.create_representation(
        name, "exr", newer.entity_id, files=[{"id": uuid.uuid4().hex, "name": "p.exr", "path": "{root[work]}/p.exr"}]
    )
    session.commit()
    assert tracker.latest_plate(name, folder, "plate").version.id == newer.entity_id

    manifest = make_manifest(tmp_path / "jobs", tmp_path / "local", "job-plate", project=name, metadata=shot.metadata)
    result = publish_manifest(manifest, tracker)
    links = con.get_version_links(name, result.versions[0].version_id, link_direction="in")
    assert [link["entityId"] for link in links] == [used]
