"""``configs/tracker.yaml``: product names and types, version policy, the local anatomy templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from publish.errors import PublishError
from publish.names import ENTITY_NAME, MAX_NAME
from publish.templates import DEFAULT_TEMPLATES, check_publish_templates
from roto_core.config import load_config

DEFAULT_SHAPES_PRODUCT = "rotoMain"
DEFAULT_MATTE_PRODUCT = "rotoMatteMain"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShapesProduct(_Settings):
    product_type: str = "matteshapes"
    name: str = "roto{variant}"
    representations: list[Literal["nk", "fxs", "json"]] = Field(
        default_factory=lambda: ["nk", "fxs", "json"], min_length=1
    )
    template: str = "default"


class MatteProduct(_Settings):
    product_type: str = "render"
    name: str = "rotoMatte{variant}"
    representation: str = "exr"
    template: str = "render"


class TrackerSettings(_Settings):
    local_root: str = "~/rotofarm-publish"
    shapes: ShapesProduct = Field(default_factory=ShapesProduct)
    matte: MatteProduct = Field(default_factory=MatteProduct)
    variant: str = "Main"
    object_variants: dict[str, str] = Field(default_factory=dict)
    status: str | None = None
    verdict_status: dict[Literal["pass", "review"], str | None] = Field(
        default_factory=lambda: {"pass": None, "review": "Pending review"}
    )
    link_type: str = "generative"
    plate_product_type: str = "plate"
    max_version_attempts: int = Field(12, ge=1, le=1000)
    templates: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_and_templates_fill(self) -> TrackerSettings:
        """Every product name this file can produce, and its publish templates, are tried here, at load, so a
        broken entry fails every command at once instead of a publish later (or never, on a rerun)."""
        for key, value in (
            ("shapes.product_type", self.shapes.product_type),
            ("matte.product_type", self.matte.product_type),
            ("matte.representation", self.matte.representation),
        ):
            if len(value) > MAX_NAME or not ENTITY_NAME.match(value):
                raise ValueError(f"{key} {value!r} is not a valid name: use letters, digits, _ . - only")
        for variant in {self.variant, *self.object_variants.values()}:
            for key, template in (("shapes.name", self.shapes.name), ("matte.name", self.matte.name)):
                try:
                    name = template.format(variant=variant)
                except (KeyError, IndexError, ValueError, AttributeError) as exc:
                    raise ValueError(f"{key} {template!r} cannot be filled with {{variant}} only ({exc})") from None
                if len(name) > MAX_NAME or not ENTITY_NAME.match(name):
                    raise ValueError(f"{key} gives product name {name!r}: use letters, digits, _ . - only")
        try:
            check_publish_templates(self.templates or DEFAULT_TEMPLATES, self.shapes.template, self.matte.template)
        except PublishError as exc:
            raise ValueError(f"templates: {exc.message}") from None
        except TypeError as exc:
            raise ValueError(f"templates: not a mapping of template strings ({exc})") from None
        return self

    def variant_for(self, objects: list[str]) -> str:
        """A single-object shot may publish under its own variant; anything else uses the default one."""
        if len(objects) == 1 and objects[0] in self.object_variants:
            return self.object_variants[objects[0]]
        return self.variant

    def product_names(self, objects: list[str], shapes_override: str, matte_override: str) -> tuple[str, str]:
        """Names of the shapes and matte products; a manifest that names them explicitly wins."""
        variant = self.variant_for(objects)
        shapes = self.shapes.name.format(variant=variant)
        matte = self.matte.name.format(variant=variant)
        if shapes_override != DEFAULT_SHAPES_PRODUCT:
            shapes = shapes_override
        if matte_override != DEFAULT_MATTE_PRODUCT:
            matte = matte_override
        return shapes, matte

    def resolved_local_root(self) -> Path:
        return Path(self.local_root).expanduser()


def load_tracker_settings(path: str | Path | None = None) -> TrackerSettings:
    return load_config(TrackerSettings, "tracker.yaml", path=path)
