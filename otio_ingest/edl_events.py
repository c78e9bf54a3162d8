"""Finding the line of the EDL event that the cmx_3600 adapter (or a later check) rejects.

The adapter reports what is wrong but not where, and a coordinator with a 1000-event EDL needs the line. We do not
parse events ourselves: we only split the text where a new event number starts, feed the adapter growing prefixes,
and bisect for the first event whose addition makes the read fail. The failing event's own fields are then read
back with the adapter's ``ClipHandler`` to say which timecode is out of order.
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
    event_line: str


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
        blocks.append(EventBlock(number, index + 1, end + 1, lines[index]))
    return blocks


def first_failing_event(text: str, fails: Callable[[str], bool]) -> EventBlock | None:
    """The first event whose prefix of the text ``fails``; None when only the whole text fails (or nothing does)."""
    blocks = event_blocks(text)
    if not blocks:
        return None
    lines = text.splitlines(keepends=True)

    def prefix_fails(k: int) -> bool:
        return fails("".join(lines[: blocks[k].end - 1]))

    if not prefix_fails(len(blocks) - 1):
        return None
    lo, hi = 0, len(blocks) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if prefix_fails(mid):
            hi = mid
        else:
            lo = mid + 1
    return blocks[lo]


def describe_order_error(event_line: str, rate: float) -> str | None:
    """'source out ... is before source in ...' (or record) for an event line whose timecodes run backwards."""
    try:
        handler = cmx_3600.ClipHandler(event_line, {}, rate=rate)
        pairs = (
            ("source", handler.source_tc_in, handler.source_tc_out),
            ("record", handler.record_tc_in, handler.record_tc_out),
        )
        for side, tc_in, tc_out in pairs:
            if otio.opentime.from_timecode(tc_out, rate) < otio.opentime.from_timecode(tc_in, rate):
                return f"{side} out {tc_out} is before {side} in {tc_in}"
    except Exception:
        # The line is malformed in some other way; the adapter's own message says how.
        return None
    return None
