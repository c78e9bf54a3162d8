"""Hostile input to ``rotofarm publish``, each one a real subprocess: manifests whose names climb out of the
tracker root, ``tracker.yaml`` files with broken names and templates, a publish root behind a symlink, a full
disk, and eight processes publishing one job at once (a farm requeue).

Ended right means: exit 2 with one ``error:`` line and no traceback, or exit 0 with one version per product;
never a file outside the publish root and the job folder; never a duplicate version.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publish.local_tracker import LocalTracker
from roto_core.contracts import JobManifest
from tests.hostile.harness import REPO, ROTOFARM, Ended, assert_one_error, run_rotofarm, snapshot, written_outside
from tests.publish.conftest import PLATE, SHOT_ATTRIB
from tests.publish.jobkit import files_under, make_manifest


@pytest.fixture
def job(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(manifest path, publish root, jobs root) of a finished job whose shot folder the tracker has."""
    publish_root, jobs_root = tmp_path / "publish", tmp_path / "jobs"
    LocalTracker(publish_root).register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
    manifest = make_manifest(jobs_root, publish_root)
    return Path(manifest.output_dir) / "manifest.json", publish_root, jobs_root


def _with(manifest_path: Path, **tracker: object) -> Path:
    data = json.loads(manifest_path.read_text())
    data["tracker"].update(tracker)
    manifest_path.write_text(json.dumps(data))
    return manifest_path


def _publish(tmp_path: Path, manifest: Path, *extra: str, env: dict[str, str] | None = None) -> Ended:
    return run_rotofarm(["publish", str(manifest), "--create-folders", *extra], cwd=tmp_path, env=env)


def _nothing_outside(tmp_path: Path, before: set[Path], publish_root: Path, jobs_root: Path) -> None:
    outside = written_outside(tmp_path, before, [publish_root, jobs_root, tmp_path / "home"])
    assert outside == [], outside


BAD_TARGETS = {
    "folder climbs": {"folder_path": "/../ESCAPED/sh010"},
    "folder climbs twice": {"folder_path": "/sq010/../../ESCAPED"},
    "folder with empty part": {"folder_path": "//ESCAPED/sh010"},
    "folder empty": {"folder_path": ""},
    "folder relative": {"folder_path": "sq010/sh010"},
    "folder is a dot": {"folder_path": "/sq010/."},
    "folder with backslashes": {"folder_path": "/..\\..\\ESCAPED"},
    "folder with NUL": {"folder_path": "/sq010/sh\x00010"},
    "folder 10k characters": {"folder_path": "/" + "a" * 10_000},
    "folder is null": {"folder_path": None},
    "project climbs": {"project": "../ESCAPED"},
    "project absolute": {"project": "/tmp/ESCAPED"},
    "project empty": {"project": ""},
    "shapes product climbs": {"shapes_product": "../../ESCAPED"},
    "matte product absolute": {"matte_product": "/tmp/ESCAPED"},
    "shapes product hides a climb": {"shapes_product": "a/../../b"},
    "task climbs": {"task": "../ESCAPED"},
    "local root is a file": {"local_root": "/proc/version"},
}


@pytest.mark.parametrize("change", BAD_TARGETS.values(), ids=BAD_TARGETS.keys())
def test_manifest_names_that_leave_the_root_are_one_error_and_write_nothing(
    change: dict[str, object], job: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    manifest, publish_root, jobs_root = job
    before = snapshot(tmp_path)
    ended = _publish(tmp_path, _with(manifest, **change))
    assert_one_error(ended)
    _nothing_outside(tmp_path, before, publish_root, jobs_root)
    assert not list(tmp_path.rglob("ESCAPED"))


def _tracker_yaml(tmp_path: Path, **changes: object) -> dict[str, str]:
    shipped = yaml.safe_load((REPO / "configs" / "tracker.yaml").read_text())
    for key, value in changes.items():
        node = shipped
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "tracker.yaml").write_text(yaml.safe_dump(shipped))
    return {"ROTOFARM_CONFIG_DIR": str(folder)}


