"""The CLI's own behaviour: clean help, one rule for defaults, warnings and checks that run before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from submitters.cli import main

CUT = Path(__file__).resolve().parents[2] / "examples" / "cut.edl"


@pytest.mark.parametrize("command", [["submit"], ["ingest"], ["publish"], ["farm", "queue"], ["demo"], ["shapes"]])
def test_help_has_no_value_placeholder_on_flags_nor_braces_on_arguments(command: list[str], capsys) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "<bool>" not in out
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert "{" not in usage


def test_help_paragraphs_are_wrapped_by_the_terminal_not_by_the_source(monkeypatch, capsys) -> None:
    """The shapes command's second paragraph spans three source lines; on an 80-column terminal each of them used
    to end a printed line too, leaving stubs like "... from half its" on lines of their own."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["shapes", "--help"]) == 0
    out = capsys.readouterr().out
    assert any("from half its full scale up" in line for line in out.splitlines())


def test_farm_commands_default_to_the_farm_of_farm_yaml(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    (tmp_path / "jobs").mkdir()
    (folder / "farm.yaml").write_text(f"farm: local\njobs_root: {tmp_path / 'jobs'}\n")
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(folder))
    assert main(["farm", "queue"]) == 0
    assert "no roto jobs on the local farm" in capsys.readouterr().out
    (folder / "farm.yaml").write_text("farm: openjd-bundle\n")
    assert main(["submit", str(CUT), "--project", "p"]) == 2
    assert "--farm openjd-bundle needs --out" in capsys.readouterr().err


def test_ingest_without_plates_warns_that_plate_paths_are_unchecked(capsys) -> None:
    assert main(["ingest", str(CUT), "--json"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: plate paths come from the template") and "--plates" in err


def test_local_submit_reports_every_missing_plate_prompt_and_folder_at_once(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "submit",
            str(CUT),
            "--project",
            "p",
            "--farm",
            "local",
            "--jobs-root",
            str(tmp_path / "jobs"),
            "--tracker",
            "local",
            "--tracker-root",
            str(tmp_path / "tracker"),
            "--plates",
            str(tmp_path / "{shot}.####.exr"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    line = err[0]
    assert "nothing submitted" in line and "plate frame 1001 is missing" in line and "no prompt" in line
    assert not (tmp_path / "jobs").exists() and not (tmp_path / "tracker").exists()


def test_from_tracker_lookup_of_an_unknown_project_writes_nothing(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "submit",
            "--from-tracker",
            "/sq999",
            "--project",
            "p",
            "--tracker",
            "local",
            "--tracker-root",
            str(tmp_path / "tracker"),
            "--jobs-root",
            str(tmp_path / "jobs"),
        ]
    )
    assert code == 2 and "not in the local tracker" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_local_queue_shows_the_project_of_each_job(tmp_path: Path, capsys) -> None:
    jobs = tmp_path / "jobs"
    bundles = ["--farm", "openjd-bundle", "--out", str(tmp_path / "b"), "--jobs-root", str(jobs)]
    assert main(["submit", str(CUT), "--project", "proj_x", *bundles]) == 0
    capsys.readouterr()
    assert main(["farm", "queue", "--farm", "local", "--jobs-root", str(jobs)]) == 0
    out = capsys.readouterr().out
    assert "project" in out and "proj_x" in out


def test_one_line_strips_pydantic_url_input_dump_and_value_error_prefix() -> None:
    from pydantic import BaseModel, ValidationError, field_validator

    from submitters.cli.app import one_line

    class Model(BaseModel):
        fps: float

        @field_validator("fps")
        @classmethod
        def _positive(cls, v: float) -> float:
            if v <= 0:
                raise ValueError("fps must be above 0")
            return v

    with pytest.raises(ValidationError) as caught:
        Model(fps=-1)
    line = one_line(str(caught.value))
    assert "\n" not in line and "errors.pydantic.dev" not in line and "input_value" not in line
    assert "Value error, " not in line and "fps must be above 0" in line
