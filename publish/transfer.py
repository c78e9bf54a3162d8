"""Copy files into the publish folder: temporary name, size + hash check, rename; undo on failure.

A reader of the publish folder (an artist's Nuke, a sync service) must never see half a file. A rerun after a
kill finds files already in place with the right hash and keeps them, so resuming costs only what was not yet
copied. Temporaries carry the host and process id of their writer: two processes of one job copy into the same
folder at once (a farm requeue), so only the temporaries of a writer that is gone are removed, never those of a
live twin.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from publish.errors import PublishError
from publish.hashing import digest, matches
from publish.layout import Transfer
from roto_core.atomic import TMP_MARK, is_temp_name

Observer = Callable[[str, str], None]

_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
_OWNER = re.compile(re.escape(TMP_MARK) + r"([A-Za-z0-9]+)-(\d+)-")
# A temporary of another machine is left alone this long: its writer may still be copying a large file.
FOREIGN_TEMP_AGE_S = 3600.0


def _temp_for(dest: Path) -> Path:
    return dest.with_name(f".{dest.stem}{TMP_MARK}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}{dest.suffix}")


def _writer_gone(path: Path) -> bool:
    match = _OWNER.search(path.name)
    if match and match.group(1) == _HOST:
        try:
            os.kill(int(match.group(2)), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError, ValueError):
            return False
        return False
    try:
        return time.time() - path.stat().st_mtime > FOREIGN_TEMP_AGE_S
    except OSError:
        return False


def remove_dead_temps(folder: Path) -> int:
    """Delete the temporaries in ``folder`` whose writer died (same host) or is long silent (another host)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    dead = [p for p in entries if is_temp_name(p) and p.is_file() and _writer_gone(p)]
    for path in dead:
        path.unlink(missing_ok=True)
    return len(dead)


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
            remove_dead_temps(folder)
        for transfer in self.transfers:
            self._place(transfer)

    def _place(self, transfer: Transfer) -> None:
        dest, expected = transfer.destination, transfer.source.digest
        try:
            if matches(dest, expected):
                self.observer("kept", dest.name)
                return
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_for(dest)
            self._temps.append(tmp)
            with open(transfer.source.path, "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise PublishError(f"cannot copy to the publish folder: {_reason(exc)}", path=dest) from None
        self.observer("copy", dest.name)
        try:
            got = digest(tmp)
        except OSError as exc:
            raise PublishError(f"cannot read back the copy: {_reason(exc)}", path=dest) from None
        if got != expected:
            raise PublishError(
                f"copy check failed (size {got.size} vs {expected.size}, sha256 {got.sha256[:12]} vs "
                f"{expected.sha256[:12]}): the source changed or the storage corrupts writes",
                path=dest,
            )
        self.observer("verify", dest.name)
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            raise PublishError(f"cannot rename into the publish folder: {_reason(exc)}", path=dest) from None
        self._temps.remove(tmp)
        self.placed.append(dest)
        self.observer("rename", dest.name)

    def rollback_temporaries(self) -> None:
        """Remove only half-written temporaries; complete files stay for the rerun of this job to keep."""
        for path in self._temps:
            path.unlink(missing_ok=True)
        self._temps.clear()

    def rollback(self) -> None:
        """Remove what this transaction wrote, then the folders it left empty."""
        for path in [*self._temps, *self.placed]:
            path.unlink(missing_ok=True)
        for folder in sorted({t.destination.parent for t in self.transfers}, key=lambda p: -len(p.parts)):
            _remove_empty(folder)
        self._temps.clear()
        self.placed.clear()


def _reason(exc: OSError) -> str:
    """One line: the OS's reason (``No space left on device``, ``Read-only file system``)."""
    return (exc.strerror or str(exc) or type(exc).__name__).splitlines()[0]


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        return
