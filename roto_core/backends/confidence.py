"""Per-frame confidence and re-key flags: how a backend says where its masks stopped being trustworthy.

Every backend reports, for each frame it yields, a confidence in 0..1 per object (``frame_confidence``): SAM 2 its
object score, Cutie its foreground probability mass, the classical backend its own consistency measure. A frame
whose confidence falls below ``REKEY_BELOW`` is listed as needing a new key; ``rekey_frames`` keeps one frame per
run of such frames (the first: where the artist should re-key), so a long failure is one item, not fifty.
"""

from __future__ import annotations

from collections.abc import Mapping

REKEY_BELOW = 0.5


def rekey_frames(confidence: Mapping[int, float], below: float = REKEY_BELOW) -> list[int]:
    """The first frame of every run of consecutive frames whose confidence is below ``below``."""
    out: list[int] = []
    previous_low: int | None = None
    for frame in sorted(confidence):
        low = confidence[frame] < below
        if low and (previous_low is None or frame != previous_low + 1):
            out.append(frame)
        previous_low = frame if low else None
    return out
