"""OpenJD: bundles that `openjd check` accepts, and the local farm on openjd-sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from roto_core.errors import ConfigError
from submitters.local_farm import resolve_executable, run_plan_locally
from submitters.openjd_backend import write_bundles
from submitters.plan import plan_submission
from tests.farm.helpers import PIPELINE, farm_config, shotlist

OPENJD = Path(sys.executable).parent / "openjd"


def _recorder(tmp_path: Path, fail_on: str = "") -> Path:
    """Stands in for rotofarm: records each call (and each range a worker is given), speaks the worker protocol."""
    script = tmp_path / "rotofarm"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, os, sys
            def record(call):
                with open({str(tmp_path / "calls.jsonl")!r}, "a") as fh:
                    fh.write(json.dumps(call) + "\\n")
            record(sys.argv[1:] + ["pid=" + str(os.getpid())])
            if sys.argv[1] == "worker":
                for line in sys.stdin:
                    rng = line.strip()
                    if not rng:
                        break
                    record(["chunk", sys.argv[2], rng, "pid=" + str(os.getpid())])
                    print("Progress: 50%", flush=True)
                    if {fail_on!r} == "crash " + rng:
                        sys.exit(3)
                    if {fail_on!r} and {fail_on!r} == rng:
                        print(f"FAILED {{rng}}: /plates/x.1030.exr: frame 1030: missing", flush=True)
                    else:
                        print(f"DONE {{rng}}", flush=True)
                sys.exit(0)
            print("Progress: 100%", flush=True)
            """
        )
    )
    script.chmod(0o755)
    return script


