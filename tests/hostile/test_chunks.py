"""Hostile chunk runs: broken chunk state, full and read-only disks, races, kills and bad ranges, through the CLI.

Each case runs ``rotofarm run-chunk`` (or ``worker``) as a subprocess on a small job (tests.hostile.chunkjobs).
Ending right: exit 2 with one ``error:`` line naming the file or folder at fault and why (full, read-only, the
bound hit), or, for a chunk another process renders, exit 75 with one ``error:`` line saying so (the reason is
in roto_core.chunks.lock); or success with the same bytes a clean run writes. Always: no temporaries, no report
of a chunk that did not finish, no incomplete mask under its final name, no traceback, inside the time bound.

Full and read-only folders are real: a tmpfs of a few KiB (ENOSPC) or mounted read-only (EROFS) over the folder.
Where mounting is not allowed, a full disk is simulated by a file-size limit (RLIMIT_FSIZE, EFBIG) and a
read-only folder by its mode (which binds only a process that is not root).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import OpenEXR
import pytest

from roto_core.chunks.lock import BUSY_EXIT_CODE, LOCK_NAME
from roto_core.jobfolder import JobFolder
from roto_core.maskio import read_mask_exr
from roto_core.synthetic import SyntheticShot, make_shot
from tests.hostile.chunkjobs import FIRST, LAST, assert_job_consistent, job_for, template_shot
from tests.hostile.harness import REPO, ROTOFARM, assert_no_secret, assert_no_traceback, assert_one_error, run_rotofarm
from tests.roto.conftest import kill_at_progress

MID = 1004
HEAD, TAIL = f"{FIRST}-{MID}", f"{MID + 1}-{LAST}"


@pytest.fixture(scope="module")
def shot(tmp_path_factory: pytest.TempPathFactory) -> SyntheticShot:
    return template_shot(tmp_path_factory.mktemp("template"))


def _run_chunk(manifest: Path, frames: str, cwd: Path, **kw) -> object:
    return run_rotofarm(["run-chunk", str(manifest), "--frames", frames, "--device", "cpu"], cwd=cwd, **kw)


def _files(job: JobFolder) -> dict[str, bytes]:
    """Everything a chunk writes that must be byte-identical between runs (reports carry timings)."""
    return {
        str(p.relative_to(job.root)): p.read_bytes()
        for p in sorted(job.root.rglob("*"))
        if p.is_file() and p.name not in {"report.json", "manifest.json"}
    }


@pytest.fixture(scope="module")
def clean(shot: SyntheticShot, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of an undisturbed run of both chunks, for byte comparisons."""
    tmp = tmp_path_factory.mktemp("clean")
    manifest, job, _ = job_for(tmp, shot)
    for frames in (HEAD, TAIL):
        assert _run_chunk(manifest, frames, tmp).code == 0
    return _files(job)


# --- the state the previous chunk left ---------------------------------------------------------------------


def _state(job: JobFolder) -> Path:
    return job.chunk_state(FIRST, MID)


def _index(text: bytes) -> Callable[[JobFolder], None]:
    def mutate(job: JobFolder) -> None:
        (_state(job) / "state.json").write_bytes(text)

    return mutate


def _index_fields(**fields) -> Callable[[JobFolder], None]:
    def mutate(job: JobFolder) -> None:
        path = _state(job) / "state.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))

    return mutate


def _state_mask(job: JobFolder) -> Path:
    return _state(job) / f"masks.{MID:04d}.exr"


def _mask_channels(channels: dict[str, np.ndarray]) -> Callable[[JobFolder], None]:
    def mutate(job: JobFolder) -> None:
        OpenEXR.File({"type": OpenEXR.scanlineimage}, channels).write(str(_state_mask(job)))

    return mutate


