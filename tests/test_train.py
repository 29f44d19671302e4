# SPDX-License-Identifier: Apache-2.0
"""Training behaviour: resume after an interruption, fine-tuning, learning-rate schedule, checkpoints kept."""

from __future__ import annotations

import json
import re
import shutil
import signal

import numpy as np
import pytest

from tests.conftest import copy_workdir, start_zoo, wait_for
from zoo_core import load_mindspore
from zoo_core.records import RecordStore
from zoo_core.training import progress as progress_module
from zoo_core.training.summary import read_metrics
from zoo_mcnn import train as train_module
from zoo_mcnn.config import McnnConfig

ms = load_mindspore()
SMOKE = ("--preset", "smoke", "--set", "epochs=3")


def weights(path) -> dict[str, np.ndarray]:
    return {k: v.asnumpy() for k, v in ms.load_checkpoint(str(path)).items() if k.startswith(("branch", "fuse"))}


def test_lr_schedule_steps_at_half_and_three_quarters():
    cfg = McnnConfig(lr=1.0, lr_steps=[0.5, 0.75], lr_decay=0.1)
    schedule = train_module.lr_schedule(cfg, 8)
    assert schedule == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01])


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, cli, monkeypatch):
    straight, broken = str(tmp_path / "straight"), str(tmp_path / "broken")
    assert cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", straight)[0] == 0

    real_save = progress_module.save_checkpoint

    def stop_in_epoch_two(cell, path, state=None):
        if path.name in ("best.ckpt", "mcnn-2.ckpt") and (path.parent / "mcnn-1.ckpt").is_file():
            raise KeyboardInterrupt
        real_save(cell, path, state)

    monkeypatch.setattr(progress_module, "save_checkpoint", stop_in_epoch_two)
    code, _, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken)
    assert code == 130
    assert (
        "zoo: interrupted: train interrupted by SIGINT; the last complete checkpoint, "
        "train/checkpoints/mcnn-1.ckpt, is kept: continue with `zoo run mcnn --stage train --resume`"
    ) in err
    assert RecordStore(tmp_path / "broken").latest("train", "interrupted") is not None
    monkeypatch.setattr(progress_module, "save_checkpoint", real_save)

    code, out, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken, "--resume")
    assert code == 0, err
    assert "resuming from" in out and "(epoch 1, step" in out
    record = RecordStore(tmp_path / "broken").latest("train")
    assert record.result.epochs_run == 2
    lines = [json.loads(x) for x in (tmp_path / "broken" / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines if x["type"] == "epoch"] == [1, 2, 3]
    a = weights(tmp_path / "straight" / "train" / "checkpoints" / "mcnn-3.ckpt")
    b = weights(tmp_path / "broken" / "train" / "checkpoints" / "mcnn-3.ckpt")
    assert a.keys() == b.keys() and len(a) == 26
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-6, err_msg=name)

    code, out, err = cli("run", "mcnn", "--stage", "train", *SMOKE, "--workdir", broken, "--resume")
    assert code == 0 and "nothing to do: trained 3 of 3 epochs" in out
    again = RecordStore(tmp_path / "broken").latest("train")
    assert again.result.epochs_run == 0
    keys = ("final_loss", "history", "best_epoch", "best_checkpoint")
    assert again.result.model_dump(include=set(keys)) == record.result.model_dump(include=set(keys))
    code, out, err = cli(
        "run", "mcnn", "--stage", "train", *SMOKE, "--set", "epochs=2", "--workdir", broken, "--resume"
    )
    assert code == 0 and "nothing to do: trained 3 of 2 epochs" in out  # epochs lowered: nothing run, none negative
    assert RecordStore(tmp_path / "broken").latest("train").result.epochs_run == 0


def test_fine_tune_from_a_checkpoint_and_keep_max(tmp_path, cli):
    first = tmp_path / "first"
    assert (
        cli("run", "mcnn", "--stage", "train", *SMOKE, "--set", "keep_checkpoint_max=2", "--workdir", str(first))[0]
        == 0
    )
    folder = first / "train" / "checkpoints"
    assert sorted(p.name for p in folder.glob("*.ckpt")) == ["best.ckpt", "mcnn-2.ckpt", "mcnn-3.ckpt"]
    code, out, err = cli(
        "run",
        "mcnn",
        "--stage",
        "train",
        "--preset",
        "smoke",
        "--set",
        "epochs=1",
        "--set",
        f"pretrained={folder / 'best.ckpt'}",
        "--workdir",
        str(tmp_path / "second"),
    )
    assert code == 0, err
    assert "fine-tuning from" in out
    record = RecordStore(tmp_path / "second").latest("train")
    assert any(a.path.endswith("first/train/checkpoints/best.ckpt") for a in record.inputs)


