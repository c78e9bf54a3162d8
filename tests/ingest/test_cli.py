"""``rotofarm ingest`` through the CLI entry point: JSON on stdout, the table, exit codes, one-line errors."""

from pathlib import Path

import pytest

from roto_core.contracts import ShotList
from submitters.cli import main
from submitters.cli.ingest_options import ingest_options_from_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_json_is_exactly_a_shotlist(fixture_path, capsys):
    code = main(["ingest", str(fixture_path("retimes.edl")), "--json", "--handles", "4", "--start-frame", "101"])
    out = capsys.readouterr().out
    assert code == 0
    shotlist = ShotList.from_json(out)
    assert shotlist.source == str(fixture_path("retimes.edl"))
    assert [(s.first_frame, s.last_frame) for s in shotlist.shots][:3] == [
        (101, 101 + 48 + 8 - 1),
        (101, 120),
        (101, 109),
    ]


def test_table_lists_every_shot(fixture_path, capsys):
    assert main(["ingest", str(fixture_path("markers.edl"))]) == 0
    out = capsys.readouterr().out
    for text in ("sq050_sh010", "sq050_sh020", "1001-1088", "01:00:03:00", "2 (hero, umbrella)"):
        assert text in out


def test_example_cut_of_the_quick_start(capsys):
    code = main(["ingest", str(EXAMPLES / "cut.edl"), "--prompts", str(EXAMPLES / "prompts.yaml"), "--json"])
    assert code == 0
    shots = {s.name: s for s in ShotList.from_json(capsys.readouterr().out).shots}
    assert list(shots) == ["sq010_sh010", "sq010_sh020", "sq010_sh030", "sq010_sh040", "sq010_sh010_2"]
    assert shots["sq010_sh020"].metadata["retime"]["speed"] == 2.0
    assert shots["sq010_sh040"].metadata["retime"]["kind"] == "freeze"
    assert shots["sq010_sh030"].objects == ["dog"]


def test_options_flow_through(fixture_path, capsys):
    code = main(
        [
            "ingest",
            str(fixture_path("repeat.edl")),
            "--json",
            "--merge-repeats",
            "--sequence",
            "sq70",
            "--folder-template",
            "/ep01/{sequence}/{shot}",
            "--plates",
            "/p/{shot}.####.exr",
            "--width",
            "4096",
            "--height",
            "2160",
        ]
    )
    assert code == 0
    shots = ShotList.from_json(capsys.readouterr().out).shots
    assert [s.folder_path for s in shots] == ["/ep01/sq70/sq070_sh010", "/ep01/sq70/sq070_sh020"]
    assert shots[0].plate == "/p/sq070_sh010.####.exr"
    assert (shots[0].width, shots[0].height) == (4096, 2160)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nowhere.edl"], "error: nowhere.edl: file not found"),
        (["cut.mov"], "error: cut.mov: unknown editorial format '.mov'"),
        (["{bad}", "--plates", "/p/{shto}.####.exr"], "error: --plates: template names unknown key {shto}"),
        (["{bad}"], "error: {bad}:6: event 002: source out 01:00:10:00 is before source in 01:00:11:00"),
        (["{plain}", "--name-regex", "("], "error: --name-regex: invalid regular expression"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fixture_path, tmp_path, capsys, args, expected):
    bad = tmp_path / "bad.edl"
    bad.write_text(
        "TITLE: B\n\n001  A V     C        01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n* FROM CLIP NAME: sh010\n"
        "\n002  A V     C        01:00:11:00 01:00:10:00 01:00:01:00 01:00:02:00\n"
    )
    places = {"{bad}": str(bad), "{plain}": str(fixture_path("plain.edl"))}
    args = [places.get(a, a) for a in args]
    expected = expected.replace("{bad}", str(bad))
    code = main(["ingest", *args])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_options_from_cli_keep_config_defaults_for_unset_flags():
    options = ingest_options_from_cli(handles=2, fps=None, track=None)
    assert (options.handles, options.start_frame, options.fps) == (2, 1001, None)
    with pytest.raises(TypeError):
        ingest_options_from_cli(handels=2)
