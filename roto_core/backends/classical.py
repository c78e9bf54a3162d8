"""The embedded default backend: no weights, CPU only, deterministic.

Key masks come from GrabCut (a box, or clicks grown into a probable-foreground disc). Propagation warps each
object's last mask along dense optical flow (OpenCV DIS, computed backwards so every pixel of the new frame
looks up where it came from), then re-decides a band around the warped edge with a colour model of the object
and its surroundings learned from the seed and slowly updated. Flow alone drifts and cannot see occluders;
the colour band pulls the edge back onto the picture's own edges and drops pixels of whatever passes in front.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from roto_core.backends.base import Frame, Mask, ObjectMasks
from roto_core.contracts import Prompt
from roto_core.errors import InputError

_BINS = 16
_HIST_RATE = 0.15
_GRABCUT_ITERATIONS = 5
_EPS = 1e-3
_UNSEEN = 2e-5  # histogram mass below which a colour counts as never seen (1/4096 is uniform)
_MOTION_TOLERANCE_PX = 2.0
_MIN_FIT_POINTS = 12
_FIT_SAMPLES = 400


def _to_u8(frame: Frame) -> np.ndarray:
    return np.ascontiguousarray(np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _colour_index(u8: np.ndarray) -> np.ndarray:
    q = (u8 // (256 // _BINS)).astype(np.int32)
    return (q[..., 0] * _BINS + q[..., 1]) * _BINS + q[..., 2]


def _histogram(index: np.ndarray, where: np.ndarray) -> np.ndarray:
    hist = np.bincount(index[where], minlength=_BINS**3).astype(np.float32)
    hist = cv2.GaussianBlur(hist.reshape(_BINS, _BINS * _BINS), (3, 3), 0).reshape(-1)
    total = hist.sum()
    return hist / total if total > 0 else np.full(_BINS**3, 1.0 / _BINS**3, np.float32)


def _largest_components(mask: np.ndarray, keep_touching: np.ndarray | None = None) -> np.ndarray:
    """Keep the largest connected part, plus any part that touches ``keep_touching`` (e.g. clicked points)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = {int(np.argmax(areas)) + 1}
    if keep_touching is not None:
        keep |= {int(v) for v in np.unique(labels[keep_touching]) if v}
    return np.isin(labels, list(keep))


@dataclass
class _Track:
    """What is carried for one object from frame to frame."""

    shape: np.ndarray  # bool: the whole object, carried through occlusions
    mask: np.ndarray  # bool: its visible part, what is output
    fg_hist: np.ndarray
    bg_hist: np.ndarray
    band: int


