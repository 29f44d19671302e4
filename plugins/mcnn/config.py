# SPDX-License-Identifier: Apache-2.0
"""MCNN settings and presets. ``default`` is what the reference code really runs (notes/mcnn_reference.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from zoo_core import DeliverySettings, FineTuneSettings, TrainingSettings, setting


class McnnConfig(TrainingSettings, FineTuneSettings, DeliverySettings):
    """MCNN's own settings; training, fine-tuning, conversion and inference settings come from zoo's groups."""

    # dataset
    kernel: Literal["fixed", "adaptive"] = setting(
        "fixed", "Head kernel: 'fixed' 15x15 sigma-4 Gaussian (reference code) or 'adaptive' (paper).", "dataset"
    )
    patches_per_image: int = setting(
        9, "Random training patches per image, each ~1/4 of its width and height.", "dataset", ge=1
    )
    patch_pad: int = setting(
        256,
        "Patches are zero-padded (or centre-cropped) to this square size; 0 = no padding "
        "(all patches must then share a shape). Multiple of 16.",
        "dataset",
        ge=0,
    )
    val_fraction: float = setting(0.1, "Share of training images held out for validation.", "dataset", ge=0, lt=0.5)
    data_seed: int = setting(
        64678, "Seed of the validation split, the patch positions and the synthetic data.", "dataset"
    )
    synthetic_train: int = setting(300, "Synthetic training images (used when --data is not given).", "dataset", ge=2)
    synthetic_test: int = setting(182, "Synthetic test images (used when --data is not given).", "dataset", ge=1)
    synthetic_size: int = setting(
        1024, "Side of the square synthetic images, in pixels (multiple of 16).", "dataset", ge=64
    )
    synthetic_max_count: int = setting(400, "Largest head count of a synthetic image (smallest: 3).", "dataset", ge=4)
    # train
    epochs: int = setting(800, "Training epochs.", "train", ge=1)
    batch_size: int = setting(1, "Patches per step: the global batch, split over --workers.", "train", ge=1)
    optimizer: Literal["adam", "sgd"] = setting("adam", "Adam (reference) or SGD with momentum.", "train")
    lr: float = setting(2.8e-5, "Initial learning rate.", "train", gt=0)
    lr_steps: list[float] = setting(
        [0.5, 0.75], "Fractions of training after which lr is multiplied by lr_decay.", "train"
    )
    lr_decay: float = setting(0.1, "Learning-rate factor at each of lr_steps.", "train", gt=0, le=1)
    momentum: float = setting(0.9, "SGD momentum (optimizer=sgd only).", "train", ge=0, lt=1)
    weight_decay: float = setting(0.0, "L2 weight decay.", "train", ge=0)
    seed: int = setting(64678, "Seed of weight initialisation and patch order.", "train")
    # export
    export_shape: list[int] = setting(
        [1, 1, 1024, 1024],
        "Input shape N,C,H,W of the fixed-shape MINDIR/ONNX/AIR files (as the Ascend OM needs).",
        "export",
    )
    # infer
    overlays: bool = setting(True, "Write a density heat-map overlay PNG per image.", "infer")

    @field_validator("lr_steps")
    @classmethod
    def _steps(cls, value: list[float]) -> list[float]:
        if any(not 0 < v < 1 for v in value) or value != sorted(value):
            raise ValueError("must be increasing fractions between 0 and 1, e.g. [0.5, 0.75]")
        return value

    @field_validator("export_shape")
    @classmethod
    def _export_shape(cls, value: list[int]) -> list[int]:
        if len(value) != 4 or value[1] != 1 or min(value) < 1 or value[2] % 4 or value[3] % 4:
            raise ValueError("must be [N, 1, H, W] with H and W multiples of 4, e.g. [1, 1, 1024, 1024]")
        return value

    @model_validator(mode="after")
    def _multiples(self) -> McnnConfig:
        for name in ("patch_pad", "synthetic_size"):
            if getattr(self, name) % 16:
                raise ValueError(f"{name}={getattr(self, name)} must be a multiple of 16")
        return self


PRESETS: dict[str, dict[str, object]] = {
    # The reference MindSpore port: Adam 2.8e-5, x0.1/x0.01 at 50%/75%, batch 1, 800 epochs, 9 patches, 10% val.
    "default": {},
    # Whole dataset+train+eval in well under a minute on 2 cores (used by the tests).
    "smoke": {
        "synthetic_train": 6,
        "synthetic_test": 3,
        "synthetic_size": 128,
        "synthetic_max_count": 60,
        "patches_per_image": 4,
        "patch_pad": 32,
        "val_fraction": 0.2,
        "epochs": 2,
        "batch_size": 4,
        "lr": 1e-4,
        "log_every": 5,
        "export_shape": [1, 1, 128, 128],
    },
    # The README's first command: a few minutes on 2 cores, clearly better than predicting the mean count.
    "demo": {
        "synthetic_train": 80,
        "synthetic_test": 30,
        "synthetic_size": 256,
        "synthetic_max_count": 300,
        "patch_pad": 64,
        "epochs": 12,
        "batch_size": 4,
        "lr": 1e-4,
        "log_every": 50,
    },
}
