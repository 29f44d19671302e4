# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest

from zoo_core import UsageError, ZooError
from zoo_core.config import keys_for_stage, parse_set, resolve_config
from zoo_core.model import STAGES
from zoo_mcnn.config import PRESETS, McnnConfig


def resolve(preset="default", config_file=None, sets=()):
    return resolve_config(McnnConfig, PRESETS, preset, config_file, sets)


def test_default_preset_is_the_reference_training():
    cfg = resolve()
    assert (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.epochs) == ("adam", 2.8e-5, 1, 800)
    assert (cfg.lr_steps, cfg.lr_decay, cfg.patches_per_image, cfg.val_fraction) == ([0.5, 0.75], 0.1, 9, 0.1)


def test_presets_all_validate():
    for name in PRESETS:
        resolve(name)


def test_set_values_are_typed():
    cfg = resolve("smoke", sets=["epochs=5", "lr=1e-5", "optimizer=sgd", "lr_steps=[0.3, 0.6]"])
    assert cfg.epochs == 5 and isinstance(cfg.epochs, int)
    assert cfg.lr == 1e-5
    assert cfg.optimizer == "sgd"
    assert cfg.lr_steps == [0.3, 0.6]


@pytest.mark.parametrize(
    "item, expected",
    [
        ("lr=abc", "--set: lr='abc': Input should be a valid number"),
        ("epochs=-1", "--set: epochs=-1: Input should be greater than or equal to 1"),
        ("optimizer=adamw", "optimizer='adamw': Input should be 'adam' or 'sgd'"),
        ("lr_steps=[0.8, 0.2]", "increasing fractions"),
        ("patch_pad=20", "multiple of 16"),
        ("lrr=0.1", "unknown config key 'lrr' (did you mean 'lr'?)"),
        ("epochs", "expected key=value"),
    ],
)
def test_bad_set_is_one_clear_error(item, expected):
    with pytest.raises(UsageError) as info:
        resolve(sets=[item])
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_preset():
    with pytest.raises(UsageError, match="unknown preset 'smok' \\(did you mean 'smoke'\\?\\)"):
        resolve("smok")


def test_config_file_then_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 7\nbatch_size: 2\n")
    cfg = resolve("smoke", path, ["epochs=9"])
    assert (cfg.epochs, cfg.batch_size) == (9, 2)
    path.write_text("epochs: seven\n")
    with pytest.raises(UsageError, match=r"c.yaml: epochs='seven'"):
        resolve(config_file=path)
    path.write_text("- a list\n")
    with pytest.raises(ZooError, match="must be a mapping"):
        resolve(config_file=path)
    with pytest.raises(ZooError, match="cannot read config file"):
        resolve(config_file=tmp_path / "missing.yaml")


def test_parse_set_keeps_text():
    assert parse_set("checkpoint=/a/b.ckpt") == ("checkpoint", "/a/b.ckpt")
    assert parse_set("pretrained=") == ("pretrained", "")


def test_every_setting_names_its_stage():
    staged = {key for stage in STAGES for key in keys_for_stage(McnnConfig, stage)}
    assert staged == set(McnnConfig.model_fields)
