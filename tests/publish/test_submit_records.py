"""What submit records for the publish (plate version, submitting user, prompts with --from-tracker) and what the
publish then does with it; the shot folder --create-folders makes; the QA verdict on the version."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from publish import publish_manifest, shotlist_from_tracker
from publish.identity import submitting_user
from publish.local_tracker import LocalTracker
from roto_core.contracts import JobManifest
from tests.hostile.harness import run_rotofarm
from tests.publish.conftest import PLATE, SHOT_ATTRIB
from tests.publish.jobkit import make_manifest


def _version(tracker: LocalTracker, product: str, kind: str):
    folder = tracker.resolve_folder("demo", "/sq010/sh010")
    (version,) = tracker.versions("demo", tracker.ensure_product("demo", folder, product, kind))
    return version


def test_link_goes_to_the_plate_version_the_job_was_submitted_with(
    local: LocalTracker, jobs_root: Path, publish_root: Path
) -> None:
    (shot,) = shotlist_from_tracker(local, "demo", ["/sq010"]).shots
    used = shot.metadata["plateVersionId"]
    local.register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)  # a newer plate lands before publish
    newer = local.latest_plate("demo", local.resolve_folder("demo", "/sq010/sh010"), "plate")
    assert newer is not None and newer.version.id != used

    manifest = make_manifest(jobs_root, publish_root, metadata=shot.metadata)
    publish_manifest(manifest, local)
    assert local.inputs_of(_version(local, "rotoMain", "matteshapes")) == [(used, "generative")]


def test_version_author_is_the_recorded_submitter_never_the_farm_user(
    local: LocalTracker, jobs_root: Path, publish_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "render")
    publish_manifest(make_manifest(jobs_root, publish_root, "job-a", author="jane"), local)
    publish_manifest(make_manifest(jobs_root, publish_root, "job-b", author=None), local)
    with local._read() as db:
        authors = [r["author"] for r in db.execute("SELECT author FROM versions WHERE data LIKE '%job-%'")]
    assert sorted(authors, key=str) == [None, None, "jane", "jane"]


def test_submitting_user_is_the_ayon_key_user_else_the_configured_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AYON_SERVER_URL", raising=False)
    monkeypatch.delenv("AYON_API_KEY", raising=False)
    assert submitting_user("ayon", "coordinator") == "coordinator"  # no server reachable: farm.yaml's user
    assert submitting_user("local", None)  # the login of the person at the keyboard


def test_create_folders_types_the_parents_and_sets_the_shot_attributes_from_the_cut(
    jobs_root: Path, publish_root: Path
) -> None:
    tracker = LocalTracker(publish_root)
    manifest = make_manifest(jobs_root, publish_root, folder_path="/ep01/sq020/sh050")
    publish_manifest(manifest, tracker, create_folders=True)
    types = {p: tracker.resolve_folder("demo", p).folder_type for p in ("/ep01", "/ep01/sq020", "/ep01/sq020/sh050")}
    assert types == {"/ep01": "Episode", "/ep01/sq020": "Sequence", "/ep01/sq020/sh050": "Shot"}
    assert tracker.resolve_folder("demo", "/ep01/sq020/sh050").attrib == SHOT_ATTRIB


@pytest.mark.parametrize(("status", "expected"), [("review", "Pending review"), ("pass", None)])
def test_qa_verdict_is_recorded_on_the_version_and_printed(
    local: LocalTracker, jobs_root: Path, publish_root: Path, status: str, expected: str | None, tmp_path: Path
) -> None:
    verdict = {"status": status, "line": "hero: 2 frames below IoU 0.9", "frames_below": {"hero": [1002, 1003]}}
    manifest = make_manifest(jobs_root, publish_root, verdict=verdict, comment="first pass")
    ended = run_rotofarm(["publish", str(Path(manifest.output_dir) / "manifest.json")], cwd=tmp_path)
    assert ended.code == 0, ended.stderr
    assert f"QA {status}: hero: 2 frames below IoU 0.9" in " ".join(ended.stdout.split())
    version = _version(local, "rotoMain", "matteshapes")
    assert local.status_of(version) == expected
    assert version.data["rotofarm"]["qaVerdict"] == verdict
    with local._read() as db:
        (attrib,) = db.execute("SELECT attrib FROM versions WHERE id = ?", (version.id,)).fetchone()
    assert f'"comment": "first pass | QA {status}: hero: 2 frames below IoU 0.9"' in attrib


def test_submit_from_tracker_honours_prompts(local: LocalTracker, publish_root: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(yaml.safe_dump({"sh010": {"hero": [{"frame": 1002, "box": [1, 2, 20, 22]}]}}))
    jobs, out = tmp_path / "jobs", tmp_path / "bundles"
    args = ["submit", "--project", "demo", "--from-tracker", "/sq010", "--tracker", "local"]
    args += ["--tracker-root", str(publish_root), "--prompts", str(prompts), "--jobs-root", str(jobs)]
    ended = run_rotofarm([*args, "--farm", "openjd-bundle", "--out", str(out)], cwd=tmp_path)
    assert ended.code == 0, ended.stderr
    (manifest_path,) = jobs.rglob("manifest.json")
    shot = JobManifest.load(manifest_path).shot
    assert [(p.object, p.frame, p.box) for p in shot.prompts] == [("hero", 1002, (1.0, 2.0, 20.0, 22.0))]
    assert shot.metadata["plateVersionId"]


def test_plan_records_the_submitter_in_every_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from submitters.plan import plan_submission
    from tests.farm.helpers import PIPELINE, farm_config, shotlist

    monkeypatch.delenv("AYON_SERVER_URL", raising=False)
    config = farm_config(tmp_path)
    plan = plan_submission(shotlist(2), "demo", config.model_copy(update={"user": "coordinator"}), PIPELINE)
    assert [JobManifest.load(s.manifest_path).tracker.author for s in plan.shots] == ["coordinator"] * 2
    plan = plan_submission(shotlist(1), "demo", config.model_copy(update={"user": None}), PIPELINE)
    assert JobManifest.load(plan.shots[0].manifest_path).tracker.author == submitting_user("local")
