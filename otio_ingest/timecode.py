"""Frame rates and timecode strings at the cut's rate.

Editors type 29.97 and 59.94 while SMPTE timecode needs the exact NTSC rates (30000/1001, 60000/1001), so a rate
close to one of OpenTimelineIO's valid timecode rates snaps to it; without that, drop-frame timecode cannot be read
or written.
"""

from __future__ import annotations

import opentimelineio as otio

from otio_ingest.errors import EditorialError

_SNAP_TOLERANCE = 0.01


def timecode_rate(fps: float) -> float:
    """The exact SMPTE rate an approximate ``fps`` means (29.97 → 30000/1001); other rates are returned as given."""
    nearest = otio.opentime.RationalTime.nearest_valid_timecode_rate(fps)
    return nearest if abs(nearest - fps) <= _SNAP_TOLERANCE else fps


def is_timecode_rate(rate: float) -> bool:
    """A rate SMPTE timecode can be written at (OpenTimelineIO's list: 23.976, 24, 25, 29.97, 30, 48, 50, ...)."""
    return abs(otio.opentime.RationalTime.nearest_valid_timecode_rate(rate) - rate) <= _SNAP_TOLERANCE


_DROP_FRAME_RATES = (30000 / 1001, 60000 / 1001)


def is_drop_frame_rate(rate: float) -> bool:
    """29.97 and 59.94: the only rates with drop-frame timecode (23.976 has none)."""
    return any(abs(rate - r) < 1e-6 for r in _DROP_FRAME_RATES)


def frames_to_timecode(frames: int, rate: float, drop_frame: bool) -> str:
    """``HH:MM:SS:FF`` (``;`` before the frames when drop-frame) of an absolute frame count at ``rate``."""
    try:
        return otio.opentime.to_timecode(
            otio.opentime.RationalTime(frames, rate), rate, drop_frame=drop_frame and is_drop_frame_rate(rate)
        )
    except ValueError as exc:
        raise EditorialError(f"cannot write timecode for frame {frames} at {rate:g} fps: {exc}") from None
