# SPDX-License-Identifier: Apache-2.0
"""The typed contract serves a model unlike MCNN: the textline test plugin (tests/plugins/textline.py) has a
lower-is-better primary metric in percent, two validation series, no baseline, no fine-tuning, no data of the
user's and no pictures. Its README shows its own names, units, directions and plot, and only commands it takes."""

from __future__ import annotations

import json
import math
import re

import pytest

from zoo_core.plugin.manager import PluginManager
from zoo_core.records import RecordStore

CROWD_WORDS = re.compile(r"\b(MAE|MSE|density|overlays?|crowd|heads?)\b", re.I)


@pytest.fixture
def textline(monkeypatch):
    from tests.plugins import textline

    original = PluginManager.load_entry_points

    def load_with_textline(self):
        original(self)
        self.register(textline, "textline")

    monkeypatch.setattr(PluginManager, "load_entry_points", load_with_textline)
    return textline


@pytest.fixture
def delivered_textline(textline, tmp_path, cli):
    work = tmp_path / "w"
    code, out, err = cli("run", "textline", "--stage", "all", "--preset", "smoke", "--workdir", str(work))
    assert code == 0, out + err
    for lang in ("en", "zh"):
        assert cli("render-docs", "textline", "--lang", lang, "--workdir", str(work))[0] == 0
    return work


def test_a_lower_is_better_model_gets_a_truthful_readme(delivered_textline, cli):
    work = delivered_textline
    readme = (work / "docs" / "README_en.md").read_text()
    train = RecordStore(work).latest("train").result
    cers = [point.metrics["cer"] for point in train.history]
    assert train.best_epoch == 1 + cers.index(min(cers))  # the lowest CER is the best epoch
    evaluation = RecordStore(work).latest("eval").result
    assert f"CER (%) {evaluation.scores['cer']:.3g}, Word accuracy" in readme
    assert "Metrics: CER (%) (lower is better), Word accuracy (higher is better)." in readme
    assert f"| Best epoch | {train.best_epoch} (CER (%) {min(cers):.3g}) |" in readme
    assert "![training loss and validation metrics per epoch: CER (%), Word accuracy](training.png)" in readme
    assert (work / "docs" / "training.png").stat().st_size > 1000
    assert "| Batch size | 2 |" in readme
    assert "--resume" in readme  # it declares resume
    for absent in ("pretrained", "--data", "freeze", "aseline", "inference_example", "predictions/ folder"):
        assert absent not in readme, absent
    assert "does not support fine-tuning" in readme
    assert not CROWD_WORDS.findall(readme)
    zh = (work / "docs" / "README.md").read_text()
    assert "字符错误率（%）（越低越好）" in zh and not CROWD_WORDS.findall(zh)
    code, out, _ = cli("check", "textline", "--workdir", str(work), "--json")
    assert code == 0 and not [f for f in json.loads(out) if f["severity"] == "error"]


def test_what_a_model_does_not_declare_is_refused_before_anything_runs(textline, tmp_path, cli):
    work = tmp_path / "w"
    code, _, err = cli("run", "textline", "--stage", "dataset", "--data", str(tmp_path), "--workdir", str(work))
    assert code == 2 and "does not read --data in its dataset stage" in err and "user_data" in err
    code, _, err = cli("run", "textline", "--stage", "infer", "--data", str(tmp_path), "--workdir", str(work))
    assert code == 2 and "'infer_data' capability" in err
    code, _, err = cli("run", "textline", "--stage", "train", "--set", "pretrained=x.ckpt", "--workdir", str(work))
    assert code == 2 and "pretrained" in err
    assert not (work / "records").exists() or not list((work / "records").iterdir())


def test_the_train_result_and_plot_follow_the_declared_metrics(delivered_textline):
    from tests.plugins.textline import METRICS
    from zoo_core.docs.plots import plotted_series

    train = RecordStore(delivered_textline).latest("train").result
    assert [m.key for m in plotted_series(train.history, METRICS)] == ["cer", "word_accuracy"]
    assert all(math.isfinite(p.metrics["cer"]) and 0 <= p.metrics["cer"] <= 100 for p in train.history)
