"""FileTransaction: OS failures are one typed line; temporaries of a live twin are kept, a dead writer's removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publish import transfer
from publish.collect import SourceFile
from publish.errors import PublishError
from publish.hashing import digest
from publish.layout import Transfer
from publish.transfer import FileTransaction, remove_dead_temps
from roto_core.atomic import TMP_MARK


def _source(tmp_path: Path) -> SourceFile:
    src = tmp_path / "src.exr"
    src.write_bytes(b"exr" * 100)
    return SourceFile(src, digest(src))


def test_copy_that_the_os_refuses_is_one_typed_line(tmp_path: Path) -> None:
    blocker = tmp_path / "publish"
    blocker.write_text("a file where the version folder should be")
    files = FileTransaction([Transfer(_source(tmp_path), blocker / "v001" / "a.exr")])
    with pytest.raises(PublishError, match="cannot copy to the publish folder") as err:
        files.run()
    assert "\n" not in err.value.format()


def test_only_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_temp = tmp_path / f".a{TMP_MARK}{transfer._HOST}-{int(dead.stdout)}-0000abcd.exr"
    live_temp = tmp_path / f".b{TMP_MARK}{transfer._HOST}-{os.getpid()}-0000abcd.exr"
    foreign_fresh = tmp_path / f".c{TMP_MARK}otherhost-1-0000abcd.exr"
    for path in (dead_temp, live_temp, foreign_fresh):
        path.write_bytes(b"partial")
    assert remove_dead_temps(tmp_path) == 1
    assert not dead_temp.exists() and live_temp.exists() and foreign_fresh.exists()
    old = foreign_fresh.stat().st_mtime - 2 * transfer.FOREIGN_TEMP_AGE_S
    os.utime(foreign_fresh, (old, old))
    assert remove_dead_temps(tmp_path) == 1 and not foreign_fresh.exists()
