"""The published ``.nk`` reads the published matte sequence of the same publish, not the farm job folder.

Finalize's ``.nk`` points its Read node at ``jobs/.../masks/…####.exr``, which breaks when job folders are
cleaned. At publish the script is written again with ``roto_core.exporters.nuke.write_nk`` from the job's shapes
JSON, its Read node pointing at the matte version just published:

* AYON: the rootless path with ``{root[work]}`` replaced by ``[getenv AYON_PROJECT_ROOT_WORK]``. ayon-core sets
  ``AYON_PROJECT_ROOT_<ROOT>`` in every host it launches (``Anatomy.set_root_environments`` in
  ``pipeline/context_tools.py``, names from ``anatomy/roots.py``) and ayon-nuke writes root paths into knobs as
  this same TCL ``[getenv …]`` expression (``api/lib.py``), so every site resolves the script against its roots.
* Local tracker: the absolute path inside the version folder.

The frame number of the first file becomes ``#`` repeated to its padding, as ayon-nuke's LoadClip does.
"""

from __future__ import annotations

import re
from pathlib import Path

from publish.collect import SourceFile, job_folder_of
from publish.errors import PublishError
from publish.hashing import digest
from publish.integrate import PublishedVersion
from publish.tracker import Anatomy
from roto_core.contracts import JobManifest
from roto_core.exporters.json_shapes import read_shapes_json
from roto_core.exporters.nuke import write_nk

_ROOT = re.compile(r"^\{root\[([A-Za-z0-9_]+)\]\}")


def matte_read_path(matte: PublishedVersion, tracker: str, anatomy: Anatomy) -> str:
    """The Read node's file for the published matte sequence (``####`` for the frame)."""
    rep = matte.representations[0]
    frame = str((rep.data.get("context") or {}).get("frame") or "")
    rootless = rep.files[0].path
    name = rootless.rsplit("/", 1)[-1]
    if frame and frame in name:
        head, _, tail = name.rpartition(frame)
        rootless = f"{rootless.rsplit('/', 1)[0]}/{head}{'#' * len(frame)}{tail}"
    if tracker == "ayon":
        return _ROOT.sub(lambda m: f"[getenv AYON_PROJECT_ROOT_{m.group(1).upper()}]", rootless)
    return str(anatomy.absolute(rootless))


def published_nk(manifest: JobManifest, matte: PublishedVersion, tracker: str, anatomy: Anatomy) -> SourceFile:
    """Write the .nk for this matte version next to the job's exports and return it as the nk source file."""
    job = job_folder_of(manifest)
    try:
        doc = read_shapes_json(job.shapes_json)
    except ValueError as exc:  # not UTF-8: read_shapes_json names every other failure itself
        raise PublishError(f"cannot read the shapes JSON for the published .nk: {exc}", path=job.shapes_json) from None
    path = job.root / "publish" / f"{job.shot}_{matte.product}_v{matte.version:03d}.nk"
    try:
        write_nk(doc, path, name=f"Roto_{job.shot}", mattes=matte_read_path(matte, tracker, anatomy))
        return SourceFile(Path(path), digest(path))
    except OSError as exc:
        raise PublishError(f"cannot write the published .nk: {exc.strerror or exc}", path=path) from None