def _calls(tmp_path: Path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_bundle_passes_openjd_check_and_carries_the_shot(tmp_path: Path) -> None:
    plan = plan_submission(shotlist(2), "demo", farm_config(tmp_path), PIPELINE)
    bundles = write_bundles(plan, tmp_path / "bundles", "/opt/rotofarm/bin/rotofarm")
    assert [b.name for b in bundles] == ["sh010", "sh020"]
    check = subprocess.run([str(OPENJD), "check", str(bundles[0] / "template.yaml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    template = yaml.safe_load((bundles[0] / "template.yaml").read_text())
    assert template["specificationVersion"] == "jobtemplate-2023-09" and template["extensions"] == ["TASK_CHUNKING"]
    assert [s["name"] for s in template["steps"]] == ["Roto", "Finalize", "Publish"]
    values = {
        v["name"]: v["value"]
        for v in yaml.safe_load((bundles[1] / "parameter_values.yaml").read_text())["parameterValues"]
    }
    assert values["Manifest"] == plan.shots[1].manifest_path and values["Frames"] == "1001-1100"
    assert values["ChunkSize"] == 25 and values["Rotofarm"] == "/opt/rotofarm/bin/rotofarm"


def test_openjd_cli_runs_the_bundle_with_its_values(tmp_path: Path) -> None:
    script = _recorder(tmp_path)
    plan = plan_submission(shotlist(1), "demo", farm_config(tmp_path), PIPELINE)
    (bundle,) = write_bundles(plan, tmp_path / "bundles", str(script))
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text())["parameterValues"]
    params = json.dumps({v["name"]: str(v["value"]) for v in values})
    run = subprocess.run(
        [
            str(OPENJD),
            "run",
            str(bundle / "template.yaml"),
            "--step",
            "Publish",
            "--run-dependencies",
            "--job-param",
            params,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    calls = _calls(tmp_path)
    assert calls[0][:4] == ["worker", plan.shots[0].manifest_path, "--device", "auto"]
    chunks = [c for c in calls if c[0] == "chunk"]
    assert [c[2] for c in chunks] == ["1001-1025", "1026-1050", "1051-1075", "1076-1100"]
    assert len({c[-1] for c in chunks}) == 1 and chunks[0][-1] == calls[0][-1]  # one worker process for all
    assert [c[0] for c in calls[-2:]] == ["finalize", "publish"]
    assert "openjd_progress: 50" in run.stdout


class _Recorded:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def shot_started(self, shot, total):
        self.events.append(("start", shot, total))

    def task_started(self, shot, label):
        self.events.append(("task", shot, label))

    def task_progress(self, shot, percent):
        self.events.append(("pct", shot, percent))

    def task_done(self, shot):
        self.events.append(("done", shot))

    def shot_finished(self, shot, ok, message):
        self.events.append(("finished", shot, ok, message))


def test_local_farm_runs_chunks_in_order_then_finalize_then_publish(tmp_path: Path) -> None:
    script = _recorder(tmp_path)
    plan = plan_submission(shotlist(2), "demo", farm_config(tmp_path), PIPELINE)
    reporter = _Recorded()
    outcomes = run_plan_locally(plan, rotofarm=str(script), max_parallel_shots=2, reporter=reporter)
    assert [o.ok for o in outcomes] == [True, True] and [o.tasks_run for o in outcomes] == [6, 6]
    calls = _calls(tmp_path)
    for shot in plan.shots:
        mine = [c for c in calls if shot.manifest_path in c]
        assert [c[0] for c in mine] == ["worker"] + ["chunk"] * 4 + ["finalize", "publish"]
        assert [c[2] for c in mine[1:5]] == ["1001-1025", "1026-1050", "1051-1075", "1076-1100"]
        assert mine[0][2:4] == ["--device", "cpu"]
        assert {c[-1] for c in mine[:5]} == {mine[0][-1]}  # the chunks ran in the worker the step started
    assert ("pct", "sh010", 50.0) in reporter.events
    assert ("finished", "sh020", True, "published") in reporter.events


def test_a_failed_chunk_stops_its_shot_before_finalize(tmp_path: Path) -> None:
    script = _recorder(tmp_path, fail_on="1026-1050")
    plan = plan_submission(shotlist(1), "demo", farm_config(tmp_path), PIPELINE)
    (outcome,) = run_plan_locally(plan, rotofarm=str(script))
    assert not outcome.ok and outcome.failed_task == "Roto 1026-1050"
    assert outcome.error == "/plates/x.1030.exr: frame 1030: missing"
    assert [c[0] for c in _calls(tmp_path)] == ["worker", "chunk", "chunk"]


def test_a_worker_that_dies_fails_its_task_instead_of_hanging(tmp_path: Path) -> None:
    script = _recorder(tmp_path, fail_on="crash 1026-1050")
    plan = plan_submission(shotlist(1), "demo", farm_config(tmp_path), PIPELINE)
    (outcome,) = run_plan_locally(plan, rotofarm=str(script))
    assert not outcome.ok and outcome.failed_task == "Roto 1026-1050"
    assert outcome.error.startswith("the rotofarm worker exited before finishing 1026-1050")


def test_local_farm_finds_rotofarm_beside_this_python_or_says_what_to_set() -> None:
    assert Path(resolve_executable("rotofarm")).name == "rotofarm"
    with pytest.raises(ConfigError, match="executable"):
        resolve_executable("/nowhere/rotofarm-missing")


def test_aws_deadline_cloud_client_reads_the_bundle(tmp_path: Path) -> None:
    """`deadline bundle info` (AWS Deadline Cloud's client, offline) parses the template and the values."""
    plan = plan_submission(shotlist(1), "demo", farm_config(tmp_path), PIPELINE)
    (bundle,) = write_bundles(plan, tmp_path / "bundles", "rotofarm")
    info = subprocess.run(
        [str(Path(sys.executable).parent / "deadline"), "bundle", "info", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path / "home")},
    )
    assert info.returncode == 0, info.stderr[-2000:]
    shown = json.loads(info.stdout)
    assert shown["steps"] == ["Roto", "Finalize", "Publish"]
    values = {p["name"]: p["_display_value"] for p in shown["parameters"]}
    assert values["Manifest"] == plan.shots[0].manifest_path and values["Frames"] == "1001-1100"
