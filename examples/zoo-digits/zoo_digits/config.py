# SPDX-License-Identifier: Apache-2.0
"""Settings and presets of the digits example: its own data settings, and zoo's shared setting groups (training
with fine-tuning, conversion and inference) with the example's defaults."""

from __future__ import annotations

from zoo_core import DeliverySettings, FineTuneSettings, TrainingSettings, setting


class DigitsConfig(TrainingSettings, FineTuneSettings, DeliverySettings):
    train_images: int = setting(6000, "Generated training glyphs.", "dataset", ge=10)
    val_images: int = setting(500, "Generated validation glyphs (the best epoch is chosen on them).", "dataset", ge=10)
    test_images: int = setting(1000, "Generated test glyphs.", "dataset", ge=10)
    data_seed: int = setting(11, "Seed of the glyph generator.", "dataset")
    epochs: int = setting(8, "Training epochs.", "train", ge=1)
    batch_size: int = setting(64, "Glyphs per step.", "train", ge=1)
    lr: float = setting(0.003, "Adam learning rate.", "train", gt=0)
    seed: int = setting(3, "Seed of weight initialisation and glyph order.", "train")
    log_every: int = setting(50, "Log a training line every this many steps.", "train", ge=1)


PRESETS: dict[str, dict[str, object]] = {
    "default": {},
    "smoke": {"train_images": 600, "val_images": 100, "test_images": 100, "epochs": 3},
}
