"""Anatomy templates: AYON's default publish template, references, optional parts."""

from __future__ import annotations

import pytest

from publish.errors import PublishError
from publish.templates import DEFAULT_TEMPLATES, PublishTemplate, fill
from tests.publish.ayon_standin import ANATOMY_TEMPLATES

CONTEXT = {
    "root": {"work": "/mnt/proj"},
    "project": {"name": "demo", "code": "dmo"},
    "hierarchy": "sq010",
    "folder": {"name": "sh010"},
    "product": {"name": "rotoMatteMain", "type": "render"},
    "version": 7,
    "ext": "exr",
}


@pytest.mark.parametrize("templates", [DEFAULT_TEMPLATES, ANATOMY_TEMPLATES], ids=["ours", "standin"])
def test_publish_template_gives_ayon_default_layout(templates: dict) -> None:
    template = PublishTemplate.from_anatomy(templates)
    assert template.directory_for(CONTEXT) == "/mnt/proj/demo/sq010/sh010/publish/render/rotoMatteMain/v007"
    assert template.file_for({**CONTEXT, "frame": 1001}) == "dmo_sh010_rotoMatteMain_v007.1001.exr"
    assert template.file_for(CONTEXT) == "dmo_sh010_rotoMatteMain_v007.exr"
    assert template.file_for({**CONTEXT, "output": "thumb"}) == "dmo_sh010_rotoMatteMain_v007_thumb.exr"


def test_optional_part_with_format_spec_containing_angle_bracket() -> None:
    assert fill("a<.{frame:0>5}>.b", {"frame": 42}) == "a.00042.b"
    assert fill("a<.{frame:0>5}>.b", {}) == "a.b"


def test_missing_required_key_names_it() -> None:
    with pytest.raises(PublishError, match="'ext'"):
        fill("{folder[name]}.{ext}", {"folder": {"name": "sh010"}})


def test_named_template_and_fallback_to_default() -> None:
    render = PublishTemplate.from_anatomy(DEFAULT_TEMPLATES, "render")
    assert render.file_for({**CONTEXT, "frame": 1, "udim": 1001}) == "dmo_sh010_rotoMatteMain_v007.0001.exr"
    assert PublishTemplate.from_anatomy(DEFAULT_TEMPLATES, "nope") == PublishTemplate.from_anatomy(DEFAULT_TEMPLATES)


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(PublishError, match="@nope"):
        PublishTemplate.from_anatomy({"publish": {"default": {"directory": "{@nope}", "file": "x"}}})


def test_studio_templates_from_tracker_yaml_are_used() -> None:
    from publish.config import load_tracker_settings

    settings = load_tracker_settings()
    assert PublishTemplate.from_anatomy(settings.templates) == PublishTemplate.from_anatomy(DEFAULT_TEMPLATES)


def test_anatomy_without_publish_template_is_an_error() -> None:
    with pytest.raises(PublishError, match="no publish template"):
        PublishTemplate.from_anatomy({"work": {}})