RENDER_DIR = "templates.publish.render.directory"
RENDER_FILE = "templates.publish.render.file"
BAD_CONFIGS = {
    "variant climbs": {"variant": "../ESCAPED"},
    "object variant climbs": {"object_variants": {"hero": "../../ESCAPED"}},
    "name with unknown key": {"shapes.name": "roto{nope}"},
    "name with index": {"matte.name": "rotoMatte{0}"},
    "name with bad format spec": {"shapes.name": "roto{variant:zz}"},
    "name with absolute result": {"matte.name": "/tmp/{variant}"},
    "template climbs out of the root": {RENDER_DIR: "{root[work]}/../ESCAPED/{product[name]}/{@version}"},
    "template without root": {RENDER_DIR: "/tmp/ESCAPED/{product[name]}/{@version}"},
    "template with unknown key": {RENDER_FILE: "{project[nope]}_{@version}.{@frame}.{ext}"},
    "template with bad format spec": {RENDER_FILE: "{folder[name]:%Q}_{@version}.{@frame}.{ext}"},
    "template with unclosed brace": {RENDER_FILE: "{folder[name]_{@version}.{@frame}.{ext}"},
    "template with unknown reference": {RENDER_FILE: "{@nope}.{ext}"},
    "matte template without frame token": {RENDER_FILE: "{project[code]}_{product[name]}_{@version}.{ext}"},
    "shapes template without ext": {"templates.publish.default.file": "{product[name]}_{@version}"},
    "templates not a mapping": {"templates": 5},
    "template is a number": {RENDER_DIR: 5},
    "verdict status unknown verdict": {"verdict_status": {"maybe": "x"}},
    "product type climbs": {"matte.product_type": "../../ESCAPED"},
    "representation name with a slash": {"matte.representation": "exr/../../x"},
}


@pytest.mark.parametrize("changes", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_tracker_yaml_with_broken_names_or_templates_is_one_error(
    changes: dict[str, object], job: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    manifest, publish_root, jobs_root = job
    env = _tracker_yaml(tmp_path, **changes)
    before = snapshot(tmp_path)
    ended = _publish(tmp_path, manifest, env=env)
    assert_one_error(ended, contains="tracker.yaml")
    _nothing_outside(tmp_path, before, publish_root, jobs_root)
    assert files_under(publish_root) == set()


def test_broken_template_is_noticed_even_when_the_job_is_already_published(
    job: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    manifest, _, _ = job
    assert _publish(tmp_path, manifest).code == 0
    env = _tracker_yaml(tmp_path, **{RENDER_FILE: "{project[code]}_{@version}.{ext}"})
    assert_one_error(_publish(tmp_path, manifest, env=env), contains="frame token")


def test_publish_root_behind_a_symlink_out_of_its_tree_is_refused(job: tuple[Path, Path, Path], tmp_path: Path) -> None:
    manifest, publish_root, jobs_root = job
    outside = tmp_path / "ESCAPED"
    outside.mkdir()
    (publish_root / "demo").symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path)
    assert_one_error(_publish(tmp_path, manifest), contains="outside the tracker root")
    assert list(outside.iterdir()) == []
    _nothing_outside(tmp_path, before, publish_root, jobs_root)


def _limited(max_file_bytes: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return limit


def _full_disk(root: Path, keep_free: int) -> bool:
    """A 2 MiB tmpfs at ``root`` filled to its last ``keep_free`` bytes (root only); False where mounting is not
    allowed."""
    root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True)
    if done.returncode != 0:
        return False
    stat = os.statvfs(root)
    (root / "filler").write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - keep_free, 0))
    return True


