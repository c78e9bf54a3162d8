"""One video track → the clip uses on it, in frames: record range, transition overlap, retime, plate span.

OpenTimelineIO gives times as RationalTime in each item's own space; the shot builder wants plain frame counts on
the cut's record timeline and the plate's source timeline, all at the cut's rate (the timeline's, not a clip's:
a 15 fps clip in a 30 fps sequence still occupies 30 fps record frames). This module does that conversion once.

Source frames of a retimed clip. The plate is the source frames the cut plays, in source order:

- forward: from the clip's source in, ``round(cut × speed)`` frames (an EDL states the span itself, as source
  in → source out, and that span is used: rounding can add a frame or two the editor never cut);
- reverse: the clip's source range covers the frames played, played from its last frame down to its first.
  Avid's reference render of ``misc_speed_effects.aaf`` (otio-aaf-adapter sample data) plays the reverse clip
  with source range 86424 + 8 frames as 86431, 86430 … 86424; an EDL event states the same span as source in/out
  (written high → low for a reverse), and its lower timecode is the plate's first frame;
- freeze: one frame.

Transition overlap (a dissolve's head/tail) reaches past the cut into the media; where the media's available range
is known it is clamped to it and the clamp is reported, so one clip cut at its media's first frame does not fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import opentimelineio as otio

from otio_ingest.bounds import check_name_length
from otio_ingest.errors import ClipError, EditorialError
from otio_ingest.reader import Cut
from otio_ingest.tracks import PickedTrack, is_disabled

_NO_END = 2**62
_MAX_NESTED = 32
_ZERO = otio.opentime.RationalTime()
_SPEED_MAP = "PARAM_SPEED_MAP_U"
_OFFSET_MAPS = ("PARAM_OFFSET_MAP_U", "PARAM_SPEED_OFFSET_MAP_U")


@dataclass
class ClipUse:
    """A clip as cut into the track. Record frames are absolute (timecode frames) at the cut's rate.

    ``source_in`` is the lowest source frame the cut itself plays (for a reverse, the frame it ends on);
    ``cut_source`` the number of source frames the cut plays (None: ``round(cut_frames × |speed|)``).
    """

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
    cut_source: int | None = None
    source_rate: float | None = None
    markers: list[otio.schema.Marker] = field(default_factory=list)

    @property
    def reverse(self) -> bool:
        return self.speed < 0 and not self.freeze

    @property
    def visible_frames(self) -> int:
        """Record frames the shot must cover: the cut plus the overlap of its transitions."""
        return self.head + self.cut_frames + self.tail

    @property
    def visible_record_in(self) -> int:
        return self.record_in - self.head

    def _source(self, record_frames: int) -> int:
        return round(record_frames * abs(self.speed))

    @property
    def cut_source_frames(self) -> int:
        if self.freeze:
            return 1
        return self.cut_source if self.cut_source is not None else max(1, self._source(self.cut_frames))

    @property
    def plate_frames(self) -> int:
        """Source frames the plate must hold: the cut's, plus its transitions' (one frame for a freeze)."""
        if self.freeze:
            return 1
        return self.cut_source_frames + self._source(self.head) + self._source(self.tail)

    @property
    def plate_source_first(self) -> int:
        """Lowest source frame of the plate: below the cut's come the head (forward) or tail (reverse) frames."""
        return self.source_in - self._source(self.tail if self.reverse else self.head)

    def plate_offset(self, record_offset: int) -> int:
        """Plate frame (0-based, source order) shown at ``record_offset`` frames after the visible record in."""
        if self.freeze:
            return 0
        offset = min(self.plate_frames - 1, self._source(record_offset))
        return self.plate_frames - 1 - offset if self.reverse else offset

    def clamp_to_media(self, first: int, end: int) -> str | None:
        """Shorten transition overlap that reaches outside source frames ``[first, end)``; say what was cut."""
        if self.freeze or not self.speed:
            return None
        low, high = self.source_in, self.source_in + self.cut_source_frames
        below, above = (self.tail, self.head) if self.reverse else (self.head, self.tail)
        keep_below = min(below, int(max(0, low - first) / abs(self.speed)))
        keep_above = min(above, int(max(0, end - high) / abs(self.speed)))
        if (keep_below, keep_above) == (below, above):
            return None
        before = f"{self.head}+{self.tail}"
        where = f"below {first}" if end >= _NO_END else f"outside {first}-{end - 1}"
        self.head, self.tail = (keep_above, keep_below) if self.reverse else (keep_below, keep_above)
        return (
            f"transition overlap (head+tail) shortened from {before} to {self.head}+{self.tail} frames: "
            f"the media holds no source frame {where}"
        )

    @property
    def retime(self) -> dict[str, object] | None:
        if self.freeze:
            return {"kind": "freeze", "speed": 0.0}
        if self.speed != 1.0:
            return {"kind": "reverse" if self.speed < 0 else "speed", "speed": self.speed}
        return None


