"""Typed errors of the publish step.

A publish runs as the last farm task of a shot; its log line must say what to fix (a folder to create, a server
to start, a key to renew) without a traceback and without ever echoing a credential.
"""

from __future__ import annotations

from roto_core.errors import RotofarmError


class PublishError(RotofarmError):
    """The tracker refused the publish or the publish could not finish."""


class TrackerUnavailable(PublishError):
    """The tracker cannot be reached or refuses our credentials; nothing was copied."""


class VersionTaken(Exception):
    """Another publisher created this version number first (a unique violation): take the next one."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"version {version} is taken")


class AlreadyPublished(Exception):
    """The tracker already holds this job's version of the product (its id, derived from the job, exists)."""

    def __init__(self, version_id: str) -> None:
        self.version_id = version_id
        super().__init__(f"version {version_id} exists")
