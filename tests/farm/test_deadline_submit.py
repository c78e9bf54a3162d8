"""The AIRoto jobs of a plan: request bodies, dry run, validation against the server, all-or-nothing batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from roto_core.contracts import JobManifest
from roto_core.errors import ConfigError
from submitters.deadline.client import (
    DeadlineClient,
    DeadlineRequestError,
    DeadlineServerError,
    DeadlineUncertain,
    DeadlineUnreachable,
)
from submitters.deadline.jobs import job_requests, submit_plan, write_dry_run
from submitters.farm_config import JobSettings
from submitters.plan import plan_submission, record_submission
from tests.farm.fake_deadline import JOB_STAT, FakeDeadline, seconds_ago
from tests.farm.helpers import PIPELINE, farm_config, shotlist


@pytest.fixture
def plan_and_config(tmp_path: Path):
    config = farm_config(tmp_path, user="coord", comment="first pass")
    config = config.model_copy(
        update={"roto_job": config.roto_job.model_copy(update={"limit_groups": ["roto_gpu"], "secondary_pool": "comp"})}
    )
    return plan_submission(shotlist(3), "demo", config, PIPELINE), config


def test_roto_job_info_carries_what_the_issue_lists(plan_and_config) -> None:
    plan, config = plan_and_config
    roto, fin = job_requests(plan, plan.shots[0], config)
    info = roto.job_info
    assert info["Plugin"] == "AIRoto" and info["BatchName"] == plan.batch_name
    assert info["Frames"] == "1001-1100" and info["ChunkSize"] == "25"
    assert (info["Sequential"], info["MachineLimit"]) == ("True", "1")
    placement = (info["Pool"], info["SecondaryPool"], info["Group"], info["LimitGroups"])
    assert placement == ("roto", "comp", "gpu", "roto_gpu")
    assert info["UserName"] == "coord" and info["Department"] == "roto" and info["Comment"] == "first pass"
    assert info["TaskTimeoutMinutes"] == "120" and info["FailureDetectionTaskErrors"] == "3"
    env = sorted(v for k, v in info.items() if k.startswith("EnvironmentKeyValue"))
    assert env == ["AYON_FOLDER_PATH=/sq010/sh010", "AYON_PROJECT_NAME=demo", "AYON_TASK_NAME=roto"]
    assert info["ExtraInfoKeyValue0"] == "rotofarm_shot=sh010"
    assert info["OutputDirectory0"].endswith("/masks") and info["OutputFilename0"] == "sh010_mask.####.exr"
    assert roto.plugin_info["Manifest"] == plan.shots[0].manifest_path
    assert (fin.job_info["Frames"], fin.plugin_info["Mode"], fin.plugin_info["Tracker"]) == ("0-1", "finalize", "local")


def test_dry_run_writes_exact_bodies_and_no_secret(plan_and_config, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ROTOFARM_DEADLINE_PASSWORD", "hunter2-deadline")
    monkeypatch.setenv("AYON_API_KEY", "ayon-key-123")
    plan, config = plan_and_config
    files = write_dry_run(plan, config, tmp_path / "dry")
    names = [p.relative_to(tmp_path / "dry").as_posix() for p in files[:2]]
    assert names == ["sh010/1_roto.json", "sh010/2_finalize.json"]
    body = json.loads(files[0].read_text())
    assert set(body) == {"JobInfo", "PluginInfo", "AuxFiles", "IdOnly"} and body["AuxFiles"] == []
    assert json.loads(files[1].read_text())["JobInfo"]["JobDependencies"] == "<id of sh010/1_roto>"
    everything = "".join(p.read_text() for p in files) + "".join(Path(s.manifest_path).read_text() for s in plan.shots)
    assert "hunter2-deadline" not in everything and "ayon-key-123" not in everything


def test_submission_creates_dependent_jobs_and_records_ids(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline
) -> None:
    plan, config = plan_and_config
    result = submit_plan(client, plan, config)
    record_submission(plan, "deadline", result.job_ids)
    assert len(deadline.jobs) == 6
    for shot, ids in zip(plan.shots, result.job_ids, strict=True):
        roto, fin = deadline.jobs[ids["roto"]], deadline.jobs[ids["finalize"]]
        assert roto["Props"]["Tasks"] == 4 and roto["Stat"] == JOB_STAT["Active"]
        assert fin["Props"]["Dep"] == [{"JobID": ids["roto"]}] and fin["Stat"] == JOB_STAT["Pending"]
        assert JobManifest.load(shot.manifest_path).submission.job_ids == ids


def test_unknown_pool_is_refused_before_anything_is_submitted(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline, tmp_path: Path
) -> None:
    _, config = plan_and_config
    config = config.model_copy(update={"roto_job": JobSettings(pool="rotto", group="gpu", limit_groups=["gpu_lic"])})
    plan = plan_submission(shotlist(1), "demo", config, PIPELINE)
    with pytest.raises(ConfigError) as err:
        submit_plan(client, plan, config)
    text = str(err.value)
    assert "unknown pool rotto (valid: comp, none, roto)" in text and "unknown limit gpu_lic (valid: roto_gpu)" in text
    assert deadline.requests_to("POST", "/api/jobs") == []


def test_a_later_failure_deletes_the_jobs_already_submitted(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline
) -> None:
    plan, config = plan_and_config
    deadline.fail_next(1, 400, method="POST", path="/api/jobs", after=4)
    with pytest.raises(DeadlineRequestError) as err:
        submit_plan(client, plan, config)
    assert "batch rolled back: deleted 4 of 4 submitted jobs" in str(err.value)
    assert deadline.jobs == {}
    assert all(JobManifest.load(s.manifest_path).submission is None for s in plan.shots)


def test_server_errors_are_retried_then_rolled_back(plan_and_config, client: DeadlineClient, deadline) -> None:
    plan, config = plan_and_config
    deadline.fail_next(1, 502, method="POST")
    result = submit_plan(client, plan, config)
    assert len(result.job_ids) == 3 and len(deadline.jobs) == 6
    deadline.jobs.clear()
    deadline.fail_next(50, 500, method="POST")
    with pytest.raises(DeadlineServerError, match="rolled back: deleted 0 of 0"):
        submit_plan(client, plan, config)


def test_a_submission_whose_answer_is_lost_is_not_resent_and_is_rolled_back(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline
) -> None:
    plan, config = plan_and_config
    deadline.drop_next(1, method="POST", path="/api/jobs", after_handling=True)
    with pytest.raises(DeadlineUncertain, match="not resent") as err:
        submit_plan(client, plan, config)
    assert len(deadline.requests_to("POST", "/api/jobs")) == 1  # the service made the job; we never heard
    assert "deleted 1 of 1 submitted jobs" in str(err.value)
    assert deadline.jobs == {}


def test_the_lost_job_is_looked_up_by_id_time_batch_and_rotofarm_id_not_by_listing_every_job(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline
) -> None:
    plan, config = plan_and_config
    old = [deadline.add_job({"Plugin": "AIRoto", "Frames": "1"}, submitted_at=seconds_ago(86400)) for _ in range(50)]
    same_time = deadline.add_job({"Plugin": "AIRoto", "BatchName": "someone else's", "Frames": "1"})
    deadline.drop_next(1, method="POST", path="/api/jobs", after_handling=True)
    with pytest.raises(DeadlineUncertain, match="deleted 1 of 1"):
        submit_plan(client, plan, config)
    assert set(deadline.jobs) == {*old, same_time}
    lookups = deadline.requests_to("GET", "/api/jobs")
    assert lookups[0].query == {"IdOnly": "true"}
    deleted = {r.query["JobID"] for r in deadline.requests_to("DELETE", "/api/jobs")}
    assert len(lookups) == 2 and set(lookups[1].query["JobID"].split(",")) == {same_time} | deleted  # recent only


def test_a_refused_connection_is_retried_for_submissions_too(plan_and_config, deadline: FakeDeadline) -> None:
    plan, config = plan_and_config
    url = deadline.url
    deadline.stop()
    client = DeadlineClient(url, user=deadline.user, password=deadline.password, retries=1, backoff_s=0.01)
    with pytest.raises(DeadlineUnreachable, match="after 2 attempts"):
        client.submit_job(job_requests(plan, plan.shots[0], config)[0])


def test_rollback_stops_at_once_when_the_service_goes_away(
    plan_and_config, client: DeadlineClient, deadline: FakeDeadline
) -> None:
    plan, config = plan_and_config
    deadline.fail_next(1, 400, method="POST", path="/api/jobs", after=4)
    deadline.drop_next(100, method="DELETE")
    with pytest.raises(DeadlineRequestError) as err:
        submit_plan(client, plan, config)
    assert "deleted 0 of 4 submitted jobs; could not delete" in str(err.value)
    assert len(deadline.requests_to("DELETE", "/api/jobs")) == 3  # one job, tried 1 + 2 retries, then it stops
    assert len(deadline.jobs) == 4