def clip_uses(cut: Cut, picked: PickedTrack, warnings: list[str], skipped: dict[str, int]) -> list[ClipUse]:
    """Every picture clip of the track: gaps, generators (black, bars), disabled and empty clips are not shots."""
    track = picked.track
    record_origin = _record_origin(cut, track)
    items = _flattened(cut, list(track), warnings, depth=0)
    position = otio.opentime.RationalTime(0, cut.rate)  # the item's start in the track, summed once: O(n)
    uses = []
    for index, item in enumerate(items):
        if isinstance(item, otio.schema.Transition):
            continue
        start = position
        position = position + item.duration()
        if isinstance(item, otio.schema.Gap):
            continue
        if not isinstance(item, otio.schema.Clip):
            raise ClipError(
                f"item {index} of track {picked.label} is a {type(item).__name__}, not a clip",
                path=cut.path,
                where=f"item {item.name!r}",
            )
        check_name_length(item.name, f"clip {index + 1} of {picked.label}", cut.path)
        if isinstance(item.media_reference, otio.schema.GeneratorReference):
            skipped["generators"] = skipped.get("generators", 0) + 1
            continue
        if is_disabled(item):
            skipped["disabled"] = skipped.get("disabled", 0) + 1
            continue
        before = items[index - 1] if index > 0 else None
        after = items[index + 1] if index + 1 < len(items) else None
        overlap = (
            before.in_offset if isinstance(before, otio.schema.Transition) else None,
            after.out_offset if isinstance(after, otio.schema.Transition) else None,
        )
        use = _clip_use(cut, item, index, record_origin + start, overlap, warnings)
        if use is not None:
            uses.append(use)
    if skipped.get("disabled"):
        warnings.append(f"skipped {skipped['disabled']} disabled clip(s) on {picked.label}")
    if not uses:
        raise EditorialError(f"track {picked.label} has no clip with frames to roto", path=cut.path)
    return uses


def _flattened(cut: Cut, items: list[otio.core.Composable], warnings: list[str], depth: int) -> list:
    """``items`` with each nested sequence (a Stack or Track inside the track) replaced by what it shows: its
    enabled video layers flattened top over bottom (OpenTimelineIO's ``flatten_stack``) and trimmed to the
    nested item's own range, so the clips inside take its place on the record timeline."""
    out: list[otio.core.Composable] = []
    for item in items:
        if not isinstance(item, otio.schema.Stack | otio.schema.Track) or is_disabled(item):
            out.append(item)
            continue
        if depth >= _MAX_NESTED:
            raise ClipError(f"nested sequences go over {_MAX_NESTED} levels", path=cut.path, where=f"{item.name!r}")
        layers = [item] if isinstance(item, otio.schema.Track) else _video_layers(item)
        try:
            flat = otio.algorithms.flatten_stack(layers) if len(layers) != 1 else layers[0]
            inner = list(otio.algorithms.track_trimmed_to_range(flat, item.trimmed_range()))
        except Exception as exc:
            raise ClipError(
                f"nested sequence cannot be flattened ({exc}); flatten it in the editor",
                path=cut.path,
                where=f"nested {item.name!r}",
            ) from None
        clips = sum(isinstance(i, otio.schema.Clip) for i in inner)
        warnings.append(f"nested sequence {item.name!r}: read as the {clips} clip(s) its video layers show")
        shown = sum((i.duration() for i in inner if not isinstance(i, otio.schema.Transition)), _ZERO)
        missing = item.trimmed_range().duration - shown
        if missing.value > 0:  # keep the record time of what follows: an empty nest still lasts
            inner.append(otio.schema.Gap(duration=missing))
        out.extend(_flattened(cut, inner, warnings, depth + 1))
    return out


def _video_layers(stack: otio.schema.Stack) -> list[otio.schema.Track]:
    """The enabled video layers of a nested stack, bottom first: its video tracks (an AAF nest also holds audio),
    and any clip placed in the stack directly (OTIO allows it) as a one-clip layer starting at the stack's 0."""
    layers = []
    for child in stack:
        if is_disabled(child):
            continue
        if isinstance(child, otio.schema.Track):
            if child.kind == otio.schema.TrackKind.Video:
                layers.append(child)
        elif isinstance(child, otio.schema.Clip | otio.schema.Stack):
            layers.append(otio.schema.Track(name=child.name, children=[child.deepcopy()]))
    return layers


def _frames(t: otio.opentime.RationalTime, rate: float) -> int:
    return round(t.value_rescaled_to(rate))


def _record_origin(cut: Cut, track: otio.schema.Track) -> otio.opentime.RationalTime:
    """Record time of the track's first frame: the timeline's start, shifted by the track's own trim.

    The cmx_3600 adapter stores an EDL's first record in as a negative track trim, so the same formula gives
    absolute record timecodes for EDLs and for formats that set a global start time.
    """
    origin = cut.timeline.global_start_time or otio.opentime.RationalTime(0, cut.rate)
    if track.source_range is not None:
        origin = origin - track.source_range.start_time.rescaled_to(origin.rate)
    return origin


