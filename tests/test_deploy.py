# SPDX-License-Identifier: Apache-2.0
"""Export, convert and infer: round trips, converters with and without their tools, delivery scripts, infer = eval."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo_core import api, load_mindspore
from zoo_core.context import user_data_dir
from zoo_core.records import RecordStore
from zoo_core.runtime.onnx_blocks import nchwc_block
from zoo_mcnn.network import build_network, load_weights

ms = load_mindspore()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A smoke-trained, evaluated and exported work directory shared by the tests of this module."""
    workdir = tmp_path_factory.mktemp("deploy") / "w"
    api.run("mcnn", "dataset,train,eval,export", preset="smoke", workdir=workdir, quiet=True)
    return workdir


def fake_tool(folder: Path, name: str, creates_suffix: str, marker: str = "") -> Path:
    """A stand-in for atc / converter_lite: logs its arguments and writes the output file it was asked for."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"""#!/bin/bash
echo "$@" >> "{folder}/{name}.args"
for arg in "$@"; do
  case "$arg" in --output=*|--outputFile=*) touch "${{arg#*=}}{creates_suffix}" ;; esac
done
echo "{marker}"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def test_exported_models_equal_the_network(trained):
    record = RecordStore(trained).latest("export")
    files = {f.format + ("_dynamic" if f.dynamic else ""): trained / f.path for f in record.result.files}
    assert set(files) == {"mindir", "onnx", "mindir_dynamic", "onnx_dynamic"}
    assert "Ascend backend" in record.result.skipped["air"]
    assert record.result.input.model_dump() == {
        "name": "x",
        "shape": [1, 1, 128, 128],
        "dynamic_axes": {0: "batch", 2: "height", 3: "width"},
        "layout": "NCHW",
    }
    net = build_network()
    load_weights(net, trained / "train" / "checkpoints" / "best.ckpt")
    import onnxruntime as ort

    for shape, suffix in (((1, 1, 128, 128), ""), ((2, 1, 96, 64), "_dynamic")):
        x = np.random.default_rng(7).uniform(0, 255, shape).astype(np.float32)
        expected = net(ms.Tensor(x)).asnumpy()
        mindir = ms.nn.GraphCell(ms.load(str(files["mindir" + suffix])))(ms.Tensor(x)).asnumpy()
        session = ort.InferenceSession(str(files["onnx" + suffix]), providers=["CPUExecutionProvider"])
        onnx_out = session.run(None, {"x": x})[0]
        np.testing.assert_allclose(mindir, expected, atol=1e-5)
        np.testing.assert_allclose(onnx_out, expected, atol=1e-5)
    for file in record.result.files:
        assert file.parity is not None and file.parity.max_abs_error < 1e-4, file.path


def test_export_needs_a_trained_or_given_checkpoint(tmp_path, cli):
    code, _, err = cli("run", "mcnn", "--stage", "export", "--preset", "smoke", "--workdir", str(tmp_path / "w"))
    assert code == 1 and "no successful 'train' run" in err and len(err.strip().splitlines()) == 1
    other = tmp_path / "dense.ckpt"
    ms.save_checkpoint(ms.nn.SequentialCell([ms.nn.Dense(3, 2)]), str(other))
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "export",
        "--preset",
        "smoke",
        "--set",
        f"checkpoint={other}",
        "--workdir",
        str(tmp_path / "w"),
    )
    assert code == 1 and "not a checkpoint of this network" in err
    assert not (tmp_path / "w" / "export" / "model").exists()


