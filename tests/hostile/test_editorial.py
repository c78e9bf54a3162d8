"""Hostile editorial input to ``rotofarm ingest``, each one a real subprocess: one ``error:`` line and exit 2, or
success with the right shots; never a hang, a crash, or a traceback. Every case is bounded by the harness timeout."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.harness import assert_no_traceback, assert_one_error, run_rotofarm

TIMEOUT_S = 45
HEADER = "TITLE: HOSTILE\nFCM: NON-DROP FRAME\n\n"
EVENT = "001  A001 V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n* FROM CLIP NAME: {name}\n"


def _edl(tmp: Path, body: str = EVENT.format(name="sq010_sh010")) -> Path:
    path = tmp / "cut.edl"
    path.write_text(HEADER + body)
    return path


def _otio(tmp: Path, clip_name: str = "sq010_sh010") -> Path:
    import opentimelineio as otio

    clip = otio.schema.Clip(
        name=clip_name,
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24, 24)),
    )
    timeline = otio.schema.Timeline(name="hostile", tracks=[otio.schema.Track(children=[clip])])
    path = tmp / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def _fifo(tmp: Path) -> Path:
    path = tmp / "cut.edl"
    os.mkfifo(path)
    return path


def _mkdir(path: Path) -> bool:
    path.mkdir()
    return True


def _dev_zero(tmp: Path) -> Path:
    path = tmp / "cut.edl"
    path.symlink_to("/dev/zero")
    return path


def _huge_sparse(tmp: Path) -> Path:
    path = tmp / "cut.edl"
    with path.open("wb") as f:
        f.truncate(65 * 1024 * 1024)
    return path


def _nested_otio(tmp: Path) -> Path:
    path = tmp / "cut.otio"
    depth = 200_000
    path.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": ' + "[" * depth + "]" * depth + "}")
    return path


def _nested_stacks(tmp: Path) -> Path:
    """Valid OTIO schema all the way down: stacks in stacks, 5000 deep."""
    inner = '{"OTIO_SCHEMA": "Stack.1", "children": []}'
    for _ in range(5000):
        inner = '{"OTIO_SCHEMA": "Stack.1", "children": [' + inner + "]}"
    path = tmp / "cut.otio"
    path.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": ' + inner + "}")
    return path


def _sidecar(tmp: Path, text: str) -> Path:
    path = tmp / "prompts.yaml"
    path.write_text(text)
    return path


Case = tuple[Callable[[Path], list[str]], str | None]

# name → (arguments built in a temp folder, the text the one error line must contain; None: success expected)
CASES: dict[str, Case] = {
    "catastrophic --name-regex": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="a" * 40 + "!"))), "--name-regex", "(a|aa)+$"],
        "--name-regex",
    ),
    "catastrophic --sequence-regex": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="a" * 40 + "_x"))), "--sequence-regex", "^(a|aa)+$"],
        "--sequence-regex",
    ),
    "invalid --name-regex": (lambda t: ["ingest", str(_edl(t)), "--name-regex", "(unclosed"], "--name-regex"),
    "EDL path is a FIFO": (lambda t: ["ingest", str(_fifo(t))], "FIFO"),
    "--prompts is a FIFO": (
        lambda t: ["ingest", str(_edl(t)), "--prompts", str(_fifo(t / "prompts") if _mkdir(t / "prompts") else "")],
        "FIFO",
    ),
    "--prompts is /dev/zero behind a symlink": (
        lambda t: ["ingest", str(_edl(t)), "--prompts", str(_dev_zero(t / "prompts") if _mkdir(t / "prompts") else "")],
        "not a regular file",
    ),
    "--prompts is not UTF-8": (
        lambda t: ["ingest", str(_edl(t)), "--prompts", str(_write(t / "prompts.yaml", b"\xff\xfe\x00sh010:"))],
        "not UTF-8",
    ),
    "EDL path is /dev/zero behind a symlink": (lambda t: ["ingest", str(_dev_zero(t))], "not a regular file"),
    "EDL path is a folder": (lambda t: ["ingest", str((t / "dir.edl").mkdir() or t / "dir.edl")], "a folder"),
    "EDL over the size limit": (lambda t: ["ingest", str(_huge_sparse(t))], "limit"),
    "1,000,000-character OTIO clip name": (lambda t: ["ingest", str(_otio(t, "x" * 1_000_000))], "over the limit"),
    "20,000-character EDL clip name": (lambda t: ["ingest", str(_edl(t, EVENT.format(name="sq" * 10_000)))], "limit"),
    "deeply nested OTIO brackets": (lambda t: ["ingest", str(_nested_otio(t))], "nests"),
    "deeply nested OTIO stacks": (lambda t: ["ingest", str(_nested_stacks(t))], "nests"),
    "--fps NaN on an OTIO": (lambda t: ["ingest", str(_otio(t)), "--fps", "NaN"], "--fps"),
    "--fps inf on an OTIO": (lambda t: ["ingest", str(_otio(t)), "--fps", "inf"], "--fps"),
    "--fps 1e12": (lambda t: ["ingest", str(_otio(t)), "--fps", "1e12"], "--fps"),
    "--folder-template index out of range": (
        lambda t: ["ingest", str(_edl(t)), "--folder-template", "/{shot[99]}"],
        "--folder-template",
    ),
    "--folder-template bad format spec": (
        lambda t: ["ingest", str(_edl(t)), "--folder-template", "/{shot:zz}"],
        "--folder-template",
    ),
    "--folder-template attribute": (
        lambda t: ["ingest", str(_edl(t)), "--folder-template", "/{shot.__class__}"],
        "--folder-template",
    ),
    "--plates bad conversion": (lambda t: ["ingest", str(_edl(t)), "--plates", "/p/{shot!x}.####.exr"], "--plates"),
    "--track out of range": (lambda t: ["ingest", str(_edl(t)), "--track", "V7"], "--track"),
    "LOC prompt without a timecode": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="sq010_sh010") + "* LOC: RED roto: hero: man\n"))],
        ":6",
    ),
    "M2 speed -1e30": (
        lambda t: [
            "ingest",
            str(_edl(t, EVENT.format(name="sq010_sh010") + "M2   A001       -1e30                01:00:00:00\n")),
        ],
        "-1e30",
    ),
    "M2 speed not a number": (
        lambda t: [
            "ingest",
            str(_edl(t, EVENT.format(name="sq010_sh010") + "M2   A001       fast                 01:00:00:00\n")),
        ],
        "M2 speed",
    ),
    "M2 speed beyond the limit": (
        lambda t: [
            "ingest",
            str(_edl(t, EVENT.format(name="sq010_sh010") + "M2   A001       99999.0              01:00:00:00\n")),
        ],
        "limit",
    ),
    "event number repeated by a cut": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="sq010_sh010") + EVENT.format(name="sq010_sh020")))],
        ":6",
    ),
    "duplicate shot key in prompts YAML": (
        lambda t: [
            "ingest",
            str(_edl(t)),
            "--prompts",
            str(_sidecar(t, "sq010_sh010:\n  hero: [{frame: 1010, text: a}]\nsq010_sh010:\n  car: []\n")),
        ],
        "appears twice",
    ),
    "duplicate object key in prompts YAML": (
        lambda t: [
            "ingest",
            str(_edl(t)),
            "--prompts",
            str(_sidecar(t, "sq010_sh010:\n  hero: [{frame: 1010, text: a}]\n  hero: [{frame: 1011, text: b}]\n")),
        ],
        "appears twice",
    ),
    "binary prompts YAML": (
        lambda t: ["ingest", str(_edl(t)), "--prompts", str(_write(t / "prompts.yaml", b"\xff\xfe\x00\x81"))],
        "prompts",
    ),
    "binary garbage EDL": (lambda t: ["ingest", str(_write(t / "cut.edl", os.urandom(4096)))], "cut.edl"),
    "empty OTIO": (lambda t: ["ingest", str(_write(t / "cut.otio", b""))], "cut.otio"),
    "OTIO that is JSON but no timeline": (lambda t: ["ingest", str(_write(t / "cut.otio", b"{}"))], "cut.otio"),
    "text file named .aaf": (lambda t: ["ingest", str(_write(t / "cut.aaf", b"not an aaf"))], "cut.aaf"),
    "text file named .otioz": (lambda t: ["ingest", str(_write(t / "cut.otioz", b"not a zip"))], "cut.otioz"),
    "FCP XML with no sequence": (lambda t: ["ingest", str(_write(t / "cut.xml", b"<xmeml version='4'/>"))], "cut.xml"),
    "25 fps EDL read with --fps 24": (
        lambda t: [
            "ingest",
            str(
                _edl(
                    t,
                    EVENT.format(name="sh010").replace(
                        ":01:00 01:00:00:00 01:00:01:00", ":00:24 01:00:00:00 01:00:00:24"
                    ),
                )
            ),
            "--fps",
            "24",
        ],
        "at least 25 fps",
    ),
    "clip name that climbs out of the folder": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="../../etc/passwd"))), "--json"],
        None,
    ),
    "--sequence that climbs out of the folder": (
        lambda t: ["ingest", str(_edl(t)), "--sequence", "../..", "--json"],
        None,
    ),
    "OTIO clip with a newline in its name": (lambda t: ["ingest", str(_otio(t, "sh010\nerror: fake")), "--json"], None),
    "LOC note without a timecode": (
        lambda t: ["ingest", str(_edl(t, EVENT.format(name="sq010_sh010") + "* LOC: RED check the sky\n")), "--json"],
        None,
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_editorial_input(name, tmp_path):
    build, expected = CASES[name]
    args = build(tmp_path)
    ended = run_rotofarm(args, cwd=tmp_path, timeout=TIMEOUT_S)
    assert_no_traceback(ended)
    if expected is None:
        assert ended.code == 0, ended.stderr
        assert all(line.startswith("warning: ") for line in ended.error_lines), ended.error_lines
        if "--json" in args:
            shots = json.loads(ended.stdout)["shots"]
            assert shots
            for shot in shots:  # names are folder-safe whatever the clip or option said
                assert ".." not in shot["folder_path"] and "\n" not in shot["name"], shot["folder_path"]
    else:
        assert_one_error(ended, contains=expected)
