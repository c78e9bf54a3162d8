"""Who submits: recorded in the manifest at submit so that the version names the artist, not the farm's user.

A farm task runs as the render user (``$USER`` on the worker); the person who submitted is only known on the
submitting machine. For AYON it is the user the submitting key belongs to (``GET /api/users/me`` through
``ServerAPI.get_user()``); the publish then acts as that user (``X-as-user``) when it holds a service key.
"""

from __future__ import annotations

import getpass

from publish.errors import TrackerUnavailable


def submitting_user(tracker: str, configured: str | None = None) -> str | None:
    """The AYON user of this machine's key (tracker ``ayon``), else ``configured`` (farm.yaml ``user``), else the
    login of the person submitting."""
    if tracker == "ayon":
        from publish.ayon_tracker import AyonTracker

        try:
            user = AyonTracker.from_environment().con.get_user()
        except (TrackerUnavailable, OSError):
            user = None
        if user and user.get("name"):
            return str(user["name"])
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None
