"""AyonTracker without a server: operation payloads, anatomy paths, the version retry policy, error lines.

The stand-in (tests/publish/ayon_standin.py) answers at the ayon_api.ServerAPI boundary and refuses batches the
way the server does, through ayon_api's own result validation, so the FailedOperations here are the real ones.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ayon_api.exceptions import FailedOperations

from publish import PublishError, TrackerUnavailable, publish_manifest
from publish.ayon_tracker import AyonTracker, is_unique_violation, public_url
from publish.claims import version_id_for
from publish.config import load_tracker_settings
from publish.hashing import digest
from roto_core.contracts import JobManifest
from roto_core.exporters.nuke import read_nk
from submitters.cli.app import main
from tests.publish.ayon_standin import AyonStandIn
from tests.publish.conftest import SHOT_ATTRIB
from tests.publish.jobkit import FIRST, LAST, files_under, make_manifest

SECRET = "sk-" + "7f3a" * 8


def _versions(server: AyonStandIn, name: str) -> list[dict]:
    product = next(p for p in server.entities["product"].values() if p["name"] == name)
    return server.active_versions(product["id"])


def _shot_folder(server: AyonStandIn) -> dict:
    return next(f for f in server.entities["folder"].values() if f["path"] == "/sq010/sh010")


def _create_batch(server: AyonStandIn, product: str) -> list[dict]:
    pid = next(p["id"] for p in server.entities["product"].values() if p["name"] == product)
    return next(
        b
        for b in server.batches
        if b[0]["entityType"] == "version" and b[0]["type"] == "create" and b[0]["data"]["productId"] == pid
    )


def test_publish_creates_version_and_representations_in_one_batch(server: AyonStandIn, manifest: JobManifest) -> None:
    plate_version = server.add_plate("/sq010/sh010", FIRST, LAST)
    task = server.add_task(_shot_folder(server)["id"], "roto", "Roto")
    result = publish_manifest(manifest, AyonTracker(server))
    assert [(v.product, v.version) for v in result.versions] == [("rotoMain", 1), ("rotoMatteMain", 1)]

    creates = [b for b in server.batches if any(op["entityType"] == "version" and op["type"] == "create" for op in b)]
    assert len(creates) == 2
    shapes_batch = _create_batch(server, "rotoMain")
    assert [(op["type"], op["entityType"]) for op in shapes_batch] == [
        ("create", "version"),
        ("create", "representation"),
        ("create", "representation"),
        ("create", "representation"),
    ]
    version = shapes_batch[0]["data"]
    assert version["id"] == version_id_for("demo", "/sq010/sh010", "rotoMain", "job-a")
    assert version["version"] == 1 and version["author"] == "tester" and version["taskId"] == task
    assert version["attrib"] == {**SHOT_ATTRIB, "source": manifest.shot.plate}
    ours = version["data"]["rotofarm"]
    assert ours["jobId"] == "job-a" and ours["state"] == "complete"
    assert ours["checkpoints"]["sam2.1_hiera_tiny"]["sha256"] == "ab" * 32
    assert server.thumbnails[version["thumbnailId"]] == (Path(manifest.output_dir) / "qa/thumbnail.jpg").read_bytes()
    assert [op["data"]["name"] for op in shapes_batch[1:]] == ["nk", "fxs", "json"]
    nk = shapes_batch[1]["data"]
    (record,) = nk["files"]
    relative = "demo/sq010/sh010/publish/matteshapes/rotoMain/v001/dmo_sh010_rotoMain_v001.nk"
    assert record["path"] == "{root[work]}/" + relative
    published = server.root / relative
    d = digest(published)
    assert (record["size"], record["hash"], record["hash_type"]) == (d.size, d.sha256, "sha256")
    assert nk["attrib"]["template"].endswith("{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}")

    stored = _versions(server, "rotoMain")[0]
    assert [(link["type"], link["input"]) for link in server.links if link["output"] == stored["id"]] == [
        ("generative", plate_version)
    ]


def test_published_nk_reads_the_published_mattes_through_the_ayon_root_variable(
    server: AyonStandIn, manifest: JobManifest
) -> None:
    publish_manifest(manifest, AyonTracker(server))
    matte = _create_batch(server, "rotoMatteMain")[1]["data"]
    assert matte["data"]["context"]["frame"] == "1001"
    first = matte["files"][0]["path"]
    assert first.endswith("dmo_sh010_rotoMatteMain_v001.1001.exr")
    pattern = first.replace("{root[work]}", "[getenv AYON_PROJECT_ROOT_WORK]").replace(".1001.exr", ".####.exr")
    nk = server.root / "demo/sq010/sh010/publish/matteshapes/rotoMain/v001/dmo_sh010_rotoMain_v001.nk"
    doc, read_path = read_nk(nk)
    assert read_path == pattern and doc.shapes
    assert "masks" not in nk.read_text()
    resolved = read_path.replace("[getenv AYON_PROJECT_ROOT_WORK]", str(server.root))
    assert [Path(resolved.replace("####", str(f))).is_file() for f in range(FIRST, LAST + 1)] == [True] * 4


def test_second_publish_is_v2_and_rerun_creates_nothing(
    server: AyonStandIn, manifest: JobManifest, jobs_root: Path, publish_root: Path
) -> None:
    tracker = AyonTracker(server)
    publish_manifest(manifest, tracker)
    second = publish_manifest(make_manifest(jobs_root, publish_root, "job-b"), tracker)
    assert [v.version for v in second.versions] == [2, 2]
    batches = len(server.batches)
    rerun = publish_manifest(manifest, tracker)
    assert [(v.version, v.created) for v in rerun.versions] == [(1, False), (1, False)]
    assert len(server.batches) == batches
    assert [v["version"] for v in _versions(server, "rotoMatteMain")] == [1, 2]


def test_unique_violation_takes_the_next_number(server: AyonStandIn, manifest: JobManifest) -> None:
    server.racers = 2
    events: list[tuple[str, str]] = []
    result = publish_manifest(manifest, AyonTracker(server), observer=lambda s, d: events.append((s, d)))
    assert result.version_of("rotoMatteMain") == 3 and result.version_of("rotoMain") == 1
    assert [d for s, d in events if s == "taken"] == ["rotoMatteMain v001", "rotoMatteMain v002"]
    assert [v["version"] for v in _versions(server, "rotoMatteMain")] == [1, 2, 3]
    assert {p.parent.name for p in files_under(server.root)} == {"v001", "v003"}  # v002's copies were removed
    assert len(files_under(server.root)) == 3 + 4


def test_twin_process_of_the_same_job_that_commits_first_wins_and_no_file_is_removed(
    server: AyonStandIn, manifest: JobManifest
) -> None:
    server.twins = 1  # another process of job-a commits the same version (same derived id) just before us
    events: list[tuple[str, str]] = []
    result = publish_manifest(manifest, AyonTracker(server), observer=lambda s, d: events.append((s, d)))
    assert [(v.product, v.version, v.created) for v in result.versions] == [
        ("rotoMain", 1, True),
        ("rotoMatteMain", 1, False),
    ]
    assert ("found", "rotoMatteMain v001") in events
    assert [v["version"] for v in _versions(server, "rotoMatteMain")] == [1]
    assert len(files_under(server.root)) == 3 + 4


def test_retries_are_bounded_and_leave_nothing_behind(server: AyonStandIn, manifest: JobManifest) -> None:
    server.racers = 10
    settings = load_tracker_settings().model_copy(update={"max_version_attempts": 3})
    with pytest.raises(PublishError, match="no free version number for rotoMatteMain after 3 attempts"):
        publish_manifest(manifest, AyonTracker(server), settings=settings)
    assert files_under(server.root) == set()
    assert all((v["data"].get("rotofarm") or {}).get("jobId") is None for v in server.entities["version"].values())


def test_server_outage_mid_publish_shows_nothing_and_rerun_finishes(server: AyonStandIn, manifest: JobManifest) -> None:
    tracker = AyonTracker(server)
    server.outage_from = 1  # the matte product is created; its version batch meets a 503
    with pytest.raises(TrackerUnavailable, match="failed with HTTP 503") as err:
        publish_manifest(manifest, tracker)
    assert "\n" not in err.value.format()
    assert server.entities["version"] == {}  # nothing visible, no latest version with missing files

    server.outage_from = None
    events: list[tuple[str, str]] = []
    result = publish_manifest(manifest, tracker, observer=lambda s, d: events.append((s, d)))
    assert [(v.version, v.created) for v in result.versions] == [(1, True), (1, True)]
    assert [s for s, _ in events].count("kept") == 4  # the copies of the failed run are reused
    assert len(files_under(server.root)) == 3 + 4


def test_real_failed_operations_message_is_recognised() -> None:
    standin = AyonStandIn(Path("/nonexistent"))
    standin.add_folder("/sq010/sh010")
    body = [
        {
            "id": "op1",
            "type": "create",
            "entityType": "version",
            "entityId": "v1",
            "data": {"id": "v1", "version": 1, "productId": "p1"},
        }
    ]
    standin.send_background_batch_operations("demo", body)
    with pytest.raises(FailedOperations) as err:
        standin.send_background_batch_operations(
            "demo", [{**body[0], "id": "op2", "entityId": "v2", "data": {**body[0]["data"], "id": "v2"}}]
        )
    assert is_unique_violation(err.value)
    assert not is_unique_violation(FailedOperations('Operation "x" failed with data:\n{}\nDetail: Missing field.'))


def test_missing_folder_names_the_path_and_create_folders_makes_it(
    server: AyonStandIn, jobs_root: Path, publish_root: Path
) -> None:
    manifest = make_manifest(jobs_root, publish_root, folder_path="/sq020/sh050")
    with pytest.raises(PublishError, match="folder /sq020/sh050 does not exist") as err:
        publish_manifest(manifest, AyonTracker(server))
    assert "hint: create it in AYON or publish with --create-folders" in err.value.format()
    assert files_under(server.root) == set()
    publish_manifest(manifest, AyonTracker(server), create_folders=True)
    folders = {f["path"]: f for f in server.entities["folder"].values()}
    assert folders["/sq020"]["folderType"] == "Sequence" and folders["/sq020/sh050"]["folderType"] == "Shot"
    assert folders["/sq020/sh050"]["attrib"] == SHOT_ATTRIB  # the cut's range, handles, fps, resolution
    assert [t["name"] for t in server.entities["task"].values()] == ["roto"]


def test_unknown_project_is_one_clear_error(server: AyonStandIn, manifest: JobManifest) -> None:
    server.projects.clear()
    with pytest.raises(PublishError, match=re.escape("project demo does not exist on http://ayon.test:5000")):
        publish_manifest(manifest, AyonTracker(server))


def test_public_url_drops_credentials() -> None:
    assert public_url("https://bob:hunter2@ayon.example:5000/") == "https://ayon.example:5000/"


@pytest.fixture
def ayon_like_http(request: pytest.FixtureRequest) -> Iterator[str]:
    """An HTTP endpoint that answers ``GET /`` like AYON and every API call with the given status."""
    status = request.param

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = 200 if self.path == "/" else status
            body = b"{}" if code == 200 else b'{"code": %d, "detail": "Invalid API key"}' % code
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _cli_publish_ayon(
    manifest: JobManifest, url: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv("AYON_SERVER_URL", url)
    monkeypatch.setenv("AYON_API_KEY", SECRET)
    code = main(["publish", str(Path(manifest.output_dir) / "manifest.json"), "--tracker", "ayon"])
    out, err = capfd.readouterr()
    return code, out + err


@pytest.mark.parametrize("ayon_like_http", [401, 500], indirect=True)
def test_refused_key_and_server_error_are_one_line_without_the_key(
    ayon_like_http: str,
    manifest: JobManifest,
    publish_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    code, output = _cli_publish_ayon(manifest, ayon_like_http, monkeypatch, capfd)
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and ayon_like_http in lines[0], output
    assert SECRET not in output
    assert not publish_root.exists()


def test_unreachable_server_is_one_line_and_nothing_is_copied(
    manifest: JobManifest, publish_root: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, output = _cli_publish_ayon(manifest, "http://bob:pw@127.0.0.1:9", monkeypatch, capfd)
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "cannot be reached" in lines[0], output
    assert SECRET not in output and "pw@" not in output
    assert not publish_root.exists()
    assert SECRET not in (Path(manifest.output_dir) / "manifest.json").read_text()


def test_missing_credentials_say_which_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AYON_SERVER_URL", raising=False)
    monkeypatch.delenv("AYON_API_KEY", raising=False)
    with pytest.raises(TrackerUnavailable, match="AYON_SERVER_URL and AYON_API_KEY must be set"):
        AyonTracker.from_environment()