@pytest.mark.parametrize("catalogue_first", [False, True], ids=["catalogue on the full disk", "files on the full disk"])
def test_publish_on_a_full_disk_is_one_typed_line(
    job: tuple[Path, Path, Path], tmp_path: Path, catalogue_first: bool
) -> None:
    manifest, _, _ = job
    full = tmp_path / "full"
    publish_root = full / "publish"
    mounted = _full_disk(full, keep_free=0) if not catalogue_first else False
    if catalogue_first:
        mounted = _full_disk(full, keep_free=400 * 1024)
        LocalTracker(publish_root).register_shot("demo", "/sq010/sh010", SHOT_ATTRIB, plate=PLATE)
        stat = os.statvfs(full)
        (full / "filler2").write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - 24 * 1024, 0))
    try:
        _with(manifest, local_root=str(publish_root))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
        env.update({"HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)})
        (tmp_path / "home").mkdir(exist_ok=True)
        proc = subprocess.run(
            [*ROTOFARM, "publish", str(manifest), "--create-folders"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            # Without a tmpfs (no mount permission) the same failure comes from a file size limit (EFBIG).
            preexec_fn=None if mounted else _limited(3000),
        )
        ended = Ended(("publish",), proc.returncode, proc.stdout, proc.stderr)
        line = assert_one_error(ended)
        assert any(word in line.lower() for word in ("space", "full", "too large")), line
        assert [p for p in full.rglob("*") if ".tmp-" in p.name] == []
    finally:
        if mounted:
            subprocess.run(["umount", str(full)], check=False)


def test_eight_processes_publishing_one_job_make_one_version_and_losers_say_so(
    job: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    manifest, publish_root, _ = job
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYON_")}
    env.update({"HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO), "COLUMNS": "200"})
    procs = [
        subprocess.Popen(
            [*ROTOFARM, "publish", str(manifest)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(8)
    ]
    ends = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [e[1][-1500:] for e in ends]
    said = [b" ".join(out.split() + err.split()) for out, err in ends]
    assert sum(b"already published by this job" in s for s in said) >= 1
    tracker = LocalTracker(publish_root)
    folder = tracker.resolve_folder("demo", "/sq010/sh010")
    job_id = JobManifest.load(manifest).job_id
    for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render")):
        versions = tracker.versions("demo", tracker.ensure_product("demo", folder, name, kind))
        assert [(v.version, v.job_id) for v in versions] == [(1, job_id)]
    referenced = {
        Path(f.path.format(root={"work": str(tracker.root)}))
        for name, kind in (("rotoMain", "matteshapes"), ("rotoMatteMain", "render"))
        for v in tracker.versions("demo", tracker.ensure_product("demo", folder, name, kind))
        for r in v.representations
        for f in r.files
    }
    assert files_under(publish_root) == referenced  # no orphan, no temporary, no gap


def test_error_line_is_the_first_line_on_stderr(job: tuple[Path, Path, Path], tmp_path: Path) -> None:
    manifest, _, _ = job
    ended = run_rotofarm(["publish", str(_with(manifest, folder_path="/sq010/sh999"))], cwd=tmp_path)
    assert ended.code == 2 and ended.stderr.startswith("error: "), repr(ended.stderr[:200])  # fails mid-progress
    missing = run_rotofarm(["publish", str(tmp_path / "nope.json")], cwd=tmp_path)
    assert missing.stderr.startswith("error: "), repr(missing.stderr[:200])


_PARTS = st.sampled_from(
    ["sh010", "sq010", "..", ".", "", "a/b", "/abs", "..\\x", "x.y", "ok-name", "a" * 70, "Ä", "~", "$HOME", "%s"]
) | st.text(alphabet="./\\a_-0~", max_size=10)
_PATHS = st.builds(lambda parts, lead: lead + "/".join(parts), st.lists(_PARTS, max_size=4), st.sampled_from(["/", ""]))
_DIRS = st.sampled_from(
    [
        "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/{@version}",
        "{root[work]}/../{project[name]}/{product[name]}/{@version}",
        "{root[work]}/{folder[path]}/{product[name]}/{@version}",
        "{root[work]}/{hierarchy}/../../{product[name]}/{@version}",
        "/tmp/{product[name]}/{@version}",
        "{root[work]}/{task[name]}/{product[name]}/{@version}",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    folder_path=_PATHS,
    project=_PARTS,
    shapes=_PARTS,
    task=_PARTS,
    variant=_PARTS,
    directory=_DIRS,
)
def test_property_no_manifest_or_config_publishes_outside_the_root(
    folder_path: str, project: str, shapes: str, task: str, variant: str, directory: str
) -> None:
    """Random names and templates through the whole publish: it succeeds or raises a typed error, and every file
    it wrote lies in the publish root or the job folder."""
    from publish import publish_manifest
    from publish.config import load_tracker_settings
    from roto_core.errors import RotofarmError

    base = Path(tempfile.mkdtemp(prefix="rotofarm-prop-"))
    try:
        publish_root, jobs_root = base / "root" / "publish", base / "jobs"
        source = _job_once()
        shutil.copytree(source, jobs_root)
        manifest = JobManifest.load(next(jobs_root.rglob("manifest.json")))
        target = manifest.tracker.model_copy(
            update={
                "project": project,
                "folder_path": folder_path,
                "shapes_product": shapes,
                "task": task,
                "local_root": str(publish_root),
            }
        )
        job_dir = next(jobs_root.rglob("manifest.json")).parent
        manifest = manifest.model_copy(update={"tracker": target, "output_dir": str(job_dir)})
        config = yaml.safe_load((REPO / "configs" / "tracker.yaml").read_text())
        config["variant"] = variant
        config["templates"]["publish"]["render"]["directory"] = directory
        (base / "tracker.yaml").write_text(yaml.safe_dump(config))
        before = snapshot(base)
        try:
            publish_manifest(manifest, "local", True, settings=load_tracker_settings(base / "tracker.yaml"))
        except RotofarmError as exc:
            assert "\n" not in exc.format()
        outside = written_outside(base, before, [publish_root, jobs_root])
        assert outside == [], outside
    finally:
        shutil.rmtree(base, ignore_errors=True)


_JOB: dict[str, Path] = {}


def _job_once() -> Path:
    """One finished job folder for every example (tracing shapes per example would dominate the run)."""
    if "jobs" not in _JOB:
        root = Path(tempfile.mkdtemp(prefix="rotofarm-prop-job-"))
        atexit.register(shutil.rmtree, root, True)
        make_manifest(root / "jobs", root / "unused")
        _JOB["jobs"] = root / "jobs"
    return _JOB["jobs"]
