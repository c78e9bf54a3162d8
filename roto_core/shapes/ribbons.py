"""Thin parts of a matte (rigging lines, wires, antennas) as ribbons: a centre line with a width.

A line one or two pixels wide has no inside that an outline fitted within the tolerance can hold: traced as a closed
outline (both sides a pixel apart) and fitted at 1.5 px, the bezier lands beside the line as often as on it, and a
shape a pixel off a one-pixel line covers none of it (DAVIS paragliding-launch: the thin shapes covered 65-70 % of
the lines' pixels, and a third of what they filled was background). A roto artist draws such a line as a narrow
shape along its middle. So each thin part is cut into strands, one per line, each a centre line on the line's middle
with a width (line_strands.py), and each strand becomes a closed polygon (points with zero tangents, all cusps) at
half the line's width either side of its smoothed centre line, reaching past its ends by that much and a pixel. Each
key takes its own frame's width: a line's width on the matte changes as it swings, sags and turns towards the
camera, and one width for the whole track (the median, until the sixty-fourth pass) took a pixel too many or too few
beside it on the frames away from the median (DAVIS paragliding-launch, whole sequence, ground truth: IoU median
0.901 -> 0.905, p10 0.870 -> 0.875, keys on all shapes 96 -> 97 per 100 frames; bench/RESULTS.md, sixty-fourth
pass). A strand is followed from frame to frame by its distance to the nearest strand of the next frame (from its
last place, or from where it would be moving on as it moved); its points sit at fixed fractions of its length, so a
line that lengthens or shortens as the matte breaks it keeps its point count and order. Keys go where a straight
blend between keys leaves a frame's own polygon by more than half a pixel (its width changing counts as its centre
line moving).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from roto_core.shapes.line_strands import SAMPLES, Strand
from roto_core.shapes.model import Shape, signed_area
from roto_core.shapes.strand_kernel import polyline_gaps

# 2 x 12 vertices = the configured 24 points; a line bending more is drawn as several ribbons.
MAX_VERTICES = 12
# A centre line holds where every point of the strand lies within this of its polyline. Measured on DAVIS
# paragliding-launch frames 40-59: at 0.5 px the ribbons took 0.76 of the lines' pixels and drew 0.11 of them
# again off the matte, at 0.15 px 0.81 and 0.05 (a sagging line a pixel wide is lost by half a pixel). On centre
# lines moved onto their pixels' middle, 0.2 px takes nearly as much as 0.15 (IoU median 0.896, 0.897) with 9 %
# fewer shapes (the few wiggles a straight line keeps are within it).
VERTEX_FIT_PX = 0.2
# Keys: an in-between holds where every vertex is within this of the frame's own: a ribbon over a one-pixel line
# a pixel off misses it.
KEY_TOLERANCE_PX = 0.5
# A strand follows on where the shorter strand's mean distance to the longer on the next frame is at most this,
# or this fraction of its length for long lines swinging at their far end.
LINK_PX = 6.0
LINK_LENGTH_FRACTION = 0.05
# A ribbon reaches this far past its strand's ends, over the pixel a junction cut off (DAVIS paragliding-launch,
# per frame: 0.877 of the lines' pixels taken without, 0.891 with; 0.052 and 0.053 drawn off the matte).
END_REACH_PX = 1.0
# Strands of consecutive frames are the same line where the shorter is at least this fraction of the longer.
LINK_LENGTH_RATIO = 0.3


def _link_costs(before: list[Strand], after: list[Strand]) -> np.ndarray:
    """``(len(before), len(after))``: the shorter strand's mean distance to the longer one's centre line where
    they may be one line (the shorter at least LINK_LENGTH_RATIO of the longer, within LINK_PX or
    LINK_LENGTH_FRACTION of the longer's length), else infinite. The cheap tests go first, on all pairs at once."""
    la, lb = np.array([s.length for s in before]), np.array([s.length for s in after])
    short, long = np.minimum(la[:, None], lb[None]), np.maximum(la[:, None], lb[None])
    reach = np.maximum(LINK_PX, LINK_LENGTH_FRACTION * long)
    lo_a, hi_a = (np.array([s.box[k] for s in before]) for k in (0, 1))
    lo_b, hi_b = (np.array([s.box[k] for s in after]) for k in (0, 1))
    apart = ((hi_b[None] < lo_a[:, None] - reach[..., None]) | (lo_b[None] > hi_a[:, None] + reach[..., None])).any(-1)
    cost = np.full(short.shape, np.inf)
    # The pairs left, grouped by their longer strand: each group's shorter strands measured against it at once.
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, j in np.argwhere((short >= LINK_LENGTH_RATIO * long) & ~apart):
        groups.setdefault((1, int(j)) if la[i] <= lb[j] else (0, int(i)), []).append((int(i), int(j)))
    for (side, k), pairs in groups.items():
        longer = after[k] if side else before[k]
        samples = np.concatenate([(before[i] if side else after[j]).samples for i, j in pairs])
        line = np.ascontiguousarray(longer.centre, dtype=np.float64)
        mean = polyline_gaps(samples, line).reshape(len(pairs), -1).mean(axis=1)
        for (i, j), d in zip(pairs, mean.tolist(), strict=True):
            if d <= reach[i, j]:
                cost[i, j] = d
    return cost


def link_strands(
    per_frame: dict[int, list[Strand]], carried: dict[int, np.ndarray] | None = None
) -> list[dict[int, Strand]]:
    """Chain the strands of consecutive frames (one-to-one, nearest first), each turned to run the way its
    predecessor ran. A strand is measured against the line's last place and against where it would be moving on
    at the same speed, the nearer counting: rigging lines swing. With ``carried`` (per frame, how far the object's
    body moved from the frame before), also against its last place moved as the body moved: lines hang from their
    body, and a camera shaking by 15 px a frame (bench/shapes_transformed.py ``shake``) moves them further between
    frames than LINK_PX. DAVIS paragliding-launch (80 frames): 489 -> 464
    shapes, edge recall 0.916 -> 0.918; its lines turning 4 degrees a frame (bench/shapes_transformed.py `spin`),
    edge 0.677 -> 0.689; edge recall higher on 9 of its 11 variants and the same on the other two (bench/RESULTS.md,
    twentieth pass)."""
    tracks: list[dict[int, Strand]] = []
    alive: list[dict[int, Strand]] = []
    previous: int | None = None
    for frame in sorted(per_frame):
        current = per_frame[frame]
        if previous is None or frame != previous + 1:
            alive = []
        survivors: list[dict[int, Strand]] = []
        taken: set[int] = set()
        if alive and current:
            cost = _link_costs([track[frame - 1] for track in alive], current)
            # A line that swings or drifts is also looked for where it would be moving on as it moved.
            ahead = [(k, guess) for k, track in enumerate(alive) if (guess := _moved_on(track, frame)) is not None]
            if ahead:
                moving = [k for k, _ in ahead]
                cost[moving] = np.minimum(cost[moving], _link_costs([guess for _, guess in ahead], current))
            shift = np.zeros(2) if carried is None else carried.get(frame, np.zeros(2))
            if shift.any():
                moved = [Strand(track[frame - 1].centre + shift, track[frame - 1].width) for track in alive]
                cost = np.minimum(cost, _link_costs(moved, current))
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
            for i, j in zip(rows, cols, strict=True):
                if np.isfinite(cost[i, j]):
                    before, after = alive[i][frame - 1].ends[0] + shift, current[j].ends[0]
                    same = np.abs(before - after).sum()
                    flipped = np.abs(before - after[::-1]).sum()
                    alive[i][frame] = current[j] if same <= flipped else current[j].reversed()
                    taken.add(int(j))
                    survivors.append(alive[i])
        for j, strand in enumerate(current):
            if j not in taken:
                track = {frame: strand}
                tracks.append(track)
                survivors.append(track)
        alive = survivors
        previous = frame
    return tracks


def _moved_on(track: dict[int, Strand], frame: int) -> Strand | None:
    """Where a line followed on the two frames before ``frame`` would be on it, moving on as it moved (its points
    at SAMPLES fractions of its length; None without two such frames)."""
    before, last = track.get(frame - 2), track[frame - 1]
    if before is None:
        return None
    fractions = np.linspace(0.0, 1.0, SAMPLES)
    return Strand(2.0 * last.at(fractions) - before.at(fractions), last.width)


def _fractions(track: dict[int, Strand]) -> np.ndarray:
    """Where the vertices sit along the line (fractions of its length), from the frame needing the most:
    the line simplified (Douglas-Peucker) until every point of it is within VERTEX_FIT_PX."""
    best = np.array([0.0, 1.0])
    for strand in track.values():
        kept = cv2.approxPolyDP(strand.centre.astype(np.float32).reshape(-1, 1, 2), VERTEX_FIT_PX, False)
        # Each kept vertex's point of the centre line: the first nearest in x and y distance, all at once.
        apart = np.abs(strand.centre[:, None] - kept.reshape(1, -1, 2).astype(np.float64))
        idx = np.argmin(apart[..., 0] + apart[..., 1], axis=0).tolist()
        fractions = np.unique(strand.arc[sorted(set(idx) | {0, len(strand.centre) - 1})] / max(strand.length, 1e-9))
        if len(fractions) > len(best):
            best = fractions
    return best


def _outlines(vertices: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Per frame (``vertices``: frames x vertices x 2; ``half``: per frame, half its width), the closed polygon that
    far either side of the centre line, its ends pushed out by as much; the same way round on every frame the centre
    line runs the same way."""
    tangent = np.gradient(vertices, axis=1)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=2, keepdims=True), 1e-9)
    reach = (half + END_REACH_PX)[:, None]
    v = vertices.copy()
    v[:, 0] -= reach * tangent[:, 0]
    v[:, -1] += reach * tangent[:, -1]
    side = half[:, None, None] * np.stack([-tangent[..., 1], tangent[..., 0]], axis=2)
    return np.concatenate([v + side, (v - side)[:, ::-1]], axis=1)


def _keys(points: np.ndarray) -> list[int]:
    """Frames to key: the ends, then wherever a straight blend between keys leaves some frame's points (frames x
    points x 2) by more than KEY_TOLERANCE_PX, the frame it leaves most."""
    keys = {0, len(points) - 1}
    spans = [(0, len(points) - 1)]
    while spans:
        a, b = spans.pop()
        if b - a < 2:
            continue
        w = (np.arange(a + 1, b) - a)[:, None, None] / (b - a)
        blend = (1 - w) * points[a] + w * points[b]
        error = np.linalg.norm(blend - points[a + 1 : b], axis=-1).max(axis=1)
        worst = int(np.argmax(error))
        if error[worst] > KEY_TOLERANCE_PX:
            k = a + 1 + worst
            keys.add(k)
            spans += [(a, k), (k, b)]
    return sorted(keys)


def ribbon_shapes(name: str, obj: str, track: dict[int, Strand]) -> list[Shape]:
    """One strand track → keyed closed polygons of 2 x vertices points: one, or for a line that bends more than
    MAX_VERTICES vertices follow, one per run of MAX_VERTICES along it (named ``<name>p<n>``), each reaching
    past the vertex it shares with the next."""
    frames = sorted(track)
    fractions = _fractions(track)
    step = MAX_VERTICES - 1
    runs = [fractions[i : i + step + 1] for i in range(0, len(fractions) - 1, step)]
    half = 0.5 * np.array([track[f].width for f in frames])
    shapes = []
    for number, run in enumerate(runs, start=1):
        outlines = _outlines(np.stack([track[f].at(run) for f in frames]), half)
        keys = _keys(outlines)
        polys = outlines[keys]
        if signed_area(polys[0]) < 0:
            polys = polys[:, ::-1].copy()
        ctrl = np.zeros((len(keys), polys.shape[1], 3, 2))
        ctrl[:, :, 1] = polys
        label = name if len(runs) == 1 else f"{name}p{number}"
        corners = np.ones(polys.shape[1], bool)
        shapes.append(Shape(label, obj, "add", frames[0], frames[-1], np.asarray(frames)[keys], ctrl, corners))
    return shapes
