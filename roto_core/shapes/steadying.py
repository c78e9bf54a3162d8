"""Keys on consecutive frames steadied against their neighbours, under the edge.

Where a piece is keyed on every frame (a fast limb, a segmenter's jittering mask), each key is close to its own
frame's fit, and the fits' jitter from frame to frame is what an artist sees as boil: ``qa.local_boil`` measures
each point against where the steady motion of its neighbourhood (the point and two either side) from the frames
either side puts it. The smoothing before the key fit (smoothing.py) holds a smoothed fit to 0.8 of the tolerance
or gives it up for the piece-frame, and the key fit then pulls each key towards its frame's fit. Here, after the
key fit, each key with keys on the frames either side has its points moved STEP of the way towards that place,
and keeps them where its frame still holds its edge within the tolerance, as the key fit holds every frame (or no
worse than it did), for up to ROUNDS rounds. A key with in-betweens beside it is left as fitted: moving it moves
them. DAVIS dev set, whole sequences, boil on rigid parts: ground truth dog 0.76 -> 0.69, goat 0.40 -> 0.33;
segmenter masks goat 0.56 -> 0.43, horsejump-high 1.02 -> 0.91, dog 0.75 -> 0.65, for IoU median 0-0.003 and edge
within 2 px 0-0.010 lower (bench/RESULTS.md, twenty-ninth pass).

Where the move as a whole leaves the edge, the points at either end of each segment it takes off the edge go back
towards where they were, as the smoothing does (``smoothing.mixed_back``), and the rest keep it: a paw whose notch
changes under a few of its points no longer keeps the jitter of all of them. Boil on rigid parts, before -> after:
ground truth dog 0.69 -> 0.63; segmenter masks dog 0.65 -> 0.58, scooter-black 0.84 -> 0.76, horsejump-high
0.96 -> 0.89, drift-straight 0.67 -> 0.62, for IoU median and edge within 2 px 0-0.002 lower (bench/RESULTS.md,
thirty-first pass).
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.model import POINT
from roto_core.shapes.smoothing import mixed_back, neighbourhood_similarity

NEIGHBOURS = 2
STEP = 0.5
ROUNDS = 3


def steadied(check: EdgeCheck, piece: int, keys: np.ndarray, values: np.ndarray, tolerance: float) -> np.ndarray:
    """``values`` ``(K, N, 3, 2)``, the key values of piece ``piece`` of ``check`` on its frames ``keys`` (indices
    into the check's frames), with each key between keys on the frames either side steadied as the module's
    docstring says (handles, relative to their point, as they were)."""
    count = values.shape[1]
    inner = [j for j in range(1, len(keys) - 1) if keys[j + 1] - keys[j - 1] == 2]
    if count < 2 * NEIGHBOURS + 1 or not inner:
        return values
    out = values.copy()
    around = (np.arange(count)[:, None] + np.arange(-NEIGHBOURS, NEIGHBOURS + 1)) % count
    # Each key's error as it stands, measured only once a move would take it beyond the tolerance.
    before: dict[int, float] = {}
    for _ in range(ROUNDS):
        moved = False
        for j in inner:
            z = out[j - 1 : j + 2, :, POINT, 0] + 1j * out[j - 1 : j + 2, :, POINT, 1]
            middle = 0.5 * (z[0] + z[2])
            turn, middle_mean, here_mean = neighbourhood_similarity(middle, z[1], around)
            here = z[1] + STEP * (turn * (middle - middle_mean) + here_mean - z[1])
            trial = out[j].copy()
            trial[:, POINT, 0], trial[:, POINT, 1] = here.real, here.imag
            error = check.error(piece, int(keys[j]), trial)
            if error > tolerance:
                if j not in before:
                    before[j] = check.error(piece, int(keys[j]), out[j])
                if error > before[j]:
                    # Steadied beside where it holds: the points at either end of a segment the move takes off
                    # the edge go back towards where they were (a paw's notch), the rest keep the move.
                    beside = mixed_back(check, piece, int(keys[j]), trial, out[j], tolerance)
                    if beside is None:
                        continue
                    trial, error = beside, check.error(piece, int(keys[j]), beside)
                    if error > tolerance and error > before[j]:
                        continue
            out[j], moved = trial, True
            if j in before:
                before[j] = error
        if not moved:
            break
    return out
