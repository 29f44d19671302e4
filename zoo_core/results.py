# SPDX-License-Identifier: Apache-2.0
"""What stages hand each other, typed: each stage returns (or sets on its context) one result, which goes into its
run record. Downstream stages, the delivery README, the plot, the checklist and the bundle read these fields,
never a metric-name convention. A model also declares its metrics here (:class:`Metric`), so that tables, plots
and the choice of the best checkpoint know their names, units and direction.

Paths in results are relative to the work directory (as :meth:`StageContext.rel` gives them).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metric(_Result):
    """One metric a model reports: ``key`` as in its scores and validation series, a display name per language,
    the unit, whether higher or lower is better, how many significant digits to show, and which one is primary
    (the one the best checkpoint is chosen by, and the README leads with)."""

    key: str
    en: str
    zh: str
    better: Literal["higher", "lower"]
    unit: str = ""
    digits: int = Field(4, ge=1, le=10)
    primary: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("must be lower-case letters, digits or '_', starting with a letter (max 40)")
        return value

    def label(self, lang: str) -> str:
        if lang == "zh":
            return f"{self.zh}（{self.unit}）" if self.unit else self.zh
        return f"{self.en} ({self.unit})" if self.unit else self.en

    def show(self, value: float) -> str:
        return f"{value:.{self.digits}g}"

    def better_of(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b`` (NaN is never better)."""
        if math.isnan(a):
            return False
        return math.isnan(b) or (a > b if self.better == "higher" else a < b)


class Text(_Result):
    """A sentence in both README languages."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class DatasetResult(_Result):
    stage: Literal["dataset"] = "dataset"
    source: str  # the data read: a folder the user gave, or where the built-in data was generated
    synthetic: bool  # built-in data the stage generated
    layout: str  # the format it was read in, e.g. "imagefolder"
    splits: dict[str, int]  # split -> samples (train, val, test...)
    prepared: str  # what later stages read
    facts: dict[str, float | int | str] = {}  # more counts for the README's data-set list, by display name


class NetworkResult(_Result):
    stage: Literal["network"] = "network"
    parameters: int
    flops: int | None = None  # multiply-adds x 2 of one forward pass on ``flops_input``
    flops_input: list[int] | None = None


class EpochPoint(_Result):
    """One training epoch: mean loss, the validation metrics (declared keys), time."""

    epoch: int
    loss: float
    metrics: dict[str, float] = {}
    seconds: float
    ms_per_step: float | None = None


class TrainResult(_Result):
    stage: Literal["train"] = "train"
    epochs: int  # configured
    epochs_run: int  # by this run (0: it found every epoch done)
    steps_per_epoch: int
    batch_size: int  # global, across workers
    workers: int = 1
    best_checkpoint: str  # network weights of the best epoch
    last_checkpoint: str  # weights and optimizer state of the last epoch (what --resume reads)
    checkpoint_bytes: int
    best_epoch: int
    history: list[EpochPoint]  # every epoch trained so far, resumed runs included
    final_loss: float
    optimizer: str
    loss_function: str
    precision: Literal["FP32", "FP16", "Mixed"] = "FP32"
    ms_per_step: float
    train_time_s: float  # the epochs' time summed
    parameters: int
    fine_tuned_from: str | None = None
    frozen: list[str] = []  # parameter-name prefixes kept fixed while fine-tuning
    metrics_file: str | None = None  # JSON lines: every step's loss and learning rate


class Baseline(_Result):
    """What a trivial predictor scores on the same samples, so a reader can judge the model's numbers."""

    description: Text
    scores: dict[str, float]


class EvalResult(_Result):
    stage: Literal["eval"] = "eval"
    scores: dict[str, float]  # declared metric keys
    samples: int
    checkpoint: str
    baseline: Baseline | None = None
    predictions: str | None = None  # per-sample results (CSV)


class TensorSpec(_Result):
    """A model input: name, the fixed shape of the fixed-shape exports, and the axes the dynamic ones leave open."""

    name: str
    shape: list[int]
    dynamic_axes: dict[int, str] = {}  # axis -> name, e.g. {0: "batch", 2: "height"}
    layout: str = "NCHW"


class Parity(_Result):
    """How far a file's output lies from the reference output on the same sample."""

    max_abs_error: float
    relative_error: float  # max_abs_error / max(|reference|), 0 for an all-zero reference


class ExportedFile(_Result):
    format: str  # mindir, onnx, air
    path: str
    size: int
    dynamic: bool = False
    parity: Parity | None = None


class ExportResult(_Result):
    stage: Literal["export"] = "export"
    input: TensorSpec
    files: list[ExportedFile]
    skipped: dict[str, str] = {}  # format -> why it was not exported here
    sample: str  # .npz with "input" and "expected": the reference for parity checks
    checkpoint: str
    device: str

    def file(self, fmt: str, dynamic: bool = False) -> ExportedFile | None:
        """The exported ``fmt`` file (the dynamic-shape one if asked and there is one, else the fixed one)."""
        matching = [f for f in self.files if f.format == fmt]
        preferred = [f for f in matching if f.dynamic == dynamic]
        return next(iter(preferred or matching), None)


class Conversion(_Result):
    """One converter's outcome: ``needs_tool`` keeps the exact command to run where the tool exists."""

    converter: str
    status: Literal["ok", "needs_tool", "skipped", "failed"]
    outputs: list[str] = []
    command: list[str] | None = None
    note: str = ""
    parity: Parity | None = None


class ConvertResult(_Result):
    stage: Literal["convert"] = "convert"
    conversions: list[Conversion]
    settings: dict[str, str] = {}  # the conversion settings the commands use (input, soc_version...)
    delivery: list[str] = []  # files to take to the target host (scripts, pipelines)


class InferResult(_Result):
    stage: Literal["infer"] = "infer"
    backend: str
    backend_details: dict[str, Any] = {}
    model: str  # the file that ran
    source: str  # the data it ran on
    samples: int
    skipped: list[str] = []
    labelled: int = 0
    scores: dict[str, float] = {}  # declared metric keys, where the data had labels
    seconds_per_sample: float
    batch_size: int = 1
    predictions: str  # CSV, a row per sample
    images: str | None = None  # a folder of one picture per sample, for models that draw one


StageResult = Annotated[
    DatasetResult | NetworkResult | TrainResult | EvalResult | ExportResult | ConvertResult | InferResult,
    Field(discriminator="stage"),
]
STAGE_RESULT: TypeAdapter[StageResult] = TypeAdapter(StageResult)  # validates any stage's result by its "stage"
RESULT_TYPES: dict[str, type[BaseModel]] = {
    "dataset": DatasetResult,
    "network": NetworkResult,
    "train": TrainResult,
    "eval": EvalResult,
    "export": ExportResult,
    "convert": ConvertResult,
    "infer": InferResult,
}
