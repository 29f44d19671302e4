# SPDX-License-Identifier: Apache-2.0
"""Records written by zoo with plugin API 1 (schema version 1: results passed as metric-name conventions) load
as version 2 with their typed results, and the README renders from them. The fixture is the records and the
training metrics file of a real ``zoo run mcnn --stage all --preset smoke`` by commit abef21d."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from zoo_core.records import RecordStore
from zoo_core.results import ConvertResult, EvalResult, ExportResult, InferResult, TrainResult

FIXTURE = Path(__file__).parent / "fixtures" / "v1_workdir"


def _workdir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "w"))


def test_version_1_records_load_with_their_typed_results(tmp_path):
    records = {r.stage: r for r in RecordStore(_workdir(tmp_path)).all()}
    assert set(records) == {"dataset", "network", "train", "eval", "export", "convert", "infer"}
    assert all(r.schema_version == 2 and r.result is not None for r in records.values())
    assert records["dataset"].result.splits == {"train": 5, "val": 1, "test": 3}
    assert records["dataset"].result.synthetic and records["network"].result.parameters == 127953
    train = records["train"].result
    assert isinstance(train, TrainResult) and [p.epoch for p in train.history] == [1, 2]
    assert round(train.history[1].metrics["mae"], 4) == records["train"].metrics["best_val_mae"]
    assert train.best_epoch == 2
    evaluation = records["eval"].result
    assert isinstance(evaluation, EvalResult) and evaluation.scores == {"mae": 11.2411, "mse": 11.474}
    assert evaluation.baseline.description.en == "mean training count for every image"
    assert evaluation.baseline.scores == {"mae": 10.2, "mse": 10.3904}
    export = records["export"].result
    assert isinstance(export, ExportResult) and export.input.name == "x" and export.input.shape == [1, 1, 128, 128]
    assert export.file("onnx", dynamic=True).path == "export/model/mcnn_dynamic.onnx"
    assert export.file("onnx").path == "export/model/mcnn.onnx" and export.file("onnx").parity.max_abs_error < 1e-3
    convert = records["convert"].result
    assert isinstance(convert, ConvertResult)
    assert {c.converter: c.status for c in convert.conversions}["atc-onnx"] == "needs_tool"
    infer = records["infer"].result
    assert isinstance(infer, InferResult) and infer.scores["mae"] == 11.2411 and infer.labelled == 3


def test_a_failed_version_1_run_has_no_result_and_the_metrics_stay(tmp_path):
    workdir = _workdir(tmp_path)
    path = next((workdir / "records").glob("*-eval.json"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data | {"status": "failed", "metrics": {"scores": {"MAE": 1.0}}}))
    record = next(r for r in RecordStore(workdir).all("eval"))
    assert record.result is None and record.metrics == {"scores": {"MAE": 1.0}} and record.schema_version == 2


def test_the_readme_renders_from_version_1_records(tmp_path, cli):
    workdir = _workdir(tmp_path)
    code, _, err = cli("render-docs", "mcnn", "--lang", "en", "--workdir", str(workdir))
    assert code == 0, err
    readme = (workdir / "docs" / "README_en.md").read_text()
    assert "| Accuracy | MAE 11.24, MSE 11.47 |" in readme
    assert "baseline (mean training count for every image): MAE 10.2, MSE 10.39" in readme
    assert (workdir / "docs" / "training.png").is_file()
