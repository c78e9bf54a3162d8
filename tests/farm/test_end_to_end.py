"""A cut submitted end to end with the real rotofarm commands: run-chunk on each chunk, then finalize, then publish.

Through Deadline: ``rotofarm submit --farm deadline`` against the test Web Service, test workers pulling the tasks
and running them through the AIRoto plugin, until the dependent job has published to a local tracker. And
``--farm local``: the same cut through openjd-sessions on this machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from roto_core.contracts import JobManifest
from roto_core.synthetic import make_shot
from submitters.cli import app, main
from submitters.farm_config import FarmConfig
from tests.farm.fake_deadline import JOB_STAT, TASK_STAT, FakeDeadline
from tests.farm.farm_worker import FarmWorker

ROTOFARM = str(Path(sys.executable).parent / "rotofarm")
NEEDED = ("run-chunk", "finalize", "publish")
COMMANDS = {c.name for c in app.registered_commands}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not set(NEEDED) <= COMMANDS, reason=f"needs rotofarm {', '.join(sorted(set(NEEDED) - COMMANDS))}"
    ),
]
SHOTS = ("sq010_sh010", "sq010_sh020")
FRAMES = 6


@pytest.fixture
def cut(tmp_path: Path) -> list[str]:
    """Two synthetic shots, the EDL that cuts them and the prompts sidecar; returns the ingest arguments."""
    prompts = {}
    for seed, name in enumerate(SHOTS):
        shot = make_shot(tmp_path / "media", frames=FRAMES, width=64, height=48, objects=1, seed=seed, name=name)
        prompts[name] = {p.object: [{"frame": p.frame, "box": list(p.box)}] for p in shot.prompts if p.box is not None}
    events = []
    for i, name in enumerate(SHOTS):
        rec_in, rec_out = f"01:00:00:{i * FRAMES:02d}", f"01:00:00:{(i + 1) * FRAMES:02d}"
        events.append(
            f"{i + 1:03d}  A00{i}C001 V     C        10:00:00:00 10:00:00:{FRAMES:02d} {rec_in} {rec_out}\n"
            f"* FROM CLIP NAME: {name}_v001\n"
        )
    edl = tmp_path / "turnover.edl"
    edl.write_text("TITLE: E2E\nFCM: NON-DROP FRAME\n\n" + "".join(events))
    sidecar = tmp_path / "prompts.yaml"
    sidecar.write_text(yaml.safe_dump(prompts))
    return [
        str(edl),
        "--handles",
        "0",
        "--start-frame",
        "1001",
        "--name-regex",
        r"(?P<shot>sq\d+_sh\d+)",
        "--plates",
        str(tmp_path / "media" / "plate" / "{shot}.####.exr"),
        "--prompts",
        str(sidecar),
    ]


def _config(tmp_path: Path, **deadline) -> Path:
    data = FarmConfig.load().model_dump()
    data.update(
        jobs_root=str(tmp_path / "jobs"), chunk_size=3, tracker="local", create_folders=True, executable=ROTOFARM
    )
    data["roto_job"]["device"] = "cpu"
    data["deadline"].update(deadline)
    path = tmp_path / "farm.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _published(tracker_root: Path) -> dict[str, list[Path]]:
    return {name: sorted(tracker_root.rglob(f"*{name}*.nk")) for name in SHOTS}


def test_cut_through_deadline_to_published_versions(cut: list[str], tmp_path: Path, monkeypatch) -> None:
    tracker_root = tmp_path / "tracker"
    with FakeDeadline(pools=["none", "roto"], groups=["none", "gpu"]) as fake:
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", fake.password)
        config = _config(tmp_path, url=fake.url, user=fake.user)
        rc = main(
            [
                "submit",
                *cut,
                "--project",
                "demo",
                "--farm",
                "deadline",
                "--tracker-root",
                str(tracker_root),
                "--farm-config",
                str(config),
            ]
        )
        assert rc == 0
        fake.add_worker("gpu01", pools=["roto"], groups=["gpu"], gpus=1)
        fake.add_worker("cpu01")
        workers = [FarmWorker(fake, name, {"RotofarmExecutable": ROTOFARM}) for name in ("gpu01", "cpu01")]
        ran: list[list[str]] = []
        for _ in range(50):
            results = [w.run_one() for w in workers]
            ran += [r.argv[1:3] for r in results if r is not None]
            if all(r is None for r in results):
                break
        errors = [r.error for w in workers for r in w.results if not r.ok]
        assert errors == []
        assert {j["Stat"] for j in fake.jobs.values()} == {JOB_STAT["Completed"]}
        for manifest in {m for _, m in ran}:
            steps = [cmd for cmd, m in ran if m == manifest]
            assert steps == ["worker", "worker", "finalize", "publish"]  # both chunks, then the dependent job
        gpu = workers[0]
        assert len(gpu.unloaded) == 2 and all(j.leaked == [] and j.processes_left == [] for j in gpu.unloaded)
    published = _published(tracker_root)
    assert all(len(files) == 1 for files in published.values()), published
    for manifest_path in (tmp_path / "jobs").rglob("manifest.json"):
        assert JobManifest.load(manifest_path).submission.farm == "deadline"


def test_two_shot_cut_on_the_local_farm(cut: list[str], tmp_path: Path) -> None:
    tracker_root = tmp_path / "tracker"
    rc = main(
        [
            "submit",
            *cut,
            "--project",
            "demo",
            "--farm",
            "local",
            "--tracker-root",
            str(tracker_root),
            "--farm-config",
            str(_config(tmp_path)),
        ]
    )
    assert rc == 0
    published = _published(tracker_root)
    assert all(len(files) == 1 for files in published.values()), published


def test_a_sequential_chunk_whose_predecessor_still_renders_does_not_fail(
    cut: list[str], tmp_path: Path, monkeypatch
) -> None:
    """Deadline does not make a later chunk of a Sequential job wait for an earlier one (a second task thread takes
    it at once); the chunk then rebuilds its start from the nearest keys instead of burning its error count."""
    with FakeDeadline(pools=["none", "roto"], groups=["none", "gpu"]) as fake:
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", fake.password)
        config = _config(tmp_path, url=fake.url, user=fake.user)
        assert main(["submit", *cut, "--project", "demo", "--farm", "deadline", "--farm-config", str(config)]) == 0
        fake.add_worker("gpu01", pools=["roto"], groups=["gpu"], gpus=2, concurrent_tasks=2)
        busy_job, busy_task = fake.dequeue("gpu01")  # thread 0 renders the first chunk
        assert busy_job["Props"]["Seq"] and busy_task["TaskID"] == 0
        second = FarmWorker(fake, "gpu01", {"RotofarmExecutable": ROTOFARM}, thread=1)
        result = second.run_one()
        second.unload()
        assert result is not None and result.ok, result.error
        later = fake.tasks[busy_job["_id"]][1]
        assert later["Stat"] == TASK_STAT["Completed"] and later["Errs"] == 0
    manifest = JobManifest.load(busy_job["Props"]["PlugInfo"]["Manifest"])
    reports = list(Path(busy_job["Props"]["PlugInfo"]["Manifest"]).parent.rglob("report.json"))
    assert len(reports) == 1 and "rebuilt from the keys" in reports[0].read_text(), manifest.shot.name
