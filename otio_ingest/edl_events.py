"""Finding the line of the EDL event that the cmx_3600 adapter (or a later check) rejects.

The adapter reports what is wrong but not where, and a coordinator with a 1000-event EDL needs the line. We do not
parse events ourselves: we only split the text where a new event number starts, feed the adapter growing prefixes,
and bisect for the first event whose addition makes the read fail. The failing event's own fields are then read
back with the adapter's ``ClipHandler`` to say which timecode is out of order; the adapter does not check that.

Bisecting whole prefixes reads about ``n log n`` events (17 reads of a 100,000-event EDL, most of them long), so
the search first reads the EDL in windows of :data:`WINDOW` events, each with the header and the event before it
(a dissolve refers to its outgoing clip), and bisects only inside the first window that fails: about ``2n`` events
read. A fault that only shows in a longer context (no window fails) falls back to the prefix bisection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import opentimelineio as otio
from otio_cmx3600_adapter import cmx_3600

_EVENT_NUMBER = re.compile(r"\s*(\d+)\s")


@dataclass(frozen=True)
class EventBlock:
    """An event's lines in the EDL text: the event line (1-based) and the first line after the block."""

    number: str
    line: int
    end: int
    lines: list[str]


def event_blocks(text: str) -> list[EventBlock]:
    """Events in file order; an event's transition line (same number) and its comments stay in its block."""
    lines = text.splitlines()
    starts: list[tuple[str, int]] = []
    for index, line in enumerate(lines):
        m = _EVENT_NUMBER.match(line)
        if m and (not starts or starts[-1][0] != m.group(1)):
            starts.append((m.group(1), index))
    blocks = []
    for i, (number, index) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(lines)
        block = [line.strip() for line in lines[index:end] if line.strip()]
        blocks.append(EventBlock(number, index + 1, end + 1, block))
    return blocks


WINDOW = 256
_MAX_CONTEXT = 4


def first_failing_event(text: str, fails: Callable[[str], bool]) -> EventBlock | None:
    """The first event whose prefix of the text ``fails``; None when the header fails, or no prefix of events does."""
    blocks = event_blocks(text)
    if not blocks:
        return None
    lines = text.splitlines(keepends=True)
    if len(blocks) > WINDOW:
        found = _first_failing_window_event(lines, blocks, fails)
        if found is not None and _is_first_failing(lines, blocks, found, fails):
            return found
    return _bisect_prefixes(lines, blocks, fails)


def _is_first_failing(
    lines: list[str], blocks: list[EventBlock], event: EventBlock, fails: Callable[[str], bool]
) -> bool:
    """The whole text read up to ``event`` fails, and up to the event before it does not (two reads)."""
    return fails("".join(lines[: event.end - 1])) and not fails("".join(lines[: event.line - 1]))


def _first_failing_window_event(
    lines: list[str], blocks: list[EventBlock], fails: Callable[[str], bool]
) -> EventBlock | None:
    header = "".join(lines[: blocks[0].line - 1])
    for start in range(0, len(blocks), WINDOW):
        for before in range(1, _MAX_CONTEXT + 1):
            found, at_context = _window_event(header, lines, blocks, max(0, start - before), start, fails)
            if not at_context:
                break
        if found is not None and not at_context:
            return found
    return None


def _window_event(
    header: str, lines: list[str], blocks: list[EventBlock], context: int, start: int, fails: Callable[[str], bool]
) -> tuple[EventBlock | None, bool]:
    """The first failing event of the window read on its own, and whether it is one of the context events (which
    then fails only for want of the events before it: a dissolve's B side read without its A side)."""
    window = blocks[context : start + WINDOW]
    local = header + "".join(lines[window[0].line - 1 : window[-1].end - 1])
    if not fails(local):
        return None, False
    local_blocks = event_blocks(local)
    event = _bisect_prefixes(local.splitlines(keepends=True), local_blocks, fails)
    if event is None:
        return None, False
    index = next(i for i, b in enumerate(local_blocks) if b.line == event.line)
    return window[index], index < start - context


def _bisect_prefixes(lines: list[str], blocks: list[EventBlock], fails: Callable[[str], bool]) -> EventBlock | None:
    if not blocks:
        return None

    def prefix_fails(k: int) -> bool:
        return fails("".join(lines[: blocks[k].end - 1]))

    if not prefix_fails(len(blocks) - 1) or fails("".join(lines[: blocks[0].line - 1])):
        return None
    lo, hi = 0, len(blocks) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if prefix_fails(mid):
            hi = mid
        else:
            lo = mid + 1
    return blocks[lo]


def first_failing_line(text: str, fails: Callable[[str], bool]) -> int | None:
    """The first line (1-based) whose prefix ``fails``: for text the adapter rejects before any event starts."""
    lines = text.splitlines(keepends=True)
    if not lines or not fails(text):
        return None
    lo, hi = 1, len(lines)
    while lo < hi:
        mid = (lo + hi) // 2
        if fails("".join(lines[:mid])):
            hi = mid
        else:
            lo = mid + 1
    return lo


def backwards_timecodes(block_lines: list[str], rate: float) -> str | None:
    """'source out ... is before source in ...' (or record) when an event's timecodes run backwards.

    The adapter takes such an event as a retime when it has an M2 line, so this is checked on every event. A source
    that runs backwards is a reverse only with a negative M2 speed. Fields are read with the adapter's own handlers.
    """
    try:
        handler = cmx_3600.ClipHandler(block_lines[0], {}, rate=rate)
        motion = cmx_3600.CommentHandler(block_lines[1:]).handled.get("motion_effect")
        match = cmx_3600.SPEED_EFFECT_RE.match(motion) if motion else None
        reverse = bool(match and match.group("speed") and float(match.group("speed")) < 0)
        sides = [("record", handler.record_tc_in, handler.record_tc_out)]
        if not reverse:
            sides.insert(0, ("source", handler.source_tc_in, handler.source_tc_out))
        for side, tc_in, tc_out in sides:
            if otio.opentime.from_timecode(tc_out, rate) < otio.opentime.from_timecode(tc_in, rate):
                return f"{side} out {tc_out} is before {side} in {tc_in}"
    except Exception:
        # Malformed in some other way: the adapter has already said so, or accepted it.
        return None
    return None


def event_source_spans(text: str, rate: float) -> dict[int, tuple[int, int]]:
    """Record-in frame → (source in, source out) frames of each event line, as the EDL writes them.

    The adapter keeps only the source in of a retimed event (its duration becomes the record duration), but the
    source out says which frames the event plays: for a reverse it is written below the source in.
    """
    spans: dict[int, tuple[int, int]] = {}
    for block in event_blocks(text):
        for line in block.lines:
            fields = line.split()
            if fields[:1] != [block.number] or len(fields) < 6:
                continue
            try:
                src_in, src_out, rec_in = (otio.opentime.from_timecode(tc, rate).to_frames() for tc in fields[-4:-1])
            except (ValueError, TypeError):
                continue  # the adapter reports a malformed timecode itself
            spans[rec_in] = (src_in, src_out)
    return spans
