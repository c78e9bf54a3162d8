import json

import pytest
from pydantic import ValidationError

from roto_core.contracts import ChunkResult, JobManifest, Prompt, Shot, ShotList, TrackerTarget
from roto_core.errors import InputError


def _shot(**kw):
    base = dict(
        name="sh010",
        folder_path="/sq010/sh010",
        plate="/plates/sh010/sh010_plate.####.exr",
        first_frame=1001,
        last_frame=1040,
        handles=8,
        fps=24.0,
        prompts=[Prompt(object="hero", frame=1009, box=(10, 20, 110, 220))],
    )
    base.update(kw)
    return Shot(**base)


def test_shotlist_json_round_trip_keeps_every_field():
    shots = ShotList(source="cut.edl", fps=24.0, shots=[_shot(), _shot(name="sh020", folder_path="/sq010/sh020")])
    again = ShotList.from_json(shots.to_json())
    assert again == shots
    data = json.loads(shots.to_json())
    assert set(data["shots"][0]) == {
        "name",
        "folder_path",
        "plate",
        "first_frame",
        "last_frame",
        "handles",
        "fps",
        "width",
        "height",
        "pixel_aspect",
        "source_in_tc",
        "record_in_tc",
        "prompts",
        "metadata",
    }


def test_prompt_needs_exactly_one_kind():
    with pytest.raises(ValidationError, match="exactly one"):
        Prompt(object="hero", frame=1, box=(0, 0, 1, 1), text="a man")
    with pytest.raises(ValidationError, match="exactly one"):
        Prompt(object="hero", frame=1)
    assert Prompt(object="hero", frame=1, points=[(1, 2, 1), (3, 4, 0)]).kind == "points"
    with pytest.raises(ValidationError, match="label"):
        Prompt(object="hero", frame=1, points=[(1, 2, 5)])
    with pytest.raises(ValidationError, match="x1 > x0"):
        Prompt(object="hero", frame=1, box=(10, 0, 5, 5))


def test_shot_rejects_bad_ranges_and_stray_prompts():
    with pytest.raises(ValidationError, match="before first_frame"):
        _shot(first_frame=1010, last_frame=1001, prompts=[])
    with pytest.raises(ValidationError, match="outside"):
        _shot(prompts=[Prompt(object="hero", frame=999, text="x")])
    with pytest.raises(ValidationError, match="unique"):
        ShotList(source="x", fps=24, shots=[_shot(), _shot()])


def test_manifest_and_chunk_result_round_trip(tmp_path):
    m = JobManifest(
        job_id="j123",
        shot=_shot(),
        output_dir=str(tmp_path),
        tracker=TrackerTarget(project="demo", folder_path="/sq010/sh010"),
    )
    path = m.save(tmp_path / "manifest.json")
    assert JobManifest.load(path) == m
    c = ChunkResult(first_frame=1001, last_frame=1010, frames=list(range(1001, 1011)), timings={"propagate": 1.5})
    assert ChunkResult.from_json(c.to_json()) == c


def test_loading_a_bad_manifest_names_the_file(tmp_path):
    p = tmp_path / "manifest.json"
    p.write_text('{"job_id": "x"}')
    with pytest.raises(InputError) as err:
        JobManifest.load(p)
    assert str(p) in str(err.value) and "JobManifest" in str(err.value)
    with pytest.raises(InputError, match="cannot read"):
        JobManifest.load(tmp_path / "missing.json")