def _clip_use(
    cut: Cut,
    clip: otio.schema.Clip,
    index: int,
    record_start: otio.opentime.RationalTime,
    overlap: tuple[otio.opentime.RationalTime | None, otio.opentime.RationalTime | None],
    warnings: list[str],
) -> ClipUse | None:
    """The clip at ``record_start`` on the record timeline; ``overlap`` is what the transitions before and after it
    take from its media (the ``in_offset`` of the one before, the ``out_offset`` of the one after), which is what
    OpenTimelineIO's ``visible_range`` adds, computed here without its per-clip search of the track."""
    where = f"clip {clip.name!r}"
    try:
        trimmed = clip.trimmed_range()
    except Exception as exc:
        raise ClipError(f"has no usable range: {exc}", path=cut.path, where=where) from None
    rate = cut.rate
    cut_frames = _frames(trimmed.duration, rate)
    if cut_frames < 0:
        raise ClipError("out point is before in point", path=cut.path, where=where)
    if cut_frames == 0:
        return None
    speed, freeze = _timing(cut, clip, warnings)
    record_in = _frames(record_start, rate)
    use = ClipUse(
        clip=clip,
        index=index,
        rate=rate,
        record_in=record_in,
        cut_frames=cut_frames,
        head=_frames(overlap[0], rate) if overlap[0] is not None else 0,
        tail=_frames(overlap[1], rate) if overlap[1] is not None else 0,
        source_in=_frames(trimmed.start_time, rate),
        speed=speed,
        freeze=freeze,
        source_rate=trimmed.start_time.rate,
        markers=list(clip.markers),
    )
    span = cut.edl_spans.get(record_in) if cut.edl_spans is not None else None
    if span is not None and speed != 1.0 and not freeze:
        # The EDL's own source in/out: the frames the event plays, whatever their order.
        use.source_in, use.cut_source = min(span), max(1, abs(span[1] - span[0]))
    # Without a known media range, frame 0 is still the first frame any media can have.
    available = clip.media_reference.available_range if clip.media_reference is not None else None
    first, end = 0, _NO_END
    if available is not None and cut.edl_text is None:
        first = _frames(available.start_time, rate)
        end = first + _frames(available.duration, rate)
    clamped = use.clamp_to_media(first, end)
    if clamped:
        warnings.append(f"{where}: {clamped}")
    return use


def _timing(cut: Cut, clip: otio.schema.Clip, warnings: list[str]) -> tuple[float, bool]:
    """(speed, freeze) from the clip's time effects; a time effect we cannot map to plate frames is an error."""
    speed = 1.0
    for effect in clip.effects:
        if isinstance(effect, otio.schema.LinearTimeWarp):
            speed *= effect.time_scalar
            if _is_speed_ramp(effect):
                warnings.append(
                    f"clip {clip.name!r}: a keyframed timewarp (speed ramp) arrives from the AAF adapter as one "
                    f"constant speed ({effect.time_scalar * 100:g}%); check its plate frames against the cut"
                )
        elif isinstance(effect, otio.schema.TimeEffect):
            raise ClipError(
                f"time effect {effect.effect_name or type(effect).__name__!r} cannot be mapped to plate frames",
                path=cut.path,
                where=f"clip {clip.name!r}",
            )
    freeze = speed == 0.0 or any(isinstance(e, otio.schema.FreezeFrame) for e in clip.effects)
    return (0.0 if freeze else speed), freeze


def _is_speed_ramp(effect: otio.schema.LinearTimeWarp) -> bool:
    """An Avid timewarp whose keyframes change speed, which the AAF adapter flattens to one constant speed.

    The adapter keeps Avid's maps in ``metadata["AAF"]["Parameters"]`` as ``keyframe_values`` [[time, value], ...]:
    a speed map (value = speed) ramps when its values differ; an offset map (value = source offset) when the slope
    between its keyframes changes. Every Avid motion effect carries a map, so a map alone is no ramp.
    """
    parameters = effect.metadata.get("AAF", {}).get("Parameters", {})
    if not hasattr(parameters, "keys"):
        return False
    speed = _keyframes(parameters, _SPEED_MAP)
    if len({round(v, 6) for _, v in speed}) > 1:
        return True
    for name in _OFFSET_MAPS:
        points = _keyframes(parameters, name)
        slopes = {round((v1 - v0) / (t1 - t0), 3) for (t0, v0), (t1, v1) in pairwise(points) if t1 != t0}
        if len(slopes) > 1:
            return True
    return False


def _keyframes(parameters: object, name: str) -> list[tuple[float, float]]:
    value = parameters.get(name)  # type: ignore[attr-defined]
    points = value.get("keyframe_values") if hasattr(value, "get") else None
    try:
        return [(float(t), float(v)) for t, v in points or []]
    except (TypeError, ValueError):
        return []
