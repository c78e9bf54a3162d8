"""One video track → the clip uses on it, in frames: record range, transition overlap, retime, plate span.

OpenTimelineIO gives times as RationalTime in each item's own space; the shot builder wants plain frame counts on
the cut's record timeline and the plate's source timeline. This module does that conversion once, per clip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import opentimelineio as otio

from otio_ingest.errors import ClipError, EditorialError
from otio_ingest.reader import Cut


@dataclass
class ClipUse:
    """A clip as cut into the track. Record frames are absolute (timecode frames) at the clip's rate."""

    clip: otio.schema.Clip
    index: int
    rate: float
    record_in: int
    cut_frames: int
    head: int
    tail: int
    source_in: int
    speed: float = 1.0
    freeze: bool = False
    markers: list[otio.schema.Marker] = field(default_factory=list)

    @property
    def visible_frames(self) -> int:
        """Record frames the shot must cover: the cut plus the overlap of its transitions."""
        return self.head + self.cut_frames + self.tail

    @property
    def visible_record_in(self) -> int:
        return self.record_in - self.head

    @property
    def plate_frames(self) -> int:
        """Source frames the plate must hold: ``round(visible * |speed|)``, one for a freeze."""
        if self.freeze:
            return 1
        return max(1, round(self.visible_frames * abs(self.speed)))

    @property
    def plate_source_first(self) -> int:
        """Lowest source frame of the plate (a reverse plays down from its source in)."""
        first = self.source_in - round(self.head * abs(self.speed))
        return first - (self.plate_frames - 1) if self.speed < 0 and not self.freeze else first

    def plate_offset(self, record_offset: int) -> int:
        """Plate frame (0-based, source order) shown at ``record_offset`` frames after the visible record in."""
        if self.freeze:
            return 0
        offset = min(self.plate_frames - 1, round(record_offset * abs(self.speed)))
        return self.plate_frames - 1 - offset if self.speed < 0 else offset

    @property
    def retime(self) -> dict[str, object] | None:
        if self.freeze:
            return {"kind": "freeze", "speed": 0.0}
        if self.speed != 1.0:
            return {"kind": "reverse" if self.speed < 0 else "speed", "speed": self.speed}
        return None


def pick_track(cut: Cut, name: str | None) -> otio.schema.Track:
    """The track named ``name``, else the top video track (OTIO stacks bottom to top, so the last one)."""
    video = [t for t in cut.timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if name is not None:
        for track in cut.timeline.tracks:
            if track.name == name:
                return track
        names = ", ".join(repr(t.name) for t in cut.timeline.tracks) or "none"
        raise EditorialError(f"no track named {name!r} (tracks: {names})", path=cut.path, where="--track")
    if not video:
        raise EditorialError("has no video track", path=cut.path)
    return video[-1]


def clip_uses(cut: Cut, track: otio.schema.Track) -> list[ClipUse]:
    """Every clip of ``track`` that is picture: gaps, generators (black, bars) and empty clips are not shots."""
    record_origin = _record_origin(cut, track)
    uses = []
    for index, item in enumerate(track):
        if isinstance(item, otio.schema.Gap | otio.schema.Transition):
            continue
        if not isinstance(item, otio.schema.Clip):
            raise ClipError(
                f"item {index} of track {track.name!r} is a nested {type(item).__name__}; flatten it in the editor",
                path=cut.path,
                where=f"clip {item.name!r}",
            )
        if isinstance(item.media_reference, otio.schema.GeneratorReference):
            continue
        use = _clip_use(cut, item, index, record_origin)
        if use is not None:
            uses.append(use)
    return uses


def _frames(t: otio.opentime.RationalTime, rate: float) -> int:
    return round(t.value_rescaled_to(rate))


def _record_origin(cut: Cut, track: otio.schema.Track) -> otio.opentime.RationalTime:
    """Record time of the track's first frame: the timeline's start, shifted by the track's own trim.

    The cmx_3600 adapter stores an EDL's first record in as a negative track trim, so the same formula gives
    absolute record timecodes for EDLs and for formats that set a global start time.
    """
    origin = cut.timeline.global_start_time or otio.opentime.RationalTime(0, 24)
    if track.source_range is not None:
        origin = origin - track.source_range.start_time.rescaled_to(origin.rate)
    return origin


def _clip_use(
    cut: Cut, clip: otio.schema.Clip, index: int, record_origin: otio.opentime.RationalTime
) -> ClipUse | None:
    where = f"clip {clip.name!r}"
    try:
        trimmed = clip.trimmed_range()
        visible = clip.visible_range()
        in_parent = clip.range_in_parent()
    except Exception as exc:
        raise ClipError(f"has no usable range: {exc}", path=cut.path, where=where) from None
    rate = cut.rate or trimmed.duration.rate
    cut_frames = _frames(trimmed.duration, rate)
    if cut_frames < 0:
        raise ClipError("out point is before in point", path=cut.path, where=where)
    if cut_frames == 0:
        return None
    speed, freeze = _timing(cut, clip)
    return ClipUse(
        clip=clip,
        index=index,
        rate=rate,
        record_in=_frames(record_origin, rate) + _frames(in_parent.start_time, rate),
        cut_frames=cut_frames,
        head=_frames(trimmed.start_time - visible.start_time, rate),
        tail=_frames(visible.end_time_exclusive() - trimmed.end_time_exclusive(), rate),
        source_in=_frames(trimmed.start_time, rate),
        speed=speed,
        freeze=freeze,
        markers=list(clip.markers),
    )


def _timing(cut: Cut, clip: otio.schema.Clip) -> tuple[float, bool]:
    """(speed, freeze) from the clip's time effects; a time effect we cannot map to plate frames is an error."""
    speed = 1.0
    for effect in clip.effects:
        if isinstance(effect, otio.schema.LinearTimeWarp):
            speed *= effect.time_scalar
        elif isinstance(effect, otio.schema.TimeEffect):
            raise ClipError(
                f"time effect {effect.effect_name or type(effect).__name__!r} cannot be mapped to plate frames",
                path=cut.path,
                where=f"clip {clip.name!r}",
            )
    freeze = speed == 0.0 or any(isinstance(e, otio.schema.FreezeFrame) for e in clip.effects)
    return (0.0 if freeze else speed), freeze
