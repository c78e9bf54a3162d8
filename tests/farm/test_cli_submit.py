"""``rotofarm submit`` end to end through the CLI boundary (exit codes, one-line errors)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from roto_core.contracts import JobManifest
from submitters.cli import main
from submitters.farm_config import FarmConfig
from tests.farm.fake_deadline import FakeDeadline

EDL = """TITLE: SQ010 EDIT V004
FCM: NON-DROP FRAME

001  A003C012 V     C        14:22:05:10 14:22:07:02 01:00:00:00 01:00:01:16
* FROM CLIP NAME: sq010_sh010_v001
002  A003C019 V     C        14:31:40:00 14:31:43:00 01:00:01:16 01:00:04:16
* FROM CLIP NAME: sq010_sh020_v001
"""


@pytest.fixture
def cut(tmp_path: Path) -> Path:
    path = tmp_path / "reel1.edl"
    path.write_text(EDL)
    return path


def _farm_yaml(tmp_path: Path, **updates) -> Path:
    data = FarmConfig.load().model_dump()
    data["jobs_root"] = str(tmp_path / "jobs")
    for key, value in updates.items():
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    path = tmp_path / "farm.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _manifests(tmp_path: Path) -> list[JobManifest]:
    return [JobManifest.load(p) for p in sorted((tmp_path / "jobs").rglob("manifest.json"))]


def _dry_run(cut: Path, tmp_path: Path, *extra: str) -> int:
    """``rotofarm submit CUT --farm deadline --dry-run TMP/dry`` with a farm.yaml whose jobs root is in TMP."""
    config = str(_farm_yaml(tmp_path))
    dry = str(tmp_path / "dry")
    return main(
        [
            "submit",
            str(cut),
            "--project",
            "demo",
            "--farm",
            "deadline",
            "--dry-run",
            dry,
            "--farm-config",
            config,
            *extra,
        ]
    )


def test_dry_run_writes_request_bodies_per_shot(cut: Path, tmp_path: Path) -> None:
    rc = _dry_run(cut, tmp_path, "--handles", "4")
    assert rc == 0
    roto = json.loads((tmp_path / "dry" / "sq010_sh010" / "1_roto.json").read_text())
    assert roto["JobInfo"]["Plugin"] == "AIRoto" and roto["JobInfo"]["Frames"].startswith("1001-")
    assert (tmp_path / "dry" / "sq010_sh020" / "2_finalize.json").is_file()
    assert _manifests(tmp_path) == []  # a dry run writes only under its DIR


def test_deadline_submission_records_job_ids(cut: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    with FakeDeadline(pools=["none", "roto"], groups=["none", "gpu"]) as fake:
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", fake.password)
        config = _farm_yaml(tmp_path, deadline={"url": fake.url, "user": fake.user, "retries": 0})
        rc = main(["submit", str(cut), "--project", "demo", "--farm", "deadline", "--farm-config", str(config)])
        assert rc == 0, capsys.readouterr().err
        assert len(fake.jobs) == 4
        for manifest in _manifests(tmp_path):
            ids = manifest.submission.job_ids
            assert fake.jobs[ids["finalize"]]["Props"]["Dep"] == [{"JobID": ids["roto"]}]
        assert "Deadline batch reel1" in capsys.readouterr().out


def test_unknown_pool_is_one_line_and_nothing_is_written(cut: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    with FakeDeadline(pools=["none", "comp"], groups=["none", "gpu"]) as fake:
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", fake.password)
        config = _farm_yaml(tmp_path, deadline={"url": fake.url, "user": fake.user})
        rc = main(["submit", str(cut), "--project", "demo", "--farm", "deadline", "--farm-config", str(config)])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1
        assert err[0].startswith("error: ") and "unknown pool roto (valid: comp, none)" in err[0]
        assert fake.requests_to("POST", "/api/jobs") == [] and _manifests(tmp_path) == []


def test_wrong_password_names_the_url_and_what_to_check(cut: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    with FakeDeadline() as fake:
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", "wrong-password-xyz")
        config = _farm_yaml(tmp_path, deadline={"url": fake.url, "user": fake.user})
        rc = main(["submit", str(cut), "--project", "demo", "--farm", "deadline", "--farm-config", str(config)])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and err.count("\n") == 0
        assert fake.url in err and "401" in err and "password_env" in err and "wrong-password-xyz" not in err


def test_openjd_bundle_needs_out_and_writes_bundles(cut: Path, tmp_path: Path, capsys) -> None:
    config = str(_farm_yaml(tmp_path))
    assert main(["submit", str(cut), "--project", "demo", "--farm", "openjd-bundle", "--farm-config", config]) == 2
    assert "--out" in capsys.readouterr().err
    rc = main(
        [
            "submit",
            str(cut),
            "--project",
            "demo",
            "--farm",
            "openjd-bundle",
            "--out",
            str(tmp_path / "b"),
            "--farm-config",
            config,
        ]
    )
    assert rc == 0 and sorted(p.name for p in (tmp_path / "b").iterdir()) == ["sq010_sh010", "sq010_sh020"]


def test_dry_run_is_only_for_deadline(cut: Path, tmp_path: Path, capsys) -> None:
    assert main(["submit", str(cut), "--project", "demo", "--dry-run", str(tmp_path / "d")]) == 2
    assert "--farm deadline" in capsys.readouterr().err


def _plates_and_prompts(tmp_path: Path) -> tuple[str, Path]:
    """The first and last plate frames of both shots of EDL (the local farm checks them before submitting) and a
    prompt per shot."""
    import cv2
    import numpy as np

    for shot, last in (("sq010_sh010", 1056), ("sq010_sh020", 1088)):
        for frame in (1001, last):
            (tmp_path / "plates" / shot).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(tmp_path / "plates" / shot / f"{frame}.png"), np.zeros((48, 64), np.uint8))
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text(
        "".join(f"{s}:\n  hero:\n    - {{cut_frame: 0, box: [1, 1, 20, 20]}}\n" for s in ("sq010_sh010", "sq010_sh020"))
    )
    return str(tmp_path / "plates" / "{shot}" / "####.png"), prompts


def test_local_farm_reports_a_failed_shot_in_one_line(cut: Path, tmp_path: Path, capsys) -> None:
    script = tmp_path / "rotofarm-stub"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
        import sys
        if sys.argv[1] == "worker":
            for line in sys.stdin:
                rng = line.strip()
                if "sq010_sh020" in sys.argv[2]:
                    print(f"FAILED {rng}: plate missing", flush=True)
                else:
                    print("Progress: 100%", flush=True)
                    print(f"DONE {rng}", flush=True)
        """
        )
    )
    script.chmod(0o755)
    config = str(_farm_yaml(tmp_path, executable=str(script), create_folders=True))
    plates, prompts = _plates_and_prompts(tmp_path)
    inputs = ["--plates", plates, "--prompts", str(prompts), "--width", "64", "--height", "48"]
    rc = main(["submit", str(cut), "--project", "demo", "--farm", "local", "--farm-config", config, *inputs])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().splitlines()[-1].startswith("error: --farm local: 1 of 2 shots failed: sq010_sh020 at Roto")
    assert "plate missing" in err.strip().splitlines()[-1]


