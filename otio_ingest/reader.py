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

from otio_ingest.edl_events import EventBlock, describe_order_error, first_failing_event
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
    """A read timeline and what is needed to count its frames and write its timecodes."""

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
    """Read ``path`` with the adapter for its extension; ``rate`` is None when the file states its own rates."""
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise EditorialError(f"unknown editorial format {path.suffix or '(no extension)'!r}; known: {known}", path=path)
    if not path.exists():
        raise EditorialError("file not found", path=path)
    if adapter == "cmx_3600":
        return _read_edl(path, options)
    rate = timecode_rate(options.fps) if options.fps else None
    try:
        timeline = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except Exception as exc:
        raise EditorialError(f"cannot read with the {adapter} adapter: {_adapter_message(exc)}", path=path) from None
    if not isinstance(timeline, otio.schema.Timeline):
        raise EditorialError(f"holds a {type(timeline).__name__}, not a timeline", path=path)
    drop_frame = rate is not None and is_drop_frame_rate(rate)
    return Cut(path, adapter, timeline, rate, drop_frame)


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
        return otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    except Exception as exc:
        message = _adapter_message(exc)
    event = first_failing_event(text, lambda prefix: _edl_fails(prefix, rate))
    if event is None:
        raise EditorialError(f"not a valid CMX 3600 EDL: {message}", path=path)
    raise edl_event_error(path, event, describe_order_error(event.event_line, rate) or message)


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
    """The adapter's message on one line, with RationalTime reprs as plain frame counts."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return _RATIONAL_TIME.sub(lambda m: f"{float(m.group(1)):g} frames", text)
