"""Benchmark: shapes traced from soft mattes saved at 8 or 16 bits, cut half way up or at every non-zero pixel.

A matte that comes out of a comp as a PNG or TIFF (an antialiased render, a key, the farm's own plate mask saved at
8 or 16 bits) carries its soft edge as partial values. Here each real ground-truth matte of the DAVIS dev set (first
``--frames`` frames) is made into the farm's soft plate mask at ``--factor`` (bench/soft_masks.py: the matte as a
model that many times smaller decides it, upscaled linearly to the plate by the chunk runner's own code), saved as
an 8-bit PNG and a 16-bit TIFF (rounded to the nearest level) and traced with the farm's shape settings from the
files as ``rotofarm shapes`` reads them (``MaskSequence``; ``roto_core.maskio.inside``: an 8- or 16-bit matte from
half its full scale up since 2026-12-04) and, for comparison, from every non-zero pixel of the same 8-bit files (the
reader's rule before) and from the float EXR the farm writes (cut at 0.5); the shapes are rasterised against the
real matte. Area % is the shapes' area over the matte's, minus one (medians over the frames).

Run: ``nice -n 10 .venv/bin/python bench/integer_mattes.py [--frames N] [--factor F] [--write] [SEQ ...]``;
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
from soft_masks import _plate_mask, _traced

from roto_core.config import load_config
from roto_core.contracts import PipelineSettings, ShapeSettings
from roto_core.maskio import write_mask_exr
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.trace import InMemoryMasks

SECTION = "## Shapes from 8- and 16-bit soft mattes (bench/integer_mattes.py)"


def measure(sequence: str, frames: int, factor: float, settings: ShapeSettings) -> str:
    paths = sorted((DATA / sequence / "Annotations").glob("*.png"))[:frames]
    mattes = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) > 0 for p in paths]
    h, w = mattes[0].shape
    last = len(mattes) - 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        eight = {}
        for f, matte in enumerate(mattes):
            soft = _plate_mask(matte, factor)
            write_mask_exr(folder / f"m.{f:04d}.exr", {"matte": soft})
            eight[f] = np.round(soft * 255.0).astype(np.uint8)
            assert cv2.imwrite(str(folder / f"m.{f:04d}.png"), eight[f])
            assert cv2.imwrite(str(folder / f"m.{f:04d}.tif"), np.round(soft * 65535.0).astype(np.uint16))
        traced = {
            ext: _traced(MaskSequence(str(folder / f"m.####.{ext}"), 0, last, default_object="matte"), settings, mattes)
            for ext in ("exr", "png", "tif")
        }
    old = _traced(InMemoryMasks({f: {"matte": m > 0} for f, m in eight.items()}, w, h), settings, mattes)
    ious = [old[0], traced["png"][0], traced["tif"][0], traced["exr"][0]]
    areas = [old[1], traced["png"][1], traced["tif"][1], traced["exr"][1]]
    return (
        f"| {sequence} | {factor:.3g}x | {len(mattes)} | "
        + " | ".join(f"{v:.3f}" for v in ious)
        + " | "
        + " | ".join(f"{100 * v:+.1f}" for v in areas)
        + " |"
    )


def main() -> None:
    parser = table_parser(__doc__)
    parser.add_argument("--frames", type=int, default=20, help="the first N frames of each sequence")
    parser.add_argument("--factor", type=float, default=2.0, help="upscale factor of the soft edge (default 2: 2K)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    settings = load_config(PipelineSettings, "pipeline.yaml").shapes
    sequences = chosen_sequences(args.sequences)
    header = [
        "| sequence | upscale | frames | IoU, 8-bit every non-zero pixel (before) | IoU, 8-bit from half (shipped) | "
        "IoU, 16-bit from half (shipped) | IoU, float EXR from 0.5 | area %, 8-bit every non-zero pixel (before) | "
        "area %, 8-bit from half | area %, 16-bit from half | area %, float EXR |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for sequence in sequences:
        rows.append(measure(sequence, args.frames, args.factor, settings))
        print(rows[-1], flush=True)
    if args.write:
        write_table(SECTION, __doc__, header, rows)


if __name__ == "__main__":
    main()
