"""Benchmark: several objects in one .nk, composited as a Roto node composites them.

Two DAVIS dev sequences' real mattes as two objects of one shot: the first in front, the second behind it (its
matte less the first's), first ``--frames`` frames, traced with ``rotofarm shapes``' defaults. The .nk is read
back with ``read_nk_composites``: each Roto node's shapes in one chain over all its layers, topmost last, each
add filling and each minus clearing what is drawn before it (Natron's RotoPaint, the open implementation of Nuke's
Roto model), in two layouts: every object's layer in one node (the writer before) and a node per object (now).
Measured: IoU of the nodes' alphas together with the union of the two mattes (median and lowest frame), and the
pixels of the back object a front object's hole clears in the one-node layout (most on a frame; frames with any).

Run: ``.venv/bin/python bench/nk_objects.py [--frames N] [--write] [FRONT:BACK ...]``; ``--write`` replaces this
benchmark's section in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
from shapes_real import DATA, write_table

from roto_core.contracts import ShapeSettings
from roto_core.exporters.nuke import _roto_node, nk_text, read_nk_composites
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import Shape, ShapeDocument, rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

SECTION = "## Several objects in one .nk (bench/nk_objects.py)"
PAIRS = ("scooter-black:cows", "soapbox:cows", "horsejump-high:camel")


def _mattes(name: str, frames: int) -> MaskSequence:
    count = min(frames, len(list((DATA / name / "Annotations").glob("*.png"))))
    return MaskSequence(DATA / name / "Annotations" / "#####.png", 0, count - 1, default_object="m")


def _composites(text: str) -> list[list[Shape]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.nk"
        path.write_text(text, encoding="utf-8")
        return list(read_nk_composites(path).values())


def _alpha(nodes: list[list[Shape]], frame: int, size: tuple[int, int]) -> np.ndarray:
    return np.logical_or.reduce([rasterise(shapes, frame, size) for shapes in nodes])


def measure(front: str, back: str, frames: int) -> str:
    fronts, backs = _mattes(front, frames), _mattes(back, frames)
    count = min(len(fronts.frames), len(backs.frames))
    masks = {}
    for f in range(count):
        ahead = fronts.read(f)["m"]
        masks[f] = {front: ahead, back: backs.read(f)["m"] & ~ahead}
    doc: ShapeDocument = trace_shapes(InMemoryMasks(masks, fronts.width, fronts.height), ShapeSettings(), name="pair")
    size = (doc.height, doc.width)
    one, per_object = _composites(_roto_node(doc, doc.objects, "Roto1", 0)), _composites(nk_text(doc, "Roto1"))
    ious, cleared = [], []
    for f in range(count):
        union = masks[f][front] | masks[f][back]
        alphas = (_alpha(one, f, size), _alpha(per_object, f, size))
        ious.append([float((a & union).sum()) / max(int((a | union).sum()), 1) for a in alphas])
        cleared.append(int((masks[f][back] & alphas[1] & ~alphas[0]).sum()))
    iou = np.array(ious)
    holes = sum(s.mode == "subtract" for s in doc.shapes_of(front))
    return (
        f"| {front} over {back} | {count} | {holes} | {np.median(iou[:, 0]):.3f} / {iou[:, 0].min():.3f} | "
        f"{np.median(iou[:, 1]):.3f} / {iou[:, 1].min():.3f} | {max(cleared):,} ({sum(c > 0 for c in cleared)}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--write", action="store_true", help="replace this benchmark's section in bench/RESULTS.md")
    parser.add_argument("pairs", nargs="*", help="FRONT:BACK sequence pairs (default: three)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    header = [
        "| shot: front object over back object (ground truth) | frames | holes of the front object | one node: IoU "
        "median / lowest | a node per object: IoU median / lowest | back object's pixels cleared, most on a frame "
        "(frames) |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(header))
    rows = []
    for pair in args.pairs or PAIRS:
        row = measure(*pair.split(":"), args.frames)
        print(row, flush=True)
        rows.append(row)
    if args.write:
        write_table(SECTION, __doc__, header, rows)


if __name__ == "__main__":
    main()
