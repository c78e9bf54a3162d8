"""Frame I/O on real files of every plate format, written here with the format's own library."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import av
import cv2
import numpy as np
import OpenEXR
import pytest

from roto_core.errors import FrameError, StorageError
from roto_core.frames import FrameSource, linear_to_srgb, read_frame
from roto_core.maskio import write_mask_exr

H, W = 24, 40


def _gradient() -> np.ndarray:
    """Display-referred RGB with distinct channels, so a channel swap or flip fails the comparison."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.stack([xx / (W - 1), yy / (H - 1), 1.0 - xx / (W - 1) * 0.5], axis=-1)


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _write_exr(path: Path, channels: dict[str, np.ndarray], **header) -> None:
    hdr = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **header}
    OpenEXR.File(hdr, {k: np.ascontiguousarray(v) for k, v in channels.items()}).write(str(path))


def test_linear_half_exr_comes_back_display_referred(tmp_path: Path) -> None:
    img = _gradient()
    lin = _srgb_to_linear(img)
    _write_exr(tmp_path / "p.1001.exr", {c: lin[..., i].astype(np.float16) for i, c in enumerate("RGB")})
    out = read_frame(str(tmp_path / "p.####.exr"), 1001)
    assert out.dtype == np.float32 and out.shape == (H, W, 3)
    np.testing.assert_allclose(out, img, atol=2e-3)


def test_exr_super_whites_are_clamped_and_curve_is_srgb() -> None:
    lin = np.array([-0.5, 0.0, 0.0031308, 0.18, 1.0, 7.5], np.float32)
    out = linear_to_srgb(lin)
    np.testing.assert_allclose(out, [0.0, 0.0, 0.0031308 * 12.92, 0.4613561, 1.0, 1.0], atol=1e-5)


def test_float_luminance_exr_with_data_window_inside_display_window(tmp_path: Path) -> None:
    y = np.full((6, 10), 0.18, np.float32)
    _write_exr(tmp_path / "y.0007.exr", {"Y": y}, dataWindow=((5, 4), (14, 9)), displayWindow=((0, 0), (W - 1, H - 1)))
    out = read_frame(str(tmp_path / "y.%04d.exr"), 7)
    assert out.shape == (H, W, 3)
    assert np.allclose(out[4:10, 5:15], linear_to_srgb(np.float32(0.18)), atol=1e-5)
    outside = np.ones((H, W), bool)
    outside[4:10, 5:15] = False
    assert not out[outside].any()


def test_layered_rgb_exr_and_downscale(tmp_path: Path) -> None:
    lin = _srgb_to_linear(_gradient())
    _write_exr(tmp_path / "l.1001.exr", {f"beauty.{c}": lin[..., i] for i, c in enumerate("RGB")})
    out = read_frame(str(tmp_path / "l.####.exr"), 1001, max_size=20)
    assert out.shape == (12, 20, 3)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), _gradient().mean(axis=(0, 1)), atol=0.02)


def test_truncated_exr_is_a_frame_error_naming_it(tmp_path: Path) -> None:
    lin = _srgb_to_linear(_gradient())
    good = tmp_path / "g.1001.exr"
    _write_exr(good, {c: lin[..., i].astype(np.float16) for i, c in enumerate("RGB")})
    bad = tmp_path / "t.1001.exr"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(FrameError) as err:
        read_frame(str(tmp_path / "t.####.exr"), 1001)
    assert err.value.path == str(bad)


def test_missing_frame_names_the_first_missing_file(tmp_path: Path) -> None:
    img = (_gradient() * 255).astype(np.uint8)
    for f in (1, 2, 4, 6):
        cv2.imwrite(str(tmp_path / f"s.{f:04d}.png"), img[..., ::-1])
    with pytest.raises(FrameError) as err:
        FrameSource(str(tmp_path / "s.####.png"), 1, 6)
    assert err.value.path == str(tmp_path / "s.0003.png")


