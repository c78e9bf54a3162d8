"""``rotofarm publish``: the command the farm's last job runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from roto_core.contracts import JobManifest
from submitters.cli.app import main


def test_cli_publishes_then_reports_existing_on_rerun(
    manifest: JobManifest, publish_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = str(Path(manifest.output_dir) / "manifest.json")
    assert main(["publish", path, "--create-folders"]) == 0
    out, err = capfd.readouterr()
    assert "rotoMatteMain" in out and "v001" in out and "new" in out
    assert "published rotoMain v001" in out and err == ""  # stderr is kept for the one error line
    assert main(["publish", path]) == 0
    out, err = capfd.readouterr()
    assert "existing" in out and "already published by this job: rotoMain v001" in out


def test_cli_bad_input_is_one_error_line(
    tmp_path: Path, manifest: JobManifest, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", str(tmp_path / "missing.json")]) == 2
    _, err = capfd.readouterr()
    assert err.strip().startswith("error: ") and "missing.json" in err and len(err.strip().splitlines()) == 1
    path = str(Path(manifest.output_dir) / "manifest.json")
    assert main(["publish", path]) == 2
    _, err = capfd.readouterr()
    assert err.strip().splitlines() == [line for line in err.strip().splitlines() if line.startswith("error:")]
    assert "--create-folders" in err
