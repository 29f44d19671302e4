# SPDX-License-Identifier: Apache-2.0
"""Settings every model shares, declared once: a model's config class inherits the groups it uses, and sets its
own defaults by redeclaring a field or in its presets.

- :class:`TrainingSettings`: what the core's training helper (:mod:`zoo_core.training`) reads.
- :class:`FineTuneSettings`: ``pretrained`` and ``freeze``, for models that declare the ``fine_tune`` (and
  ``freeze``) capability.
- :class:`DeliverySettings`: the conversion and inference settings of the core's convert stage and model lookup.
"""

from __future__ import annotations

from typing import Literal

from .config import ModelConfig, setting

AmpLevel = Literal["O0", "O1", "O2", "O3"]


class TrainingSettings(ModelConfig):
    epochs: int = setting(10, "Training epochs.", "train", ge=1)
    batch_size: int = setting(1, "Samples per step: the global batch, split over --workers.", "train", ge=1)
    seed: int = setting(0, "Seed of weight initialisation and of the sample order.", "train")
    keep_checkpoint_max: int = setting(10, "Epoch checkpoints kept (the best one is kept besides).", "train", ge=1)
    log_every: int = setting(100, "Log a training line every this many steps.", "train", ge=1)
    checkpoint: str | None = setting(
        None, "Checkpoint to evaluate and export (default: the best one of the last training).", "eval"
    )
    amp_level: AmpLevel = setting(
        "O0",
        "MindSpore mixed precision: O0 FP32; O1/O2/O3 FP16 compute (CPU: fixed loss scale, no overflow skip).",
        "train",
    )


class FineTuneSettings(ModelConfig):
    pretrained: str | None = setting(None, "Checkpoint to fine-tune from (its weights; a new schedule).", "train")
    freeze: list[str] = setting(
        [], "Parameter-name prefixes kept fixed while training, e.g. a backbone in a first round.", "train"
    )


class DeliverySettings(ModelConfig):
    converters: list[str] = setting(
        [], "Converters to run (see `zoo plugins`); empty: every one whose input format was exported.", "convert"
    )
    soc_version: str = setting("Ascend310", "atc --soc_version (Ascend310, Ascend310P3, Ascend910B4...).", "convert")
    precision_mode: Literal[
        "force_fp16", "allow_fp32_to_fp16", "allow_mix_precision", "must_keep_origin_dtype", "force_fp32"
    ] = setting("force_fp16", "atc --precision_mode.", "convert")
    atc_log: Literal["debug", "info", "warning", "error", "null"] = setting("error", "atc --log level.", "convert")
    backend: Literal["onnxruntime", "mindspore"] = setting(
        "onnxruntime", "Inference runtime: onnxruntime (fastest on CPU here) or mindspore (MINDIR GraphCell).", "infer"
    )
    infer_model: str | None = setting(
        None, "Model file to run (default: the last export's file for the backend, dynamic-shape if any).", "infer"
    )
    threads: int = setting(0, "Inference threads (0: every core).", "infer", ge=0)