def test_from_tracker_submits_the_shots_under_a_folder(tmp_path: Path) -> None:
    from publish.local_tracker import LocalTracker

    root = tmp_path / "tracker"
    tracker = LocalTracker(root)
    tracker.create_project("demo")
    attrib = {"frameStart": 1009, "frameEnd": 1040, "handleStart": 8, "handleEnd": 8, "fps": 24.0}
    for name in ("sh010", "sh020"):
        tracker.register_shot("demo", f"/sq010/{name}", attrib, plate=f"/plates/{name}/{name}.####.exr")
    rc = main(
        [
            "submit",
            "--from-tracker",
            "/sq010",
            "--project",
            "demo",
            "--tracker",
            "local",
            "--tracker-root",
            str(root),
            "--farm",
            "deadline",
            "--dry-run",
            str(tmp_path / "dry"),
            "--farm-config",
            str(_farm_yaml(tmp_path)),
        ]
    )
    assert rc == 0
    body = json.loads((tmp_path / "dry" / "sh020" / "1_roto.json").read_text())
    assert body["JobInfo"]["Frames"] == "1001-1048"
    assert "AYON_FOLDER_PATH=/sq010/sh020" in body["JobInfo"].values()
    assert _manifests(tmp_path) == []  # a dry run writes only under its DIR
    lookup = ["--from-tracker", "/sq010", "--project", "demo", "--tracker", "local", "--tracker-root", str(root)]
    bundles = ["--farm", "openjd-bundle", "--out", str(tmp_path / "b"), "--farm-config", str(_farm_yaml(tmp_path))]
    assert main(["submit", *lookup, *bundles]) == 0
    manifest = next(m for m in _manifests(tmp_path) if m.shot.name == "sh020")
    assert manifest.shot.plate == "/plates/sh020/sh020.####.exr" and manifest.tracker.local_root == str(root)


def test_farm_check_lists_what_the_web_service_has(tmp_path: Path, monkeypatch, capsys) -> None:
    with FakeDeadline(pools=["none", "roto"], groups=["none", "gpu"]) as fake:
        fake.add_limit("roto_gpu", 4)
        fake.add_worker("gpu01", pools=["roto"])
        monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", fake.password)
        config = _farm_yaml(tmp_path, deadline={"url": fake.url, "user": fake.user})
        assert main(["farm", "check", "--farm-config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "none, roto" in out and "roto_gpu" in out and fake.url in out


def test_submit_prints_the_warnings_of_ingest(tmp_path: Path, capsys) -> None:
    """What ingest warns about (here a LOC note the adapter drops) reaches the coordinator who submits."""
    cut = tmp_path / "reel1.edl"
    cut.write_text(EDL.replace("sq010_sh010_v001\n", "sq010_sh010_v001\n* LOC: RED check the sky\n", 1))
    rc = _dry_run(cut, tmp_path)
    err = capsys.readouterr().err
    assert rc == 0, err
    assert f"warning: {cut}:6: LOC line without a timecode is ignored" in err, err
