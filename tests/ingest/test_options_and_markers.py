"""Ingest defaults from configs/ingest.yaml (or a studio's copy), and the marker prompt syntax."""

import pytest

from otio_ingest import IngestOptions, ingest_file
from otio_ingest.markers import MarkerPrompt, prompt_from_marker
from roto_core.errors import ConfigError
from submitters.cli.ingest_options import ingest_options_from_cli


def test_shipped_config_matches_the_model_defaults():
    assert IngestOptions.from_config() == IngestOptions()


def test_studio_config_dir_overrides_defaults(fixture_path, tmp_path, monkeypatch):
    (tmp_path / "ingest.yaml").write_text("handles: 12\nstart_frame: 1\nfolder_template: '/shots/{shot}'\n")
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(tmp_path))
    options = ingest_options_from_cli(handles=None, start_frame=None)
    assert (options.handles, options.start_frame) == (12, 1)
    shot = ingest_file(fixture_path("plain.edl")).shots[0]
    assert (shot.first_frame, shot.last_frame, shot.folder_path) == (1, 40 + 24, "/shots/sq010_sh010")
    # a flag still wins over the studio's file
    assert ingest_options_from_cli(handles=3).handles == 3


def test_unknown_key_in_studio_config_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "ingest.yaml").write_text("handels: 12\n")
    monkeypatch.setenv("ROTOFARM_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="handels"):
        IngestOptions.from_config()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("roto: hero: man in red", MarkerPrompt(object="hero", text="man in red")),
        ("ROTO:hero:man", MarkerPrompt(object="hero", text="man")),
        ("roto-box: car: 1, 2, 30.5, 40", MarkerPrompt(object="car", box=(1, 2, 30.5, 40))),
        ("Roto-Box:car:1 2 3 4", MarkerPrompt(object="car", box=(1, 2, 3, 4))),
        ("rotoscope the rig later", None),
        ("VFX: roto: not at the start", None),
        ("", None),
    ],
)
def test_marker_syntax(text, expected):
    assert prompt_from_marker(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("roto hero: man", "reads like a roto prompt"),
        ("roto-points: hero: 1 2", "reads like a roto prompt"),
        ("roto: red car: the car", "one word"),
        ("roto: hero:", "empty"),
        ("roto-box: car: 1 2 3", "four numbers"),
        ("roto-box: car: 5 5 1 1", "x1 > x0"),
    ],
)
def test_malformed_roto_markers(text, words):
    with pytest.raises(ValueError, match=words):
        prompt_from_marker(text)