def test_convert_without_tools_records_commands(trained, cli, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    code, out, err = cli("run", "mcnn", "--stage", "convert", "--preset", "smoke", "--workdir", str(trained))
    assert code == 0, err
    assert "convert: needs atc, converter_lite" in out
    record = RecordStore(trained).latest("convert", "needs_tool")
    by_name = {c.converter: c for c in record.result.conversions}
    assert by_name["atc-onnx"].status == "needs_tool"
    assert by_name["atc-onnx"].command[:2] == ["atc", f"--model={trained / 'export/model/mcnn.onnx'}"]
    assert "--framework=5" in by_name["atc-onnx"].command
    assert by_name["atc-air"].status == "skipped"
    assert by_name["converter-lite"].status == "needs_tool"
    for name in ("onnx-optimize", "onnx-fp16"):
        assert by_name[name].status == "ok"
        assert by_name[name].parity.max_abs_error < (1e-4 if name == "onnx-optimize" else 1e-2)
        assert (trained / by_name[name].outputs[0]).is_file()


def test_convert_runs_atc_and_converter_lite_when_present(trained, cli, monkeypatch, tmp_path):
    tools = fake_tool(tmp_path / "bin", "atc", ".om")
    fake_tool(tools, "converter_lite", ".ms", marker="CONVERT RESULT SUCCESS:0")
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    code, out, err = cli(
        "run",
        "mcnn",
        "--stage",
        "convert",
        "--preset",
        "smoke",
        "--set",
        "soc_version=Ascend310P3",
        "--set",
        "precision_mode=allow_mix_precision",
        "--workdir",
        str(trained),
    )
    assert code == 0, err
    record = RecordStore(trained).latest("convert")
    assert record.status == "ok" and record.needs == []
    args = (tools / "atc.args").read_text().split()
    assert f"--model={trained}/export/model/mcnn.onnx" in args
    assert {
        "--framework=5",
        "--soc_version=Ascend310P3",
        "--input_shape=x:1,1,128,128",
        "--input_format=NCHW",
        "--precision_mode=allow_mix_precision",
        "--log=error",
    } <= set(args)
    assert f"--output={trained}/convert/models/mcnn_onnx" in args
    assert "--fmk=MINDIR" in (tools / "converter_lite.args").read_text()
    outputs = {a.path for a in record.outputs}
    assert {"convert/models/mcnn_onnx.om", "convert/models/mcnn.ms"} <= outputs


def test_failing_tool_fails_the_stage(trained, cli, monkeypatch, tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "atc").write_text("#!/bin/bash\necho 'E10001: invalid soc_version' >&2\nexit 3\n")
    (tools / "atc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    code, _, err = cli("run", "mcnn", "--stage", "convert", "--preset", "smoke", "--workdir", str(trained))
    assert code == 1 and "converter atc-onnx failed: atc failed: E10001: invalid soc_version" in err


def test_unknown_converter_is_a_usage_error(trained, cli):
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "convert",
        "--preset",
        "smoke",
        "--set",
        "converters=[onnx-fp61]",
        "--workdir",
        str(trained),
    )
    assert code == 2 and "unknown converter 'onnx-fp61' (did you mean 'onnx-fp16'?)" in err


def test_delivery_scripts_are_valid_and_consistent(trained, cli, tmp_path, monkeypatch):
    assert cli("run", "mcnn", "--stage", "convert", "--preset", "smoke", "--workdir", str(trained))[0] == 0
    infer = trained / "convert" / "infer"
    script = infer / "convert" / "convert_om.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert os.access(script, os.X_OK)
    pipeline = json.loads((infer / "sdk" / "mcnn.pipeline").read_text())
    stream = pipeline["mcnn"]
    assert stream["appsrc0"]["next"] == "mxpi_tensorinfer0" and stream["mxpi_tensorinfer0"]["next"] == "appsink0"
    model_path = stream["mxpi_tensorinfer0"]["props"]["modelPath"]
    assert stream["mxpi_tensorinfer0"]["props"]["dataSource"] == "appsrc0"
    # Run the script with a fake atc: its default output, seen from infer/convert, is the OM the pipeline
    # loads, seen from infer/sdk.
    tools = fake_tool(tmp_path / "bin", "atc", ".om")
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    (infer / "model").mkdir(exist_ok=True)
    run = subprocess.run(["bash", "convert_om.sh"], cwd=infer / "convert", capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    args = (tools / "atc.args").read_text().split()
    assert "--framework=1" in args and "--model=../model/mcnn.air" in args and "--input_shape=x:1,1,128,128" in args
    assert ((infer / "sdk") / model_path).resolve() == (infer / "model" / "mcnn.om").resolve()
    assert (infer / "model" / "mcnn.om").exists()
    run = subprocess.run(
        ["bash", "convert_om.sh", "--model=../model/mcnn.onnx", "--output=../model/x"],
        cwd=infer / "convert",
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "--framework=5" in (tools / "atc.args").read_text().splitlines()[-1]
    run = subprocess.run(["bash", "convert_om.sh", "--bogus"], cwd=infer / "convert", capture_output=True, text=True)
    assert run.returncode == 1 and "unknown argument --bogus" in run.stderr


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("backend", ["onnxruntime", "mindspore"])
def test_infer_equals_eval_on_the_test_split(trained, cli, backend):
    code, out, err = cli(
        "run", "mcnn", "--stage", "infer", "--preset", "smoke", "--set", f"backend={backend}", "--workdir", str(trained)
    )
    assert code == 0, err
    infer = RecordStore(trained).latest("infer")
    evaluation = RecordStore(trained).latest("eval")
    assert infer.result.backend == backend and infer.result.samples == evaluation.result.samples
    if backend == "onnxruntime" and nchwc_block():  # MCNN's 20/40-channel column is rewritten (exact)
        padded, split = {8: (2, 2), 16: (5, 0)}[nchwc_block()]
        assert infer.result.backend_details["channel_blocking"] == {
            "block": nchwc_block(),
            "padded": padded,
            "split": split,
        }
    assert infer.result.scores["mae"] == pytest.approx(evaluation.result.scores["mae"], abs=1e-3)
    assert infer.result.scores["mse"] == pytest.approx(evaluation.result.scores["mse"], abs=1e-3)
    predicted = {Path(name).stem: row for name, row in read_csv(trained / "infer" / "predictions.csv").items()}
    expected = read_csv(trained / "eval" / "predictions.csv")
    assert predicted.keys() == expected.keys()
    for name, row in predicted.items():
        assert float(row["predicted_count"]) == pytest.approx(float(expected[name]["predicted_count"]), abs=2e-3)
        assert row["gt_count"] == expected[name]["gt_count"]
    overlay = cv2.imread(str(trained / "infer" / "overlays" / "IMG_1.jpg.png"))
    assert overlay is not None and overlay.shape == (128, 128, 3)


def test_infer_skips_unreadable_files_and_keeps_going(trained, cli, tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    source = trained / "dataset" / "synthetic" / "part_S_final" / "test_data" / "images"
    for path in source.iterdir():
        (images / path.name).write_bytes(path.read_bytes())
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (images / "notes.txt").write_text("not an image")
    code, out, err = cli(
        "run", "mcnn", "--stage", "infer", "--preset", "smoke", "--data", str(images), "--workdir", str(trained)
    )
    assert code == 0, err
    assert out.count("warning: skipped ") == 2 and "broken.jpg: unreadable or corrupt image" in out
    record = RecordStore(trained).latest("infer", kind="user_data")
    assert sorted(record.result.skipped) == ["broken.jpg", "notes.txt"]
    assert record.result.samples == 3 and record.result.labelled == 0 and record.result.scores == {}
    rows = read_csv(user_data_dir(trained, images) / "predictions.csv")
    assert set(rows) == {"IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"} and rows["IMG_1.jpg"]["gt_count"] == ""


@pytest.mark.parametrize(
    "sets, code, message",
    [
        (["--set", "infer_model=/nowhere/mcnn.onnx"], 1, "/nowhere/mcnn.onnx: model file not found"),
        (["--set", "backend=tensorrt"], 2, "backend='tensorrt': Input should be 'onnxruntime' or 'mindspore'"),
    ],
)
def test_infer_bad_model_or_backend(trained, cli, sets, code, message):
    before = (trained / "infer" / "predictions.csv").read_bytes() if (trained / "infer").exists() else None
    result, _, err = cli("run", "mcnn", "--stage", "infer", "--preset", "smoke", *sets, "--workdir", str(trained))
    assert result == code and message in err and len(err.strip().splitlines()) == 1
    if before is not None:
        assert (trained / "infer" / "predictions.csv").read_bytes() == before


def test_infer_on_a_folder_of_only_junk_fails(trained, cli, tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "infer",
        "--preset",
        "smoke",
        "--data",
        str(tmp_path / "junk"),
        "--workdir",
        str(trained),
    )
    assert code == 1 and "none of the 1 files could be read as an image" in err


def test_file_parity_runs_a_delivered_file_and_refuses_unknown_formats(trained, tmp_path):
    from zoo_core import ZooError, file_parity

    export = RecordStore(trained).latest("export")
    with np.load(trained / export.result.sample) as sample:
        inputs, expected = sample["input"], sample["expected"]
    result = file_parity(trained / export.result.file("onnx").path, inputs, expected)
    assert result == export.result.file("onnx").parity
    (tmp_path / "model.om").write_bytes(b"\0")
    with pytest.raises(ZooError, match=r"model\.om: no backend runs \.om files"):
        file_parity(tmp_path / "model.om", inputs, expected)


def test_inference_on_the_users_photos_is_kept_apart_from_the_delivery(copy, cli, tmp_path):
    """The README's own example: photos go to their own folder and record kind; the delivery's infer outputs, the
    README and the checklist stay as they were, and export is not run again for --data."""
    photos = tmp_path / "photos"
    photos.mkdir()
    sample = next((copy / "dataset" / "synthetic").rglob("IMG_1.jpg")).read_bytes()
    for name in ("a.jpg", "a.png", "=HYPERLINK(1).jpg", "-rf.jpg"):
        (photos / name).write_bytes(sample)
    delivery = {p: p.read_bytes() for p in (copy / "infer").rglob("*") if p.is_file()}
    exports = len(RecordStore(copy).all("export"))
    code, out, err = cli(
        "run", "mcnn", "--stage", "convert,infer", "--preset", "smoke", "--data", str(photos), "--workdir", str(copy)
    )
    assert code == 0, err
    assert "running 'export' first" not in out and len(RecordStore(copy).all("export")) == exports
    folder = user_data_dir(copy, photos)
    assert f"outputs in {folder}" in out
    record = RecordStore(copy).latest("infer", kind="user_data")
    assert record.kind == "user_data" and record.data == str(photos) and record.result.samples == 4
    assert {p: p.read_bytes() for p in (copy / "infer").rglob("*") if p.is_file()} == delivery
    rows = read_csv(folder / "predictions.csv")
    assert set(rows) == {"a.jpg", "a.png", "'=HYPERLINK(1).jpg", "'-rf.jpg"}
    assert sorted(p.name for p in (folder / "overlays").iterdir()) == [
        "-rf.jpg.png",
        "=HYPERLINK(1).jpg.png",
        "a.jpg.png",
        "a.png.png",
    ]
    assert RecordStore(copy).latest("infer").kind == "delivery"
    code, out, _ = cli("check", "mcnn", "--workdir", str(copy))
    assert code == 0, out
    code, _, err = cli("render-docs", "mcnn", "--workdir", str(copy), "--check")
    assert code == 0, err
