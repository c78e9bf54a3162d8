"""Synthetic shots with exact ground truth, for tests, benchmarks and the demo.

No segmentation weights are reachable here, so quality is measured on pictures whose true masks we know: textured
objects that move, rotate and scale over a textured background, with sensor noise, motion blur (several
sub-frame samples across the shutter) and one occluder that passes in front of the first object. The plate is a
linear half-float EXR sequence; ground truth is one mask EXR per frame (roto_core.maskio) holding each object's
visible silhouette at the middle of the shutter. Everything comes from one seed, so a shot is reproducible
byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import OpenEXR

from roto_core.atomic import atomic_path
from roto_core.contracts import Prompt, Shot
from roto_core.maskio import write_mask_exr
from roto_core.sequences import frame_path

_SHUTTER_SAMPLES = (-0.25, 0.0, 0.25)
_NOISE_SIGMA = 0.01
_BOX_MARGIN_PX = 3


@dataclass(frozen=True)
class SyntheticShot:
    """Where a generated shot lives and what was put in it."""

    name: str
    plate: str
    gt: str
    first_frame: int
    last_frame: int
    width: int
    height: int
    objects: list[str]
    prompts: list[Prompt] = field(default_factory=list)

    @property
    def frames(self) -> range:
        return range(self.first_frame, self.last_frame + 1)

    def to_shot(self, folder_path: str = "/synthetic/sh010", fps: float = 24.0) -> Shot:
        return Shot(
            name=self.name,
            folder_path=folder_path,
            plate=self.plate,
            first_frame=self.first_frame,
            last_frame=self.last_frame,
            fps=fps,
            width=self.width,
            height=self.height,
            prompts=list(self.prompts),
        )


@dataclass(frozen=True)
class _Layer:
    """A textured sprite in its own canvas plus its path through the shot."""

    rgb: np.ndarray  # L×L×3 display-referred
    alpha: np.ndarray  # L×L anti-aliased coverage
    centre: tuple[float, float]
    amplitude: tuple[float, float]
    omega: tuple[float, float]
    phase: tuple[float, float]
    angle0: float
    spin: float
    scale_amp: float
    scale_omega: float

    def matrix(self, t: float) -> np.ndarray:
        """Local canvas → frame affine at time ``t`` (frames since the first)."""
        cx = self.centre[0] + self.amplitude[0] * math.sin(self.omega[0] * t + self.phase[0])
        cy = self.centre[1] + self.amplitude[1] * math.sin(self.omega[1] * t + self.phase[1])
        angle = self.angle0 + self.spin * t
        scale = 1.0 + self.scale_amp * math.sin(self.scale_omega * t)
        half = (self.rgb.shape[0] - 1) / 2.0
        c, s = scale * math.cos(angle), scale * math.sin(angle)
        return np.array([[c, -s, cx - c * half + s * half], [s, c, cy - s * half - c * half]], np.float32)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2)), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Muted low-contrast clutter: enough texture to mislead a colour model, not enough to hide the objects."""
    base = np.array([0.35, 0.38, 0.33], np.float32) + rng.uniform(-0.05, 0.05, 3).astype(np.float32)
    coarse = _smooth_noise(rng, h, w, max(8, min(h, w) // 6))
    fine = _smooth_noise(rng, h, w, 4)
    tint = rng.uniform(0.6, 1.0, 3).astype(np.float32)
    img = base + 0.18 * (coarse[..., None] - 0.5) * tint + 0.06 * (fine[..., None] - 0.5)
    return np.clip(img, 0, 1).astype(np.float32)


def _shape_alpha(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """An anti-aliased silhouette in a size×size canvas (4× supersampled): an ellipse, a star or a rounded box."""
    ss = 4
    big = np.zeros((size * ss, size * ss), np.uint8)
    c = size * ss / 2.0
    r = size * ss * 0.42
    if kind % 3 == 0:
        axes = (int(r), int(r * rng.uniform(0.55, 0.75)))
        cv2.ellipse(big, (int(c), int(c)), axes, 0, 0, 360, 255, -1, cv2.LINE_AA)
    elif kind % 3 == 1:
        n = int(rng.integers(5, 7))
        pts = []
        for i in range(2 * n):
            rad = r if i % 2 == 0 else r * 0.55
            a = math.pi * i / n
            pts.append((c + rad * math.cos(a), c + rad * math.sin(a)))
        cv2.fillPoly(big, [np.round(np.array(pts)).astype(np.int32)], 255, cv2.LINE_AA)
    else:
        half = int(r * 0.8)
        corner = int(r * 0.25)
        x0, x1 = int(c) - half, int(c) + half
        y0, y1 = int(c - half * 0.7), int(c + half * 0.7)
        cv2.rectangle(big, (x0 + corner, y0), (x1 - corner, y1), 255, -1)
        cv2.rectangle(big, (x0, y0 + corner), (x1, y1 - corner), 255, -1)
        for px, py in (
            (x0 + corner, y0 + corner),
            (x1 - corner, y0 + corner),
            (x0 + corner, y1 - corner),
            (x1 - corner, y1 - corner),
        ):
            cv2.circle(big, (px, py), corner, 255, -1, cv2.LINE_AA)
    return cv2.resize(big.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)


def _object_texture(rng: np.random.Generator, size: int, hue: float) -> np.ndarray:
    """Saturated stripes and blotches in one hue family, so the object differs from the background in colour."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    period = rng.uniform(5.0, 9.0) * max(1.0, size / 64)
    stripes = 0.5 + 0.5 * np.sin((xx * math.cos(hue * 6) + yy * math.sin(hue * 6)) * 2 * math.pi / period)
    blotch = _smooth_noise(rng, size, size, max(4, size // 5))
    value = (0.55 + 0.25 * stripes + 0.2 * blotch).astype(np.float32)
    hsv = np.stack([np.full_like(value, hue * 360.0), np.full_like(value, 0.85), np.clip(value, 0, 1)], axis=-1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def _make_layers(rng: np.random.Generator, n_objects: int, w: int, h: int, frames: int) -> list[_Layer]:
    layers = []
    size = max(12, int(min(w, h) * 0.42))
    hues = [0.0, 0.6, 0.15, 0.8, 0.45]
    for i in range(n_objects):
        alpha = _shape_alpha(i, size, rng)
        rgb = _object_texture(rng, size, hues[i % len(hues)] + rng.uniform(-0.03, 0.03))
        slot = (i + 0.5) / n_objects
        centre = (w * (0.2 + 0.6 * slot), h * rng.uniform(0.4, 0.6))
        speed = min(w, h) * 0.012  # pixels per frame at the fastest point of the path
        amp = (w * 0.12, h * 0.12)
        layers.append(
            _Layer(
                rgb=rgb,
                alpha=alpha,
                centre=centre,
                amplitude=amp,
                omega=(speed / amp[0] * rng.uniform(0.7, 1.0), speed / amp[1] * rng.uniform(0.4, 0.8)),
                phase=(rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)),
                angle0=rng.uniform(0, 2 * math.pi),
                spin=math.radians(rng.uniform(0.6, 1.5)) * (1 if i % 2 == 0 else -1),
                scale_amp=0.15,
                scale_omega=2 * math.pi / max(24.0, frames * 0.8),
            )
        )
    return layers


class _Occluder:
    """A grey textured bar that slides across the first object in the middle third of the shot."""

    def __init__(self, rng: np.random.Generator, target: _Layer, w: int, h: int, frames: int) -> None:
        self.width = max(4, int(w * 0.06))
        self.height = h
        self.target = target
        self.t0 = frames * 0.35
        self.t1 = max(self.t0 + 1.0, frames * 0.65)
        self.sweep = target.rgb.shape[0] * 1.4
        tex = 0.55 + 0.15 * _smooth_noise(rng, h, self.width, 3)
        self.rgb = np.repeat(tex[..., None], 3, axis=-1).astype(np.float32)

    def x_left(self, t: float) -> float | None:
        if not self.t0 <= t <= self.t1:
            return None
        m = self.target.matrix(t)
        half = (self.target.rgb.shape[0] - 1) / 2.0
        cx = float(m[0, 0] * half + m[0, 1] * half + m[0, 2])
        progress = (t - self.t0) / (self.t1 - self.t0)
        return cx + (progress - 0.5) * self.sweep - self.width / 2.0

    def coverage(self, t: float, w: int) -> np.ndarray:
        """Column coverage (anti-aliased at the bar's two edges) of the frame at time ``t``."""
        x = self.x_left(t)
        cols = np.arange(w, dtype=np.float32) + 0.5
        if x is None:
            return np.zeros(w, np.float32)
        return np.clip(np.minimum(cols - x, x + self.width - cols) + 0.5, 0.0, 1.0)


def _warp(img: np.ndarray, m: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _render_frame(
    t: float, background: np.ndarray, layers: list[_Layer], occluder: _Occluder
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The display-referred picture (motion blurred) and each object's visible silhouette at mid-shutter."""
    h, w = background.shape[:2]
    accum = np.zeros_like(background)
    for dt in _SHUTTER_SAMPLES:
        img = background.copy()
        for layer in layers:
            m = layer.matrix(t + dt)
            a = _warp(layer.alpha, m, w, h)[..., None]
            img = img * (1 - a) + _warp(layer.rgb, m, w, h) * a
        cov = occluder.coverage(t + dt, w)
        if cov.any():
            a = np.broadcast_to(cov[None, :, None], img.shape)
            x0 = occluder.x_left(t + dt) or 0.0
            bar = np.zeros_like(img)
            lo, hi = max(0, int(x0)), min(w, int(x0) + occluder.width)
            if hi > lo:
                bar[:, lo:hi] = occluder.rgb[:, : hi - lo]
            img = img * (1 - a) + bar * a
        accum += img
    picture = accum / len(_SHUTTER_SAMPLES)
    silhouettes = [_warp(layer.alpha, layer.matrix(t), w, h) >= 0.5 for layer in layers]
    in_front = np.broadcast_to(occluder.coverage(t, w)[None, :] >= 0.5, (h, w))
    visible = []
    for i, sil in enumerate(silhouettes):
        covered = in_front.copy()
        for later in silhouettes[i + 1 :]:
            covered |= later
        visible.append(sil & ~covered)
    return picture, visible


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, np.power((x + 0.055) / 1.055, 2.4)).astype(np.float32)


def _write_plate_exr(path: Path, display: np.ndarray) -> None:
    linear = _srgb_to_linear(display)
    channels = {c: np.ascontiguousarray(linear[..., i].astype(np.float16)) for i, c in enumerate("RGB")}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with atomic_path(path) as tmp:
        OpenEXR.File(header, channels).write(str(tmp))


def _box_of(mask: np.ndarray, w: int, h: int) -> tuple[float, float, float, float] | None:
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    m = _BOX_MARGIN_PX
    return (
        float(max(0, xs.min() - m)),
        float(max(0, ys.min() - m)),
        float(min(w - 1, xs.max() + m)),
        float(min(h - 1, ys.max() + m)),
    )


def make_shot(
    out_dir: str | Path,
    *,
    frames: int,
    first_frame: int = 1001,
    width: int = 256,
    height: int = 144,
    objects: int = 2,
    seed: int = 0,
    name: str = "synth",
) -> SyntheticShot:
    """Render a shot into ``out_dir`` (``plate/<name>.####.exr``, ``gt/<name>_gt.####.exr``).

    Objects are named ``obj1``, ``obj2``, ...; ``obj1`` is the one the occluder crosses. Prompts are boxes around
    each object's visible silhouette on the first frame.
    """
    if frames < 1 or objects < 1 or width < 16 or height < 16:
        raise ValueError("a synthetic shot needs frames ≥ 1, objects ≥ 1 and a size of at least 16×16")
    root = Path(out_dir)
    rng = np.random.default_rng(seed)
    background = _background(rng, height, width)
    layers = _make_layers(rng, objects, width, height, frames)
    occluder = _Occluder(rng, layers[0], width, height, frames)
    names = [f"obj{i + 1}" for i in range(objects)]
    plate = root / "plate" / f"{name}.####.exr"
    gt = root / "gt" / f"{name}_gt.####.exr"
    prompts: list[Prompt] = []
    for k in range(frames):
        frame = first_frame + k
        picture, visible = _render_frame(float(k), background, layers, occluder)
        noise = np.random.default_rng([seed, frame]).normal(0.0, _NOISE_SIGMA, picture.shape).astype(np.float32)
        _write_plate_exr(frame_path(plate, frame), picture + noise)
        write_mask_exr(frame_path(gt, frame), dict(zip(names, visible, strict=True)))
        if k == 0:
            for obj, mask in zip(names, visible, strict=True):
                box = _box_of(mask, width, height)
                if box is not None:
                    prompts.append(Prompt(object=obj, frame=frame, box=box))
    return SyntheticShot(
        name=name,
        plate=str(plate),
        gt=str(gt),
        first_frame=first_frame,
        last_frame=first_frame + frames - 1,
        width=width,
        height=height,
        objects=names,
        prompts=prompts,
    )
