"""The AIRoto Deadline plugin under the stand-in plugin API and the test worker."""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from submitters.admin.deadline_state import failure_reason
from submitters.deadline.jobs import job_requests
from submitters.plan import plan_submission
from tests.farm.deadline_plugin_api import PluginLoadError, TaskContext, split_command_line
from tests.farm.deadline_plugin_runner import AdvancedJob, check_python3_shebang, load_airoto, run_simple_task
from tests.farm.fake_deadline import TASK_STAT, FakeDeadline
from tests.farm.farm_worker import FarmWorker
from tests.farm.helpers import PIPELINE, farm_config, shotlist

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "farm_plugin" / "AIRoto"


@pytest.fixture(scope="module")
def airoto():
    return load_airoto()


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """An executable standing in for rotofarm: records argv and env, prints progress, fails when asked to."""
    script = tmp_path / "rotofarm"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
            import json, os, sys
            def record(**kw):
                with open(os.environ["RECORD_TO"], "a") as fh:
                    fh.write(json.dumps({"pid": os.getpid(), **kw}) + "\\n")
            record(argv=sys.argv[1:], env=dict(os.environ))
            if sys.argv[1] == "worker":
                for line in sys.stdin:
                    chunk = line.strip()
                    if not chunk:
                        break
                    record(chunk=chunk)
                    print("Progress: 40%", flush=True)
                    if os.environ.get("CRASH_ON") == chunk:
                        sys.exit(9)
                    if os.environ.get("FAIL_ON") == chunk:
                        print(f"FAILED {chunk}: frame 1030: plate missing", flush=True)
                    else:
                        print(f"DONE {chunk}", flush=True)
                sys.exit(0)
            for p in (25, 50, 100):
                print(f"Progress: {p}%", flush=True)
            if os.environ.get("FAIL_WITH"):
                print("error: " + os.environ["FAIL_WITH"], file=sys.stderr, flush=True)
                sys.exit(2)
            """
        )
    )
    script.chmod(0o755)
    return script


def _ctx(recorder: Path, tmp_path: Path, **kw) -> TaskContext:
    base = dict(
        job_id="j1",
        start=1001,
        end=1025,
        plugin_info={"Mode": "roto", "Manifest": "/jobs/demo/sh 010/m.json", "Device": "cuda:0", "GPUsPerTask": "1"},
        plugin_config={"RotofarmExecutable": f"/nonexistent/rotofarm;{recorder}", "AyonApiKey": "key-from-config"},
        job_environment={"RECORD_TO": str(tmp_path / "calls.jsonl"), "AYON_PROJECT_NAME": "demo"},
    )
    base.update(kw)
    return TaskContext(**base)


def _calls(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_roto_task_command_line_progress_and_environment(airoto, recorder: Path, tmp_path: Path) -> None:
    result = run_simple_task(airoto, _ctx(recorder, tmp_path, thread=2))
    assert result.ok, result.error
    (call,) = _calls(tmp_path)
    assert call["argv"] == ["run-chunk", "/jobs/demo/sh 010/m.json", "--frames", "1001-1025", "--device", "cuda:0"]
    assert call["env"]["CUDA_VISIBLE_DEVICES"] == "2"  # thread 2 × 1 GPU per task
    assert call["env"]["AYON_API_KEY"] == "key-from-config" and call["env"]["AYON_PROJECT_NAME"] == "demo"
    assert result.plugin.progress == [25.0, 50.0, 100.0]
    assert result.leaked == []


def test_worker_gpu_affinity_wins_over_the_thread_number(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path, thread=1, override_gpu_affinity=True, gpu_affinity=[4, 5, 6, 7])
    ctx.plugin_info["GPUsPerTask"] = "2"
    assert run_simple_task(airoto, ctx).ok
    assert _calls(tmp_path)[0]["env"]["CUDA_VISIBLE_DEVICES"] == "6,7"


def test_select_gpus_rules(airoto) -> None:
    assert airoto.select_gpus(1, 3, False, [], "") == [3]
    assert airoto.select_gpus(2, 1, False, [], "") == [2, 3]
    assert airoto.select_gpus(0, 0, False, [], "") is None
    assert airoto.select_gpus(1, 0, True, [2, 3], "") == [2]
    assert airoto.select_gpus(0, 0, True, [2, 3], "3,9") == [3]
    with pytest.raises(ValueError, match="outside this worker's GPU affinity"):
        airoto.select_gpus(1, 0, True, [0, 1], "5")


def test_frame_tokens(airoto) -> None:
    text = airoto.expand_tokens("<QUOTE>a<QUOTE> <STARTFRAME%4>-<ENDFRAME> <X>", 7, 12, {"X": "y"})
    assert text == '"a" 0007-12 y'


def test_non_zero_exit_fails_the_task_with_the_error_line(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path)
    ctx.job_environment["FAIL_WITH"] = "/plates/sh010.1003.exr: frame 1003: file is missing"
    result = run_simple_task(airoto, ctx)
    assert not result.ok and result.exit_code == 2
    assert result.error == "rotofarm exited with code 2: /plates/sh010.1003.exr: frame 1003: file is missing"
    assert result.leaked == []


def test_missing_executable_fails_naming_the_config_key(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path, plugin_config={"RotofarmExecutable": "/nope/rotofarm"})
    result = run_simple_task(airoto, ctx)
    assert not result.ok and "RotofarmExecutable" in result.error and result.argv == []


def test_finalize_job_runs_one_step_per_frame(airoto, recorder: Path, tmp_path: Path) -> None:
    info = {"Mode": "finalize", "Manifest": "/j/m.json", "Steps": "finalize,publish", "Tracker": "ayon"}
    for frame in (0, 1):
        result = run_simple_task(airoto, _ctx(recorder, tmp_path, start=frame, end=frame, plugin_info=info))
        assert result.ok
        assert "CUDA_VISIBLE_DEVICES" not in result.plugin.process_env  # a CPU step gets no GPU
    assert [c["argv"] for c in _calls(tmp_path)] == [
        ["finalize", "/j/m.json"],
        ["publish", "/j/m.json", "--tracker", "ayon"],
    ]


def test_the_key_never_comes_from_the_job(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path, plugin_config={"RotofarmExecutable": str(recorder)})
    ctx.plugin_info["AyonApiKey"] = "key-smuggled-in-the-job"
    ctx.plugin_info["Tracker"] = "ayon"
    result = run_simple_task(airoto, ctx)
    assert result.ok
    assert "AYON_API_KEY" not in result.plugin.process_env
    assert any("AyonApiKey is empty" in line for line in result.plugin.log)


def test_plugin_files_are_complete() -> None:
    names = sorted(p.name for p in PLUGIN_DIR.iterdir())
    assert names == ["AIRoto.dlinit", "AIRoto.options", "AIRoto.param", "AIRoto.py", "README.md"]
    param = (PLUGIN_DIR / "AIRoto.param").read_text()
    for key in ("[RotofarmExecutable]", "[AyonApiKey]", "Type=password"):
        assert key in param
    assert "ConcurrentTasks=True" in (PLUGIN_DIR / "AIRoto.dlinit").read_text()
    assert "import submitters" not in (PLUGIN_DIR / "AIRoto.py").read_text()


def test_worker_pulls_tasks_in_order_and_errors_reach_the_job_report(
    deadline: FakeDeadline, recorder: Path, tmp_path: Path
) -> None:
    deadline.add_worker("gpu01", pools=["roto"], groups=["gpu"], gpus=2, gpu_affinity=[1])
    job_id = deadline.add_job(
        {
            "Plugin": "AIRoto",
            "Name": "sh010 roto",
            "Frames": "1-9",
            "ChunkSize": "3",
            "Sequential": "True",
            "Pool": "roto",
            "Group": "gpu",
            "OverrideTaskFailureDetection": "True",
            "FailureDetectionTaskErrors": "1",
            "EnvironmentKeyValue0": f"RECORD_TO={tmp_path / 'calls.jsonl'}",
        },
        {"Mode": "roto", "Manifest": "/j/m.json", "Device": "auto", "GPUsPerTask": "1"},
    )
    worker = FarmWorker(deadline, "gpu01", {"RotofarmExecutable": str(recorder)})
    assert len(worker.run_until_idle()) == 3
    calls = _calls(tmp_path)
    assert [c["argv"][3] for c in calls] == ["1-3", "4-6", "7-9"]
    assert {c["env"]["CUDA_VISIBLE_DEVICES"] for c in calls} == {"1"}
    assert {t["Stat"] for t in deadline.tasks[job_id]} == {TASK_STAT["Completed"]}

    failing = deadline.add_job(
        {
            "Plugin": "AIRoto",
            "Name": "sh020 roto",
            "Frames": "1-2",
            "ChunkSize": "2",
            "Pool": "roto",
            "OverrideTaskFailureDetection": "True",
            "FailureDetectionTaskErrors": "1",
            "EnvironmentKeyValue0": f"RECORD_TO={tmp_path / 'calls.jsonl'}",
            "EnvironmentKeyValue1": "FAIL_WITH=boom",
        },
        {"Mode": "roto", "Manifest": "/j/m.json"},
    )
    worker.run_until_idle()
    assert deadline.tasks[failing][0]["Stat"] == TASK_STAT["Failed"]
    report = deadline.reports[failing][0]
    assert report["Type"] == "error" and failure_reason([report["Contents"]]) == "rotofarm exited with code 2: boom"


def test_every_plugin_info_key_the_submitter_writes_is_declared_in_the_options(tmp_path: Path) -> None:
    options = configparser.ConfigParser(interpolation=None)
    options.optionxform = str
    options.read(PLUGIN_DIR / "AIRoto.options")
    config = farm_config(tmp_path)
    plan = plan_submission(shotlist(1), "demo", config, PIPELINE)
    written = {k for req in job_requests(plan, plan.shots[0], config) for k in req.plugin_info}
    assert written <= set(options.sections()), written - set(options.sections())
    param = configparser.ConfigParser(interpolation=None)
    param.read(PLUGIN_DIR / "AIRoto.param")
    assert all(param[s]["Type"] for s in param.sections())


def _persistent_ctx(recorder: Path, tmp_path: Path, start: int, end: int, **env: str) -> TaskContext:
    ctx = _ctx(recorder, tmp_path, start=start, end=end, thread=1)
    ctx.plugin_info["PersistentWorker"] = "True"
    ctx.job_environment.update(env)
    return ctx


def test_persistent_worker_keeps_one_process_for_the_job(airoto, recorder: Path, tmp_path: Path) -> None:
    job = AdvancedJob(airoto, _persistent_ctx(recorder, tmp_path, 1001, 1025))
    first = job.render(_persistent_ctx(recorder, tmp_path, 1001, 1025))
    second = job.render(_persistent_ctx(recorder, tmp_path, 1026, 1050))
    job.close()
    assert first.ok and second.ok, first.error + second.error
    calls = _calls(tmp_path)
    assert calls[0]["argv"] == ["worker", "/jobs/demo/sh 010/m.json", "--device", "cuda:0"]
    assert calls[0]["env"]["CUDA_VISIBLE_DEVICES"] == "1" and calls[0]["env"]["AYON_API_KEY"] == "key-from-config"
    assert [c["chunk"] for c in calls[1:]] == ["1001-1025", "1026-1050"]
    assert {c["pid"] for c in calls} == {calls[0]["pid"]}  # one process, models loaded once
    assert second.plugin.progress == [40.0]
    assert job.leaked == [] and job.processes_left == []  # EndJob closed its input and the worker exited


def test_persistent_worker_failures_fail_the_task_with_the_reason(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _persistent_ctx(recorder, tmp_path, 1026, 1050, FAIL_ON="1026-1050")
    job = AdvancedJob(airoto, ctx)
    result = job.render(ctx)
    job.close()
    assert not result.ok and result.error == "rotofarm worker failed 1026-1050: frame 1030: plate missing"
    crash = _persistent_ctx(recorder, tmp_path, 1001, 1025, CRASH_ON="1001-1025")
    job = AdvancedJob(airoto, crash)
    result = job.render(crash)
    job.close()
    assert not result.ok and "has exited" in result.error and job.leaked == []


# -- Deadline 10.3's plugin layout (issue: the plugin would not load on a real worker) -------------------------------


def _variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    """A copy of AIRoto.py with one change, to show the stand-in refuses what a real Deadline 10.3 would."""
    source = (PLUGIN_DIR / "AIRoto.py").read_text()
    assert source.count(old) == count, old
    path = tmp_path / "AIRoto.py"
    path.write_text(source.replace(old, new))
    return path


def test_the_plugin_file_is_python3_with_the_shebang_deadline_needs() -> None:
    path = PLUGIN_DIR / "AIRoto.py"
    check_python3_shebang(path)
    compile(path.read_text(), str(path), "exec")  # valid Python 3, as Deadline 10.3 runs it


@pytest.mark.parametrize(
    "first_line",
    ["", "# -*- coding: utf-8 -*-", "#!/usr/bin/env python", "#!/usr/bin/python3", " #!/usr/bin/env python3"],
)
def test_a_plugin_file_without_the_python3_shebang_is_refused(tmp_path: Path, first_line: str) -> None:
    path = _variant(tmp_path, "#!/usr/bin/env python3\n", first_line + "\n" if first_line else "")
    with pytest.raises(PluginLoadError, match="Python 2"):
        load_airoto(path)


def test_managed_process_is_not_in_deadline_plugins(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "from Deadline.Plugins import DeadlinePlugin, PluginType",
        "from Deadline.Plugins import DeadlinePlugin, ManagedProcess, PluginType",
    )
    with pytest.raises(ImportError, match="ManagedProcess"):
        load_airoto(path)


@pytest.mark.parametrize("which", [0, 1], ids=["plugin", "managed-process"])
def test_a_class_that_skips_the_base_initialiser_fails(tmp_path: Path, which: int, recorder: Path) -> None:
    source = (PLUGIN_DIR / "AIRoto.py").read_text()
    marks = [i for i in range(len(source)) if source.startswith("        super().__init__()\n", i)]
    assert len(marks) == 2
    path = tmp_path / "AIRoto.py"
    path.write_text(source[: marks[which]] + source[marks[which] + len("        super().__init__()\n") :])
    module = load_airoto(path)
    ctx = _persistent_ctx(recorder, tmp_path, 1, 5)
    with pytest.raises(AttributeError, match="Callback"):
        job = AdvancedJob(module, ctx)
        job.render(ctx)


# -- command lines: quoting for the worker's OS, extra arguments on both paths ---------------------------------------

HOSTILE_MANIFEST = '/jobs/x" --device "cuda:9/sh 010/it\'s \\m.json'


@pytest.mark.parametrize("windows", [False, True], ids=["posix", "windows"])
def test_a_quote_in_the_manifest_path_adds_no_argument(airoto, windows: bool) -> None:
    manifest = HOSTILE_MANIFEST if not windows else HOSTILE_MANIFEST.replace("/", "\\")
    line = airoto.expand_tokens(airoto.ROTO_ARGUMENTS, 1, 5, {"MANIFEST": airoto.quote_argument(manifest, windows)})
    assert split_command_line(line, windows) == ["run-chunk", manifest, "--frames", "1-5", "--device", "<DEVICE>"]


def test_a_simple_task_keeps_a_hostile_manifest_path_as_one_argument(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path)
    ctx.plugin_info["Manifest"] = HOSTILE_MANIFEST
    assert run_simple_task(airoto, ctx).ok
    assert _calls(tmp_path)[0]["argv"][:2] == ["run-chunk", HOSTILE_MANIFEST]


def test_windows_worker_gets_a_windows_command_line(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path, windows=True)
    ctx.plugin_info["Manifest"] = "J:\\jobs\\demo\\sh 010\\"
    ctx.plugin_config["ExtraArguments"] = '--log-dir "D:\\logs\\\\"'  # the admin's own Windows quoting
    result = run_simple_task(airoto, ctx)
    assert result.ok, result.error
    argv = _calls(tmp_path)[0]["argv"]
    assert argv[:2] == ["run-chunk", "J:\\jobs\\demo\\sh 010\\"] and argv[-2:] == ["--log-dir", "D:\\logs\\"]


def test_extra_arguments_reach_the_persistent_worker(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _persistent_ctx(recorder, tmp_path, 1001, 1025)
    ctx.plugin_config["ExtraArguments"] = "--verbose"
    job = AdvancedJob(airoto, ctx)
    result = job.render(ctx)
    job.close()
    assert result.ok, result.error
    assert _calls(tmp_path)[0]["argv"] == ["worker", "/jobs/demo/sh 010/m.json", "--device", "cuda:0", "--verbose"]


# -- GPUs: a task given GPUs never falls back to the CPU silently ---------------------------------------------------


def test_a_task_given_gpus_asks_rotofarm_for_cuda_not_auto(airoto, recorder: Path, tmp_path: Path) -> None:
    ctx = _ctx(recorder, tmp_path, thread=3)
    ctx.plugin_info["Device"] = "auto"
    ctx.job_environment["FAIL_WITH"] = "device cuda: CUDA device 'cuda' asked for, but torch sees no CUDA device"
    result = run_simple_task(airoto, ctx)
    (call,) = _calls(tmp_path)
    assert call["argv"][-2:] == ["--device", "cuda"] and call["env"]["CUDA_VISIBLE_DEVICES"] == "3"
    assert not result.ok and result.error.endswith("(the task was given CUDA_VISIBLE_DEVICES=3 on thread 3)")
    cpu = _ctx(recorder, tmp_path, plugin_info={"Mode": "roto", "Manifest": "/j/m.json", "Device": "auto"})
    assert run_simple_task(airoto, cpu).ok
    assert _calls(tmp_path)[1]["argv"][-2:] == ["--device", "auto"]  # a CPU job keeps auto


def test_rotofarm_refuses_cuda_when_the_given_gpu_is_not_there(tmp_path: Path) -> None:
    """What the plugin relies on: rotofarm's own device check fails with a typed error, not a CPU fallback."""
    code = "from roto_core.backends import resolve_device; resolve_device('cuda')"
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": "99"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0 and "ModelError" in proc.stderr and "asked for" in proc.stderr
