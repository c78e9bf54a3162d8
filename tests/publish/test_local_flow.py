"""The whole publish flow on the embedded LocalTracker: real job folder, real files, SQLite catalogue."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from publish import PublishError, publish_manifest
from publish.errors import VersionTaken
from publish.hashing import digest
from publish.local_tracker import LocalTracker
from publish.templates import fill
from publish.tracker import VersionDraft
from roto_core.contracts import JobManifest
from roto_core.errors import InputError
from roto_core.exporters.json_shapes import read_shapes_json
from roto_core.exporters.nuke import read_nk
from roto_core.maskio import read_mask_exr
from roto_core.sequences import frame_path
from tests.publish.conftest import SHOT_ATTRIB
from tests.publish.jobkit import FIRST, LAST, files_under, make_manifest


def job_shapes(manifest: JobManifest) -> Path:
    return Path(manifest.output_dir) / "shapes" / "sh010_shapes.json"


def _product(tracker: LocalTracker, name: str):
    folder = tracker.resolve_folder("demo", "/sq010/sh010")
    product_type = "matteshapes" if name == "rotoMain" else "render"
    return tracker.ensure_product("demo", folder, name, product_type)


def test_publish_twice_gives_v1_then_v2_with_files_in_anatomy_layout(
    local: LocalTracker, jobs_root: Path, publish_root: Path, manifest: JobManifest
) -> None:
    first = publish_manifest(manifest, local)
    second = publish_manifest(make_manifest(jobs_root, publish_root, "job-b"), local)

    assert [(v.product, v.version, v.created) for v in first.versions] == [
        ("rotoMain", 1, True),
        ("rotoMatteMain", 1, True),
    ]
    assert [v.version for v in second.versions] == [2, 2]
    shapes_dir = publish_root / "demo/sq010/sh010/publish/matteshapes/rotoMain/v002"
    assert sorted(p.name for p in shapes_dir.iterdir()) == [
        "demo_sh010_rotoMain_v002.fxs",
        "demo_sh010_rotoMain_v002.json",
        "demo_sh010_rotoMain_v002.nk",
    ]
    matte_dir = publish_root / "demo/sq010/sh010/publish/render/rotoMatteMain/v001"
    frames = sorted(matte_dir.iterdir())
    assert [p.name for p in frames] == [f"demo_sh010_rotoMatteMain_v001.{f}.exr" for f in range(FIRST, LAST + 1)]
    doc, mattes = read_nk(shapes_dir / "demo_sh010_rotoMain_v002.nk")
    # the published .nk reads the matte files of its own publish (v002), by absolute path inside the version folder
    assert mattes == str(publish_root.resolve() / "demo/sq010/sh010/publish/render/rotoMatteMain/v002") + (
        "/demo_sh010_rotoMatteMain_v002.####.exr"
    )
    traced = read_shapes_json(job_shapes(manifest))
    assert doc.shapes and [s.name for s in doc.shapes] == [s.name for s in traced.shapes]
    masks = read_mask_exr(frames[2])
    assert set(masks) == {"hero", "A"} and masks["A"].sum() > 0


def test_representations_record_rootless_paths_sizes_and_hashes(
    local: LocalTracker, publish_root: Path, manifest: JobManifest
) -> None:
    publish_manifest(manifest, local)
    (version,) = local.versions("demo", _product(local, "rotoMatteMain"))
    (rep,) = version.representations
    assert rep.name == "exr" and len(rep.files) == LAST - FIRST + 1
    for record in rep.files:
        assert record.path.startswith("{root[work]}/demo/sq010/sh010/publish/render/rotoMatteMain/v001/")
        on_disk = Path(record.path.format(root={"work": str(publish_root.resolve())}))
        d = digest(on_disk)
        assert (record.size, record.hash, record.hash_type) == (d.size, d.sha256, "sha256")
    assert rep.attrib["template"].startswith("{root[work]}/{project[name]}/{hierarchy}")
    # ayon-core's integrator stores the first frame as a string zero-padded to the anatomy's frame padding
    assert rep.data["context"]["frame"] == str(FIRST) and rep.data["context"]["product"]["type"] == "render"
    assert rep.data["context"]["user"] == {"name": "tester"} and rep.data["context"]["username"] == "tester"


def test_version_carries_attributes_job_ids_models_qa_thumbnail_and_plate_link(
    local: LocalTracker, manifest: JobManifest
) -> None:
    publish_manifest(manifest, local)
    (version,) = local.versions("demo", _product(local, "rotoMain"))
    data = version.data["rotofarm"]
    assert data["jobId"] == "job-a" and data["farmJobIds"] == {"roto": "dl-123", "publish": "dl-124"}
    assert data["backend"] == "classical" and data["models"]["key"] == "sam2.1_hiera_tiny"
    assert data["checkpoints"]["sam2.1_hiera_tiny"]["sha256"] == "ab" * 32
    assert data["qa"]["mean_iou"] == pytest.approx(0.93) and data["state"] == "complete"
    assert data["sourcePlate"] == manifest.shot.plate
    with local._read() as db:
        row = db.execute("SELECT attrib, author FROM versions WHERE id = ?", (version.id,)).fetchone()
    attrib = json.loads(row["attrib"])
    assert attrib == {**SHOT_ATTRIB, "source": manifest.shot.plate}
    assert row["author"] == "tester"
    assert local.thumbnail(version) == (Path(manifest.output_dir) / "qa/thumbnail.jpg").read_bytes()
    plate = local.latest_plate("demo", local.resolve_folder("demo", "/sq010/sh010"), "plate")
    assert local.inputs_of(version) == [(plate.version.id, "generative")]


def test_rerun_of_same_job_returns_existing_versions(
    local: LocalTracker, publish_root: Path, manifest: JobManifest
) -> None:
    first = publish_manifest(manifest, local)
    before = {p: p.stat().st_mtime_ns for p in files_under(publish_root)}
    again = publish_manifest(manifest, local)
    assert [(v.version, v.created) for v in again.versions] == [(1, False), (1, False)]
    assert [v.version_id for v in again.versions] == [v.version_id for v in first.versions]
    assert {p: p.stat().st_mtime_ns for p in files_under(publish_root)} == before
    assert len(local.versions("demo", _product(local, "rotoMain"))) == 1


def test_missing_export_refuses_before_creating_anything(
    local: LocalTracker, publish_root: Path, manifest: JobManifest
) -> None:
    (Path(manifest.output_dir) / "exports/sh010.fxs").unlink()
    with pytest.raises(InputError, match="Silhouette export is missing") as err:
        publish_manifest(manifest, local)
    assert err.value.path.endswith("sh010.fxs")
    assert files_under(publish_root) == set()
    with local._read() as db:
        assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 1  # the registered plate only


def test_missing_mask_frame_is_named(local: LocalTracker, manifest: JobManifest) -> None:
    (Path(manifest.output_dir) / "masks/sh010_mask.1003.exr").unlink()
    with pytest.raises(InputError, match="mask frame is missing") as err:
        publish_manifest(manifest, local)
    assert err.value.path.endswith("sh010_mask.1003.exr")


def test_missing_folder_names_path_and_hints_create_folders(jobs_root: Path, publish_root: Path) -> None:
    manifest = make_manifest(jobs_root, publish_root, folder_path="/sq020/sh050")
    with pytest.raises(PublishError, match="/sq020/sh050 does not exist") as err:
        publish_manifest(manifest, "local")
    assert "--create-folders" in err.value.format()
    assert files_under(publish_root) == set()
    result = publish_manifest(manifest, "local", create_folders=True)
    assert [v.version for v in result.versions] == [1, 1]
    folder = LocalTracker(publish_root).resolve_folder("demo", "/sq020/sh050")
    assert folder.folder_type == "Shot"


def test_local_unique_index_refuses_a_taken_version(local: LocalTracker, manifest: JobManifest) -> None:
    publish_manifest(manifest, local)
    product = _product(local, "rotoMain")
    assert [v.version for v in local.versions("demo", product)] == [1]
    clash = VersionDraft("f" * 32, 1, None, None, {}, {}, None, ())
    with pytest.raises(VersionTaken) as err:
        local.create_version("demo", product, clash)
    assert err.value.version == 1
    assert local.create_version("demo", product, replace(clash, version=2)).version == 2


def test_failure_while_copying_shows_no_version_and_the_rerun_reuses_the_copies(
    local: LocalTracker, publish_root: Path, manifest: JobManifest
) -> None:
    def fail_on_third_frame(step: str, detail: str) -> None:
        if step == "verify" and detail.endswith(".1003.exr"):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish_manifest(manifest, local, observer=fail_on_third_frame)
    assert local.versions("demo", _product(local, "rotoMatteMain")) == []  # nothing incomplete is visible
    assert [p for p in publish_root.rglob("*") if ".tmp-" in p.name] == []
    events: list[tuple[str, str]] = []
    rerun = publish_manifest(manifest, local, observer=lambda s, d: events.append((s, d)))
    assert [(v.version, v.created) for v in rerun.versions] == [(1, True), (1, True)]
    assert [s for s, _ in events].count("kept") == 2
    assert len(files_under(publish_root)) == 3 + 4


def test_product_names_follow_tracker_yaml_variants(local: LocalTracker, manifest: JobManifest) -> None:
    from publish.config import load_tracker_settings

    settings = load_tracker_settings().model_copy(update={"object_variants": {"hero": "Hero"}})
    result = publish_manifest(manifest, local, settings=settings)
    assert [v.product for v in result.versions] == ["rotoHero", "rotoMatteHero"]


def test_studio_tracker_yaml_picks_representations_and_rejects_unknown_ones(
    local: LocalTracker, manifest: JobManifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roto_core.errors import ConfigError

    studio = tmp_path / "studio"
    studio.mkdir()
    (studio / "tracker.yaml").write_text("shapes:\n  representations: [nk]\nvariant: Main\n")
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(studio))
    (Path(manifest.output_dir) / "exports/sh010.fxs").unlink()  # not asked for: not needed
    publish_manifest(manifest, local)
    (version,) = local.versions("demo", _product(local, "rotoMain"))
    assert [r.name for r in version.representations] == ["nk"]

    (studio / "tracker.yaml").write_text("shapes:\n  representations: [nk, abc]\n")
    with pytest.raises(ConfigError, match="representations") as err:
        publish_manifest(manifest, local)
    assert err.value.path == str(studio / "tracker.yaml")


@pytest.mark.parametrize("first", [1, 1001])
def test_loader_rebuilds_every_frame_from_template_and_context(jobs_root: Path, publish_root: Path, first: int) -> None:
    """As ayon-core's get_representation_path fills ``attrib.template`` with ``context`` and ayon-nuke's LoadClip
    turns the context frame into ``#``: a shot starting at frame 1 must give ``.####.``, matching frames 1-4."""
    tracker = LocalTracker(publish_root)
    manifest = make_manifest(jobs_root, publish_root, first=first)
    publish_manifest(manifest, tracker, create_folders=True)
    (version,) = tracker.versions("demo", _product(tracker, "rotoMatteMain"))
    (rep,) = version.representations
    context = rep.data["context"]
    assert context["frame"] == f"{first:04d}"
    path = fill(rep.attrib["template"], {**context, "root": {"work": str(tracker.root)}})
    assert Path(path).is_file()
    cut = path.rfind(context["frame"])
    pattern = path[:cut] + "#" * len(context["frame"]) + path[cut + len(context["frame"]) :]
    assert [frame_path(pattern, f).is_file() for f in range(first, first + 4)] == [True] * 4
    assert sorted(str(frame_path(pattern, f)) for f in range(first, first + 4)) == sorted(
        f.path.format(root={"work": str(tracker.root)}) for f in rep.files
    )
