"""Copy files into the publish folder: temporary name, size + hash check, rename; undo on failure.

A reader of the publish folder (an artist's Nuke, a sync service) must never see half a file, and a publish that
fails must leave nothing it copied behind. A rerun after a kill finds files already in place with the right hash
and keeps them, so resuming costs only what was not yet copied.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from publish.errors import PublishError
from publish.hashing import digest, matches
from publish.layout import Transfer
from roto_core.atomic import remove_stale_temps, temp_path_for

Observer = Callable[[str, str], None]


def no_observer(step: str, detail: str) -> None:
    return None


class FileTransaction:
    """The copies of one version; ``rollback`` removes exactly the files this transaction put in place."""

    def __init__(self, transfers: Iterable[Transfer], observer: Observer = no_observer) -> None:
        self.transfers = tuple(transfers)
        self.observer = observer
        self.placed: list[Path] = []
        self._temps: list[Path] = []

    def run(self) -> None:
        for folder in {t.destination.parent for t in self.transfers}:
            remove_stale_temps(folder)
        for transfer in self.transfers:
            self._place(transfer)

    def _place(self, transfer: Transfer) -> None:
        dest, expected = transfer.destination, transfer.source.digest
        if matches(dest, expected):
            self.observer("kept", dest.name)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path_for(dest)
        self._temps.append(tmp)
        try:
            with open(transfer.source.path, "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise PublishError(f"cannot copy to the publish folder: {exc.strerror or exc}", path=dest) from None
        self.observer("copy", dest.name)
        got = digest(tmp)
        if got != expected:
            raise PublishError(
                f"copy check failed (size {got.size} vs {expected.size}, sha256 {got.sha256[:12]} vs "
                f"{expected.sha256[:12]}): the source changed or the storage corrupts writes",
                path=dest,
            )
        self.observer("verify", dest.name)
        os.replace(tmp, dest)
        self._temps.remove(tmp)
        self.placed.append(dest)
        self.observer("rename", dest.name)

    def rollback(self) -> None:
        """Remove what this transaction wrote, then the folders it left empty."""
        for path in [*self._temps, *self.placed]:
            path.unlink(missing_ok=True)
        for folder in sorted({t.destination.parent for t in self.transfers}, key=lambda p: -len(p.parts)):
            _remove_empty(folder)
        self._temps.clear()
        self.placed.clear()


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        return