def _truncated_mask(job: JobFolder) -> None:
    data = _state_mask(job).read_bytes()
    _state_mask(job).write_bytes(data[: len(data) // 2])


def _huge_index(job: JobFolder) -> None:
    with open(_state(job) / "state.json", "r+b") as fh:
        fh.truncate(17 << 20)


def _fifo_index(job: JobFolder) -> None:
    (_state(job) / "state.json").unlink()
    os.mkfifo(_state(job) / "state.json")


ONES = np.ones((64, 96), np.float16)
STATE_CASES: dict[str, tuple[Callable[[JobFolder], None], str, tuple[str, ...]]] = {
    "index-garbage-text": (_index(b"{not json"), "state.json", ("not a chunk state",)),
    "index-binary": (_index(bytes(range(256)) * 4), "state.json", ("not a chunk state",)),
    "index-empty-file": (_index(b""), "state.json", ("not a chunk state",)),
    "index-a-list": (_index(b"[]"), "state.json", ("not a chunk state",)),
    "index-wrong-schema": (_index(b'{"frames": "x", "size": 3}'), "state.json", ("frames",)),
    "index-unknown-key": (_index_fields(extra=1), "state.json", ("extra",)),
    "index-negative-width": (_index_fields(width=-96), "state.json", ("width",)),
    "index-zero-height": (_index_fields(height=0), "state.json", ("height",)),
    "index-absurd-width": (_index_fields(width=10**9), "state.json", ("width",)),
    "index-width-as-text": (_index_fields(width="96"), "state.json", ("width",)),
    "index-no-frames": (_index_fields(frames=[]), "state.json", ("frames",)),
    "index-frames-not-consecutive": (_index_fields(frames=[MID, MID - 2]), "state.json", ("consecutive",)),
    "index-frame-without-mask": (_index_fields(frames=[MID - 1]), f"masks.{MID - 1:04d}.exr", ("missing",)),
    "index-17mib": (_huge_index, "state.json", ("bound",)),
    "index-fifo": (_fifo_index, "state.json", ("no state",)),
    "mask-truncated": (_truncated_mask, f"masks.{MID:04d}.exr", ("exr",)),
    "mask-wrong-size": (_mask_channels({"obj1.A": ONES[:32, :48], "A": ONES[:32, :48]}), "masks.", ("48x32",)),
    "mask-unknown-object": (_mask_channels({"ghost.A": ONES, "A": ONES}), "masks.", ("ghost",)),
}


@pytest.mark.parametrize("case", list(STATE_CASES))
def test_broken_chunk_state_is_one_error_naming_it(case: str, shot: SyntheticShot, tmp_path: Path) -> None:
    mutate, names, words = STATE_CASES[case]
    manifest, job, _ = job_for(tmp_path, shot)
    assert _run_chunk(manifest, HEAD, tmp_path).code == 0
    mutate(job)
    line = assert_one_error(_run_chunk(manifest, TAIL, tmp_path, timeout=30), contains=names)
    for word in words:
        assert word.lower() in line.lower(), line
    assert_job_consistent(job, reports=1)
    assert not job.mask_path(MID + 1).exists()


def test_state_masks_of_another_dtype_continue_the_same(
    shot: SyntheticShot, clean: dict[str, bytes], tmp_path: Path
) -> None:
    """A state mask rewritten with unsigned-int 0/1 channels is the same mask: the next chunk's files are the
    bytes of a clean run."""
    manifest, job, _ = job_for(tmp_path, shot)
    assert _run_chunk(manifest, HEAD, tmp_path).code == 0
    masks = read_mask_exr(_state_mask(job))
    channels = {(k if k == "A" else f"{k}.A"): (v >= 0.5).astype(np.uint32) for k, v in masks.items()}
    _mask_channels(channels)(job)
    ended = _run_chunk(manifest, TAIL, tmp_path)
    assert ended.code == 0, ended.stderr
    rerun = _files(job)
    tail = [k for k in clean if k.startswith("masks/") and int(k.split(".")[-2]) > MID]
    assert tail and all(rerun[k] == clean[k] for k in tail)


# --- full and read-only disks ------------------------------------------------------------------------------


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
    return done.returncode == 0


@contextmanager
def _limited(folder: Path, kind: str) -> Iterator[Callable[[], None]]:
    """``folder`` made full or read-only for the runs inside the block; yields a function that lifts it."""
    mounted = _mount(folder, "size=12k" if kind == "full" else "ro,size=64k")
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_mode = folder.stat().st_mode if folder.exists() else None

    def lift() -> None:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        if old_mode is not None:
            folder.chmod(old_mode)

    if not mounted:
        if kind == "full":
            resource.setrlimit(resource.RLIMIT_FSIZE, (2000, old_limit[1]))  # the child inherits it: EFBIG
        elif os.geteuid() == 0:
            pytest.skip("root ignores folder modes and may not mount here: no read-only folder to be had")
        else:
            folder.chmod(0o555)
    try:
        yield lift
    finally:
        if mounted and os.path.ismount(folder):
            subprocess.run(["umount", str(folder)], check=False)
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)


DISK_CASES = {
    "masks-full": ("masks", "full", ("full", "file size limit")),
    "masks-read-only": ("masks", "read-only", ("read-only", "not writable")),
    "chunks-full": ("chunks", "full", ("full", "file size limit")),
    "chunks-read-only": ("chunks", "read-only", ("read-only", "not writable")),
}


@pytest.mark.parametrize("case", list(DISK_CASES))
def test_full_or_read_only_folder_is_one_error_and_rerun_is_clean(
    case: str, shot: SyntheticShot, clean: dict[str, bytes], tmp_path: Path
) -> None:
    folder_name, kind, reasons = DISK_CASES[case]
    manifest, job, _ = job_for(tmp_path, shot)
    folder = job.root / folder_name
    with _limited(folder, kind) as lift:
        ended = _run_chunk(manifest, HEAD, tmp_path)
        line = assert_one_error(ended)
        assert str(folder) in line and any(r in line for r in reasons), line
        assert_job_consistent(job, reports=0)
        lift()
    assert _run_chunk(manifest, HEAD, tmp_path).code == 0
    assert _run_chunk(manifest, TAIL, tmp_path).code == 0
    assert _files(job) == clean


@pytest.mark.parametrize("folder_name", ["masks", "chunks"])
def test_a_file_where_a_job_folder_belongs_is_one_error(folder_name: str, shot: SyntheticShot, tmp_path: Path) -> None:
    manifest, job, _ = job_for(tmp_path, shot)
    (job.root / folder_name).write_text("not a folder")
    line = assert_one_error(_run_chunk(manifest, HEAD, tmp_path))
    assert str(job.root / folder_name) in line and "file" in line, line
    assert (job.root / folder_name).read_text() == "not a folder"


# --- two renders of one chunk ------------------------------------------------------------------------------

_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.pwrite(fd, b"render07 pid 4242\\n", 0)
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def _held(lock: Path) -> Iterator[None]:
    """Another process holding the chunk's lock until the block ends."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield
    finally:
        holder.communicate("", timeout=10)


def test_chunk_rendered_elsewhere_exits_75_touching_nothing(
    shot: SyntheticShot, clean: dict[str, bytes], tmp_path: Path
) -> None:
    manifest, job, _ = job_for(tmp_path, shot)
    with _held(job.chunk_dir(FIRST, MID) / LOCK_NAME):
        ended = _run_chunk(manifest, HEAD, tmp_path, timeout=30)
    lines = ended.error_lines
    assert ended.code == BUSY_EXIT_CODE and len(lines) == 1 and lines[0].startswith("error: "), ended.stderr
    assert "being rendered by another process (render07 pid 4242)" in lines[0] and str(job.root) in lines[0]
    assert_no_traceback(ended)
    assert not job.masks_dir.exists() and not job.chunk_report(FIRST, MID).exists()
    assert _run_chunk(manifest, HEAD, tmp_path).code == 0  # the holder is gone: its lock went with it
    assert _run_chunk(manifest, TAIL, tmp_path).code == 0
    assert _files(job) == clean


def test_worker_answers_failed_for_a_chunk_rendered_elsewhere(shot: SyntheticShot, tmp_path: Path) -> None:
    manifest, job, _ = job_for(tmp_path, shot)
    with _held(job.chunk_dir(FIRST, MID) / LOCK_NAME):
        ended = run_rotofarm(["worker", str(manifest), "--device", "cpu"], cwd=tmp_path, stdin=f"{HEAD}\n{TAIL}\n")
    answers = [line for line in ended.stdout.splitlines() if not line.startswith("Progress: ")]
    assert ended.code == 0 and len(answers) == 2, ended.stdout + ended.stderr
    assert answers[0].startswith(f"FAILED {HEAD}: ") and "being rendered by another process" in answers[0]
    assert answers[1].startswith(f"FAILED {TAIL}: ") and "previous chunk left no state" in answers[1]
    assert_no_traceback(ended)


def _rendered_and_fresh(
    tmp_path: Path, frames: int, seed: int
) -> tuple[SyntheticShot, JobFolder, JobFolder, list[str], dict[str, str]]:
    """A shot, its job rendered once cleanly (the reference), a fresh job of the same shot, and the ``run-chunk``
    command line and environment that render the fresh job's whole range in a subprocess."""
    shot = make_shot(tmp_path / "shot", frames=frames, width=160, height=96, seed=seed)
    _, reference, _ = job_for(tmp_path / "ref", shot)
    span = f"{shot.first_frame}-{shot.last_frame}"
    assert _run_chunk(reference.manifest, span, tmp_path).code == 0
    _, job, _ = job_for(tmp_path / "job", shot)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    return shot, reference, job, [*ROTOFARM, "run-chunk", str(job.manifest), "--frames", span, "--device", "cpu"], env


def test_four_renders_of_one_chunk_at_once_leave_the_clean_files(tmp_path: Path) -> None:
    """A real race (a longer chunk, four processes started together): each either renders the chunk or exits
    75 saying it is rendered elsewhere; the files are those of one clean run."""
    _, reference, job, args, env = _rendered_and_fresh(tmp_path, frames=40, seed=9)
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    ended = [(p, *p.communicate(timeout=120)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in ended)
    assert codes[0] == 0 and set(codes) <= {0, BUSY_EXIT_CODE}, [(p.returncode, err) for p, _, err in ended]
    for p, _, err in ended:
        assert "Traceback" not in err
        if p.returncode == BUSY_EXIT_CODE:
            assert len(err.strip().splitlines()) == 1 and "being rendered by another process" in err
    assert _files(job) == _files(reference)
    assert_job_consistent(job, reports=1)


def test_chunk_killed_mid_way_reruns_byte_identical(tmp_path: Path) -> None:
    shot, reference, job, args, env = _rendered_and_fresh(tmp_path, frames=48, seed=4)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    kill_at_progress(proc, 40)
    finals = list(job.masks_dir.glob("*.exr"))  # a glob without a leading dot skips the temporaries
    assert 0 < len(finals) < 48, "the kill must land mid-chunk"
    assert all(read_mask_exr(p) for p in finals) and not job.chunk_report(shot.first_frame, shot.last_frame).exists()
    assert _run_chunk(job.manifest, f"{shot.first_frame}-{shot.last_frame}", tmp_path).code == 0
    assert _files(job) == _files(reference)
    assert_job_consistent(job, reports=1)


# --- frame ranges and secrets ------------------------------------------------------------------------------

RANGE_CASES = {
    "huge": ("1-99999999999", ("bound", "100000 frames")),
    "reversed": (f"{LAST}-{FIRST}", ("ends before it starts",)),
    "not-a-range": ("first-last", ("not a frame range",)),
    "outside-the-shot": ("901-1000", ("not inside the shot",)),
    "straddling-the-shot": (f"{LAST}-{LAST + 5}", ("not inside the shot",)),
}


@pytest.mark.parametrize("case", list(RANGE_CASES))
def test_bad_chunk_range_is_one_error(case: str, shot: SyntheticShot, tmp_path: Path) -> None:
    frames, words = RANGE_CASES[case]
    manifest, job, _ = job_for(tmp_path, shot)
    line = assert_one_error(_run_chunk(manifest, frames, tmp_path, timeout=30))
    for word in words:
        assert word in line, line
    assert not job.masks_dir.exists()


def test_worker_refuses_a_huge_range_and_renders_the_next(shot: SyntheticShot, tmp_path: Path) -> None:
    manifest, job, _ = job_for(tmp_path, shot)
    ended = run_rotofarm(["worker", str(manifest), "--device", "cpu"], cwd=tmp_path, stdin=f"1-99999999999\n{HEAD}\n")
    answers = [line for line in ended.stdout.splitlines() if not line.startswith("Progress: ")]
    assert answers[0].startswith("FAILED 1-99999999999: ") and "bound of 100000 frames" in answers[0], answers
    assert answers[1] == f"DONE {HEAD}", answers
    assert_job_consistent(job, reports=1)


def test_no_secret_from_the_environment_in_chunk_output(shot: SyntheticShot, tmp_path: Path) -> None:
    secrets = ["ayon-key-5f1c9e0d", "deadline-pass-77ab"]
    env = {"AYON_API_KEY": secrets[0], "AYON_SERVER_URL": f"https://roto:{secrets[1]}@ayon.example"}
    env["DEADLINE_PASSWORD"] = secrets[1]
    manifest, job, _ = job_for(tmp_path, shot)
    ended = _run_chunk(manifest, HEAD, tmp_path, env=env)
    assert ended.code == 0, ended.stderr
    assert_no_secret(ended, secrets, files_root=job.root)
    (job.chunk_state(FIRST, MID) / "state.json").write_text("{broken")
    failed = _run_chunk(manifest, TAIL, tmp_path, env=env)
    assert_one_error(failed)
    assert_no_secret(failed, secrets, files_root=job.root)
