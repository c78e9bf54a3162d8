"""The tolerance of a farm job's masks (``jobs.masks_tolerance``): meant at plate resolution where the models see
the plate whole, grown where they see it smaller and the runner upscales their masks, scaled to the masks' width."""

from __future__ import annotations

import pytest

from roto_core.shapes.jobs import masks_tolerance


def test_a_plate_the_models_see_whole_keeps_the_tolerance() -> None:
    assert masks_tolerance(2.25, (854, 480), 1024, 854) == pytest.approx(2.25)
    assert masks_tolerance(2.25, (1024, 576), 1024, 1024) == pytest.approx(2.25)


def test_a_larger_plate_grows_it_by_the_upscale() -> None:
    assert masks_tolerance(2.25, (3840, 2160), 1024, 3840) == pytest.approx(2.25 * 3840 / 1024)
    # The long edge decides, as it decides the models' working size (a portrait plate).
    assert masks_tolerance(2.25, (1080, 1920), 1024, 1080) == pytest.approx(2.25 * 1920 / 1024)


def test_masks_smaller_than_the_plate_get_a_finer_one() -> None:
    assert masks_tolerance(2.0, (854, 480), 1024, 427) == pytest.approx(1.0)
    assert masks_tolerance(2.0, (2048, 1152), 1024, 1024) == pytest.approx(2.0)


def test_without_a_working_limit_nothing_grows() -> None:
    assert masks_tolerance(2.25, (3840, 2160), None, 3840) == pytest.approx(2.25)
