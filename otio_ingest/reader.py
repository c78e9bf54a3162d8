"""Editorial file → OpenTimelineIO timeline, through the adapter its extension names.

Every failure of an adapter becomes an :class:`EditorialError` naming the file (and, for an EDL, the line and event
number): adapters raise whatever their parsers trip on (ValueError, IndexError, their own OTIOError), and a
coordinator must see one line, not a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from otio_ingest.adapter_io import aaf_drop_frame, quietly
from otio_ingest.bounds import check_cut_file, check_otio_nesting, read_bounded
from otio_ingest.edl_checks import check_edl_text, check_event_lines, largest_frame_number, rate_the_timecodes_prove
from otio_ingest.edl_events import (
    EventBlock,
    backwards_timecodes,
    event_blocks,
    event_source_spans,
    first_failing_event,
    first_failing_line,
)
from otio_ingest.errors import EditorialError
from otio_ingest.options import IngestOptions
from otio_ingest.timecode import is_drop_frame_rate, timecode_rate

ADAPTERS = {
    ".edl": "cmx_3600",
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".xml": "fcp_xml",
    ".aaf": "AAF",
    ".ale": "ale",
}

_FCM = re.compile(r"\s*FCM:\s*(DROP|NON[- ]DROP)", re.IGNORECASE)
_COLON_TIMECODE = re.compile(r"\b(\d\d:\d\d:\d\d):(\d\d)\b")
_NTSC_30 = 30000 / 1001


@dataclass
class Cut:
    """A read timeline and what is needed to count its frames and write its timecodes.

    ``rate``: the rate record frames are counted at: an EDL's read rate, else the timeline's own (its global start
    time's rate, else its first clip's). ``drop_frame``: write drop-frame timecode where the rate has it.
    ``edl_spans``: an EDL's source in/out per record in (see :func:`event_source_spans`).
    ``warnings``: what ingest (and the adapter) had to say, shown after the shots.
    """

    path: Path
    adapter: str
    timeline: otio.schema.Timeline
    rate: float
    drop_frame: bool
    edl_text: str | None = None
    edl_spans: dict[int, tuple[int, int]] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def is_edl(self) -> bool:
        return self.adapter == "cmx_3600"


def read_cut(path: Path, options: IngestOptions) -> Cut:
    """Read ``path`` with the adapter its extension names."""
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise EditorialError(f"unknown editorial format {path.suffix or '(no extension)'!r}; known: {known}", path=path)
    check_cut_file(path)
    if adapter == "cmx_3600":
        return _read_edl(path, options)
    check_otio_nesting(path)
    warnings: list[str] = []
    try:
        timeline = quietly(lambda: otio.adapters.read_from_file(str(path), adapter_name=adapter), adapter, warnings)
    except RecursionError:
        raise EditorialError("nests too deep to read", path=path) from None
    except Exception as exc:
        raise EditorialError(f"cannot read with the {adapter} adapter: {_adapter_message(exc)}", path=path) from None
    if isinstance(timeline, otio.schema.SerializableCollection):
        timeline = _timeline_of_collection(timeline, path)
    if not isinstance(timeline, otio.schema.Timeline):
        raise EditorialError(f"holds a {type(timeline).__name__}, not a timeline", path=path)
    drop_frame = True  # 29.97 writes drop-frame, as OTIO does, unless the file says otherwise
    if adapter == "AAF":
        drop_frame = aaf_drop_frame(path) is not False
    # Frames are counted at the timeline's own rate (--fps only relabels them).
    return Cut(path, adapter, timeline, _timeline_rate(timeline, options), drop_frame, warnings=warnings)


def _timeline_rate(timeline: otio.schema.Timeline, options: IngestOptions) -> float:
    """The sequence's rate: its start time's, else its first video clip's (an ALE or OTIO without a start)."""
    if timeline.global_start_time is not None:
        return timecode_rate(timeline.global_start_time.rate)
    for track in timeline.video_tracks():
        for clip in track.find_clips():
            return timecode_rate(clip.trimmed_range().duration.rate)
    return timecode_rate(options.edl_rate)


def _timeline_of_collection(collection: otio.schema.SerializableCollection, path: Path) -> otio.schema.Timeline:
    """One timeline in a collection is the cut; several are an error naming them (AAF with several sequences).

    A collection of clips (an ALE, a bin) lists clips, not a cut: each clip becomes a shot, in file order, and
    record timecodes count from zero along that order; they place nothing in an edit.
    """
    timelines = [item for item in collection if isinstance(item, otio.schema.Timeline)]
    if len(timelines) == 1:
        return timelines[0]
    if timelines:
        names = ", ".join(repr(t.name) for t in timelines[:6])
        raise EditorialError(
            f"holds {len(timelines)} top-level sequences ({names}); export the one sequence to ingest", path=path
        )
    clips = [clip.deepcopy() for clip in collection.find_clips()]
    if not clips:
        raise EditorialError("lists no clips", path=path)
    track = otio.schema.Track(name=path.stem, kind=otio.schema.TrackKind.Video, children=clips)
    return otio.schema.Timeline(name=collection.name or path.stem, tracks=[track])


