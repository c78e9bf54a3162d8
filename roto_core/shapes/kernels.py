"""Every compiled (numba) kernel of the shapes tracer, compiled or loaded from numba's cache up front.

numba compiles a kernel on its first call, for the types it is called with, and caches the machine code beside
the source (``__pycache__``; a user-wide folder where that is read-only): some fifteen seconds for these on the
development machine, a quarter of a second to load once cached. setup.sh calls ``warm`` so the first shot traced
on a machine does not wait for the compiler, and bench/shapes.py calls it before timing, as a process loads the
kernels once.
"""

from __future__ import annotations

import numpy as np

from roto_core.shapes import edge_measure
from roto_core.shapes.bezier_kernel import segment_samples
from roto_core.shapes.contours import find_regions
from roto_core.shapes.crossing_kernel import (
    chord_crossed,
    chord_crosses_outline,
    knot_marks,
    near_crossings,
    self_crossings,
)
from roto_core.shapes.curve_kernel import mixed_weights, outline_areas, sampled_curve, segment_worst
from roto_core.shapes.edge_sample_kernel import edge_samples
from roto_core.shapes.fitting import fit_segments
from roto_core.shapes.keyfit_kernel import blend_strays, control_shifts, first_knots, fitted_keys, spline_tables
from roto_core.shapes.marker_order import in_loop_order
from roto_core.shapes.model import bernstein, fill_polygon
from roto_core.shapes.nearest import hausdorff, polyline_distances
from roto_core.shapes.neck_kernel import chord_pixels, fewest_inside, pair_ratios, scan_tables
from roto_core.shapes.outline_track import OutlineTrack
from roto_core.shapes.piece_fitter import Piece, PieceFitter
from roto_core.shapes.point_end_kernel import corner_arcs, point_ends
from roto_core.shapes.segment_kernel import span_fits
from roto_core.shapes.skeleton import chains, junctions, skeleton
from roto_core.shapes.smoothing_kernel import similarities, slid_points, smoothed_controls, steady_trial
from roto_core.shapes.strand_joins import join_candidates, joined_lines
from roto_core.shapes.strand_kernel import arc_lengths, end_headings, nearest_within, points_along, polyline_gaps
from roto_core.shapes.track_kernel import arcs_at, loop_points, points_at
from roto_core.shapes.tracking_kernel import icp_params, local_shifts, nearest_k, projected, sample_boxes


