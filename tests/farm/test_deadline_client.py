"""The Web Service client against the fake service: requests, retries, typed errors, no password leaks."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest

from roto_core.errors import ConfigError
from submitters.deadline.client import (
    DeadlineAuthError,
    DeadlineBadReply,
    DeadlineClient,
    DeadlineRequestError,
    DeadlineServerError,
    DeadlineUnreachable,
    JobRequest,
    is_job_id,
    job_id_time,
    redact_url,
)
from tests.farm.fake_deadline import JOB_STAT, TASK_STAT, FakeDeadline


def _job(name: str = "sh010_roto", frames: str = "1001-1010", chunk: int = 5) -> JobRequest:
    return JobRequest({"Plugin": "AIRoto", "Name": name, "Frames": frames, "ChunkSize": str(chunk)}, {"Manifest": "m"})


def test_submit_query_and_tasks(client: DeadlineClient, deadline: FakeDeadline) -> None:
    job_id = client.submit_job(_job())
    job = client.get_job(job_id)
    assert job["Props"]["Name"] == "sh010_roto"
    assert job["Stat"] == JOB_STAT["Active"]
    assert [t["Frames"] for t in client.get_tasks(job_id)] == ["1001-1005", "1006-1010"]
    assert deadline.submitted[0]["IdOnly"] is True


def test_batch_submission_chains_dependencies(client: DeadlineClient) -> None:
    ids = client.submit_jobs([_job("a"), _job("b", frames="1", chunk=1)], depends_on_previous=[False, True])
    second = client.get_job(ids[1])
    assert second["Props"]["Dep"] == [{"JobID": ids[0]}]
    assert second["Stat"] == JOB_STAT["Pending"]


def test_job_commands_change_state(client: DeadlineClient) -> None:
    job_id = client.submit_job(_job())
    client.suspend_job(job_id)
    assert client.get_job(job_id)["Stat"] == JOB_STAT["Suspended"]
    assert {t["Stat"] for t in client.get_tasks(job_id)} == {TASK_STAT["Suspended"]}
    client.resume_job(job_id)
    client.task_command(job_id, "complete", [0])
    assert client.get_tasks(job_id)[0]["Stat"] == TASK_STAT["Completed"]
    client.requeue_job(job_id)
    assert {t["Stat"] for t in client.get_tasks(job_id)} == {TASK_STAT["Queued"]}
    client.delete_job(job_id)
    assert client.get_jobs([job_id]) == []


def test_workers_pools_groups_limits(client: DeadlineClient, deadline: FakeDeadline) -> None:
    deadline.add_worker("gpu01", pools=["roto"], groups=["gpu"], gpus=4, concurrent_tasks=1)
    assert client.worker_names() == ["gpu01"]
    (worker,) = client.workers(["gpu01"])
    assert worker["Settings"]["Pools"] == ["roto"] and worker["Info"]["VideoCard"].count("NVIDIA") == 4
    client.add_pools_to_workers(["gpu01"], ["comp"])
    assert client.workers_in_pools(["comp"]) == ["gpu01"]
    assert set(client.pool_names()) >= {"roto", "comp"} and "gpu" in client.group_names()
    assert client.limit_names() == ["roto_gpu"]
    client.save_worker_settings({**worker["Settings"], "Conc": 4})
    assert client.workers(["gpu01"], data="settings")[0]["Conc"] == 4


def test_wrong_password_is_one_auth_error_naming_the_url(deadline: FakeDeadline, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    bad = DeadlineClient(deadline.url, user="render", password="not-the-password", retries=0)
    with pytest.raises(DeadlineAuthError) as err:
        bad.pool_names()
    text = str(err.value)
    assert deadline.url in text and "401" in text and "deadline.user" in text
    assert "not-the-password" not in text + caplog.text + repr(bad)


def test_unreachable_service_names_the_url_and_what_to_check() -> None:
    client = DeadlineClient("http://127.0.0.1:9", retries=1, backoff_s=0.01, timeout=(0.5, 0.5))
    with pytest.raises(DeadlineUnreachable) as err:
        client.worker_names()
    assert "http://127.0.0.1:9/api/slaves" in str(err.value) and "deadline.url" in str(err.value)


def test_5xx_and_dropped_connections_are_retried(client: DeadlineClient, deadline: FakeDeadline) -> None:
    deadline.fail_next(1, 500, method="GET", path="/api/pools")
    deadline.drop_next(1, method="GET", path="/api/pools")
    assert "roto" in client.pool_names()
    assert [r.status for r in deadline.requests_to("GET", "/api/pools")] == [500, None, 200]


def test_5xx_gives_up_after_the_bounded_retries(client: DeadlineClient, deadline: FakeDeadline) -> None:
    deadline.fail_next(10, 503, path="/api/groups")
    with pytest.raises(DeadlineServerError, match="HTTP 503 after 3 attempts"):
        client.group_names()
    assert len(deadline.requests_to("GET", "/api/groups")) == 3


def test_4xx_is_never_retried(client: DeadlineClient, deadline: FakeDeadline) -> None:
    with pytest.raises(DeadlineRequestError, match=r"HTTP 400.*Plugin"):
        client.submit_job(JobRequest({"Name": "no plugin"}, {}))
    assert len(deadline.requests_to("POST", "/api/jobs")) == 1
    with pytest.raises(DeadlineRequestError, match=r"HTTP 400.*Command"):
        client.request("PUT", "/api/jobs", body={"JobID": "x"})


def test_tls_is_verified_by_default_and_a_ca_bundle_makes_it_pass(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with FakeDeadline(tls=(str(cert), str(key))) as fake:
        strict = DeadlineClient(fake.url, user=fake.user, password=fake.password, retries=0)
        with pytest.raises(DeadlineUnreachable, match=r"TLS handshake failed.*ca_bundle"):
            strict.pool_names()
        trusting = DeadlineClient(fake.url, user=fake.user, password=fake.password, verify=str(cert), retries=0)
        assert trusting.pool_names() == ["none"]


def test_url_credentials_never_reach_a_message_or_the_log(deadline: FakeDeadline, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    url = deadline.url.replace("http://", f"http://render:{deadline.password}@")
    client = DeadlineClient(url, retries=0, verify=False)
    assert client.pool_names()  # requests takes the credentials from the URL
    deadline.fail_next(1, 500)
    with pytest.raises(DeadlineServerError) as err:
        client.pool_names()
    assert deadline.password not in str(err.value) + caplog.text + repr(client) and "***@" in str(err.value)
    assert redact_url("see https://a:b@h:1/x and http://h/y@z") == "see https://***@h:1/x and http://h/y@z"


@pytest.mark.parametrize(
    "url", ["http://h:99999", "http://h:8o82", "http://[::1", "http://[zz]:1", "http://a b:1", "http://:1", "h:1"]
)
def test_a_url_requests_could_not_use_is_refused_at_once(url: str) -> None:
    with pytest.raises(DeadlineRequestError, match="Web Service URL"):
        DeadlineClient(url)


def test_a_missing_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as err:
        DeadlineClient("https://deadline:8082", verify=str(tmp_path / "ca.pem"))
    assert err.value.where == "deadline.ca_bundle"


def test_job_ids_are_checked_against_deadlines_form(client: DeadlineClient, deadline: FakeDeadline) -> None:
    job_id = client.submit_job(_job())
    assert is_job_id(job_id) and abs(job_id_time(job_id) - time.time()) < 60
    for garbage in ('{"_id": "12"}', "<html>login</html>", "{not json", '"Success"'):
        deadline.answer_next(garbage, method="POST", path="/api/jobs")
        with pytest.raises(DeadlineBadReply):
            client.submit_job(_job())
    deadline.answer_next("", status=302, headers={"Location": "https://sso/login"}, method="GET")
    with pytest.raises(DeadlineBadReply, match="redirected to https://sso/login"):
        client.pool_names()
