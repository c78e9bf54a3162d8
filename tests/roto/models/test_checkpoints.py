"""configs/models.yaml lookups: where weights must be, proof they are the pinned ones, and clear errors."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from roto_core.backends import checkpoints
from roto_core.backends.checkpoints import load_models_config, models_root, resolve_model
from roto_core.backends.sam2_backend import Sam2Options
from roto_core.config import default_config_path
from roto_core.errors import ConfigError, ModelError
from tests.roto.models.tiny import sha256_of, write_models_yaml

pytestmark = pytest.mark.models

SHIPPED_FAMILIES = {
    "sam2.1_hiera_tiny": "sam2",
    "sam2.1_hiera_small": "sam2",
    "sam2.1_hiera_base_plus": "sam2",
    "sam2.1_hiera_large": "sam2",
    "cutie_base": "cutie",
    "grounding_dino_tiny": "grounding_dino",
    "vitmatte_small": "vitmatte",
}


def test_shipped_config_names_every_model_with_real_sam2_configs_and_no_random_weights(monkeypatch):
    monkeypatch.delenv("ROTOFARM_CONFIG_DIR", raising=False)
    config, path = load_models_config()
    assert path == default_config_path("models.yaml")
    assert {k: m.family for k, m in config.models.items()} == SHIPPED_FAMILIES
    for key, spec in config.models.items():
        assert not spec.random_weights, key
        assert spec.source, key
        if spec.family == "sam2":
            assert resources.files("sam2").joinpath(spec.config).is_file(), spec.config
    assert config.models["sam2.1_hiera_tiny"].config == "configs/sam2.1/sam2.1_hiera_t.yaml"


def test_missing_checkpoint_names_key_exact_path_and_expected_hash(config_dir: Path, tmp_path: Path):
    digest = "ab" * 32
    write_models_yaml(
        config_dir,
        {
            "hero_sam": {
                "family": "sam2",
                "config": "configs/sam2.1/sam2.1_hiera_t.yaml",
                "checkpoint": "sam2/hero.pt",
                "sha256": digest,
            }
        },
    )
    with pytest.raises(ModelError) as err:
        resolve_model("hero_sam", "sam2")
    text = str(err.value)
    assert "'hero_sam'" in text
    assert str(tmp_path / "models" / "sam2" / "hero.pt") in text
    assert digest in text
    assert err.value.path == str(config_dir / "models.yaml")
    assert err.value.where == "models.hero_sam.checkpoint"


def test_missing_shipped_checkpoint_points_into_the_model_root(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("ROTOFARM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("ROTOFARM_MODELS", str(tmp_path))
    with pytest.raises(ModelError) as err:
        resolve_model("cutie_base", "cutie")
    assert str(tmp_path / "cutie" / "cutie-base-mega.pth") in str(err.value)
    assert "cutie_base" in str(err.value)


def test_missing_weights_file_inside_a_folder_checkpoint(config_dir: Path, tmp_path: Path):
    folder = tmp_path / "models" / "gd"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    write_models_yaml(
        config_dir, {"gd": {"family": "grounding_dino", "checkpoint": "gd", "weights_file": "model.safetensors"}}
    )
    with pytest.raises(ModelError, match=r"the folder at .*gd \(with model\.safetensors inside\)"):
        resolve_model("gd", "grounding_dino")


def test_wrong_hash_is_refused_with_both_hashes(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "c.pth"
    ckpt.write_bytes(b"not the pinned weights")
    pinned = "0" * 64
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth", "sha256": pinned}})
    with pytest.raises(ModelError) as err:
        resolve_model("c", "cutie")
    assert pinned in str(err.value) and sha256_of(ckpt) in str(err.value)


def test_unpinned_hash_is_refused_and_reports_the_hash_to_check(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "c.pth"
    ckpt.write_bytes(b"weights")
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth"}})
    with pytest.raises(ModelError) as err:
        resolve_model("c", "cutie")
    assert sha256_of(ckpt) in str(err.value)
    assert err.value.where == "models.c.sha256"


def test_pinned_checkpoint_resolves_and_absolute_paths_ignore_the_root(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "elsewhere.pth"
    ckpt.write_bytes(b"weights")
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": str(ckpt), "sha256": sha256_of(ckpt)}})
    model = resolve_model("c", "cutie")
    assert model.path == ckpt and model.weights == ckpt and not model.random_weights


def test_random_weights_only_when_the_config_says_so(config_dir: Path):
    write_models_yaml(config_dir, {"r": {"family": "cutie", "checkpoint": "absent.pth", "random_weights": True}})
    assert resolve_model("r", "cutie").random_weights
    write_models_yaml(config_dir, {"r": {"family": "cutie", "checkpoint": "absent.pth"}})
    with pytest.raises(ModelError):
        resolve_model("r", "cutie")


def test_unknown_key_and_wrong_family_are_config_errors(config_dir: Path):
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth", "random_weights": True}})
    with pytest.raises(ConfigError, match=r"no model 'sam9'.*known: c"):
        resolve_model("sam9", "sam2")
    with pytest.raises(ConfigError, match="is a cutie model, but a sam2 model is needed"):
        resolve_model("c", "sam2")


def test_bad_hash_syntax_and_unknown_fields_are_config_errors(config_dir: Path):
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth", "sha256": "xyz"}})
    with pytest.raises(ConfigError, match="sha256"):
        resolve_model("c", "cutie")
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth", "sha265": "0" * 64}})
    with pytest.raises(ConfigError, match="sha265"):
        resolve_model("c", "cutie")


def test_backend_options_are_validated_with_their_location(config_dir: Path):
    write_models_yaml(
        config_dir,
        {"s": {"family": "sam2", "checkpoint": "s.pt", "random_weights": True, "options": {"image_sise": 256}}},
    )
    with pytest.raises(ConfigError) as err:
        resolve_model("s", "sam2").options(Sam2Options)
    assert err.value.where == "models.s.options.image_sise"


def test_model_root_precedence(monkeypatch, tmp_path: Path):
    config, _ = load_models_config()
    monkeypatch.delenv("ROTOFARM_MODELS", raising=False)
    assert models_root(config.model_copy(update={"root": str(tmp_path)})) == tmp_path
    assert models_root(config.model_copy(update={"root": None})) == checkpoints.DEFAULT_MODELS_ROOT.expanduser()
    monkeypatch.setenv("ROTOFARM_MODELS", str(tmp_path / "env"))
    assert models_root(config.model_copy(update={"root": str(tmp_path)})) == tmp_path / "env"


def test_hash_is_computed_again_when_the_file_changes(config_dir: Path, tmp_path: Path):
    ckpt = tmp_path / "models" / "c.pth"
    ckpt.write_bytes(b"first")
    write_models_yaml(config_dir, {"c": {"family": "cutie", "checkpoint": "c.pth", "sha256": sha256_of(ckpt)}})
    resolve_model("c", "cutie")
    ckpt.write_bytes(b"second, longer")
    with pytest.raises(ModelError, match="expected"):
        resolve_model("c", "cutie")
