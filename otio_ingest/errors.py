"""The one error type of editorial ingest."""

from __future__ import annotations

from roto_core.errors import InputError


class EditorialError(InputError):
    """The cut (or its prompts sidecar) cannot become shots: unreadable, malformed, or inconsistent.

    ``path``/``line`` point at the editorial file and, where the format has lines, the line of the event at fault;
    ``where`` names the event, clip or marker.
    """


class ClipError(EditorialError):
    """An error about one clip of the cut; for an EDL, ingest then points it at the event's line."""
