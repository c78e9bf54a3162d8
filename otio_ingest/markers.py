"""Prompts written in editorial markers.

An editor (or the coordinator, in the NLE) drops a marker on a clip whose text reads

    roto: <object>: <text prompt>            e.g.  roto: hero: man in the red jacket
    roto-box: <object>: x0 y0 x1 y1          e.g.  roto-box: car: 812 440 1290 760   (pixels, origin top-left)

Studios also use markers for notes, so any other marker is ignored; but a marker that starts like ours (``roto``
followed by anything but a letter, e.g. ``roto hero: ...`` or ``roto-bx: ...``) and does not parse is an error,
because a silently dropped prompt costs a farm run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOOKS_LIKE_OURS = re.compile(r"\s*roto(?![a-z])", re.IGNORECASE)
_MARKER = re.compile(r"\s*roto(?P<box>-box)?\s*:\s*(?P<object>[^:]*?)\s*:\s*(?P<body>.*?)\s*$", re.IGNORECASE)
_OBJECT = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_BOX = re.compile(rf"({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})")


@dataclass(frozen=True)
class MarkerPrompt:
    """What a marker asks for; the frame is worked out by the caller, who knows the clip."""

    object: str
    text: str | None = None
    box: tuple[float, float, float, float] | None = None


def looks_like_prompt(text: str) -> bool:
    """Starts like a roto prompt (``roto`` not followed by a letter), whether or not it parses."""
    return _LOOKS_LIKE_OURS.match(text) is not None


def prompt_from_marker(text: str) -> MarkerPrompt | None:
    """The prompt in a marker's text, None for a note; ValueError (the reason) for a malformed ``roto`` marker."""
    if not looks_like_prompt(text):
        return None
    m = _MARKER.match(text)
    if m is None:
        raise ValueError("reads like a roto prompt but is not 'roto: OBJECT: TEXT' or 'roto-box: OBJECT: x0 y0 x1 y1'")
    name, body = m.group("object"), m.group("body")
    if not _OBJECT.fullmatch(name):
        raise ValueError(f"object name {name!r} must be one word of letters, digits, '_' or '-'")
    if not body:
        raise ValueError(f"the prompt for {name!r} is empty")
    if m.group("box") is None:
        return MarkerPrompt(object=name, text=body)
    box = _BOX.fullmatch(body)
    if box is None:
        raise ValueError(f"box {body!r} must be four numbers x0 y0 x1 y1")
    x0, y0, x1, y1 = (float(v) for v in box.groups())
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {body!r} must have x1 > x0 and y1 > y0")
    return MarkerPrompt(object=name, box=(x0, y0, x1, y1))