class ClassicalBackend:
    """GrabCut key masks and flow + colour-band propagation. See the module docstring for why."""

    name = "classical"
    # The runner never hands this backend frames with a longer edge than this: flow and GrabCut at ~640 px
    # keep edges within a pixel or two after upscaling and run well above 10 fps at 1080p.
    max_resolution = 640

    def __init__(self, *, threads: int = 1) -> None:
        # One thread gives bit-identical flow on every machine; chunks, not threads, are the farm's parallelism.
        cv2.setNumThreads(threads)
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    # -- key masks ---------------------------------------------------------------------------------------------
    def key_mask(self, frame: Frame, prompt: Prompt) -> Mask:
        h, w = frame.shape[:2]
        if prompt.mask is not None:
            return _load_mask_prompt(prompt.mask, (h, w))
        u8 = _to_u8(frame)
        cv2.setRNGSeed(0)  # GrabCut's GMM initialisation uses OpenCV's global RNG
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        if prompt.box is not None:
            x0, y0, x1, y1 = (round(v) for v in prompt.box)
            x0, y0 = max(0, x0), max(0, y0)
            x1, y1 = min(w - 1, x1), min(h - 1, y1)
            if x1 - x0 < 2 or y1 - y0 < 2:
                return np.zeros((h, w), np.float32)
            gc = np.full((h, w), cv2.GC_BGD, np.uint8)
            gc[y0 : y1 + 1, x0 : x1 + 1] = cv2.GC_PR_FGD
            if (x0, y0, x1, y1) == (0, 0, w - 1, h - 1):
                gc[[0, -1], :] = cv2.GC_PR_BGD
                gc[:, [0, -1]] = cv2.GC_PR_BGD
            cv2.grabCut(u8, gc, None, bgd, fgd, _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
            fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
            return _largest_components(fg).astype(np.float32)
        assert prompt.points is not None
        radius = max(2, round(min(h, w) * 0.01))
        reach = max(radius * 4, round(min(h, w) * 0.15))
        gc = np.full((h, w), cv2.GC_BGD, np.uint8)
        for x, y, label in prompt.points:
            if label == 1:
                cv2.circle(gc, (round(x), round(y)), reach, cv2.GC_PR_FGD, -1)
        if not (gc == cv2.GC_PR_FGD).any():
            return np.zeros((h, w), np.float32)
        ring = cv2.dilate((gc == cv2.GC_PR_FGD).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=reach)
        gc[(ring > 0) & (gc == cv2.GC_BGD)] = cv2.GC_PR_BGD
        clicked = np.zeros((h, w), bool)
        for x, y, label in prompt.points:
            value = cv2.GC_FGD if label == 1 else cv2.GC_BGD
            cv2.circle(gc, (round(x), round(y)), radius, value, -1)
            if label == 1:
                clicked[min(h - 1, max(0, round(y))), min(w - 1, max(0, round(x)))] = True
        cv2.grabCut(u8, gc, None, bgd, fgd, _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
        fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
        return _largest_components(fg, clicked).astype(np.float32)

    # -- propagation -------------------------------------------------------------------------------------------
    def propagate(self, frames: Sequence[Frame], seeds: Mapping[int, ObjectMasks]) -> Iterator[tuple[int, ObjectMasks]]:
        tracks: dict[str, _Track] = {}
        prev_gray: np.ndarray | None = None
        for i in range(len(frames)):
            frame = frames[i]
            u8 = _to_u8(frame)
            index = _colour_index(u8)
            gray = cv2.cvtColor(u8, cv2.COLOR_RGB2GRAY)
            if tracks and prev_gray is not None:
                back = self._dis.calc(gray, prev_gray, None)
                grid = np.indices(gray.shape, dtype=np.float32)
                for track in tracks.values():
                    self._advance(track, back, grid, index)
            for obj, seed in seeds.get(i, {}).items():
                tracks[obj] = _new_track(np.asarray(seed) >= 0.5, index)
            prev_gray = gray
            yield i, {obj: t.mask.astype(np.float32) for obj, t in tracks.items()}

    def _advance(self, track: _Track, back: np.ndarray, grid: np.ndarray, index_full: np.ndarray) -> None:
        if not track.shape.any():
            track.mask = track.shape
            return
        roi = _region(track, back)
        back, grid, index = back[roi], grid[(slice(None), *roi)], index_full[roi]
        map_x, map_y, off = _robust_maps(back, grid, track.mask)
        warped = cv2.remap(track.shape.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderValue=0.0)
        core = warped >= 0.5
        near_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * track.band + 1, 2 * track.band + 1))
        far_k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * track.band + 1, 4 * track.band + 1))
        near = cv2.dilate(core.astype(np.uint8), near_k).astype(bool)
        outer = cv2.dilate(core.astype(np.uint8), far_k).astype(bool)
        inner = cv2.erode(core.astype(np.uint8), near_k).astype(bool)
        pf = track.fg_hist[index]
        pb = track.bg_hist[index]
        colour = (pf + _EPS) / (pf + pb + 2 * _EPS)
        unknown = (pf < _UNSEEN) & (pb < _UNSEEN)
        occluded = core & (off | unknown)
        band = outer & ~inner
        # Near the warped edge flow and colour vote together; further out (where an occluder has just uncovered
        # the object, or flow lagged a fast edge) only an unmistakable colour match is taken. A colour seen
        # neither on the object nor around it, or a pixel of the shape moving unlike the object, is an occluder:
        # the carried shape is kept there.
        score = np.where(near[band], 0.35 * warped[band] + 0.65 * colour[band], colour[band] - 0.35)
        decided = np.where(occluded[band], core[band], score >= 0.5)
        shape = inner.copy()
        shape[band] = decided
        shape = _clean(shape)
        visible = _clean(shape & ~unknown & ~(occluded & (colour < 0.5)) & (colour >= 0.3))
        track.shape = np.zeros_like(track.shape)
        track.mask = np.zeros_like(track.mask)
        track.shape[roi], track.mask[roi] = shape, visible
        if visible.any():
            fg_where = cv2.erode(visible.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            bg_where = outer & ~cv2.dilate(shape.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            if fg_where.any():
                track.fg_hist = (1 - _HIST_RATE) * track.fg_hist + _HIST_RATE * _histogram(index, fg_where)
            if bg_where.any():
                track.bg_hist = (1 - _HIST_RATE) * track.bg_hist + _HIST_RATE * _histogram(index, bg_where)

    def close(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def _region(track: _Track, back: np.ndarray) -> tuple[slice, slice]:
    """The part of the frame an object can reach this frame: its box grown by the band and the local motion.

    Working on this window instead of the whole frame is what makes the cost follow the objects, not the plate.
    """
    h, w = back.shape[:2]
    x, y, bw, bh = cv2.boundingRect(track.shape.astype(np.uint8))
    pad = 4 * track.band + 16
    near = back[max(0, y - pad) : min(h, y + bh + pad), max(0, x - pad) : min(w, x + bw + pad)]
    reach = 4 * track.band + 2 + int(np.ceil(np.abs(near).max(initial=0.0)))
    return slice(max(0, y - reach), min(h, y + bh + reach)), slice(max(0, x - reach), min(w, x + bw + reach))


def _band_width(mask: np.ndarray) -> int:
    """Half-width of the band re-decided each frame: wide enough for a fast edge, narrow enough to stay local."""
    area = int(mask.sum())
    return int(np.clip(round(0.12 * np.sqrt(max(area, 1))), 2, 12))


def _new_track(mask: np.ndarray, index: np.ndarray) -> _Track:
    band = _band_width(mask)
    ring_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * band + 1, 4 * band + 1))
    ring = cv2.dilate(mask.astype(np.uint8), ring_kernel).astype(bool) & ~mask
    return _Track(shape=mask, mask=mask, fg_hist=_histogram(index, mask), bg_hist=_histogram(index, ring), band=band)


def _clean(mask: np.ndarray) -> np.ndarray:
    """Open then close with a 3×3 square and drop specks: a classifier's salt-and-pepper is never roto."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool)
    return _drop_specks(m, max(4, int(m.sum() * 0.002)))


def _robust_maps(back: np.ndarray, grid: np.ndarray, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward sampling maps where flow that disagrees with the object's own similarity motion is replaced by it.

    Flow over an occluder follows the occluder; the object's dominant motion, fitted with RANSAC on flow that
    lands on its visible pixels, carries the shape underneath instead. The third map marks the pixels whose own
    flow was overruled: inside the object they are what passes in front of it.
    """
    map_x, map_y = grid[1] + back[..., 0], grid[0] + back[..., 1]
    h, w = visible.shape  # the whole previous frame: ``grid`` may be a window of it
    src_x = np.clip(np.round(map_x).astype(np.int32), 0, w - 1)
    src_y = np.clip(np.round(map_y).astype(np.int32), 0, h - 1)
    lands = cv2.erode(visible.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)[src_y, src_x]
    ys, xs = np.nonzero(lands)
    none = np.zeros(map_x.shape, bool)
    if xs.size < _MIN_FIT_POINTS:
        return map_x, map_y, none
    step = max(1, xs.size // _FIT_SAMPLES)
    ys, xs = ys[::step], xs[::step]
    cur = np.stack([grid[1][ys, xs], grid[0][ys, xs]], axis=1).astype(np.float32)
    prev = np.stack([map_x[ys, xs], map_y[ys, xs]], axis=1).astype(np.float32)
    cv2.setRNGSeed(0)
    model, _ = cv2.estimateAffinePartial2D(cur, prev, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if model is None:
        return map_x, map_y, none
    pred_x = model[0, 0] * grid[1] + model[0, 1] * grid[0] + model[0, 2]
    pred_y = model[1, 0] * grid[1] + model[1, 1] * grid[0] + model[1, 2]
    off = np.hypot(map_x - pred_x, map_y - pred_y) > _MOTION_TOLERANCE_PX
    return np.where(off, pred_x, map_x).astype(np.float32), np.where(off, pred_y, map_y).astype(np.float32), off


def _drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return np.isin(labels, keep)


def _load_mask_prompt(path: str, shape: tuple[int, int]) -> Mask:
    """A mask prompt file (mask EXR's combined ``A``, or any 8/16-bit image) resized to the working frame."""
    p = Path(path)
    if p.suffix.lower() == ".exr":
        from roto_core.maskio import COMBINED, read_mask_exr

        arr = read_mask_exr(p)[COMBINED]
    else:
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
        if img is None:
            raise InputError("mask prompt is missing or unreadable", path=p)
        arr = img.astype(np.float32) / float(np.iinfo(img.dtype).max)
    h, w = shape
    return (cv2.resize(arr.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5).astype(np.float32)