def test_fine_tune_with_frozen_layers_keeps_them_and_trains_the_rest(tmp_path, cli):
    """A first round trains only the fuse layer from a pretrained checkpoint (the columns frozen), as in a
    second-round guide: the frozen weights end exactly as loaded, the others move, the record says both."""
    first = tmp_path / "first"
    assert cli("run", "mcnn", "--stage", "train", "--preset", "smoke", "--workdir", str(first))[0] == 0
    pretrained = first / "train" / "checkpoints" / "best.ckpt"
    frozen = "[branch1., branch2., branch3.]"
    code, _, err = cli(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "lr=1e-3", "--set", f"pretrained={pretrained}",
        "--set", f"freeze={frozen}", "--workdir", str(tmp_path / "second"),
    )  # fmt: skip
    assert code == 0, err
    result = RecordStore(tmp_path / "second").latest("train").result
    assert result.fine_tuned_from == str(pretrained) and result.frozen == ["branch1.", "branch2.", "branch3."]
    before, after = weights(pretrained), weights(tmp_path / "second" / "train" / "checkpoints" / "mcnn-2.ckpt")
    assert all(np.array_equal(before[k], after[k]) for k in before if k.startswith("branch"))
    assert not np.array_equal(before["fuse.0.conv.weight"], after["fuse.0.conv.weight"])
    code, _, err = cli(
        "run", "mcnn", "--stage", "train", "--preset", "smoke", "--set", "freeze=[backbone.]",
        "--workdir", str(tmp_path / "third"),
    )  # fmt: skip
    assert code == 1 and "freeze: 'backbone.' matches no parameter" in err


def test_bad_pretrained_checkpoint_fails_cleanly(tmp_path, cli):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"nope")
    code, _, err = cli(
        "run",
        "mcnn",
        "--stage",
        "train",
        "--preset",
        "smoke",
        "--set",
        f"pretrained={junk}",
        "--workdir",
        str(tmp_path / "w"),
    )
    assert code == 1
    assert err.startswith(f"zoo: error: {junk}: not a readable MindSpore checkpoint")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert RecordStore(tmp_path / "w").latest("train", "failed").error.startswith(str(junk))


def _training_started(workdir, log) -> bool:
    return "training mcnn" in log.read_text()


def _after_checkpoint(epoch: int):
    return lambda workdir, log: (workdir / "train" / "checkpoints" / f"mcnn-{epoch}.ckpt").is_file()


def fresh(delivered, target):
    """A copy of the delivered work directory without its training outputs (the prepared data stays)."""
    shutil.rmtree(copy_workdir(delivered, target) / "train")
    return target


KILL_SETTINGS = ("--preset", "smoke", "--set", "epochs=6", "--set", "batch_size=1")


@pytest.mark.slow
def test_killed_at_any_moment_then_resumed_ends_like_an_uninterrupted_run(delivered, tmp_path, cli):
    """kill -9 during the first epoch (no checkpoint yet), after the second epoch's checkpoint, and after the
    fifth: ``--resume`` ends each with the weights, per-epoch losses and metrics of the run never stopped.
    MindSpore's CPU kernels are bit-deterministic here: the weights are compared exactly."""
    reference = fresh(delivered, tmp_path / "reference")
    assert cli("run", "mcnn", "--stage", "train", *KILL_SETTINGS, "--workdir", str(reference))[0] == 0
    expected = RecordStore(reference).latest("train").result
    for name, moment, first in (
        ("epoch-1", _training_started, 1),
        ("ckpt-2", _after_checkpoint(2), 3),
        ("ckpt-5", _after_checkpoint(5), 6),
    ):
        workdir = fresh(delivered, tmp_path / name)
        log = tmp_path / f"{name}.log"
        train = start_zoo("run", "mcnn", "--stage", "train", *KILL_SETTINGS, "--workdir", str(workdir), log=log)
        wait_for(lambda moment=moment, workdir=workdir, log=log: moment(workdir, log), process=train)
        train.send_signal(signal.SIGKILL)
        train.wait()
        code, out, err = cli("run", "mcnn", "--stage", "train", *KILL_SETTINGS, "--workdir", str(workdir), "--resume")
        assert code == 0, err
        assert "(train) interrupted: its process ended without a record" in out
        resumed = re.search(r"for epochs (\d+)\.\.6", out)
        assert resumed and int(resumed.group(1)) >= first and (first > 1 or "no checkpoint in" in out), out
        for checkpoint in ("mcnn-6.ckpt", "best.ckpt"):
            a = weights(reference / "train" / "checkpoints" / checkpoint)
            b = weights(workdir / "train" / "checkpoints" / checkpoint)
            assert a.keys() == b.keys() and len(a) == 26
            for key in a:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {checkpoint} {key}")
        got = RecordStore(workdir).latest("train").result
        for key in ("final_loss", "best_epoch", "epochs", "steps_per_epoch", "parameters"):
            assert getattr(got, key) == getattr(expected, key), (name, key)
        assert [(p.epoch, p.loss, p.metrics) for p in got.history] == [
            (p.epoch, p.loss, p.metrics) for p in expected.history
        ]
        steps = [
            (x["step"], x["loss"]) for x in read_metrics(workdir / "train" / "metrics.jsonl") if x["type"] == "step"
        ]
        assert steps == [
            (x["step"], x["loss"]) for x in read_metrics(reference / "train" / "metrics.jsonl") if x["type"] == "step"
        ]
        assert not list(workdir.rglob("*zoo-tmp*"))
