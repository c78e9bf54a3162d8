"""The prompts sidecar: prompts per shot and object beside the cut, and its errors with line numbers."""

import textwrap

import pytest

from otio_ingest import EditorialError, IngestOptions, ingest_file


def _ingest(fixture_path, tmp_path, yaml_text: str, **kw):
    sidecar = tmp_path / "prompts.yaml"
    sidecar.write_text(textwrap.dedent(yaml_text))
    return ingest_file(fixture_path("markers.edl"), IngestOptions(prompts=sidecar, **kw)), sidecar


def test_sidecar_prompts_join_marker_prompts(fixture_path, tmp_path):
    shotlist, sidecar = _ingest(
        fixture_path,
        tmp_path,
        """\
        sq050_sh010:
          hero:
            - {frame: 1050, points: [[10, 20, 1], [30, 40, 0]]}
          rig:
            - {cut_frame: 3, mask: masks/rig.1012.exr}
        sq050_sh020:
          dog:
            - {cut_frame: 0, box: [1, 2, 3, 4]}
        """,
    )
    first, second = shotlist.shots
    assert [(p.object, p.frame, p.kind) for p in first.prompts] == [
        ("hero", 1009, "text"),
        ("umbrella", 1045, "box"),
        ("hero", 1050, "points"),
        ("rig", 1012, "mask"),
    ]
    assert first.prompts[2].points == [(10, 20, 1), (30, 40, 0)]
    assert first.prompts[3].mask == str((sidecar.parent / "masks/rig.1012.exr").resolve())
    assert first.objects == ["hero", "umbrella", "rig"]
    assert [(p.object, p.frame, p.box) for p in second.prompts][-1] == ("dog", 1009, (1, 2, 3, 4))


def test_cut_frame_follows_start_frame_and_handles(fixture_path, tmp_path):
    shotlist, _ = _ingest(
        fixture_path, tmp_path, "sq050_sh020: {dog: [{cut_frame: 5, text: dog}]}\n", start_frame=101, handles=4
    )
    assert shotlist.shots[1].prompts[-1].frame == 101 + 4 + 5


@pytest.mark.parametrize(
    ("yaml_text", "line", "words"),
    [
        ("sq050_sh010:\n  hero: []\nsq050_sh099:\n  hero: []\n", 3, "which the cut does not have"),
        ("sq050_sh010:\n  hero:\n    - {frame: 1001}\n", 3, "exactly one of points/box/mask/text"),
        ("sq050_sh010:\n  hero:\n    - {text: a man}\n", 3, "exactly one of frame / cut_frame"),
        ("sq050_sh010:\n  hero:\n    - {frame: 1001, txt: a}\n", 3, "txt"),
        ("sq050_sh010:\n  hero:\n    - {frame: 2000, text: a}\n", 3, "outside the shot's 1001-1088"),
        ("sq050_sh010:\n  hero:\n    - {frame: 1001, box: [5, 5, 1, 1]}\n", 3, "x1 > x0"),
        ("sq050_sh010:\n  hero: {frame: 1}\n", 2, "must be a list"),
        ("sq050_sh010:\n  hero: [\n", 3, "invalid YAML"),
    ],
)
def test_sidecar_errors_name_the_line(fixture_path, tmp_path, yaml_text, line, words):
    with pytest.raises(EditorialError) as info:
        _ingest(fixture_path, tmp_path, yaml_text)
    err = info.value
    assert err.path.endswith("prompts.yaml")
    assert err.line == line
    assert words in err.format()


def test_missing_sidecar(fixture_path, tmp_path):
    with pytest.raises(EditorialError, match="file not found") as info:
        ingest_file(fixture_path("plain.edl"), IngestOptions(prompts=tmp_path / "nope.yaml"))
    assert info.value.path == str(tmp_path / "nope.yaml")
