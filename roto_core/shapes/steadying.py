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

A shape's first and last keys have no keys on both sides, yet where the next two keys are on the next two frames
the end key's jitter shows as a pop on the frame after it, measured there against the end and the frame beyond: on
DAVIS dog's ground truth the points of those frames boiled 0.77 px on the rigid parts against 0.55 px on the frames
inside the shapes' lifetimes, and dog's shapes mostly live 5-11 frames. So, once the inner keys are steadied (an end
key steadied against a neighbour that still jitters would take up its jitter), each such end key's points are moved
the same way towards where the motion from the key two frames on to the next carries on to, under the same edge
rule; an end key that would cross itself there (``untangle.crosses``) where its fitted place does not stays as
fitted. DAVIS dev set, whole sequences, boil on rigid parts lower on 13 of 24 rows and higher on 2 (by 0.01 px): the
segmenter's dog 0.51 -> 0.49 (under the 0.5 px target), parkour 0.79 -> 0.68, horsejump-high 0.90 -> 0.86; ground
truth parkour 0.47 -> 0.44, goat 0.32 -> 0.30; for IoU median and p10 up to 0.002 lower (the segmenter's
drift-chicane, a car of 330-1,600 px, 0.007) and edge within 2 px up to 0.004 lower (bench/RESULTS.md, thirty-ninth
pass).

Where neither the move nor the move kept beside where it strays holds the edge, the points still slide along the
outline towards their steady place (``smoothing.slid_along``), as the smoothing's last candidate does: a point
sliding on its edge changes no pixel of a straight stretch, and on the rigid parts 30-39 % of the squared boil was
such sliding. DAVIS dev set, whole sequences, boil on rigid parts lower on 8 of 24 rows and higher on none: ground
truth dog 0.63 -> 0.61, parkour 0.44 -> 0.42; segmenter masks drift-straight 0.62 -> 0.57, horsejump-high 0.86 ->
0.85; for IoU median and p10 up to 0.001 lower on 4 rows and edge within 2 px 0.001 lower on one (bench/RESULTS.md,
fortieth pass). A key's place follows from its own value and those of the two it is steadied against, so a key
whose move was refused is not measured again until one of the three has moved.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes.keys import EdgeCheck
from roto_core.shapes.model import POINT
from roto_core.shapes.smoothing import mixed_back, slid_along
from roto_core.shapes.smoothing_kernel import steady_trial
from roto_core.shapes.untangle import crosses

NEIGHBOURS = 2
STEP = 0.5
ROUNDS = 3
# A candidate that moves no point further than this is no move.
MOVED_PX = 1e-3


def steadied(check: EdgeCheck, piece: int, keys: np.ndarray, values: np.ndarray, tolerance: float) -> np.ndarray:
    """``values`` ``(K, N, 3, 2)``, the key values of piece ``piece`` of ``check`` on its frames ``keys`` (indices
    into the check's frames), with each key between keys on the frames either side steadied, then each end key
    whose next two keys are on the next two frames, as the module's docstring says (handles, relative to their
    point, as they were)."""
    count = values.shape[1]
    if count < 2 * NEIGHBOURS + 1:
        return values
    # Each key with the two it is steadied against: the keys either side, or (an end) the next two.
    inner = [(j, j - 1, j + 1) for j in range(1, len(keys) - 1) if keys[j + 1] - keys[j - 1] == 2]
    ends = []
    if len(keys) >= 3 and keys[2] - keys[0] == 2:
        ends.append((0, 1, 2))
    if len(keys) >= 3 and keys[-1] - keys[-3] == 2:
        ends.append((len(keys) - 1, len(keys) - 2, len(keys) - 3))
    out = values.copy()
    around = (np.arange(count)[:, None] + np.arange(-NEIGHBOURS, NEIGHBOURS + 1)) % count
    # Each key's error as it stands, measured only once a move would take it beyond the tolerance.
    before: dict[int, float] = {}
    # How often each key has moved, and what they were where a key's move was last refused: its place follows
    # from those three keys alone, so while none of them moves it would be refused again.
    moves = np.zeros(len(keys), np.int64)
    refused: dict[int, tuple[int, int, int]] = {}
    # The inner keys first: an end key steadied against a neighbour that still jitters would take up its jitter.
    for group in (inner, ends):
        for _ in range(ROUNDS):
            moved = False
            for j, a, b in group:
                state = (int(moves[j]), int(moves[a]), int(moves[b]))
                if refused.get(j) == state:
                    continue
                refused[j] = state
                trial = steady_trial(out, j, a, b, around, STEP)
                # Exact up to the bound: beyond the tolerance only the comparison with the key's own error counts.
                error = check.error(piece, int(keys[j]), trial, max(tolerance, before.get(j, tolerance)))
                if error > tolerance:
                    if j not in before:
                        before[j] = check.error(piece, int(keys[j]), out[j])
                        if before[j] > tolerance:
                            error = check.error(piece, int(keys[j]), trial, before[j])
                    if error > before[j]:
                        limit = max(tolerance, before[j])
                        held = _held_beside(check, piece, int(keys[j]), trial, out[j], tolerance, limit)
                        if held is None:
                            continue
                        trial, error = held
                out[j], moved = trial, True
                moves[j] += 1
                del refused[j]
                if j in before:
                    before[j] = error
            if not moved:
                break
    for j, _, _ in ends:
        # An end key steadied into a knot that untangle cannot take out stays as it was fitted.
        if not np.array_equal(out[j], values[j]) and crosses(out[j]) and not crosses(values[j]):
            out[j] = values[j]
    return out


def _held_beside(
    check: EdgeCheck,
    piece: int,
    frame: int,
    trial: np.ndarray,
    key: np.ndarray,
    tolerance: float,
    limit: float,
) -> tuple[np.ndarray, float] | None:
    """Where the move from ``key`` to ``trial`` leaves the edge, the first that holds it within ``limit``, with its
    error: the move kept beside where it strays beyond ``tolerance`` (the points at either end of such a segment go
    back towards where they were: a paw's notch; ``smoothing.mixed_back``), or the move along the outline alone
    (``smoothing.slid_along``: its handles' direction, in which a point slides on its edge, changing no pixel of a
    straight stretch). None where neither does."""
    slid = slid_along(key[None], trial[None])[0]
    for candidate in (mixed_back(check, piece, frame, trial, key, tolerance), slid):
        if candidate is None or np.abs(candidate[:, POINT] - key[:, POINT]).max() < MOVED_PX:
            continue
        # Exact up to the limit: a candidate beyond it is dropped whatever its error.
        if (error := check.error(piece, frame, candidate, limit)) <= limit:
            return candidate, error
    return None
