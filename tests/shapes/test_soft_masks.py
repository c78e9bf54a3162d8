"""Soft masks are cut half way up their edge (roto_core.maskio.inside), as the farm writes them: the models see at
most ``max_resolution`` (1024 px), and the chunk runner upscales their masks to the plate linearly, so a mask's
edge on the plate is a ramp a few pixels wide whose 0.5 level is the model's edge. Traced from the ramp's outer
foot (every non-zero pixel), the shapes of a real matte grew by a ramp's half-width all round: DAVIS dog's first
20 frames at a 4x upscale (a 1024 px model on a 4K plate) 8.8 % more area than the matte, IoU 0.915; cut at 0.5,
0.1 % and 0.968 (bench/soft_masks.py). The same
masks saved as an 8-bit PNG or a 16-bit TIFF (an antialiased matte from a comp) are cut at half their full scale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from roto_core.chunks.runner import _plate_masks
from roto_core.contracts import ShapeSettings
from roto_core.maskio import EDGE_LEVEL, inside, write_mask_exr
from roto_core.shapes.maskseq import MaskSequence
from roto_core.shapes.model import rasterise
from roto_core.shapes.trace import InMemoryMasks, trace_shapes

DOG = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "davis2016-dev" / "dog" / "Annotations"
UPSCALE = 4
FRAMES = 4


def test_half_floats_are_cut_as_numpy_compares_them_on_every_bit_pattern() -> None:
    """inside() reads half data off its bits (the farm's masks are half EXRs): every one of the 65,536 halves,
    negatives, infinities and NaNs included, and a strided view of them, cut as ``>= EDGE_LEVEL`` cuts them."""
    every = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).reshape(256, 256)
    with np.errstate(invalid="ignore"):
        expected = every >= EDGE_LEVEL
    assert inside(every).tolist() == expected.tolist()
    assert inside(every[::3, 1::2]).tolist() == expected[::3, 1::2].tolist()
    assert 0 < int(expected.sum()) < every.size


def test_float_data_and_integer_mattes_are_inside_from_half_way_up_and_labels_wherever_non_zero() -> None:
    ramp = np.array([[0.0, 0.001, 0.49, 0.5, 1.0]], np.float32)
    assert inside(ramp).tolist() == [[False, False, False, True, True]]
    assert inside(ramp.astype(np.float16)).tolist() == [[False, False, False, True, True]]
    # An 8- or 16-bit matte (most of its non-zero pixels at full scale) is cut where a float one is: 127/255 is
    # under one half, 128/255 over it.
    matte8 = np.array([[0, 1, 127, 128, 255, 255, 255]], np.uint8)
    assert inside(matte8).tolist() == [[False, False, False, True, True, True, True]]
    matte16 = np.array([[0, 300, 32767, 32768, 65535, 65535, 65535]], np.uint16)
    assert inside(matte16).tolist() == [[False, False, False, True, True, True, True]]
    # Label images store 1 (or an id per object), palette images at most 224: inside wherever non-zero.
    assert inside(np.array([[0, 1, 1, 2]], np.uint8)).tolist() == [[False, True, True, True]]
    assert inside(np.array([[0, 64, 128, 192, 128]], np.uint8)).tolist() == [[False, True, True, True, True]]
    # Mostly rim: a line a pixel or two wide is read wherever non-zero, as are other integer types.
    assert inside(np.array([[0, 40, 90, 255, 90, 40]], np.uint8)).tolist() == [[False, True, True, True, True, True]]
    assert inside(np.array([[0, 1, 2**31 - 1]], np.int32)).tolist() == [[False, True, True]]
    assert inside(np.array([[True, False]])).tolist() == [[True, False]]


def test_in_memory_soft_masks_are_cut_at_half() -> None:
    soft = np.zeros((20, 30), np.float32)
    soft[5:15, 5:25] = 0.3
    soft[7:13, 8:22] = 0.8
    assert InMemoryMasks({0: {"obj": soft}}, 30, 20).read(0)["obj"].sum() == 6 * 14


def _dog_plate_masks() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """DAVIS dog's first frames as the farm makes their plate masks: what a model sees (the matte area-averaged to a
    quarter size) and decides (half and above is the dog), upscaled to the plate by the chunk runner's own code."""
    mattes, plates = [], []
    for f in range(FRAMES):
        matte = cv2.imread(str(DOG / f"{f:05d}.png"), cv2.IMREAD_GRAYSCALE) > 0
        h, w = matte.shape
        seen = cv2.resize(matte.astype(np.float32), (w // UPSCALE, h // UPSCALE), interpolation=cv2.INTER_AREA)
        plate = _plate_masks({"dog": (seen >= 0.5).astype(np.float32)}, ["dog"], (w, h), np.zeros((h, w), np.float32))
        assert ((plate["dog"] > 0) & (plate["dog"] < 1)).sum() > 1000  # a soft ramp all round
        mattes.append(matte)
        plates.append(plate["dog"])
    return mattes, plates


def _assert_shapes_keep_the_mattes_size(pattern: Path, mattes: list[np.ndarray]) -> None:
    masks = MaskSequence(str(pattern), 0, FRAMES - 1, default_object="dog")
    doc = trace_shapes(masks, ShapeSettings(tolerance_px=2.5))
    for f, matte in enumerate(mattes):
        drawn = rasterise(doc.shapes, f, matte.shape)
        iou = (drawn & matte).sum() / (drawn | matte).sum()
        excess = drawn.sum() / matte.sum() - 1.0
        assert iou >= 0.95, f"frame {f}: IoU {iou:.3f} against the matte"
        assert abs(excess) <= 0.03, f"frame {f}: the shapes cover {excess:+.1%} of the matte's area"


@pytest.mark.skipif(not DOG.exists(), reason="needs ../shared/data/davis2016-dev")
def test_shapes_traced_from_the_farms_upscaled_masks_keep_the_mattes_size(tmp_path: Path) -> None:
    mattes, plates = _dog_plate_masks()
    for f, plate in enumerate(plates):
        write_mask_exr(tmp_path / f"masks.{f:04d}.exr", {"dog": plate})
    _assert_shapes_keep_the_mattes_size(tmp_path / "masks.####.exr", mattes)


@pytest.mark.skipif(not DOG.exists(), reason="needs ../shared/data/davis2016-dev")
@pytest.mark.parametrize(("suffix", "dtype"), [("png", np.uint8), ("tif", np.uint16)])
def test_shapes_traced_from_8_and_16_bit_soft_mattes_keep_the_mattes_size(
    tmp_path: Path, suffix: str, dtype: type
) -> None:
    """The same soft masks saved at 8 or 16 bits, as a comp writes an antialiased matte: read wherever non-zero, they
    came out 9 % too large, as the float masks did before they were cut at 0.5."""
    mattes, plates = _dog_plate_masks()
    full = np.iinfo(dtype).max
    for f, plate in enumerate(plates):
        assert cv2.imwrite(str(tmp_path / f"matte.{f:04d}.{suffix}"), np.round(plate * full).astype(dtype))
    _assert_shapes_keep_the_mattes_size(tmp_path / f"matte.####.{suffix}", mattes)