@pytest.mark.parametrize(
    ("suffix", "dtype", "atol"),
    [(".png", np.uint16, 1e-4), (".tif", np.uint16, 1e-4), (".png", np.uint8, 3e-3), (".jpg", np.uint8, 0.04)],
)
def test_opencv_formats_8_and_16_bit(tmp_path: Path, suffix: str, dtype: type, atol: float) -> None:
    img = _gradient()
    scale = np.iinfo(dtype).max
    cv2.imwrite(str(tmp_path / f"c.0100{suffix}"), np.round(img[..., ::-1] * scale).astype(dtype))
    out = read_frame(str(tmp_path / f"c.####{suffix}"), 100)
    np.testing.assert_allclose(out, img, atol=atol)


def test_grey_tiff_becomes_three_channels(tmp_path: Path) -> None:
    grey = (np.linspace(0, 65535, W * H).reshape(H, W)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g.0001.tif"), grey)
    out = read_frame(str(tmp_path / "g.####.tif"), 1)
    assert out.shape == (H, W, 3)
    np.testing.assert_allclose(out[..., 1], grey / 65535.0, atol=1e-5)


def test_dpx_16_bit(tmp_path: Path) -> None:
    img = np.round(_gradient() * 65535).astype(np.uint16)
    out = av.open(str(tmp_path / "d.1001.dpx"), "w", format="image2")
    stream = out.add_stream("dpx")
    stream.width, stream.height, stream.pix_fmt = W, H, "rgb48le"
    for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb48le")):
        out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    got = read_frame(str(tmp_path / "d.####.dpx"), 1001)
    np.testing.assert_allclose(got, img / 65535.0, atol=1e-4)


def _write_movie(path: Path, frames: int) -> list[float]:
    """Flat grey frames of distinct levels (survive lossy coding); returns each frame's level."""
    levels = [0.1 + 0.8 * i / (frames - 1) for i in range(frames)]
    out = av.open(str(path), "w")
    stream = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=24)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for level in levels:
        arr = np.full((48, 64, 3), round(level * 255), np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return levels


def test_movie_frames_by_index_and_frame_numbers(tmp_path: Path) -> None:
    movie = tmp_path / "clip.mov"
    levels = _write_movie(movie, 8)
    assert read_frame(str(movie), 5).mean() == pytest.approx(levels[5], abs=0.03)
    src = FrameSource(str(movie), 1003, 1007, movie_first_frame=1001)
    got = [src[i].mean() for i in (0, 1, 4, 2)]  # a backwards jump reopens the movie
    assert got == pytest.approx([levels[2], levels[3], levels[6], levels[4]], abs=0.03)
    with pytest.raises(FrameError, match="no frame index 9"):
        read_frame(str(movie), 9)


@pytest.mark.parametrize("prefetch", [False, True])
def test_frame_source_is_lazy_and_scales(tmp_path: Path, prefetch: bool) -> None:
    img = (_gradient() * 255).astype(np.uint8)
    for f in range(1, 4):
        cv2.imwrite(str(tmp_path / f"z.{f:04d}.png"), img[..., ::-1])
    src = FrameSource(str(tmp_path / "z.####.png"), 1, 3, max_size=20, prefetch=prefetch)
    assert (len(src), src.plate_size, src.size) == (3, (W, H), (20, 12))
    (tmp_path / "z.0003.png").write_bytes(b"not a png")  # only read on access
    assert src[0].shape == (12, 20, 3)
    assert np.array_equal(src[1], src[0])  # a prefetched frame is the same picture as a direct read
    with pytest.raises(FrameError) as err:
        src[2]  # with prefetch the decode failed on the loader thread; it surfaces only when asked for
    assert err.value.path == str(tmp_path / "z.0003.png")
    with pytest.raises(IndexError):
        src[3]
    src.close()


def test_jpeg_padded_after_its_end_reads_and_one_cut_short_is_an_error(tmp_path: Path) -> None:
    """libjpeg decodes a truncated JPEG into a grey-filled frame (and says so only on stderr): it must be an error,
    while zero padding after the end-of-image marker is harmless."""
    colour = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8), (5, 5), 0)
    cv2.imwrite(str(tmp_path / "c.0001.jpg"), colour)
    data = (tmp_path / "c.0001.jpg").read_bytes()
    (tmp_path / "c.0002.jpg").write_bytes(data + bytes(100))
    (tmp_path / "c.0003.jpg").write_bytes(data[: len(data) * 3 // 4])
    reference = cv2.imread(str(tmp_path / "c.0001.jpg"))[..., ::-1] / 255.0
    np.testing.assert_allclose(read_frame(str(tmp_path / "c.####.jpg"), 2), reference, atol=1e-6)
    with pytest.raises(FrameError, match="truncated JPEG"):
        read_frame(str(tmp_path / "c.####.jpg"), 3)


def test_library_stderr_naming_the_file_becomes_the_detail_and_the_rest_passes(tmp_path: Path, capfd) -> None:
    from roto_core.native_stderr import capture_about, detail

    path = tmp_path / "plate.0001.exr"
    with capture_about(path) as printed:
        os.write(2, f"{path}: (EXR_ERR_BAD_CHUNK_LEADER) corrupt leader\nanother thread's line\n".encode())
    assert detail(printed, RuntimeError("file has 0 parts"), path) == "(EXR_ERR_BAD_CHUNK_LEADER) corrupt leader"
    assert capfd.readouterr().err == "another thread's line\n"
    assert detail([], RuntimeError("two\nlines"), path) == "two lines"


def test_error_messages_are_one_line() -> None:
    err = FrameError("Invalid part index '0':\n  file has 0 parts.", path="/x/p.0001.exr", hint="re-render\nit")
    assert err.format() == "/x/p.0001.exr: Invalid part index '0': file has 0 parts. (hint: re-render it)"


def test_a_mask_that_cannot_be_written_whole_is_a_storage_error_and_leaves_no_file(tmp_path: Path) -> None:
    """A write cut short (here by a file-size limit: EFBIG, as ENOSPC would) leaves neither the final name nor a
    temporary, and says which folder and why."""
    noise = np.random.default_rng(1).random((256, 256)) > 0.5
    target = tmp_path / "masks" / "m.0001.exr"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(StorageError) as err:
            write_mask_exr(target, {"a": noise})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert err.value.path == str(target.parent) and "file size limit" in err.value.message
    assert list(target.parent.iterdir()) == []


def test_pixel_aspect_comes_from_the_exr_header(tmp_path: Path) -> None:
    """Anamorphic EXR plates say their pixel aspect in ``pixelAspectRatio``; other formats are square."""
    import OpenEXR

    from roto_core.sequences import probe_pixel_aspect

    y = np.zeros((4, 6), np.float16)
    OpenEXR.File({"pixelAspectRatio": 2.0}, {"Y": y}).write(str(tmp_path / "ana.1001.exr"))
    OpenEXR.File({}, {"Y": y}).write(str(tmp_path / "square.1001.exr"))
    OpenEXR.File({"pixelAspectRatio": 50.0}, {"Y": y}).write(str(tmp_path / "odd.1001.exr"))
    cv2.imwrite(str(tmp_path / "still.1001.png"), np.zeros((4, 6), np.uint8))
    assert probe_pixel_aspect(tmp_path / "ana.####.exr", 1001) == 2.0
    assert probe_pixel_aspect(tmp_path / "square.####.exr", 1001) == 1.0
    assert probe_pixel_aspect(tmp_path / "still.####.png", 1001) == 1.0
    with pytest.raises(FrameError, match="pixelAspectRatio"):
        probe_pixel_aspect(tmp_path / "odd.####.exr", 1001)