def _read_edl(path: Path, options: IngestOptions) -> Cut:
    raw = read_bounded(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return read_edl_text(path, text, options)


def read_edl_text(path: Path, text: str, options: IngestOptions) -> Cut:
    """Read EDL ``text`` (from ``path``) at the rate the options and its FCM lines call for."""
    warnings: list[str] = []
    check_edl_text(path, text, warnings)
    check_event_lines(path, text)
    declares_drop = any(m.group(1).upper() == "DROP" for m in map(_FCM.match, text.splitlines()) if m)
    rate = timecode_rate(options.fps or (_NTSC_30 if declares_drop else options.edl_rate))
    if declares_drop and not is_drop_frame_rate(rate):
        raise EditorialError(f"FCM: DROP FRAME needs a 29.97 or 59.94 rate, not {rate:g}", path=path, where="--fps")
    proven = rate_the_timecodes_prove(text)
    if proven is not None and proven > round(rate):
        if options.fps:
            raise EditorialError(
                f"timecodes count frames up to {largest_frame_number(text)}, so the EDL is at least {proven} fps, "
                f"not --fps {options.fps:g}",
                path=path,
                where="--fps",
            )
        warnings.append(
            f"{path}: timecodes count frames up to {largest_frame_number(text)}, so the EDL is read at {proven} fps, "
            f"not the default {rate:g}; pass --fps if it is another rate"
        )
        rate = timecode_rate(proven)
    if is_drop_frame_rate(rate):
        text = _loc_timecodes_as_frame_counts(_semicolons_in_drop_frame_sections(text), rate)
    drop_frame = is_drop_frame_rate(rate) and (declares_drop or ";" in text)
    timeline = _parse_edl(text, rate, path)
    spans = event_source_spans(text, rate) if "M2" in text else {}
    return Cut(path, "cmx_3600", timeline, rate, drop_frame, edl_text=text, edl_spans=spans, warnings=warnings)


def _semicolons_in_drop_frame_sections(text: str) -> str:
    """Write drop-frame timecodes with ``;`` after an ``FCM: DROP FRAME`` line, as OpenTimelineIO needs to read them.

    EDLs often mark drop-frame only in the FCM line and keep ``:`` in the timecodes; the adapter ignores FCM, so
    without this it would read drop-frame timecodes as non-drop and shift every event. Line count is unchanged.
    """
    out = []
    drop = False
    for line in text.splitlines(keepends=True):
        m = _FCM.match(line)
        if m:
            drop = m.group(1).upper() == "DROP"
        out.append(_COLON_TIMECODE.sub(r"\1;\2", line) if drop else line)
    return "".join(out)


_LOC_DROP_FRAME = re.compile(r"^(\s*\*?\s*LOC\s*:\s*)(\d\d:\d\d:\d\d;\d\d)", re.IGNORECASE)


def _loc_timecodes_as_frame_counts(text: str, rate: float) -> str:
    """A drop-frame ``* LOC:`` timecode rewritten as the ``:`` timecode that counts the same frame.

    The adapter's locator regex takes only ``HH:MM:SS:FF`` and skips any other LOC line, so a drop-frame LOC (and
    every roto prompt in a drop-frame EDL) would vanish; read with ``:``, OpenTimelineIO counts it non-drop, so the
    frame is carried over, not the label. Line count is unchanged.
    """

    def frame_count(m: re.Match[str]) -> str:
        frames = otio.opentime.from_timecode(m.group(2), rate)
        return m.group(1) + otio.opentime.to_timecode(frames, rate, drop_frame=False)

    return "".join(_LOC_DROP_FRAME.sub(frame_count, line) for line in text.splitlines(keepends=True))


def _parse_edl(text: str, rate: float, path: Path) -> otio.schema.Timeline:
    try:
        timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    except Exception as exc:
        message = _adapter_message(exc)
    else:
        for event in event_blocks(text):
            backwards = backwards_timecodes(event.lines, rate)
            if backwards:
                raise edl_event_error(path, event, backwards)
        return timeline
    event = first_failing_event(text, lambda prefix: _edl_fails(prefix, rate))
    if event is not None:
        raise edl_event_error(path, event, backwards_timecodes(event.lines, rate) or message)
    line = first_failing_line(text, lambda prefix: _edl_fails(prefix, rate))
    raise EditorialError(f"not a valid CMX 3600 EDL: {message}", path=path, line=line)


def edl_event_error(path: Path, event: EventBlock, message: str) -> EditorialError:
    return EditorialError(message, path=path, line=event.line, where=f"event {event.number}")


def _edl_fails(text: str, rate: float) -> bool:
    try:
        otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    except Exception:
        return True
    return False


_RATIONAL_TIME = re.compile(r"RationalTime\(([-\d.]+), ([\d.]+)\)")


def _adapter_message(exc: BaseException) -> str:
    """The adapter's message on one line, with RationalTime reprs as plain frame counts.

    OTIOError and ValueError are the adapters' own complaints about the input; anything else is an adapter
    tripping over input it did not expect, which we say in so many words.
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = _RATIONAL_TIME.sub(lambda m: f"{float(m.group(1)):g} frames", text)
    if isinstance(exc, otio.exceptions.OTIOError | ValueError):
        return text
    return f"the adapter could not make sense of it ({type(exc).__name__}: {text})"
