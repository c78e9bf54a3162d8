"""Small farm jobs for the frames and chunks hostile suites: a synthetic shot, its plate in any format, a manifest.

The plate is rendered once per session (roto_core.synthetic) and copied or converted, with each format's own
library, into every test's folder, so each test can break its own copy. ``assert_job_consistent`` is what a job
folder must look like after any run, failed or not: no temporaries, no report of a chunk that did not finish,
every mask under its final name readable.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
from pathlib import Path

import av
import cv2
import numpy as np

from roto_core.atomic import is_temp_name
from roto_core.frames import read_frame
from roto_core.jobfolder import JobFolder
from roto_core.maskio import read_mask_exr
from roto_core.sequences import frame_path
from roto_core.synthetic import SyntheticShot, make_shot
from tests.roto.conftest import make_job

FIRST, LAST = 1001, 1008
FRAMES = f"{FIRST}-{LAST}"
BAD = 1004
"""The frame a test breaks: mid-chunk, so frames before it have been read (and their masks written)."""


def template_shot(root: Path) -> SyntheticShot:
    """Eight 96×64 frames with two objects, prompted on the first frame."""
    return make_shot(root, frames=LAST - FIRST + 1, first_frame=FIRST, width=96, height=64, seed=5)


def _display(shot: SyntheticShot, frame: int) -> np.ndarray:
    return (np.clip(read_frame(shot.plate, frame), 0.0, 1.0) * 255).round().astype(np.uint8)


def _write_dpx(path: Path, rgb: np.ndarray) -> None:
    out = av.open(str(path), "w", format="image2")
    stream = out.add_stream("dpx")
    stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
    for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
        out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def _write_movie(path: Path, frames: list[np.ndarray]) -> None:
    out = av.open(str(path), "w")
    stream = out.add_stream("mpeg4", rate=24)
    stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
    for rgb in frames:
        for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()


def plate_copy(shot: SyntheticShot, folder: Path, fmt: str) -> str:
    """The shot's plate in ``folder`` as ``fmt`` (exr, png, jpg, tif, dpx: a sequence; mov: one movie)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "mov":
        movie = folder / "plate.mov"
        _write_movie(movie, [_display(shot, f) for f in range(shot.first_frame, shot.last_frame + 1)])
        return str(movie)
    pattern = str(folder / f"plate.####.{fmt}")
    for frame in range(shot.first_frame, shot.last_frame + 1):
        target = frame_path(pattern, frame)
        if fmt == "exr":
            shutil.copyfile(frame_path(shot.plate, frame), target)
        elif fmt == "dpx":
            _write_dpx(target, _display(shot, frame))
        else:
            cv2.imwrite(str(target), _display(shot, frame)[..., ::-1])
    return pattern


def job_for(tmp: Path, shot: SyntheticShot, fmt: str = "exr") -> tuple[Path, JobFolder, str]:
    """A job folder under ``tmp`` whose plate is a fresh ``fmt`` copy; returns the manifest, the job, the plate."""
    plate = plate_copy(shot, tmp / "plate", fmt)
    _, job, manifest = make_job(tmp, dataclasses.replace(shot, plate=plate))
    return manifest, job, plate


def patch_exr_box(data: bytes, name: str, box: tuple[int, int, int, int]) -> bytes:
    """``data`` (an EXR) with the box2i header attribute ``name`` set to ``box`` (xmin, ymin, xmax, ymax).

    Layout from the OpenEXR file format: attribute name, NUL, type name ``box2i``, NUL, int32 size 16, 4 × int32.
    """
    key = name.encode() + b"\0box2i\0" + struct.pack("<i", 16)
    at = data.index(key) + len(key)
    return data[:at] + struct.pack("<4i", *box) + data[at + 16 :]


def assert_job_consistent(job: JobFolder, *, reports: int) -> None:
    """No temporaries anywhere; ``reports`` finished chunks (a failed chunk writes none); every mask complete."""
    temps = [p for p in job.root.rglob("*") if is_temp_name(p)]
    assert not temps, f"temporaries left behind: {temps}"
    written = list(job.root.glob("chunks/*/report.json"))
    assert len(written) == reports, written
    for mask in job.masks_dir.glob("*.exr") if job.masks_dir.is_dir() else []:
        read_mask_exr(mask)
