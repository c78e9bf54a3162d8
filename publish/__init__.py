"""Publish a finished roto job to a tracker (AYON or the embedded local one) as versioned products.

Entry points: ``publish_manifest`` (the ``rotofarm publish`` command and the farm's last job) and
``shotlist_from_tracker`` (``rotofarm submit --from-tracker``).
"""

from publish.errors import PublishError, TrackerUnavailable
from publish.integrate import PublishedVersion
from publish.pipeline import PublishResult, make_tracker, publish_manifest
from publish.shotlist import shotlist_from_tracker

__all__ = [
    "PublishError",
    "PublishResult",
    "PublishedVersion",
    "TrackerUnavailable",
    "make_tracker",
    "publish_manifest",
    "shotlist_from_tracker",
]
