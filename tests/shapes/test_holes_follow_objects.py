"""Holes that ride on a moving object keep their shapes.

Holes are linked over time where they sit on their component (lifetimes.HOLE_SHIFT), so a small hole in an object
that moves faster than the hole's own size per frame still becomes one hole shape; a small hole that opens for
fewer frames than a cut range is flicker and gets none, a large one gets a shape however briefly it is open, and a
speck under ``min_area_px`` gets one only when it is open longer than a cut range (lifetimes.lasting_hole).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import binary_fill_holes

from roto_core.contracts import ShapeSettings
from roto_core.shapes import synthetic as syn
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import fill_polygon, rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev"
SIZE = (400, 900)


def test_a_small_hole_in_a_fast_object_is_one_hole_shape() -> None:
    """A disk with a 12 px hole moving 16 px a frame: more than the hole's size, so linked on the image it
    broke into one-frame tracks and no hole shape; on its component it is one shape over every frame."""
    frames = range(1, 13)
    disk = syn.SyntheticObject(
        syn.ellipse(90, 70), lambda f: (150 + 16.0 * f, 200, 0.0, 1.0), holes=(syn.ellipse(7, 6, 180),)
    )
    masks = syn.sequence({"disk": disk}, frames, SIZE)
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), ShapeSettings())
    holes = [s for s in doc.shapes if s.mode == "subtract"]
    assert len(holes) == 1
    assert (holes[0].first_frame, holes[0].last_frame) == (1, 12)
    for f in frames:
        mask = masks[f]["disk"]
        raster = rasterise(doc.shapes, f, SIZE)
        hole = ~mask & (rasterise([s for s in doc.shapes if s.mode == "add"], f, SIZE))
        assert hole.sum() > 80
        assert (raster[hole]).mean() < 0.2, f"frame {f}: the hole is filled"


@pytest.mark.skipif(not DATA.is_dir(), reason="DAVIS dev set not present")
def test_scooter_wheel_gaps_are_cut_out() -> None:
    """DAVIS scooter-black, frames 20-39: most of the matte's hole area (the gaps in the wheels, between the
    rider's arm and body) is left out of the shapes. Linked on the image, 0.46 of it was; on the component, 0.72."""
    source = MaskSequence(str(DATA / "scooter-black" / "Annotations" / "#####.png"), 20, 39, default_object="matte")
    doc = trace_shapes(source, ShapeSettings())
    holes = cut_out = 0
    for f in source.frames:
        mask = source.read(f)["matte"]
        gaps = binary_fill_holes(mask) & ~mask
        raster = rasterise(doc.shapes, f, mask.shape)
        holes += int(gaps.sum())
        cut_out += int((gaps & ~raster).sum())
    assert holes > 20000
    assert cut_out / holes > 0.65


def test_a_small_hole_open_for_three_frames_is_flicker() -> None:
    """Two holes open on frames 4-6 of a still disk: the small one (about 80 px, under twice ``min_area_px``)
    gets no shape, the other (about 380 px) a hole shape over exactly those frames. A gap of about 1,400 px
    (legs crossing) open on frame 8 alone gets a hole shape on that frame."""
    frames = range(1, 11)
    settings = ShapeSettings()
    small = syn.ellipse(5, 5, 120) + np.array([230, 200])
    medium = syn.ellipse(12, 10, 180) + np.array([170, 190])
    large = syn.ellipse(22, 20, 360) + np.array([215, 245])
    masks = {}
    for f in frames:
        mask = np.zeros(SIZE, bool)
        fill_polygon(mask, syn.ellipse(90, 70) + np.array([200, 200]), True)
        if 4 <= f <= 6:
            fill_polygon(mask, small, False)
            fill_polygon(mask, medium, False)
        if f == 8:
            fill_polygon(mask, large, False)
        masks[f] = {"disk": mask}
    assert 64 <= (~masks[5]["disk"][190:210, 220:240]).sum() < 2 * settings.min_area_px
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), settings)
    holes = sorted((s for s in doc.shapes if s.mode == "subtract"), key=lambda s: s.first_frame)
    assert [(s.first_frame, s.last_frame) for s in holes] == [(4, 6), (8, 8)]
    for hole, centre in zip(holes, [(170, 190), (215, 245)], strict=True):
        assert np.linalg.norm(hole.at(hole.first_frame)[:, 1].mean(axis=0) - centre) < 8.0
    gap = masks[8]["disk"] != rasterise(doc.shapes, 8, SIZE)
    assert gap.sum() < 0.1 * (~masks[8]["disk"][220:270, 190:240]).sum()


def test_a_speck_hole_gets_a_shape_only_when_it_outlasts_a_cut_range() -> None:
    """Two holes of about 30 px (under ``min_area_px``, over a quarter of it) in a still disk: the one open on
    frames 2-9 (8 frames, an elbow's gap) gets a hole shape over exactly those frames, the one open on frames 3-7
    (5 frames, a cut range: a spoke gap passing) gets none."""
    frames = range(1, 12)
    settings = ShapeSettings()
    lasting = syn.ellipse(3.5, 3, 30) + np.array([170, 190])
    passing = syn.ellipse(3.5, 3, 150) + np.array([240, 215])
    masks = {}
    for f in frames:
        mask = np.zeros(SIZE, bool)
        fill_polygon(mask, syn.ellipse(90, 70) + np.array([200, 200]), True)
        if 2 <= f <= 9:
            fill_polygon(mask, lasting, False)
        if 3 <= f <= 7:
            fill_polygon(mask, passing, False)
        masks[f] = {"disk": mask}
    gap = (~masks[5]["disk"][180:200, 160:180]).sum()
    assert settings.min_area_px / 4 < gap + 0.5 * 4 * np.sqrt(gap) < settings.min_area_px
    doc = trace_shapes(InMemoryMasks(masks, SIZE[1], SIZE[0]), settings)
    holes = [s for s in doc.shapes if s.mode == "subtract"]
    assert [(s.first_frame, s.last_frame) for s in holes] == [(2, 9)]
    assert np.linalg.norm(holes[0].at(5)[:, 1].mean(axis=0) - (170, 190)) < 2.0
    for f in range(2, 10):
        speck = ~masks[f]["disk"][180:200, 160:180]
        assert (~rasterise(doc.shapes, f, SIZE)[180:200, 160:180] & speck).sum() >= 0.5 * speck.sum()
