"""``rotofarm farm workers|queue|balance`` through ``submitters.cli.main`` against the fake Web Service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from submitters.cli import main
from tests.admin.conftest import PASSWORD_ENV, Farm

REASON = "rotofarm exited with code 2: /plates/sh030.1003.exr: frame 1003: plate missing"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["farm", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_workers_table_and_json(farm: Farm, farm_yaml: Path, capsys) -> None:
    code, out, _ = run(capsys, "workers", "--farm-config", str(farm_yaml))
    assert code == 0
    quad = next(line for line in out.splitlines() if "gpu-quad" in line)
    assert "4× NVIDIA RTX A6000 48 GiB" in quad and "reel1 sh010 roto / 1" in quad and "Rendering" in quad
    code, out, _ = run(capsys, "workers", "--json", "--pool", "roto", "--farm-config", str(farm_yaml))
    assert code == 0
    workers = json.loads(out)
    assert [w["name"] for w in workers] == ["gpu-quad", "gpu-r01"]
    assert workers[0]["gpu_count"] == 4 and workers[0]["concurrent_tasks"] == 1 and workers[0]["pools"] == ["roto"]


def test_a_worker_without_gpu_fields_shows_unknown_gpus(farm: Farm, farm_yaml: Path, capsys) -> None:
    farm.fake.add_worker("mystery", pools=["roto"], groups=["gpu"], gpus=2, report_gpus=False)
    code, out, _ = run(capsys, "workers", "--farm-config", str(farm_yaml))
    mystery = next(line for line in out.splitlines() if "mystery" in line)
    assert code == 0 and "unknown" in mystery and " 0" not in mystery.split("Idle")[1][:12]


def test_queue_table_shows_progress_eta_and_the_failed_task(farm: Farm, farm_yaml: Path, capsys) -> None:
    code, out, _ = run(capsys, "queue", "--farm-config", str(farm_yaml))
    assert code == 0
    sh010 = next(line for line in out.splitlines() if "sh010" in line)
    assert "1/4 (1 rendering)" in sh010 and "35/100" in sh010 and "35%" in sh010 and "4.0" in sh010
    assert "4m20s" in sh010 or "4m19s" in sh010
    assert REASON in out and "sh010 comp" not in out
    code, out, _ = run(capsys, "queue", "--json", "--farm-config", str(farm_yaml))
    batches = json.loads(out)["batches"]
    assert [b["name"] for b in batches] == ["reel1", "reel2"]
    assert batches[1]["jobs"][0]["failed"][0]["last_error"] == REASON


def test_balance_prints_the_plan_and_changes_nothing(farm: Farm, farm_yaml: Path, capsys) -> None:
    code, out, _ = run(capsys, "balance", "--farm-config", str(farm_yaml))
    assert code == 0
    for expected in ("add_pool", "gpu-a01", "add_group", "gpu_per_task", "gpu-quad", "priority", "waiting 2h00m"):
        assert expected in out
    assert "run with --apply" in out
    assert [r for r in farm.fake.log if r.method == "PUT"] == []


def test_balance_apply_reports_applied_and_refused_and_exits_2(farm: Farm, farm_yaml: Path, capsys) -> None:
    farm.fake.fail_next(status=400, method="PUT", path="/api/groups")
    code, out, err = run(capsys, "balance", "--apply", "--farm-config", str(farm_yaml))
    assert code == 2
    assert "applied 4 of 5; not applied: 1 refused, 0 not sent" in out
    assert "refused" in next(line for line in out.splitlines() if "add_group" in line)
    assert err.strip().splitlines() == ["error: --apply: 1 of 5 changes were not applied (add_group gpu-a02: refused)"]
    assert farm.fake.workers["gpu-a01"]["Settings"]["Pools"] == ["comp", "roto"]


def test_balance_apply_json_lists_each_outcome(farm: Farm, farm_yaml: Path, capsys) -> None:
    code, out, _ = run(
        capsys, "balance", "--apply", "--json", "--starving-after", "240", "--farm-config", str(farm_yaml)
    )
    assert code == 0
    payload = json.loads(out)
    assert [c["kind"] for c in payload["changes"]] == ["add_pool", "add_group", "add_pool", "gpu_per_task"]
    assert [r["outcome"] for r in payload["results"]] == ["applied"] * 4


@pytest.mark.parametrize("command", ["workers", "queue", "balance"])
def test_wrong_password_is_one_error_line(farm: Farm, farm_yaml: Path, capsys, monkeypatch, command: str) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    code, out, err = run(capsys, command, "--farm-config", str(farm_yaml))
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and "401" in line and farm.fake.url in line and "wrong" not in line


def test_unreachable_service_is_one_error_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "farm.yaml"
    config.write_text("farm: deadline\ndeadline:\n  url: http://127.0.0.1:9\n  retries: 0\n  connect_timeout_s: 0.5\n")
    code, _, err = run(capsys, "balance", "--farm-config", str(config))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "http://127.0.0.1:9/api/" in line and "does not answer" in line


def test_unknown_pool_is_one_error_line_with_the_valid_names(farm: Farm, farm_yaml: Path, capsys) -> None:
    for command in ("workers", "balance"):
        code, _, err = run(capsys, command, "--pool", "rotoo", "--farm-config", str(farm_yaml))
        assert code == 2
        (line,) = err.strip().splitlines()
        assert line.startswith("error: ") and "unknown pool 'rotoo'" in line and "comp, none, roto" in line
    assert [r for r in farm.fake.log if r.method == "PUT"] == []
