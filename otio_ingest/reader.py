"""Editorial file → OpenTimelineIO timeline, through the adapter its extension names.

Every failure of an adapter becomes an :class:`EditorialError` naming the file (and, for an EDL, the line and event
number): adapters raise whatever their parsers trip on (ValueError, IndexError, their own OTIOError), and a
coordinator must see one line, not a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from otio_ingest.edl_events import (
    EventBlock,
    backwards_timecodes,
    event_blocks,
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

    ``rate``: the rate an EDL's timecodes were read at; None where the file states its own rates.
    ``drop_frame``: write drop-frame timecode where the rate has it.
    """

    path: Path
    adapter: str
    timeline: otio.schema.Timeline
    rate: float | None
    drop_frame: bool
    edl_text: str | None = None

    @property
    def is_edl(self) -> bool:
        return self.adapter == "cmx_3600"


def read_cut(path: Path, options: IngestOptions) -> Cut:
    """Read ``path`` with the adapter its extension names."""
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise EditorialError(f"unknown editorial format {path.suffix or '(no extension)'!r}; known: {known}", path=path)
    if not path.exists():
        raise EditorialError("file not found", path=path)
    if adapter == "cmx_3600":
        return _read_edl(path, options)
    try:
        timeline = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except Exception as exc:
        raise EditorialError(f"cannot read with the {adapter} adapter: {_adapter_message(exc)}", path=path) from None
    if isinstance(timeline, otio.schema.SerializableCollection):
        timeline = _clip_list_timeline(timeline, path)
    if not isinstance(timeline, otio.schema.Timeline):
        raise EditorialError(f"holds a {type(timeline).__name__}, not a timeline", path=path)
    # Frames are counted at the file's own rates (--fps only relabels them); 29.97 writes drop-frame, as OTIO does.
    return Cut(path, adapter, timeline, rate=None, drop_frame=True)


def _clip_list_timeline(collection: otio.schema.SerializableCollection, path: Path) -> otio.schema.Timeline:
    """An ALE (or any bin-like collection) lists clips, not a cut: each clip becomes a shot, in file order.

    Record timecodes then count from zero along that order; they place nothing in an edit.
    """
    clips = [clip.deepcopy() for clip in collection.find_clips()]
    if not clips:
        raise EditorialError("lists no clips", path=path)
    track = otio.schema.Track(name=path.stem, kind=otio.schema.TrackKind.Video, children=clips)
    return otio.schema.Timeline(name=collection.name or path.stem, tracks=[track])


def _read_edl(path: Path, options: IngestOptions) -> Cut:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EditorialError(f"cannot read: {exc.strerror or exc}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return read_edl_text(path, text, options)


def read_edl_text(path: Path, text: str, options: IngestOptions) -> Cut:
    """Read EDL ``text`` (from ``path``) at the rate the options and its FCM lines call for."""
    declares_drop = any(m.group(1).upper() == "DROP" for m in map(_FCM.match, text.splitlines()) if m)
    rate = timecode_rate(options.fps or (_NTSC_30 if declares_drop else options.edl_rate))
    if declares_drop and not is_drop_frame_rate(rate):
        raise EditorialError(f"FCM: DROP FRAME needs a 29.97 or 59.94 rate, not {rate:g}", path=path, where="--fps")
    text = _semicolons_in_drop_frame_sections(text) if is_drop_frame_rate(rate) else text
    drop_frame = is_drop_frame_rate(rate) and (declares_drop or ";" in text)
    timeline = _parse_edl(text, rate, path)
    return Cut(path, "cmx_3600", timeline, rate, drop_frame, edl_text=text)


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
