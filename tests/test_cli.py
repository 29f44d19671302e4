# SPDX-License-Identifier: Apache-2.0
"""The ``zoo`` command end to end: listing, the smoke preset through every stage, records, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import zoo
from zoo_core.io import sha256_file
from zoo_core.model import STAGES
from zoo_core.records import RecordStore


@pytest.mark.parametrize("args", [["list"], ["info", "mcnn"], ["schema"], ["list", "--json"]])
def test_light_commands_do_not_import_mindspore(args):
    code = (
        "import sys; from zoo_core.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('mindspore', 'cv2', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_list_and_info_json(cli):
    code, out, _ = cli("list", "--json")
    models = {m["name"]: m for m in json.loads(out)["models"]}
    assert code == 0 and models["mcnn"]["stages"] == list(STAGES)
    code, out, _ = cli("info", "mcnn", "--json")
    info = json.loads(out)
    assert set(info["stages"].values()) == {"implemented"}
    assert info["config"]["lr"] == {
        "type": "number",
        "default": 2.8e-5,
        "stage": "train",
        "description": "Initial learning rate.",
    }
    assert set(info["presets"]) == {"default", "smoke", "demo"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "mcnm"], "zoo: error: unknown model 'mcnm' (did you mean 'mcnn'?); known: mcnn"),
        (["run", "mcnx", "--stage", "train"], "unknown model 'mcnx' (did you mean 'mcnn'?)"),
        (["run", "mcnn", "--stage", "trian"], "unknown stage 'trian' (did you mean 'train'?)"),
        (["run", "mcnn", "--stage", "train", "--preset", "fast"], "unknown preset 'fast'"),
        (["run", "mcnn", "--stage", "train", "--set", "lr=abc"], "--set: lr='abc': Input should be a valid number"),
        (["run", "mcnn", "--stage", "train", "--set", "epochs=-3"], "epochs=-3: Input should be greater than"),
        (
            ["run", "mcnn", "--stage", "train", "--set", "epoch=3"],
            "unknown config key 'epoch' (did you mean 'epochs'?)",
        ),
    ],
)
def test_bad_names_and_values_are_one_line_exit_2(cli, tmp_path, args, message):
    code, out, err = cli(*args, "--workdir", str(tmp_path / "w")) if args[0] == "run" else cli(*args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "w").exists()  # validated before anything is written


def test_smoke_preset_runs_every_stage_and_records_it(tmp_path):
    workdir = tmp_path / "runs"
    result = zoo("run", "mcnn", "--stage", "all", "--preset", "smoke", "--workdir", str(workdir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not implemented" not in out
    assert "convert: needs atc, converter_lite" in out
    assert re.search(
        r"^\[\d{4}-\d\d-\d\d [\d:.]+\] Train epoch: \[2/2\], batch: \[(\d+)/\1\], loss: [\d.e-]+, "
        r"learning rate: [\d.]+, eta: \d+:\d\d:\d\d$",
        out,
        re.M,
    )
    assert "Test epoch: 2, time/epoch: " in out and ", mae: " in out and ", mse: " in out
    assert "baseline (predict the mean training count" in out
    records = RecordStore(workdir).all()
    assert [r.stage for r in records] == list(STAGES)
    for record in records:
        assert record.status == ("needs_tool" if record.stage == "convert" else "ok")
        assert record.model == "mcnn" and record.preset == "smoke"
        assert record.ended >= record.started and record.duration_s >= 0
        assert record.config["epochs"] == 2
        assert record.environment.packages["mindspore"] and record.environment.cores >= 1
        assert "ONEDNN_MAX_CPU_ISA" in record.environment.isa
        assert (workdir / record.log).is_file()
        for artifact in record.outputs:
            path = workdir / artifact.path
            if path.is_file():
                assert artifact.sha256 == sha256_file(path) and artifact.size == path.stat().st_size
    dataset, network, train, evaluation, export, convert, infer = records
    assert dataset.data.endswith("part_S_final") and dataset.result.synthetic
    assert dataset.result.splits == {"train": 5, "val": 1, "test": 3} and dataset.result.layout == "shanghaitech"
    assert network.result.parameters == 127_953
    assert train.environment.device == "CPU"
    assert train.result.ms_per_step > 0 and train.result.epochs_run == 2 and len(train.result.history) == 2
    assert {"train/checkpoints/best.ckpt", "train/checkpoints/mcnn-2.ckpt", "train/metrics.jsonl"} <= {
        a.path for a in train.outputs
    }
    lines = [json.loads(line) for line in (workdir / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines if line["type"] == "epoch"] == [1, 2]
    assert sum(line["type"] == "step" for line in lines) == 2 * train.result.steps_per_epoch
    assert evaluation.result.samples == 3 and evaluation.result.scores["mae"] >= 0
    assert any(a.path == "train/checkpoints/best.ckpt" for a in evaluation.inputs)
    assert not list(workdir.rglob("*.tmp*"))

    listing = zoo("runs", "mcnn", "--workdir", str(workdir), "--json")
    assert [r["stage"] for r in json.loads(listing.stdout)] == list(STAGES)
    assert infer.result.scores["mae"] == pytest.approx(evaluation.result.scores["mae"], abs=1e-3)
    assert convert.needs == ["atc", "converter_lite"]


def test_train_runs_dataset_first_only_when_needed(tmp_path, cli):
    workdir = str(tmp_path / "w")
    code, out, _ = cli("run", "mcnn", "--stage", "dataset", "--preset", "smoke", "--workdir", workdir)
    assert code == 0
    code, out, _ = cli(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=1", "--workdir", workdir
    )
    assert code == 0 and "running 'dataset' first" not in out
    code, out, _ = cli(
        "run",
        "mcnn",
        "--stage",
        "train",
        "--preset",
        "smoke",
        "--set",
        "epochs=1",
        "--set",
        "patches_per_image=2",
        "--workdir",
        workdir,
    )
    assert code == 0 and "running 'dataset' first: its settings changed since its last run" in out


def test_user_data_through_the_cli(tmp_path, cli, shanghaitech):
    workdir = str(tmp_path / "w")
    code, out, err = cli(
        "run",
        "mcnn",
        "--stage",
        "dataset,train,eval",
        "--preset",
        "smoke",
        "--set",
        "patch_pad=0",
        "--set",
        "batch_size=2",
        "--data",
        str(shanghaitech),
        "--workdir",
        workdir,
        "--json",
    )
    assert code == 0, err
    records = json.loads(out)["records"]
    assert [r["stage"] for r in records] == ["dataset", "train", "eval"]
    assert records[0]["data"] == str(shanghaitech) and records[0]["result"]["layout"] == "shanghaitech"
    assert records[2]["result"]["samples"] == 2


def test_csv_test_layout_evaluates_a_checkpoint(tmp_path, cli, shanghaitech):
    from tests.conftest import write_csv_layout

    workdir = str(tmp_path / "w")
    assert (
        cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=1", "--workdir", workdir)[0] == 0
    )
    best = str(tmp_path / "w" / "train" / "checkpoints" / "best.ckpt")
    csv_root = write_csv_layout(tmp_path / "csv", shape=(64, 80))
    code, out, err = cli(
        "run",
        "mcnn",
        "--stage",
        "dataset,eval",
        "--data",
        str(csv_root),
        "--set",
        f"checkpoint={best}",
        "--workdir",
        str(tmp_path / "csvrun"),
    )
    assert code == 0, err
    assert "evaluation on 2 test images" in out
    code, _, err = cli("run", "mcnn", "--stage", "train", "--workdir", str(tmp_path / "csvrun"))
    assert code == 1 and "has no training split" in err


def test_a_stage_the_model_lacks_is_reported_never_skipped_silently():
    from tests.test_plugins import spec_named
    from zoo_core.errors import UsageError
    from zoo_core.runner import parse_stages

    spec = spec_named("partial")
    spec = type(spec)(**{**spec.__dict__, "stages": {"train": lambda ctx: None}})
    plan = parse_stages(spec, "all")
    assert plan.stages == ["train"]
    assert plan.not_implemented == ["dataset", "network", "eval", "export", "convert", "infer"]
    with pytest.raises(UsageError, match="model 'partial' does not implement stage 'export'; it implements: train"):
        parse_stages(spec, "train,export")
