"""Hostile configuration files, option values and output paths, each run as a real ``rotofarm`` subprocess.

Every case must end as exit 2 with exactly one ``error:`` line (no traceback, no pydantic help URL or input dump, no
``Value error,`` prefix), within the harness's time bound, having written nothing anywhere in its sandbox but the
files the test itself made (a refused submission creates no job folder, a refused dry run no request body).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.hostile.harness import REPO, assert_one_error, run_rotofarm, snapshot, written_outside

CUT = REPO / "examples" / "cut.edl"
Setup = Callable[[Path], tuple[list[str], dict[str, str]]]


@dataclass(frozen=True)
class Case:
    name: str
    setup: Setup
    contains: str


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _submit(tmp: Path, *extra: str) -> list[str]:
    return ["submit", str(CUT), "--project", "p", "--jobs-root", str(tmp / "jobs"), *extra]


def _farm_config(content: bytes | str | None = None, kind: str = "file") -> Setup:
    def setup(tmp: Path) -> tuple[list[str], dict[str, str]]:
        path = tmp / "farm.yaml"
        if kind == "dir":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "devzero":
            path.symlink_to("/dev/zero")
        else:
            _write(path, content or b"")
        return _submit(tmp, "--farm-config", str(path)), {}

    return setup


def _config_dir(name: str, content: bytes | str | None, args: Callable[[Path], list[str]]) -> Setup:
    """A studio config folder ($ROTOFARM_CONFIG_DIR) whose ``name`` is ``content`` (None: a folder)."""

    def setup(tmp: Path) -> tuple[list[str], dict[str, str]]:
        folder = tmp / "studio-configs"
        if content is None:
            (folder / name).mkdir(parents=True)
        else:
            _write(folder / name, content)
        return args(tmp), {"ROTOFARM_CONFIG_DIR": str(folder)}

    return setup


def _pipeline(**changes: object) -> str:
    data = yaml.safe_load((REPO / "configs" / "pipeline.yaml").read_text())
    data.update(changes)
    return yaml.safe_dump(data)


def _args(make: Callable[[Path], list[str]]) -> Setup:
    return lambda tmp: (make(tmp), {})


def _file(tmp: Path, name: str = "taken") -> Path:
    return _write(tmp / name, "I am a file\n")


BINARY = b"\xff\xfe\x00\x81jobs_root: \x9f\x00\xc3\x28\n"

CASES = [
    # configuration files
    Case("farm-binary", _farm_config(BINARY), "not UTF-8"),
    Case("farm-directory", _farm_config(kind="dir"), "is a folder"),
    Case("farm-fifo", _farm_config(kind="fifo"), "not a regular file"),
    Case("farm-dev-zero", _farm_config(kind="devzero"), "not a regular file"),
    Case("farm-list", _farm_config("- a\n- b\n"), "mapping"),
    Case("farm-bad-yaml", _farm_config("jobs_root: [unclosed\n"), "invalid YAML"),
    Case("farm-unknown-key", _farm_config("jobs_rot: /x\n"), "jobs_rot"),
    Case("farm-retries-99", _farm_config("deadline: {retries: 99}\n"), "deadline.retries"),
    Case("farm-white-and-black", _farm_config("roto_job: {whitelist: [a], blacklist: [b]}\n"), "whitelist"),
    Case("farm-batch-template", _farm_config("batch_name: '{nope}'\n"), "batch_name"),
    Case("farm-jobs-root-file", lambda t: ([*_submit(t), "--jobs-root", str(_file(t))], {}), "is a file"),
    Case("ingest-binary", _config_dir("ingest.yaml", BINARY, lambda t: ["ingest", str(CUT)]), "not UTF-8"),
    Case("ingest-directory", _config_dir("ingest.yaml", None, lambda t: ["ingest", str(CUT)]), "is a folder"),
    Case("pipeline-binary", _config_dir("pipeline.yaml", BINARY, lambda t: _submit(t)), "not UTF-8"),
    Case("pipeline-directory", _config_dir("pipeline.yaml", None, lambda t: _submit(t)), "is a folder"),
    Case(
        "pipeline-overlap",
        _config_dir("pipeline.yaml", _pipeline(overlap=60, chunk_size=50), lambda t: _submit(t)),
        "overlap",
    ),
    Case(
        "matting-without-model",
        _config_dir("pipeline.yaml", _pipeline(matting=True, matting_model=""), lambda t: _submit(t)),
        "matting_model",
    ),
    Case(
        "unknown-key-model",
        _config_dir("pipeline.yaml", _pipeline(backend="sam2", key_model="sam9_giant"), lambda t: _submit(t)),
        "sam9_giant",
    ),
    Case(
        "wrong-family-propagation",
        _config_dir("pipeline.yaml", _pipeline(propagation_model="sam2.1_hiera_tiny"), lambda t: _submit(t)),
        "not cutie",
    ),
    Case(
        "matting-model-is-sam2",
        _config_dir("pipeline.yaml", _pipeline(matting=True, matting_model="sam2.1_hiera_tiny"), lambda t: _submit(t)),
        "not vitmatte",
    ),
    Case(
        "models-binary",
        _config_dir("models.yaml", BINARY, lambda t: _submit(t)),
        "not UTF-8",
    ),
    Case("tracker-binary", _config_dir("tracker.yaml", BINARY, lambda t: _submit(t)), "tracker.yaml"),
    # option values
    Case("fps-nan", _args(lambda t: ["ingest", str(CUT), "--fps", "nan"]), "--fps"),
    Case("fps-inf", _args(lambda t: ["ingest", str(CUT), "--fps", "inf"]), "--fps"),
    Case("fps-text", _args(lambda t: ["ingest", str(CUT), "--fps", "text"]), "--fps"),
    Case("fps-nan-submit", _args(lambda t: [*_submit(t), "--fps", "NaN"]), "--fps"),
    Case("handles-negative", _args(lambda t: ["ingest", str(CUT), "--handles", "-1"]), "--handles"),
    Case("width-zero", _args(lambda t: ["ingest", str(CUT), "--width", "0"]), "--width"),
    Case("chunk-size-zero", _args(lambda t: [*_submit(t), "--chunk-size", "0"]), "--chunk-size"),
    Case(
        "tolerance-nan",
        _args(lambda t: ["shapes", "m.####.png", "--frames", "1-2", "--out", "o", "--tolerance", "nan"]),
        "tolerance",
    ),
    Case("unknown-option", _args(lambda t: ["ingest", str(CUT), "--colour", "red"]), "--colour"),
    Case("unknown-command", _args(lambda t: ["rotoscope"]), "rotoscope"),
    Case("farm-choice", _args(lambda t: [*_submit(t), "--farm", "tractor"]), "--farm"),
    # project names
    Case("project-dotdot", _args(lambda t: [*_submit(t)[:3], "../../x", *_submit(t)[4:]]), "project name"),
    Case("project-quote", _args(lambda t: [*_submit(t)[:3], 'a"b', *_submit(t)[4:]]), "project name"),
    Case(
        "project-slash-space", _args(lambda t: [*_submit(t)[:3], "bad project/name", *_submit(t)[4:]]), "project name"
    ),
    Case("project-empty", _args(lambda t: [*_submit(t)[:3], "", *_submit(t)[4:]]), "project name"),
    Case("project-absolute", _args(lambda t: [*_submit(t)[:3], "/etc", *_submit(t)[4:]]), "project name"),
    # output paths
    Case(
        "dry-run-is-file", _args(lambda t: [*_submit(t), "--farm", "deadline", "--dry-run", str(_file(t))]), "is a file"
    ),
    Case(
        "dry-run-under-file",
        _args(lambda t: [*_submit(t), "--farm", "deadline", "--dry-run", str(_file(t) / "d")]),
        "is a file",
    ),
    Case("dry-run-proc", _args(lambda t: [*_submit(t), "--farm", "deadline", "--dry-run", "/proc/nope"]), "/proc"),
    Case(
        "bundle-out-is-file",
        _args(lambda t: [*_submit(t), "--farm", "openjd-bundle", "--out", str(_file(t))]),
        "is a file",
    ),
    Case("jobs-root-under-file", _args(lambda t: [*_submit(t), "--jobs-root", str(_file(t) / "jobs")]), "is a file"),
    Case("jobs-root-proc", _args(lambda t: [*_submit(t), "--jobs-root", "/proc/rotofarm"]), "/proc"),
    Case("demo-out-is-file", _args(lambda t: ["demo", "--out", str(_file(t))]), "is a file"),
    Case("demo-out-proc", _args(lambda t: ["demo", "--out", "/proc/nope"]), "/proc"),
    Case("demo-out-sys", _args(lambda t: ["demo", "--out", "/sys/nope"]), "/sys"),
    Case("demo-out-under-file", _args(lambda t: ["demo", "--out", str(_file(t) / "sub")]), "is a file"),
    Case(
        "shapes-out-is-file",
        _args(lambda t: ["shapes", "m.####.png", "--frames", "1-2", "--out", str(_file(t))]),
        "is a file",
    ),
    Case(
        "shapes-out-proc",
        _args(lambda t: ["shapes", "m.####.png", "--frames", "1-2", "--out", "/proc/x"]),
        "/proc",
    ),
    Case(
        "shapes-mask-without-token",
        _args(lambda t: ["shapes", str(_file(t, "one.png")), "--frames", "1-5", "--out", "o"]),
        "frame token",
    ),
    Case(
        "eval-pred-without-token",
        _args(lambda t: ["eval", str(_file(t, "pred.exr")), "gt.####.exr"]),
        "frame token",
    ),
    Case(
        "roto-out-is-file",
        _args(lambda t: ["roto", "p.####.exr", "--frames", "1-2", "--out", str(_file(t)), "--box", "a@1=1,1,5,5"]),
        "is a file",
    ),
    Case(
        "roto-out-under-file",
        _args(
            lambda t: ["roto", "p.####.exr", "--frames", "1-2", "--out", str(_file(t) / "o"), "--box", "a@1=1,1,5,5"]
        ),
        "is a file",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_config_or_option_is_one_error_line_and_writes_nothing(case: Case, tmp_path: Path) -> None:
    args, env = case.setup(tmp_path)
    before = snapshot(tmp_path)
    ended = run_rotofarm(args, cwd=tmp_path, env=env)
    line = assert_one_error(ended, contains=case.contains)
    assert "errors.pydantic.dev" not in line and "input_value=" not in line and "Value error, " not in line
    assert written_outside(tmp_path, before, allowed=[]) == []
    assert not (tmp_path / "jobs").exists()
