"""Benchmark: shapes + all three exports for 100 frames at 1920×1080, one object, on one core.

Target 0.5 s. Wall time is the figure; the process's CPU time is printed too because the machine may be shared.
Mask generation and QA are outside the timed part (the masks would come from disk or the
chunk runner), and so is loading the compiled kernels from numba's cache, which a process does once
(printed beside the figures). Prints the seconds of each stage, the total, and the ratio to the target (below 1
is good).
Run: ``.venv/bin/python bench/shapes.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time

import cv2

from roto_core.contracts import ShapeSettings
from roto_core.exporters import fxs_text, nk_text, shapes_json_text
from roto_core.shapes import synthetic as syn
from roto_core.shapes.kernels import warm
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

TARGET_S = 0.5
FRAMES = range(1001, 1101)
SIZE = (1080, 1920)


def main() -> None:
    cv2.setNumThreads(1)
    hero = syn.SyntheticObject(
        syn.rounded_box(300, 200, 60),
        lambda f: (700 + 4.0 * (f - 1001), 540 + 1.5 * (f - 1001), 0.004 * (f - 1001), 1.0 + 0.001 * (f - 1001)),
    )
    masks = syn.sequence({"hero": hero}, FRAMES, SIZE)
    source = InMemoryMasks(masks, SIZE[1], SIZE[0])
    settings = ShapeSettings()
    w0 = time.perf_counter()
    warm()
    loaded = time.perf_counter() - w0
    c0 = time.process_time()
    t0 = time.perf_counter()
    doc = trace_shapes(source, settings, name="bench")
    t1 = time.perf_counter()
    outputs = [shapes_json_text(doc), nk_text(doc), fxs_text(doc, frame_offset=settings.fxs_frame_offset)]
    t2 = time.perf_counter()
    cpu = time.process_time() - c0
    total = t2 - t0
    shape = doc.shapes[0]
    print(
        f"frames {len(FRAMES)} at {SIZE[1]}x{SIZE[0]}, shapes {len(doc.shapes)}, points {shape.point_count}, "
        f"keys {len(shape.key_frames)}, export bytes {sum(len(o) for o in outputs)}"
    )
    print(
        f"trace {t1 - t0:.3f} s  exports {t2 - t1:.3f} s  total {total:.3f} s  ratio {total / TARGET_S:.2f} "
        f"(target {TARGET_S} s, one core)"
    )
    print(f"cpu time of this process {cpu:.3f} s  ratio {cpu / TARGET_S:.2f} (less sensitive to a shared machine)")
    print(f"once per process, not timed: the compiled kernels loaded in {loaded:.3f} s")


if __name__ == "__main__":
    main()
