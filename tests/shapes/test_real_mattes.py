"""Two real DAVIS 2016 sequences (cut to 20 frames) through ``rotofarm shapes``, measured from the exported
files with our own rasteriser: the issue's thresholds on real ground-truth mattes, not on synthetic masks.

The mattes are in ``../shared/data/davis2016-dev`` (real footage, nobody on this project made them); the test
skips where that folder is absent (a checkout without the shared data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roto_core.exporters import read_fxs, read_nk
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.qa import edge_recall
from submitters.cli.app import main

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
FRAMES = 20
MAX_POINTS = 24


@pytest.mark.skipif(not DATA.is_dir(), reason="shared DAVIS data not present")
@pytest.mark.parametrize("sequence", ["car-roundabout", "cows"])
def test_real_mattes_hold_the_thresholds_in_the_exported_files(tmp_path: Path, sequence: str) -> None:
    pattern = str(DATA / sequence / "Annotations" / "#####.png")
    out = tmp_path / "out"
    args = ["shapes", pattern, "--frames", f"0-{FRAMES - 1}", "--out", str(out), "--name", "obj"]
    assert main(args) == 0
    truth = MaskSequence(pattern, 0, FRAMES - 1)
    size = (truth.height, truth.width)
    fxs = read_fxs(out / "obj.fxs")
    nk, _ = read_nk(out / "obj.nk")
    for doc in (fxs, nk):
        ious, edges = [], []
        for f in truth.frames:
            mask = truth.read(f)["matte"]
            raster = rasterise(doc.shapes, f, size)
            ious.append(float((raster & mask).sum()) / float((raster | mask).sum()))
            edges.append(edge_recall(raster, mask))
        assert np.median(ious) >= 0.95, (sequence, np.median(ious))
        assert np.percentile(ious, 10) >= 0.90, (sequence, np.percentile(ious, 10))
        assert np.mean(edges) >= 0.90, (sequence, np.mean(edges))
        for shape in doc.shapes:
            assert shape.point_count <= MAX_POINTS
            assert shape.keys.shape[1] == shape.point_count and np.isfinite(shape.keys).all()
    # Every shape is grouped under its object in both files.
    assert {s.object for s in fxs.shapes} == {"obj"} and {s.object for s in nk.shapes} == {"obj"}
