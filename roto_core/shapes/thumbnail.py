"""A JPEG of the shapes drawn over a plate frame, for the tracker's version thumbnail and a quick look."""

from __future__ import annotations

import cv2
import numpy as np

from roto_core.errors import FrameError
from roto_core.shapes.model import ShapeDocument, sample_outline

COLOURS = [(80, 220, 255), (255, 160, 60), (120, 255, 120), (255, 100, 220), (90, 120, 255)]


def draw_shapes(plate_rgb: np.ndarray, doc: ShapeDocument, frame: int) -> np.ndarray:
    """``plate_rgb`` (float 0..1, any size) with the shapes alive at ``frame``, as 8-bit BGR."""
    h, w = plate_rgb.shape[:2]
    img = cv2.cvtColor(np.clip(plate_rgb * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    scale = np.array([w / doc.width, h / doc.height])
    shift = 4
    for i, obj in enumerate(doc.objects):
        colour = COLOURS[i % len(COLOURS)]
        for shape in doc.shapes_of(obj):
            if not shape.alive(frame):
                continue
            ctrl = shape.at(frame)
            outline = (sample_outline(ctrl) * scale - 0.5) * (1 << shift)
            cv2.polylines(img, [np.round(outline).astype(np.int32)], True, colour, 1, cv2.LINE_AA, shift)
            for x, y in ctrl[:, 1] * scale - 0.5:
                cv2.circle(img, (round(x), round(y)), 2, colour, -1, cv2.LINE_AA)
    return img


def thumbnail_jpeg(plate_rgb: np.ndarray, doc: ShapeDocument, frame: int, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", draw_shapes(plate_rgb, doc, frame), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FrameError("could not encode the thumbnail JPEG", where=f"frame {frame}")
    return data.tobytes()


def best_frame(doc: ShapeDocument) -> int:
    """The frame with the most shapes alive, the middle one among equals: the most telling thumbnail."""
    frames = range(doc.first_frame, doc.last_frame + 1)
    middle = (doc.first_frame + doc.last_frame) / 2
    return max(frames, key=lambda f: (sum(s.alive(f) for s in doc.shapes), -abs(f - middle)))
