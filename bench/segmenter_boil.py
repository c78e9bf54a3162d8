"""Benchmark: how much of the boil of shapes traced from the segmenter's masks follows the segmenter's own errors.

Each DAVIS dev sequence's ``rotofarm roto`` masks (classical backend, a box from the first ground-truth matte, as
bench/shapes_real.py makes them) traced with the farm's settings for segmenter masks (configs/pipeline.yaml), and
each point's boil (``qa.local_boil``) on the object's rigid parts (where the ground-truth matte moves rigidly,
``qa.RigidParts``: the figure in bench/shapes_real.py's table) split by where the point is on that frame: within
3 px of the ground-truth matte's edge, or further off it, where the segmenter's mask strays from the object (a
tongue or a bite that the frames either side and the ground truth lack) and the shapes, held to the masks they
were traced from, follow it. Rigid boil is the RMS over the samples; share: the part of its squares on the
points further off.

Run: ``.venv/bin/python bench/segmenter_boil.py [--frames N] [--roto-cache DIR] [--write] [SEQ ...]``;
``--write`` replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, _roto_masks, table_of_sequences, table_parser

from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import POINT
from roto_core.shapes.qa import RigidParts, local_boil
from roto_core.shapes.rigidity import rigid_samples
from roto_core.shapes.trace import trace_shapes

SECTION = "## Boil that follows the segmenter (bench/segmenter_boil.py)"
OFF_EDGE_PX = 3.0
HEADER = [
    "| sequence | frames | boil px, rigid parts | samples within 3 px of the real edge | their boil px | samples "
    "further off | their boil px | share of the squares further off |",
    "|---|---|---|---|---|---|---|---|",
]


def _edge_distance(matte: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the matte's edge (its pixels with a neighbour outside it)."""
    edge = matte & ~cv2.erode(matte.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 3)


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2))) if values.size else 0.0


def measure(sequence: str, frames: int | None, cache: Path | None) -> str:
    count = len(list((DATA / sequence / "Annotations").glob("*.png")))
    count = min(count, frames) if frames else count
    truth = MaskSequence(DATA / sequence / "Annotations" / "#####.png", 0, count - 1, default_object="matte")
    settings = load_config(PipelineSettings, "pipeline.yaml").shapes
    with tempfile.TemporaryDirectory() as tmp:
        masks = MaskSequence(_roto_masks(sequence, count, Path(tmp), cache), 0, count - 1, default_object="matte")
        doc = trace_shapes(masks, settings, name=sequence)
    rigid = RigidParts(doc.shapes, ShapeSettings().tolerance_px)
    distance: dict[int, np.ndarray] = {}
    size = (truth.height, truth.width)
    for f in truth.frames:
        matte = next(iter(truth.read(f).values()), np.zeros(size, bool))
        rigid.read(f, matte if matte.sum() >= settings.min_area_px else None)
        distance[f] = _edge_distance(matte)
    near, off = [], []
    for shape in doc.shapes:
        boil = local_boil(shape)
        if not boil.size:
            continue
        boil = boil.reshape(-1, shape.point_count)
        kept = rigid_samples(rigid.pairs[id(shape)], rigid.skips[id(shape)]).reshape(boil.shape)
        for row in range(len(boil)):
            frame = shape.first_frame + 1 + row
            points = shape.at(frame)[:, POINT]
            h, w = distance[frame].shape
            x = np.clip(points[:, 0].astype(int), 0, w - 1)
            y = np.clip(points[:, 1].astype(int), 0, h - 1)
            astray = distance[frame][y, x] > OFF_EDGE_PX
            near.append(boil[row][kept[row] & ~astray])
            off.append(boil[row][kept[row] & astray])
    near_all, off_all = np.concatenate(near or [np.zeros(0)]), np.concatenate(off or [np.zeros(0)])
    both = np.concatenate((near_all, off_all))
    share = float((off_all**2).sum() / max((both**2).sum(), 1e-12))
    return (
        f"| {sequence} | {count} | {_rms(both):.2f} | {near_all.size} | {_rms(near_all):.2f} | {off_all.size} | "
        f"{_rms(off_all):.2f} | {share:.2f} |"
    )


def main() -> None:
    parser = table_parser(__doc__)
    parser.add_argument("--frames", type=int, default=None, help="cut each sequence to its first N frames")
    parser.add_argument("--roto-cache", type=Path, default=None, help="keep rotofarm roto's masks here and reuse them")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    table_of_sequences(
        SECTION,
        __doc__,
        HEADER,
        args.sequences,
        lambda sequence: measure(sequence, args.frames, args.roto_cache),
        args.write,
    )


if __name__ == "__main__":
    main()
