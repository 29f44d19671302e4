# SPDX-License-Identifier: Apache-2.0
"""Records are trusted only when valid: a broken record is named with its field, a stage input must still be what
the run that wrote it recorded, and a metric that is not a number fails the stage."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.test_plugins import install_fake_distribution
from zoo_core.records import RecordStore


def latest_file(workdir, stage):
    return workdir / "records" / f"{RecordStore(workdir).latest(stage).run_id}.json"


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda text: text[: len(text) // 2], "not valid JSON (line "),
        (lambda text: text.replace('"status": "ok"', '"status": "fine"'), "status: Input should be "),
        (lambda text: json.dumps({**json.loads(text), "outputs": [{"path": "x"}]}), "outputs.0.size: Field required"),
    ],
)
@pytest.mark.parametrize("command", [["runs"], ["render-docs", "--check"], ["check"], ["run", "--stage", "eval"]])
def test_a_broken_record_is_named_with_its_field(copy, cli, damage, message, command):
    path = latest_file(copy, "eval")
    path.write_text(damage(path.read_text()))
    code, out, err = cli(command[0], "mcnn", *command[1:], "--workdir", str(copy))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert err.startswith(f"zoo: error: {path}: {message}") and f"move it out of {copy / 'records'}" in err


def test_a_record_that_is_not_utf8_is_named(copy, cli):
    path = latest_file(copy, "eval")
    path.write_bytes(path.read_bytes().replace(b'"eval"', b'"\xe9val"', 1))
    code, _, err = cli("runs", "mcnn", "--workdir", str(copy))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"zoo: error: {path}: not UTF-8 text (byte 0xe9 at line ") and "move it out of" in err


def test_an_exported_model_changed_after_export_is_refused(copy, cli):
    onnx_file = copy / RecordStore(copy).latest("export").result.file("onnx", dynamic=True).path
    data = bytearray(onnx_file.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the weights
    onnx_file.write_bytes(bytes(data))
    before = (copy / "infer" / "predictions.csv").read_bytes()
    code, out, err = cli("run", "mcnn", "--stage", "infer", "--preset", "smoke", "--workdir", str(copy))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"{onnx_file} has changed since the export run " in err and "run `zoo run mcnn --stage export` again" in err
    assert (copy / "infer" / "predictions.csv").read_bytes() == before
    assert RecordStore(copy).latest("infer", "failed") is not None


def test_a_checkpoint_a_later_interrupted_run_rewrote_is_not_evaluated_as_the_recorded_one(copy, cli):
    best = copy / RecordStore(copy).latest("train").result.best_checkpoint
    best.write_bytes(best.read_bytes()[::-1])
    code, _, err = cli("run", "mcnn", "--stage", "eval", "--preset", "smoke", "--workdir", str(copy))
    assert code == 1 and f"{best} has changed since the train run" in err


def test_a_model_giving_nan_fails_infer_and_keeps_the_earlier_outputs(copy, cli, tmp_path):
    """A model of NaN weights, given by the user (so not checked against a record): not a success, nothing
    written over the delivery's inference outputs."""
    source = copy / RecordStore(copy).latest("export").result.file("onnx", dynamic=True).path
    model = onnx.load(str(source))
    for init in model.graph.initializer:
        init.CopyFrom(
            numpy_helper.from_array(np.full(numpy_helper.to_array(init).shape, np.nan, np.float32), init.name)
        )
    broken = tmp_path / "nan.onnx"
    onnx.save(model, str(broken))
    earlier = RecordStore(copy).latest("infer").run_id
    before = {p.name: p.read_bytes() for p in (copy / "infer").rglob("*") if p.is_file()}
    code, out, err = cli(
        "run", "mcnn", "--stage", "infer", "--preset", "smoke", "--set", f"infer_model={broken}", "--workdir", str(copy)
    )
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"{broken} gives a non-finite count (nan): the model file is damaged; nothing was written" in err
    assert RecordStore(copy).latest("infer", "failed") is not None
    assert RecordStore(copy).latest("infer").run_id == earlier
    assert {p.name: p.read_bytes() for p in (copy / "infer").rglob("*") if p.is_file()} == before


def test_any_non_finite_metric_fails_the_stage(tmp_path, monkeypatch, cli):
    """The runner's own check, for any model: a stage that records NaN or infinity has not succeeded."""
    install_fake_distribution(
        tmp_path,
        "zoo-nan",
        {"nanny": "zoo_nan_plugin"},
        {
            "zoo_nan_plugin": """
        from zoo_core import hookimpl
        from tests.test_plugins import spec_named

        from zoo_core import EvalResult

        def evaluate(ctx):
            if ctx.config.seed == 1:
                ctx.metrics.update({"samples": 3, "loss": [0.5, float("inf")]})
            return EvalResult(scores={"mae": float("nan"), "mse": 1.0}, samples=3, checkpoint="x.ckpt")

        @hookimpl
        def zoo_register_models(register):
            spec = spec_named("nanny")
            register(type(spec)(**{**spec.__dict__, "stages": {"eval": evaluate}}))
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = cli("run", "nanny", "--stage", "eval", "--set", "seed=1", "--workdir", str(tmp_path / "w"))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "eval produced non-finite metrics (loss[1]=inf)" in err
    code, out, err = cli("run", "nanny", "--stage", "eval", "--workdir", str(tmp_path / "w"))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "eval produced non-finite numbers (scores.mae=nan)" in err
    assert RecordStore(tmp_path / "w").latest("eval") is None
    assert RecordStore(tmp_path / "w").latest("eval", "failed").result is None
