# SPDX-License-Identifier: Apache-2.0
"""Bad input through the CLI: one clear line naming the file or field, a non-zero exit, no traceback, and
nothing half-written (earlier good outputs stay as they were)."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
from scipy.io import savemat

from tests.conftest import ZOO, write_shanghaitech
from zoo_core.records import RecordStore
from zoo_mcnn.synthetic import write_mat


def _corrupt_image(root):
    (root / "train_data" / "images" / "IMG_2.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")


def _no_image_info(root):
    savemat(str(root / "train_data" / "ground_truth" / "GT_IMG_1.mat"), {"points": np.zeros((3, 2))})


def _nan_head(root):
    write_mat(root / "test_data" / "ground_truth" / "GT_IMG_1.mat", np.array([[5.0, np.nan]]))


def _missing_label(root):
    (root / "test_data" / "ground_truth" / "GT_IMG_2.mat").unlink()


def _empty(root):
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


@pytest.mark.parametrize(
    "damage, message",
    [
        (_corrupt_image, "IMG_2.jpg: unreadable or corrupt image; replace it or remove it"),
        (_no_image_info, "GT_IMG_1.mat: no 'image_info' variable"),
        (_nan_head, "GT_IMG_1.mat: head 1 has a non-finite coordinate"),
        (_missing_label, "IMG_2.jpg: no label file"),
        (_empty, "the folder is empty"),
    ],
)
def test_bad_data_fails_cleanly_and_keeps_earlier_outputs(tmp_path, cli, damage, message):
    data = write_shanghaitech(tmp_path / "data", train=3, test=2, size=64)
    workdir = tmp_path / "w"
    code, _, err = cli(
        "run", "mcnn", "--stage", "dataset", "--data", str(data), "--set", "patch_pad=0", "--workdir", str(workdir)
    )
    assert code == 0, err
    prepared = workdir / "dataset" / "prepared"
    before = {p.relative_to(prepared): p.read_bytes() for p in prepared.rglob("*") if p.is_file()}

    damage(data)
    code, out, err = cli(
        "run", "mcnn", "--stage", "dataset", "--data", str(data), "--set", "patch_pad=0", "--workdir", str(workdir)
    )
    assert code == 1
    assert err.startswith("zoo: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    after = {p.relative_to(prepared): p.read_bytes() for p in prepared.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in (workdir / "dataset").iterdir() if p.name.startswith(".")]
    failed = RecordStore(workdir).latest("dataset", "failed")
    assert failed is not None and message in failed.error


def test_missing_data_dir(tmp_path, cli):
    code, _, err = cli(
        "run", "mcnn", "--stage", "dataset", "--data", str(tmp_path / "nowhere"), "--workdir", str(tmp_path / "w")
    )
    assert code == 1 and "folder not found" in err and "leave out --data" in err


def test_eval_without_training_names_the_command(tmp_path, cli):
    code, _, err = cli("run", "mcnn", "--stage", "eval", "--preset", "smoke", "--workdir", str(tmp_path / "w"))
    assert code == 1
    assert "no successful 'train' run in" in err and "zoo run mcnn --stage train" in err


def test_images_of_different_sizes_need_patch_pad(tmp_path, cli):
    data = write_shanghaitech(tmp_path / "a", train=2, test=1, size=64)
    bigger = write_shanghaitech(tmp_path / "b", train=1, test=1, size=128, seed=5)
    (bigger / "train_data" / "images" / "IMG_1.jpg").rename(data / "train_data" / "images" / "IMG_3.jpg")
    (bigger / "train_data" / "ground_truth" / "GT_IMG_1.mat").rename(
        data / "train_data" / "ground_truth" / "GT_IMG_3.mat"
    )
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "dataset",
        "--data",
        str(data),
        "--set",
        "patch_pad=0",
        "--set",
        "val_fraction=0",
        "--workdir",
        str(tmp_path / "w"),
    )
    assert code == 1 and "set patch_pad" in err
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "dataset",
        "--data",
        str(data),
        "--set",
        "patch_pad=32",
        "--workdir",
        str(tmp_path / "w"),
    )
    assert code == 0, err


def test_clipped_heads_are_counted_and_warned(tmp_path, cli):
    data = write_shanghaitech(tmp_path / "d", train=2, test=1, size=64)
    write_mat(data / "test_data" / "ground_truth" / "GT_IMG_1.mat", np.array([[0.3, 10.0], [66.0, 20.0]]))
    code, out, err = cli(
        "run",
        "mcnn",
        "--stage",
        "dataset",
        "--data",
        str(data),
        "--set",
        "patch_pad=0",
        "--workdir",
        str(tmp_path / "w"),
    )
    assert code == 0, err
    assert "warning: 2 head(s) lay up to a few pixels outside their image" in out
    record = RecordStore(tmp_path / "w").latest("dataset")
    assert record.result.facts["heads_clipped"] == 2 and len(record.warnings) == 1


def test_non_utf8_config_file_is_named_with_the_byte_and_line(tmp_path, cli):
    config = tmp_path / "latin1.yaml"
    config.write_bytes("epochs: 3\ncomment: caf\xe9\n".encode("latin-1"))
    code, out, err = cli("run", "mcnn", "--stage", "train", "--config", str(config), "--workdir", str(tmp_path / "w"))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert f"{config}: not UTF-8 text (byte 0xe9 at line 2, column 13); save the file as UTF-8" in err
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("option", [[b"--set", b"soc_version=Ascend\xff310"], [b"--data", b"/data/ph\xf6tos"]])
def test_non_utf8_bytes_on_the_command_line_are_one_line(tmp_path, option):
    """The terminal hands zoo bytes that are not UTF-8: Python keeps them as surrogates, which no record could
    hold. Run as a real process, since only a real argv carries raw bytes."""
    result = subprocess.run(
        [
            *[a.encode() for a in ZOO],
            b"run",
            b"mcnn",
            b"--stage",
            b"convert",
            *option,
            b"--workdir",
            str(tmp_path / "w").encode(),
        ],
        capture_output=True,
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    byte = next(b for b in option[1] if b > 127)
    assert err.startswith(f"zoo: error: {option[0].decode()} ") and f"not valid UTF-8 (byte \\x{byte:02x})" in err
    assert not (tmp_path / "w").exists()


def test_a_record_value_a_template_cannot_show_names_the_template_line(copy, cli):
    """MCNN's architecture section shows a free-form metric of the network record; without it the error names
    the template file, its line and the expression (the typed results cannot hold a wrong type at all)."""
    path = copy / "records" / f"{RecordStore(copy).latest('network').run_id}.json"
    record = json.loads(path.read_text())
    del record["metrics"]["parameter_tensors"]
    path.write_text(json.dumps(record))
    code, out, err = cli("render-docs", "mcnn", "--workdir", str(copy))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert re.search(
        r"zoo: error: delivery template \S+/mcnn/doc_templates/sections/architecture\.md\.j2, line \d+ "
        r"\(in `[^`]*records\.network\.metrics\.parameter_tensors[^`]*`\): 'dict object' has no attribute "
        r"'parameter_tensors'",
        err,
    ), err
    assert "check the stage's record (`zoo runs --json`)" in err


def test_a_typed_result_of_the_wrong_type_is_named_with_its_record_and_field(copy, cli):
    path = copy / "records" / f"{RecordStore(copy).latest('eval').run_id}.json"
    record = json.loads(path.read_text())
    record["result"]["scores"] = "MAE 6.1"  # where the contract wants a mapping of declared metrics
    path.write_text(json.dumps(record))
    code, out, err = cli("render-docs", "mcnn", "--workdir", str(copy))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert err.startswith(f"zoo: error: {path}: result.eval.scores: Input should be a valid dictionary")
