# SPDX-License-Identifier: Apache-2.0
"""MCNN checked by the same conformance kit third-party plugins use (the pytest fixture of zoo_core.testing)."""

from __future__ import annotations

import pytest

from zoo_core.testing import ConformanceError, check_conformance


def test_mcnn_conforms(zoo_conformance):
    report = zoo_conformance("mcnn")
    assert report.stages == ["dataset", "network", "train", "eval", "export", "convert", "infer"]
    assert report.rules_passed >= 24 and len(report.readmes) == 2


def test_the_kit_names_what_is_wrong(tmp_path, monkeypatch):
    with pytest.raises(ConformanceError, match="unknown model 'nope'"):
        check_conformance("nope", tmp_path)
    with pytest.raises(ConformanceError, match="no 'tiny' preset"):
        check_conformance("mcnn", tmp_path, preset="tiny")
    from zoo_mcnn import evaluate

    real = evaluate.run

    def eval_with_an_undeclared_metric(ctx):
        result = real(ctx)
        return result.model_copy(update={"scores": result.scores | {"accuracy": 0.5}})

    monkeypatch.setattr(evaluate, "run", eval_with_an_undeclared_metric)
    with pytest.raises(ConformanceError, match=r"eval result names metrics it does not declare \(accuracy\)"):
        check_conformance("mcnn", tmp_path / "w")
    monkeypatch.setattr(evaluate, "run", lambda ctx: None)
    with pytest.raises(ConformanceError, match=r"eval stage ended without its result: return a zoo_core.EvalResult"):
        check_conformance("mcnn", tmp_path / "w")
