# SPDX-License-Identifier: Apache-2.0
"""The delivery metadata schema: the basic information of a model-zoo delivery README plus its references.

Every rule here is one of the release checklist's metadata rules (notes/checklist_rules.md 1-14). Size is absent on
purpose: it is computed from the delivered artifacts, never typed by hand. ``zoo schema`` prints the JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from .errors import ZooError, first_line
from .io import read_text

ApplicationDomain = Literal[
    "Classification",
    "Object Detection",
    "Segmentation",
    "Image Synthesis",
    "NLP",
    "Speech Synthesis",
    "Speech Recognition",
    "Text To Speech",
    "Audio Synthesis",
    "Machine Translation",
    "Recommendation",
    "Aesthetics Assessment",
    "OCR",
    "Reinforcement Learning",
    "Other",
]
ModelFormat = Literal["ckpt", "air", "om", "onnx", "mindir", "pth", "pb", "ms"]
Processor = Literal["Ascend910", "Ascend310", "Ascend310P", "GPU", "CPU"]
Category = Literal["Benchmark", "Official", "Research", "Tutorial", "Released"]
Framework = Literal["MindSpore", "TensorFlow", "PyTorch", "PaddlePaddle", "ONNX"]

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
CommitId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+\.[^\s]+$")]
_PRECISION = re.compile(r"^(FP32|FP16|Mixed)(/(FP32|FP16|Mixed))?$")
_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """Prose in English with an optional Chinese version (the standard delivery README is Chinese)."""

    en: NonEmpty
    zh: NonEmpty | None = None

    def get(self, lang: str) -> str:
        return (self.zh if lang == "zh" else None) or self.en


class SourceRef(_Strict):
    """A repository at an exact commit (rendered as ``url=`` / ``branch=`` / ``commit_id=``)."""

    url: Url
    branch: NonEmpty
    commit_id: CommitId = Field(description="Full 40-hex-digit git commit id.")


class AdaptedSourceRef(SourceRef):
    code_path: NonEmpty = Field(description="Folder of the model inside the repository.")


class Paper(_Strict):
    title: NonEmpty
    authors: NonEmpty
    venue: NonEmpty
    url: Url


class DefaultConfiguration(_Strict):
    """Rule 13: how the train and test sets are preprocessed. Hyper-parameter values come from the config preset,
    so only the names of the keys to show are listed here."""

    train_preprocessing: list[Text] = Field(min_length=1)
    test_preprocessing: list[Text] = Field(min_length=1)
    hyperparameters: list[NonEmpty] = Field(min_length=1, description="Config keys shown as training hyper-parameters.")


class SupportedFeatures(_Strict):
    """Rule 14: the 特性列表 | 是否支持 table."""

    distributed_training: bool
    mixed_precision: bool
    data_parallel: bool


class ModelMetadata(_Strict):
    """Basic information of a delivery (交付件基本信息) and its overview references (rules 1-14)."""

    publisher: NonEmpty
    application_domain: ApplicationDomain
    application_domain_note: NonEmpty | None = Field(
        default=None, description="Required when application_domain is 'Other' (e.g. 'Crowd Counting')."
    )
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")] = Field(
        description="major.minor; the minor part is a number, so 1.15 is newer than 1.2."
    )
    modified: Annotated[str, StringConstraints(pattern=r"^\d{4}\.\d{1,2}\.\d{1,2}$")] = Field(
        description="YYYY.M.D, e.g. 2020.12.4"
    )
    framework: Framework
    framework_version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+){1,3}$")]
    model_formats: list[ModelFormat] = Field(min_length=1)
    precision: str = Field(description="FP32, FP16, Mixed, or a train/infer pair such as Mixed/FP16.")
    processors: list[Processor] = Field(min_length=1)
    category: Category
    description: Text = Field(description="One sentence.")
    paper: Paper
    reference_implementation: SourceRef
    adapted_implementation: AdaptedSourceRef
    default_configuration: DefaultConfiguration
    supported_features: SupportedFeatures
    license: NonEmpty = "Apache-2.0"

    @field_validator("modified")
    @classmethod
    def _real_date(cls, value: str) -> str:
        year, month, day = (int(part) for part in value.split("."))
        try:
            dt.date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a calendar date ({exc})") from None
        return value

    @field_validator("precision")
    @classmethod
    def _precision(cls, value: str) -> str:
        if not _PRECISION.match(value):
            raise ValueError("must be FP32, FP16 or Mixed, or a train/infer pair like 'Mixed/FP16'")
        return value

    @field_validator("model_formats", "processors")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"lists a value twice: {value}")
        return value

    @field_validator("description")
    @classmethod
    def _one_sentence(cls, value: Text) -> Text:
        for lang, text in (("en", value.en), ("zh", value.zh)):
            if text and len(_SENTENCE_END.findall(text)) > 1:
                raise ValueError(f"{lang}: must be one sentence, got {len(_SENTENCE_END.findall(text))}")
        return value

    @model_validator(mode="after")
    def _domain_note(self) -> ModelMetadata:
        if self.application_domain == "Other" and not self.application_domain_note:
            raise ValueError("application_domain 'Other' needs application_domain_note (e.g. 'Crowd Counting')")
        return self

    @property
    def version_key(self) -> tuple[int, int]:
        """Sortable version: (1, 15) > (1, 2)."""
        major, minor = self.version.split(".")
        return int(major), int(minor)

    @property
    def domain_label(self) -> str:
        return self.application_domain_note or self.application_domain


def format_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: ``source: field.path: message``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {loc}: {msg}")
    return "\n".join(lines)


def load_metadata(path: str | Path) -> ModelMetadata:
    """Read and validate a metadata YAML file; errors name the file and the field path."""
    path = Path(path)
    try:
        data = yaml.safe_load(read_text(path, "metadata"))
    except yaml.YAMLError as exc:
        raise ZooError(f"{path}: not valid YAML ({first_line(exc)})") from None
    try:
        return ModelMetadata.model_validate(data)
    except ValidationError as exc:
        raise ZooError(format_validation_error(str(path), exc)) from None


def metadata_json_schema() -> dict:
    return ModelMetadata.model_json_schema()
