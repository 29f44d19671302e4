# SPDX-License-Identifier: Apache-2.0
"""Training behaviour: resume after an interruption, fine-tuning, learning-rate schedule, checkpoints kept."""
from __future__ import annotations

import json

import numpy as np
import pytest

from zoo_core import load_mindspore
from zoo_core.records import RecordStore
from zoo_mcnn import train as train_module
from zoo_mcnn.config import McnnConfig

ms = load_mindspore()
SMOKE = ("--preset", "smoke", "--set", "epochs=3")


def weights(path) -> dict[str, np.ndarray]:
    return {k: v.asnumpy() for k, v in ms.load_checkpoint(str(path)).items()
            if k.startswith(("branch", "fuse"))}


def test_lr_schedule_steps_at_half_and_three_quarters():
    cfg = McnnConfig(lr=1.0, lr_steps=[0.5, 0.75], lr_decay=0.1)
    schedule = train_module.lr_schedule(cfg, 8)
    assert schedule == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, cli, monkeypatch):
    straight, broken = str(tmp_path / "straight"), str(tmp_path / "broken")
    assert cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", straight)[0] == 0

    real_save = train_module._save

    def save_then_stop(cell, path, state=None):
        real_save(cell, path, state)
        if path.name == "mcnn-1.ckpt":
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_save", save_then_stop)
    code, _, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken)
    assert code == 130
    assert "train interrupted; continue with `zoo run mcnn --stage train --resume`" in err
    assert RecordStore(tmp_path / "broken").latest("train", "interrupted") is not None
    monkeypatch.setattr(train_module, "_save", real_save)

    code, out, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken, "--resume")
    assert code == 0, err
    assert "resuming from" in out and "(epoch 1, step" in out
    record = RecordStore(tmp_path / "broken").latest("train")
    assert record.metrics["epochs_run"] == 2
    lines = [json.loads(x) for x in (tmp_path / "broken" / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines if x["type"] == "epoch"] == [1, 2, 3]
    a = weights(tmp_path / "straight" / "train" / "checkpoints" / "mcnn-3.ckpt")
    b = weights(tmp_path / "broken" / "train" / "checkpoints" / "mcnn-3.ckpt")
    assert a.keys() == b.keys() and len(a) == 26
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6, err_msg=name)

    code, _, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken, "--resume")
    assert code == 1 and "already trained 3 of 3 epochs" in err


def test_fine_tune_from_a_checkpoint_and_keep_max(tmp_path, cli):
    first = tmp_path / "first"
    assert cli("run", "mcnn", "--stage", "train", *SMOKE, "--set", "keep_checkpoint_max=2",
               "--workdir", str(first))[0] == 0
    folder = first / "train" / "checkpoints"
    assert sorted(p.name for p in folder.glob("*.ckpt")) == ["best.ckpt", "mcnn-2.ckpt", "mcnn-3.ckpt"]
    code, out, err = cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "epochs=1",
                         "--set", f"pretrained={folder / 'best.ckpt'}", "--workdir", str(tmp_path / "second"))
    assert code == 0, err
    assert "fine-tuning from" in out
    record = RecordStore(tmp_path / "second").latest("train")
    assert any(a.path.endswith("first/train/checkpoints/best.ckpt") for a in record.inputs)


def test_bad_pretrained_checkpoint_fails_cleanly(tmp_path, cli):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"nope")
    code, _, err = cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", f"pretrained={junk}",
                       "--workdir", str(tmp_path / "w"))
    assert code == 1
    assert err.startswith(f"zoo: error: {junk}: not a readable MindSpore checkpoint")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert RecordStore(tmp_path / "w").latest("train", "failed").error.startswith(str(junk))
