"""Benchmark: shapes traced from the farm's soft plate masks, cut half way up their edge or at every non-zero pixel.

The models see frames of at most ``max_resolution`` (configs/pipeline.yaml: 1024 px on the long edge) and the chunk
runner upscales their masks linearly to the plate (``roto_core.chunks.runner._plate_masks``), so on a 2K plate
(2x) or a 4K one (4x) a mask's edge is a ramp a few pixels wide. Here each real ground-truth matte of the DAVIS
dev set (first ``--frames`` frames) is made into such a mask: area-averaged down by the factor, cut at one half (the
model's binary mask), upscaled by the runner's own code and written as the farm writes masks
(``roto_core.maskio.write_mask_exr``); 1.33x is the classical backend's 640 px on these 854 px plates. The shapes
are traced with the farm's shape settings from the EXR files as
``rotofarm finalize`` reads them (``MaskSequence``: float data inside from 0.5, ``roto_core.maskio.inside``) and,
for comparison, from every non-zero pixel of the same masks (the reader's rule before 2026-12-04), and
rasterised against the real matte; boil on rigid parts as bench/shapes_real.py takes it (the matte's rigid parts).
``masks`` is the IoU of the soft masks cut at 0.5 against the matte: what the downscaling itself loses, the most
the shapes can reach.

Run: ``nice -n 10 .venv/bin/python bench/soft_masks.py [--frames N] [--factor F ...] [--write] [SEQ ...]``;
``--write`` replaces this benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import tempfile
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, chosen_sequences, table_parser, write_table

from roto_core.chunks.runner import _plate_masks
from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.maskio import write_mask_exr
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.qa import RigidParts
from roto_core.shapes.trace import InMemoryMasks, MaskSource, trace_shapes

SECTION = "## Shapes from the farm's soft plate masks (bench/soft_masks.py)"


def _plate_mask(matte: np.ndarray, factor: float) -> np.ndarray:
    """The matte as a model ``factor`` times smaller decides it (half and above), upscaled to the plate by the
    chunk runner."""
    h, w = matte.shape
    small = (round(w / factor), round(h / factor))
    seen = cv2.resize(matte.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    return _plate_masks({"matte": (seen >= 0.5).astype(np.float32)}, ["matte"], (w, h), np.zeros((h, w), np.float32))[
        "matte"
    ]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _traced(source: MaskSource, settings: ShapeSettings, mattes: list[np.ndarray]) -> tuple[float, float, float]:
    """IoU median, area excess median (drawn over matte, minus one) and boil on rigid parts of the shapes traced
    from ``source``."""
    doc = trace_shapes(source, settings)
    drawn = [rasterise(doc.shapes, f, m.shape) for f, m in enumerate(mattes)]
    ious = [_iou(d, m) for d, m in zip(drawn, mattes, strict=True)]
    excess = [d.sum() / max(m.sum(), 1) - 1.0 for d, m in zip(drawn, mattes, strict=True)]
    rigid = RigidParts(doc.shapes, ShapeSettings().tolerance_px)
    for f, matte in enumerate(mattes):
        rigid.read(f, matte if matte.sum() >= settings.min_area_px else None)
    boil, on_rigid = rigid.boil()
    rms = float(np.sqrt(np.mean(boil[on_rigid] ** 2))) if on_rigid.any() else 0.0
    return float(np.median(ious)), float(np.median(excess)), rms


def measure(sequence: str, frames: int, factor: float, settings: ShapeSettings) -> str:
    paths = sorted((DATA / sequence / "Annotations").glob("*.png"))[:frames]
    mattes = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) > 0 for p in paths]
    h, w = mattes[0].shape
    with tempfile.TemporaryDirectory() as tmp:
        soft = {}
        for f, matte in enumerate(mattes):
            soft[f] = _plate_mask(matte, factor)
            write_mask_exr(Path(tmp) / f"masks.{f:04d}.exr", {"matte": soft[f]})
        shipped = MaskSequence(str(Path(tmp) / "masks.####.exr"), 0, len(mattes) - 1, default_object="matte")
        half_iou, half_excess, half_boil = _traced(shipped, settings, mattes)
    non_zero = InMemoryMasks({f: {"matte": m > 0} for f, m in soft.items()}, w, h)
    foot_iou, foot_excess, foot_boil = _traced(non_zero, settings, mattes)
    own = float(np.median([_iou(soft[f] >= 0.5, m) for f, m in enumerate(mattes)]))
    return (
        f"| {sequence} | {factor:.3g}x | {len(mattes)} | {own:.3f} | {foot_iou:.3f} | {half_iou:.3f} | "
        f"{100 * foot_excess:+.1f} | {100 * half_excess:+.1f} | {foot_boil:.2f} | {half_boil:.2f} |"
    )


def main() -> None:
    parser = table_parser(__doc__)
    parser.add_argument("--frames", type=int, default=20, help="the first N frames of each sequence")
    parser.add_argument(
        "--factor", type=float, action="append", help="upscale factors (default: 854/640 (1.33), 2 and 4)"
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    settings = load_config(PipelineSettings, "pipeline.yaml").shapes
    sequences = chosen_sequences(args.sequences)
    header = [
        "| sequence | upscale | frames | masks (IoU) | shapes IoU, every non-zero pixel | shapes IoU, from 0.5 "
        "(shipped) | area % over the matte, every non-zero pixel | area % over the matte, from 0.5 (shipped) | "
        "boil px on rigid parts, every non-zero pixel | boil px on rigid parts, from 0.5 (shipped) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for factor in args.factor or [854 / 640, 2.0, 4.0]:
        for sequence in sequences:
            rows.append(measure(sequence, args.frames, factor, settings))
            print(rows[-1], flush=True)
    if args.write:
        write_table(SECTION, __doc__, header, rows)


if __name__ == "__main__":
    main()