def warm() -> None:
    """Call each kernel once with the array types the tracer passes."""
    square = np.array([[2.0, 2.0], [8.0, 2.0], [8.0, 8.0], [2.0, 8.0]])
    linked = np.ones(4, np.bool_)
    kept = np.arange(4)
    corner = np.zeros(2)
    for allowance in (np.zeros(0), np.ones(4)):
        args = (square, linked, corner, corner + 10.0, square[:0], 1.0, square, linked, kept, square, allowance)
        edge_measure.measure(*args, np.inf)
        constants = (np.ones((5, 4, 4)), 2.0, 4, corner, corner + 10.0, 1.0, 0.95, 2.0)
        curve, key = (kept, linked, kept[:1]), np.zeros((4, 3, 2))
        edge_measure.curve_error(key, curve, constants, square, linked, kept, square, allowance, 1.0, 0.5)
    polyline_distances(square, square, linked)
    hausdorff(square, square[:2])
    spline_tables(kept, 5)
    fitted_keys(kept[:2], np.ones(2), np.zeros((3, 2, 6)), 0.1, 1.5, 2)
    control_shifts(np.zeros((3, 2, 6)), np.ones((3, 2, 6)))
    first_knots(np.zeros((3, 2, 6)), 1.5, 24)
    blend_strays(np.zeros((2, 6)), np.ones((2, 6)), 0.5, np.zeros((2, 6)), 6.0)
    tangent = np.array([[1.0, 0.0]])
    fit_segments(square[None], tangent, tangent, (0, 0), np.array([4]))
    key = np.zeros((4, 3, 2))
    sampled_curve(key, kept, linked, np.ones((5, 4, 4)), 2.0, 4)
    segment_worst(key, kept, bernstein(12), corner, corner + 10.0, square, linked, linked, np.zeros(4))
    mixed_weights(key, key, kept, bernstein(12), corner, corner + 10.0, square, linked, 1.0, 3, 0.5)
    outline_areas(key[None], bernstein(8))
    for with_end in (False, True):
        segment_samples(key[None], bernstein(8), with_end)
    knot_marks(np.zeros((1, 4, 9, 2)), 3)
    sampled = np.zeros((4, 9, 2))
    chord_crossed(corner, corner + 1.0, sampled, 0)
    near_crossings(sampled, 1)
    self_crossings(square)
    fewest_inside(*chord_pixels(np.zeros((1, 1, 2, 2)), np.ones(9), 4, 4), scan_tables(square, np.array([0, 4])))
    pair_ratios(np.ascontiguousarray(square[None, :, 0]), square[None], np.ones((1, 1)), 0, kept, kept)
    rows = np.arange(4)
    line = np.ones(4)
    chord_crosses_outline(square, square, square, rows, square, square, line, line, line, 1.0)
    points_at(np.zeros((1, 4, 2)), rows, line, line, line, rows, rows, line, square, square)
    arcs_at(line, rows, 4, line, square, square)
    packed = (line, line, line, rows, rows, line, square, square)
    arcs = np.ones((4, 1))
    tips = np.zeros((1, 2, 4, 2))
    skips = np.zeros((1, 2), np.int64)
    span_fits(arcs, arcs, kept[:1] + 4, line[:1], line[:1], tips, skips == 1, square, square, skips, rows, packed, 2)
    markers = (4, line, square, square)
    search = (line, 1.0, 1.0)
    for beside in (np.zeros((0, 2)), square):
        corner_arcs(line, beside, rows, markers, packed, search)
        point_ends(line, rows, square, beside, rows, markers, packed, search, line, 1.0)
    loop_points(line, square, square, line, np.arange(5.0), 4.0)
    loops = (line, line, rows, rows, line, square, square)
    edge_samples(np.array([[0.0, 1.0]]), rows, markers, loops, 2.0, corner, corner + 10.0, False, 4)
    in_loop_order(line, line, 4.0, line)
    boxes = sample_boxes(square)
    nearest_k(square, square, boxes, 1)
    projected(square, square, square, square, square, line, np.arange(5.0), boxes, 4)
    params = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    icp_params(square, params, square, square, boxes, corner + 10.0, 1, params, 1.0, line)
    misfit = np.array([1.0, 3.0])
    local_shifts(square, square, square, square, boxes, 1.0, corner + 10.0, line, 1, 4, misfit, 1.0, 1.0, 1.0)
    ends = np.zeros((2, 2, 2))
    join_candidates(kept[:2], kept[:2], ends, ends, 1.0, 1.0, 1.0)
    joined_lines(square, np.array([2, 4]), line[:2], 1.0, 1.0, 1.0, 1.0)
    blot = np.zeros((6, 6), np.bool_)
    blot[1:5, 2:4] = True
    chains(skeleton(blot) & ~junctions(blot), 1)
    arc = arc_lengths(square)
    points_along(square, arc, line)
    end_headings(square, arc, 1.0)
    polyline_gaps(square, square)
    nearest_within(square, square, 1.0)
    z = np.zeros((2, 4, 3), np.complex128)
    around = np.stack((kept, kept, kept), axis=1)
    smoothed_controls(z, around, 1.0, 1)
    similarities(z[:, :, 1].copy(), z[:, :, 1].copy(), around)
    slid_points(key[None], key[None])
    steady_trial(np.zeros((3, 4, 3, 2)), 1, 0, 2, around, 0.5)
    _select_on_a_square()


def _select_on_a_square() -> None:
    """The point selection (selection_kernel.select) with the typed dictionaries and tuples PieceFitter passes:
    on the track of a square's outline over two frames, a closed piece and an open one."""
    mask = np.zeros((32, 32), np.bool_)
    fill_polygon(mask, np.array([[6.0, 6.0], [26.0, 6.0], [26.0, 26.0], [6.0, 26.0]]), True)
    outline = max(find_regions(mask, 4), key=lambda region: region.area).outer
    track = OutlineTrack({0: outline, 1: outline}, 0, (32, 32))
    fitter = PieceFitter(track, 1.0, 8)
    fitter.select(Piece([(0.0, float(track.count))], True))
    fitter.select(Piece([(0.0, 0.5 * track.count)], False), exact=True)
