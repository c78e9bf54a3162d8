"""One renderer per chunk: an exclusive OS file lock (``flock``) on ``chunks/A-B/lock``.

A farm can start the same chunk twice: Deadline requeues a task it thinks stalled while the first render is still
running, or a wrangler resubmits a task by hand. Two renders of one chunk would delete each other's temporaries
and race on the same final names. The first process takes the lock; a second one finds it held and stops before
it loads a model or touches a file.

Why ``flock`` on a file of its own: the kernel releases it when the holding process ends in any way (exit, kill
-9, OOM kill), so a crashed render never leaves a stale lock to clean by hand; Linux NFS clients carry ``flock``
out as a POSIX byte-range lock on the whole file at the server (``flock(2)`` NOTES; ``nfs(5)`` ``local_lock``,
default ``none``), so it also holds between farm nodes that share the job folder. The file is opened read-write
because an exclusive lock over NFS needs a descriptor open for writing (the same man page; FreeBSD's ``lockf -w``
exists for that reason). It stays in the chunk folder (deleting a lock file while another process waits on it
would let two holders in) and is emptied on release; while held it names the host and process, so the loser can
say who renders the chunk.

Why the loser exits ``BUSY_EXIT_CODE`` (75, ``EX_TEMPFAIL`` of ``sysexits.h``: "temporary failure, retry later")
and not 0: exit 0 would make Deadline mark the task complete while the chunk's masks are still being written —
or never written, if the other render then dies — and release the dependent finalize job on incomplete masks.
A non-zero exit fails this attempt of the task (the AIRoto plugin gives the ``error:`` line as the reason) and
Deadline counts an error and requeues the task, within the job's failure-detection limits; by then the other
render has finished (the rerun rewrites the same bytes) or died (the lock died with it, and the rerun renders
the chunk). Exit 2 is kept for bad input, which retrying does not fix.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType

from roto_core.errors import ChunkBusyError, storage_error

LOCK_NAME = "lock"
BUSY_EXIT_CODE = 75


class ChunkLock:
    """``with ChunkLock(chunk_dir):`` holds the chunk's lock or raises ``ChunkBusyError`` at once (no waiting)."""

    def __init__(self, chunk_dir: Path) -> None:
        self.path = Path(chunk_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise storage_error(exc, self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ChunkBusyError(
                f"the chunk is being rendered by another process{holder}; this task rendered nothing "
                f"and exits {BUSY_EXIT_CODE} so the farm retries it later",
                path=self.path.parent,
            ) from None
        self._fd = fd
        _set_text(fd, f"{socket.gethostname()} pid {os.getpid()}\n")

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _set_text(fd, "")
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def __enter__(self) -> ChunkLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _set_text(fd: int, text: str) -> None:
    """Best effort: who holds the lock is a courtesy for the loser's message, the lock itself is the flock."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" ({text.splitlines()[0]})" if text else ""
