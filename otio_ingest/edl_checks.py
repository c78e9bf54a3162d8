"""What the cmx_3600 adapter accepts without a word but loses or misreads, checked on the EDL text first.

- ``* LOC:`` with no timecode: the adapter skips it (``continue`` where its locator regex does not match), so
  a roto prompt written there would vanish. A prompt is an error; any other note a warning.
- ``M2`` speeds: the adapter reads the speed with ``-?[0-9\\.]*`` after a lazy name, so ``-1e30`` becomes the
  name ``-1e`` and speed ``30`` (a 125 % retime at 24 fps). The speed must be a plain number of frames per second.
- A second line with an event's number must be its transition (``D``/``W``); the adapter fails on a second cut
  with an AttributeError that names no line (``dissolve_test_fail.edl`` of otio-cmx3600-adapter, line 5).
- Frame numbers beyond the rate: a 25 fps EDL read at 24 fps fails on the first ``:24`` frame. The largest frame
  number in the timecodes proves the rate is at least that + 1; :func:`rate_the_timecodes_prove` names the
  smallest common rate that fits, so the message can say which ``--fps`` to pass.
"""

from __future__ import annotations

import re
from pathlib import Path

from otio_ingest.edl_events import event_blocks
from otio_ingest.errors import EditorialError
from otio_ingest.markers import looks_like_prompt

_LOC = re.compile(r"\s*\*?\s*LOC\s*:\s*(?P<body>.*)$", re.IGNORECASE)
_LOC_TIMECODE = re.compile(r"\d\d:\d\d:\d\d[:;]\d\d(\s|$)")
_M2 = re.compile(r"\s*M2\s+(?P<body>.*?)\s*$")
_SPEED = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)")
_TIMECODE = re.compile(r"\b\d\d[:;]\d\d[:;]\d\d[:;](\d\d)\b")
MAX_M2_FPS = 10000.0
COMMON_RATES = (24, 25, 30, 48, 50, 60, 96, 100, 120)


def check_edl_text(path: Path, text: str, warnings: list[str]) -> None:
    """Fail on an M2 speed or LOC prompt the adapter would misread or drop; warn about notes it drops."""
    for number, line in enumerate(text.splitlines(), 1):
        loc = _LOC.match(line)
        if loc and not _LOC_TIMECODE.match(loc.group("body")):
            body = loc.group("body").strip()
            if looks_like_prompt(body.split(maxsplit=1)[-1] if body else body) or looks_like_prompt(body):
                raise EditorialError(
                    "LOC line has no timecode, so its prompt would be lost; write '* LOC: HH:MM:SS:FF COLOR roto: ...'",
                    path=path,
                    line=number,
                )
            warnings.append(f"{path}:{number}: LOC line without a timecode is ignored: {body[:60]!r}")
        m2 = _M2.match(line)
        if m2:
            _check_m2(path, number, m2.group("body"))


def _check_m2(path: Path, number: int, body: str) -> None:
    fields = body.split()
    if len(fields) < 3:
        raise EditorialError(f"M2 line needs reel, speed and timecode, not {body!r}", path=path, line=number)
    speed = fields[-2]
    if not _SPEED.fullmatch(speed):
        raise EditorialError(
            f"M2 speed {speed!r} is not a number of frames per second (like 048.0 or -024.0)", path=path, line=number
        )
    if abs(float(speed)) > MAX_M2_FPS:
        raise EditorialError(f"M2 speed {speed} is over the {MAX_M2_FPS:g} fps limit", path=path, line=number)


def check_event_lines(path: Path, text: str) -> None:
    """Only a transition (D or Wnnn) may repeat an event's number: a second cut line is an error at its line."""
    all_lines = text.splitlines()
    for block in event_blocks(text):
        numbered = enumerate(all_lines[block.line - 1 : block.end - 1], block.line)
        event_lines = [(i, line) for i, line in numbered if line.split()[:1] == [block.number]]
        for i, line in event_lines[1:]:
            fields = line.split()
            edit = fields[3] if len(fields) > 3 else ""
            if not (edit.upper().startswith(("D", "W")) or edit.upper() == "K"):
                raise EditorialError(
                    f"event {block.number} repeats with edit {edit!r}; only a dissolve (D) or wipe (W) line "
                    "may share an event's number",
                    path=path,
                    line=i,
                    where=f"event {block.number}",
                )


def largest_frame_number(text: str) -> int:
    return max((int(m.group(1)) for m in _TIMECODE.finditer(text)), default=0)


def rate_the_timecodes_prove(text: str) -> int | None:
    """The smallest common rate whose timecodes can hold the EDL's largest frame number (None: any rate fits)."""
    largest = largest_frame_number(text)
    return next((r for r in COMMON_RATES if r > largest), None)
