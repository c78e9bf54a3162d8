"""Version numbers claimed on the publish storage before any file is copied, and ids derived from the job.

Two rules keep "one farm job → one version" true under any interleaving of publishers (a farm requeue runs the
publish task again while the first one is still copying):

* The version entity's id is derived from (project, folder, product, job id). The tracker's primary key then
  refuses a second version of the same job, whatever number it would carry: AYON answers 409
  ``Version with id '…' already exists.`` (checked on a real 1.16 server), SQLite ``UNIQUE constraint failed:
  versions.id``.
* Files are copied before the version exists, so the number has to be owned before the copy starts, or two jobs
  would write the same ``v004`` files. A claim is a small file ``v0004`` under ``{root}/.rotofarm/claims/<product
  key>/`` holding the claiming job id, created with ``link(2)`` (atomic, fails if it exists, also on NFS), so
  exactly one job owns a number. The same job finds its own claim again and reuses it (a rerun after a kill, or
  a second process of the same job, which then copies byte-identical files to the same paths).

A claim outlives its publish on purpose: removing it would let a publisher that read the tracker a moment before
the version appeared claim the number again and overwrite the published files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import uuid
from pathlib import Path

from publish.errors import PublishError
from roto_core.atomic import temp_path_for

_NAMESPACE = uuid.UUID("7a1c3f0e-5b0d-4e55-9a51-2f6f0e1d9c3a")
_CLAIM = re.compile(r"^v(\d{1,9})$")


def version_id_for(project: str, folder_path: str, product: str, job_id: str) -> str:
    """A 32-hex-digit entity id (AYON's id form) that only this job's version of this product can have."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join((project, folder_path, product, job_id))).hex


def representation_id_for(version_id: str, name: str) -> str:
    return uuid.uuid5(_NAMESPACE, f"{version_id}\x1f{name}").hex


class NumberClaims:
    """The claimed version numbers of one product, as files below ``claims_root``."""

    def __init__(self, claims_root: Path, project: str, folder_path: str, product: str) -> None:
        key = hashlib.sha256("\x1f".join((project, folder_path, product)).encode()).hexdigest()[:32]
        self.folder = claims_root / key

    def _claims(self) -> dict[int, Path]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PublishError(f"cannot read the version claims: {exc.strerror or exc}", path=self.folder) from None
        return {int(m.group(1)): self.folder / n for n in names if (m := _CLAIM.match(n))}

    def owner(self, number: int) -> str | None:
        try:
            return (self.folder / f"v{number:04d}").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise PublishError(f"unreadable version claim: {exc}", path=self.folder / f"v{number:04d}") from None

    def claimed_by(self, job_id: str) -> int | None:
        """The number this job claimed before (a rerun after a kill, or a twin process), if any."""
        return next((n for n in sorted(self._claims()) if self.owner(n) == job_id), None)

    def highest(self) -> int:
        return max(self._claims(), default=0)

    def try_claim(self, number: int, job_id: str) -> bool:
        """Own ``number`` for ``job_id``; True also when this job owns it already."""
        claim = self.folder / f"v{number:04d}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = temp_path_for(claim)
            tmp.write_text(job_id + "\n", encoding="utf-8")
            try:
                os.link(tmp, claim)
            except FileExistsError:
                return self.owner(number) == job_id
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise PublishError("no space left on the publish storage", path=self.folder) from None
            raise PublishError(f"cannot claim a version number: {exc.strerror or exc}", path=self.folder) from None
        return True

    def release(self, number: int, job_id: str) -> None:
        """Give a number back (only when the tracker itself refused it to another tool's version)."""
        if self.owner(number) == job_id:
            (self.folder / f"v{number:04d}").unlink(missing_ok=True)
