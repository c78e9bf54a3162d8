"""`rotofarm demo`'s published .nk reads the matte files of its own publish (issue: it read the farm job folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from roto_core.exporters.nuke import read_nk
from roto_core.sequences import frame_path
from submitters.cli import main
from submitters.demo import PROJECT, SHOTS

pytestmark = pytest.mark.slow


def test_demo_published_nk_reads_the_published_mattes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    capsys.readouterr()
    for shot, _ in SHOTS:
        publish = out / "tracker" / PROJECT / "sq010" / shot / "publish"
        (nk,) = (publish / "matteshapes" / "rotoMain" / "v001").glob("*.nk")
        doc, read_path = read_nk(nk)
        assert read_path is not None and "/jobs/" not in read_path
        mattes = sorted((publish / "render" / "rotoMatteMain" / "v001").glob("*.exr"))
        assert Path(read_path).parent == mattes[0].parent.resolve()
        assert [frame_path(read_path, f) for f in range(doc.first_frame, doc.last_frame + 1)] == [
            m.resolve() for m in mattes
        ]
