"""Which video track of a cut becomes shots, and what on it is switched off.

Editors number video tracks from the bottom (V1) up; OpenTimelineIO keeps that order (the last video track is the
top one). Premiere names every track ``''`` and Avid every slot ``TimelineMobSlot``, so a name alone often cannot
pick a track: ``--track`` takes ``V3`` or ``3`` (the third video track from the bottom) or a name that exactly one
video track has. Audio tracks are never picked.

Without ``--track`` the topmost enabled video track that has picture clips is read, and the tracks above it that
were passed over are named in a warning (a cut whose top track is an empty ``Video 8`` is common in Avid exports).

Disabled items: ``enabled`` of OpenTimelineIO (set by the AAF adapter for muted clips), and ``<enabled>FALSE``
of FCP 7 XML, which the fcp_xml adapter (otio-fcp-adapter 1.0.0) keeps only as ``metadata["fcp_xml"]["enabled"]``
without setting ``enabled`` (the upstream fix is not released), so it is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import opentimelineio as otio

from otio_ingest.errors import EditorialError
from otio_ingest.reader import Cut

_TRACK_NUMBER = re.compile(r"[Vv]?(\d+)")


@dataclass(frozen=True)
class PickedTrack:
    track: otio.schema.Track
    number: int

    @property
    def label(self) -> str:
        """``V2 'Video 2'``: the number editors use and the name the file gives."""
        return f"V{self.number} {self.track.name!r}"


def is_disabled(item: otio.core.Composable) -> bool:
    """Switched off in the editor: OTIO's ``enabled`` flag, or FCP 7 XML's ``<enabled>FALSE</enabled>``."""
    if not item.enabled:
        return True
    fcp = item.metadata.get("fcp_xml")  # an OTIO AnyDictionary, not a dict
    return fcp is not None and hasattr(fcp, "get") and str(fcp.get("enabled", "")).strip().upper() == "FALSE"


def is_picture_clip(item: otio.core.Composable) -> bool:
    """A clip that can be a shot: not a generator (black, bars, titles), not disabled."""
    return (
        isinstance(item, otio.schema.Clip)
        and not isinstance(item.media_reference, otio.schema.GeneratorReference)
        and not is_disabled(item)
    )


def pick_track(cut: Cut, spec: str | None, warnings: list[str]) -> PickedTrack:
    """The track ``spec`` names (``V3``, ``3`` or a unique name), else the topmost video track with clips."""
    video = [t for t in cut.timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not video:
        kinds = ", ".join(f"{t.kind} {t.name!r}" for t in cut.timeline.tracks) or "no tracks at all"
        raise EditorialError(f"has no video track ({kinds})", path=cut.path)
    picked = _by_spec(cut, video, spec) if spec is not None else _topmost_with_clips(cut, video)
    if spec is None:
        passed = [
            f"V{n} {t.name!r} ({'disabled' if is_disabled(t) else 'no clips'})"
            for n, t in enumerate(video, 1)
            if n > picked.number
        ]
        if passed:
            warnings.append(
                f"reading {picked.label}, the topmost video track with clips; passed over {', '.join(passed)}"
            )
    elif is_disabled(picked.track):
        raise EditorialError(f"track {picked.label} is disabled in the editor", path=cut.path, where="--track")
    return picked


def _topmost_with_clips(cut: Cut, video: list[otio.schema.Track]) -> PickedTrack:
    for number in range(len(video), 0, -1):
        track = video[number - 1]
        if not is_disabled(track) and any(is_picture_clip(clip) for clip in track.find_clips()):  # nests too
            return PickedTrack(track, number)
    clips = [clip for track in video for clip in track.find_clips()]
    generators = sum(isinstance(c.media_reference, otio.schema.GeneratorReference) for c in clips)
    disabled = sum(is_disabled(c) for c in clips) + sum(is_disabled(t) for t in video)
    found = f"{len(clips)} clips: {generators} generators, {disabled} disabled clips or tracks"
    raise EditorialError(
        f"no video track has enabled picture clips ({found}; tracks: {_listing(video)}); pick one with --track V<n>",
        path=cut.path,
    )


def _by_spec(cut: Cut, video: list[otio.schema.Track], spec: str) -> PickedTrack:
    number = _TRACK_NUMBER.fullmatch(spec.strip())
    if number is not None and not any(t.name == spec for t in video):
        n = int(number.group(1))
        if not 1 <= n <= len(video):
            raise EditorialError(
                f"there is no video track V{n}; the cut has V1-V{len(video)} ({_listing(video)})",
                path=cut.path,
                where="--track",
            )
        return PickedTrack(video[n - 1], n)
    named = [n for n, t in enumerate(video, 1) if t.name == spec]
    if len(named) == 1:
        return PickedTrack(video[named[0] - 1], named[0])
    if named:
        raise EditorialError(
            f"{len(named)} video tracks are named {spec!r}; pick one by number: --track V{named[0]} ... V{named[-1]}",
            path=cut.path,
            where="--track",
        )
    other = [t for t in cut.timeline.tracks if t.name == spec]
    if other:
        raise EditorialError(
            f"track {spec!r} is an {other[0].kind} track; --track picks a video track ({_listing(video)})",
            path=cut.path,
            where="--track",
        )
    raise EditorialError(
        f"no video track named {spec!r} (video tracks: {_listing(video)})", path=cut.path, where="--track"
    )


def _listing(video: list[otio.schema.Track]) -> str:
    shown = [f"V{n} {t.name!r}" for n, t in enumerate(video, 1)]
    return ", ".join(shown if len(shown) <= 8 else [*shown[:4], "...", *shown[-3:]])
