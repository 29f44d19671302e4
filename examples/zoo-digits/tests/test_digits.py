# SPDX-License-Identifier: Apache-2.0
"""The digits example checked by zoo's conformance kit, and its glyph generator."""

import numpy as np

from zoo_digits.glyphs import SIDE, make


def test_conforms_to_the_zoo_contract(zoo_conformance):
    report = zoo_conformance("digits")
    assert report.stages == ["dataset", "network", "train", "eval", "export", "convert", "infer"]


def test_glyphs_are_deterministic_and_labelled():
    images, labels = make(20, seed=5)
    again, _ = make(20, seed=5)
    assert images.shape == (20, SIDE, SIDE) and np.array_equal(images, again)
    assert set(labels.tolist()) <= set(range(10)) and images.max() > 200
