"""Hostile input for the Deadline side: ``rotofarm submit --farm deadline`` and ``rotofarm farm check|workers|queue``
run as real subprocesses against the test Web Service (tests/farm/fake_deadline.py) on 127.0.0.1, which answers
what a broken network, a proxy, a login page or an SSO portal in front of Deadline would answer.

Each hostile input is one test case. "Ended right" is the harness's rule: exit 2 with one ``error:`` line and no
traceback, or success with the right files; never a job id that is not one, never a manifest that records a
submission that did not happen, never a job left behind by a batch that failed, never the password in the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from roto_core.contracts import JobManifest
from submitters.farm_config import FarmConfig
from tests.farm.deadline_plugin_api import split_command_line
from tests.farm.deadline_plugin_runner import load_airoto
from tests.farm.fake_deadline import FakeDeadline
from tests.hostile.harness import Ended, assert_no_secret, assert_no_traceback, assert_one_error, run_rotofarm

PASSWORD = "s3cret-pw"
URL_SECRET = "url-s3cret-9"
EDL = """TITLE: HOSTILE
FCM: NON-DROP FRAME

001  A003C012 V     C        14:22:05:10 14:22:07:02 01:00:00:00 01:00:01:16
* FROM CLIP NAME: sq010_sh010_v001
002  A003C019 V     C        14:31:40:00 14:31:43:00 01:00:01:16 01:00:04:16
* FROM CLIP NAME: sq010_sh020_v001
"""
LOGIN_PAGE = "<html><body>Please log in</body></html>"
SSO = {"Location": "https://sso.example.com/login?next=/api/jobs"}


@pytest.fixture
def fake() -> Iterator[FakeDeadline]:
    service = FakeDeadline(password=PASSWORD, pools=["none", "roto"], groups=["none", "gpu"])
    with service:
        yield service


def _farm_yaml(tmp_path: Path, url: str, **deadline: object) -> Path:
    data = FarmConfig.load().model_dump()
    data["jobs_root"] = str(tmp_path / "jobs")
    data["farm"] = "deadline"  # the farm that `farm workers|queue` talk to by default
    data["deadline"].update(
        {"url": url, "user": "render", "retries": 0, "connect_timeout_s": 2, "read_timeout_s": 5, **deadline}
    )
    path = tmp_path / "farm.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(tmp_path: Path, args: list[str]) -> Ended:
    ended = run_rotofarm(args, cwd=tmp_path, env={"ROTOFARM_DEADLINE_PASSWORD": PASSWORD}, timeout=60)
    assert_no_traceback(ended)
    for written in (tmp_path / "jobs", tmp_path / "home", tmp_path / "dry"):  # what rotofarm writes (not farm.yaml)
        assert_no_secret(ended, [PASSWORD, URL_SECRET], files_root=written)
    return ended


def _submit(tmp_path: Path, config: Path, project: str = "demo") -> Ended:
    cut = tmp_path / "reel1.edl"
    cut.write_text(EDL)
    return _run(
        tmp_path, ["submit", str(cut), "--project", project, "--farm", "deadline", "--farm-config", str(config)]
    )


def _recorded_submissions(tmp_path: Path) -> list[object]:
    return [JobManifest.load(p).submission for p in sorted((tmp_path / "jobs").rglob("manifest.json"))]


# -- submit: a reply is a job only if it parses and carries a job id of Deadline's form ------------------------------

POST_REPLIES = {
    "not-json": ("{not json", 200, {}),
    "html-login-page": (LOGIN_PAGE, 200, {"Content-Type": "text/html"}),
    "sso-redirect-302": ("", 302, SSO),
    "sso-redirect-303": ("", 303, SSO),
    "json-without-id": ('{"ok": true}', 200, {}),
    "id-not-objectid": ('{"_id": "not-an-object-id"}', 200, {}),
    "id-too-short": ('{"_id": "5f1b2c3d4e5f"}', 200, {}),
    "id-upper-case-garbage": ('{"_id": "ZZZZZZZZZZZZZZZZZZZZZZZZ"}', 200, {}),
    "id-a-number": ('{"_id": 123456789012345678901234}', 200, {}),
    "bare-success-text": ("Success", 200, {}),
    "json-string": ('"Success"', 200, {}),
    "json-null": ("null", 200, {}),
    "json-list": ("[]", 200, {}),
    "empty-body": ("", 200, {}),
    "xml-error": ('<?xml version="1.0"?><error>proxy</error>', 200, {}),
}


@pytest.mark.parametrize("reply", list(POST_REPLIES), ids=list(POST_REPLIES))
def test_a_garbage_submission_reply_fails_the_batch(fake: FakeDeadline, tmp_path: Path, reply: str) -> None:
    body, status, headers = POST_REPLIES[reply]
    fake.answer_next(body, status=status, method="POST", path="/api/jobs", headers=headers)
    ended = _submit(tmp_path, _farm_yaml(tmp_path, fake.url))
    line = assert_one_error(ended)
    assert "rolled back" in line
    assert fake.jobs == {} and _recorded_submissions(tmp_path) == [None, None]
    assert LOGIN_PAGE not in ended.stdout


@pytest.mark.parametrize(
    "reply", ["html-after-the-job-was-made", "garbage-after-the-job-was-made", "redirect-after-the-job-was-made"]
)
def test_a_job_made_behind_a_garbage_reply_is_found_and_rolled_back(
    fake: FakeDeadline, tmp_path: Path, reply: str
) -> None:
    body, status, headers = {
        "html-after-the-job-was-made": (LOGIN_PAGE, 200, {}),
        "garbage-after-the-job-was-made": ("{not json", 200, {}),
        "redirect-after-the-job-was-made": ("", 302, SSO),
    }[reply]
    for _ in range(30):  # older jobs of other batches stay untouched
        fake.add_job({"Plugin": "AIRoto", "Name": "other", "BatchName": "other batch", "Frames": "1"})
    fake.answer_next(body, status=status, method="POST", path="/api/jobs", headers=headers, acted=True)
    ended = _submit(tmp_path, _farm_yaml(tmp_path, fake.url))
    assert "deleted 1 of 1 submitted jobs" in assert_one_error(ended)
    assert len(fake.jobs) == 30 and all(j["Props"]["Batch"] == "other batch" for j in fake.jobs.values())
    assert not [r for r in fake.requests_to("GET", "/api/jobs") if not r.query]  # never the whole queue


def test_a_garbage_reply_to_a_later_job_rolls_back_the_earlier_ones(fake: FakeDeadline, tmp_path: Path) -> None:
    fake.answer_next(LOGIN_PAGE, method="POST", path="/api/jobs", after=3)
    ended = _submit(tmp_path, _farm_yaml(tmp_path, fake.url))
    assert "deleted 3 of 3 submitted jobs" in assert_one_error(ended)
    assert fake.jobs == {} and _recorded_submissions(tmp_path) == [None, None]


# -- farm check | workers | queue on garbage -------------------------------------------------------------------------

GARBAGE = {
    "not-json": ("{not json", 200, {}),
    "html-login-page": (LOGIN_PAGE, 200, {}),
    "sso-redirect": ("", 302, SSO),
    "json-object-not-list": ('{"error": "nope"}', 200, {}),
    "json-number": ("42", 200, {}),
    "plain-text": ("Service Unavailable, try later", 200, {}),
}
LIST_OF_WRONG_ITEMS = {"/api/pools": "[1, 2, 3]", "/api/slaves": '["gpu01", "gpu02"]', "/api/jobs": '["x"]'}


ADMIN_READS = {"check": "/api/pools", "workers": "/api/slaves", "queue": "/api/jobs"}


@pytest.mark.parametrize("command", list(ADMIN_READS))
@pytest.mark.parametrize("reply", [*GARBAGE, "list-of-wrong-items"])
def test_farm_admin_command_on_garbage_is_one_error(
    fake: FakeDeadline, tmp_path: Path, reply: str, command: str
) -> None:
    """`farm check|workers|queue` when the one read they need gets garbage: one error line naming the endpoint."""
    path = ADMIN_READS[command]
    body, status, headers = GARBAGE.get(reply, (LIST_OF_WRONG_ITEMS[path], 200, {}))
    fake.answer_next(body, status=status, method="GET", path=path, headers=headers)
    ended = _run(tmp_path, ["farm", command, "--farm-config", str(_farm_yaml(tmp_path, fake.url))])
    assert path in assert_one_error(ended)


WORKER_FIELDS = {
    "info-and-settings-not-objects": '[{"Info": "gpu01", "Settings": 3}]',
    "fields-of-the-wrong-type": (
        '[{"Info": {"Name": "gpu01", "Stat": "abc", "VideoCard": 5, "GpuMemMB": "lots"},'
        ' "Settings": {"Conc": "x", "GpuAffinity": "0,1", "Pools": 7}}]'
    ),
    "no-gpu-field-at-all": '[{"Info": {"Name": "gpu01", "Stat": 2}, "Settings": {"Name": "gpu01", "Conc": 1}}]',
}


@pytest.mark.parametrize("reply", list(WORKER_FIELDS))
def test_farm_workers_never_crash_on_odd_fields(fake: FakeDeadline, tmp_path: Path, reply: str) -> None:
    fake.answer_next(WORKER_FIELDS[reply], method="GET", path="/api/slaves")
    ended = _run(tmp_path, ["farm", "workers", "--json", "--farm-config", str(_farm_yaml(tmp_path, fake.url))])
    assert ended.code == 0, ended.stderr
    (worker,) = json.loads(ended.stdout)
    assert worker["gpu_count"] is None or reply == "fields-of-the-wrong-type"  # unknown, never a made-up 0


TASK_REPLIES = {
    "tasks-not-a-list": ('{"ID": "x", "Tasks": "none"}', "/api/tasks"),
    "tasks-html": (LOGIN_PAGE, "/api/tasks"),
    "reports-text-message": ("No error reports for the Job Task", "/api/taskreports"),
    "reports-not-sectioned": ('["just some text", 5, null]', "/api/taskreports"),
}


@pytest.mark.parametrize("reply", list(TASK_REPLIES))
def test_farm_queue_on_garbage_tasks_and_reports(fake: FakeDeadline, tmp_path: Path, reply: str) -> None:
    job = fake.add_job({"Plugin": "AIRoto", "Name": "sh010 roto", "BatchName": "b", "Frames": "1-2", "ChunkSize": "1"})
    fake.set_task(job, 0, "Failed", worker="gpu01")
    body, path = TASK_REPLIES[reply]
    fake.answer_next(body, method="GET", path=path)
    ended = _run(tmp_path, ["farm", "queue", "--json", "--farm-config", str(_farm_yaml(tmp_path, fake.url))])
    if path == "/api/tasks":
        assert "/api/tasks" in assert_one_error(ended)
        return
    assert ended.code == 0, ended.stderr
    (failed,) = json.loads(ended.stdout)["batches"][0]["jobs"][0]["failed"]
    assert failed["last_error"] == ""  # a message or junk is no reason


# -- the Web Service URL and its TLS settings ------------------------------------------------------------------------

BAD_URLS = {
    "port-out-of-range": "http://127.0.0.1:99999",
    "port-not-a-number": "http://127.0.0.1:80a",
    "ipv6-unclosed": "http://[::1:8082",
    "ipv6-not-an-address": "http://[nothost]:8082",
    "host-with-space": "http://dead line:8082",
    "no-host": "http://:8082",
    "not-http": "ftp://deadline:8082",
    "no-scheme": "deadline:8082",
    "password-and-bad-port": f"http://render:{URL_SECRET}@127.0.0.1:99999",
    "password-and-no-service": f"http://render:{URL_SECRET}@127.0.0.1:9",
}


@pytest.mark.parametrize("name", list(BAD_URLS))
def test_a_bad_web_service_url_is_one_error(tmp_path: Path, name: str) -> None:
    config = _farm_yaml(tmp_path, BAD_URLS[name], connect_timeout_s=0.5)
    line = assert_one_error(_run(tmp_path, ["farm", "check", "--farm-config", str(config)]))
    assert URL_SECRET not in line


def test_credentials_in_the_url_are_redacted_when_the_service_refuses_them(fake: FakeDeadline, tmp_path: Path) -> None:
    url = fake.url.replace("http://", f"http://render:{URL_SECRET}@")
    config = _farm_yaml(tmp_path, url, user=None)
    line = assert_one_error(_run(tmp_path, ["farm", "check", "--farm-config", str(config)]))
    assert "401" in line and "***@" in line


@pytest.mark.parametrize("bundle", ["missing-file", "not-a-certificate"])
def test_a_bad_ca_bundle_is_one_error(fake: FakeDeadline, tmp_path: Path, bundle: str) -> None:
    path = tmp_path / "studio-ca.pem"
    if bundle == "not-a-certificate":
        path.write_text("this is not PEM\n")
    url = fake.url.replace("http://", "https://")
    config = _farm_yaml(tmp_path, url, ca_bundle=str(path), connect_timeout_s=2)
    line = assert_one_error(_run(tmp_path, ["farm", "check", "--farm-config", str(config)]))
    assert ("ca_bundle" in line) if bundle == "missing-file" else ("TLS" in line or "ca_bundle" in line)


# -- a quote in --project reaches the AIRoto command line as part of one argument -----------------------------------


@pytest.mark.parametrize("project", ['demo" --device "cuda:7', "demo' ; rm -rf ~ '", "demo $(reboot)"])
def test_a_quote_in_the_project_adds_no_worker_argument(fake: FakeDeadline, tmp_path: Path, project: str) -> None:
    cut = tmp_path / "reel1.edl"
    cut.write_text(EDL)
    config = _farm_yaml(tmp_path, fake.url)
    dry = tmp_path / "dry"
    args = ["submit", str(cut), "--project", project, "--farm", "deadline", "--dry-run", str(dry)]
    ended = _run(tmp_path, [*args, "--farm-config", str(config)])
    if ended.code != 0:  # the CLI may refuse such a project name outright
        assert_one_error(ended)
        return
    airoto = load_airoto()
    for body in sorted(dry.rglob("1_roto.json")):
        manifest = json.loads(body.read_text())["PluginInfo"]["Manifest"]
        for windows in (False, True):
            value = airoto.quote_argument(manifest, windows)
            line = airoto.expand_tokens(airoto.ROTO_ARGUMENTS, 1, 5, {"MANIFEST": value, "DEVICE": "auto"})
            assert split_command_line(line, windows) == ["run-chunk", manifest, "--frames", "1-5", "--device", "auto"]
