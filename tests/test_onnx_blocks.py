# SPDX-License-Identifier: Apache-2.0
"""The onnxruntime channel-blocking rewrite: what it changes, what it must leave alone, and that outputs stay equal."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from zoo_core import load_mindspore, open_backend
from zoo_core.runtime.onnx_blocks import block_channels, nchwc_block, split_blocks

RNG = np.random.default_rng(3)


def conv(name: str, source: str, cin: int, cout: int, k: int = 3, group: int = 1, weight: str | None = None):
    """A 'same' conv node with its weight and bias initializers."""
    weight = weight or f"{name}.w"
    inits = [
        numpy_helper.from_array(RNG.normal(0, 0.3, (cout, cin // group, k, k)).astype(np.float32), weight),
        numpy_helper.from_array(RNG.normal(0, 0.1, cout).astype(np.float32), f"{name}.b"),
    ]
    node = helper.make_node(
        "Conv", [source, weight, f"{name}.b"], [name], name=name, kernel_shape=[k, k], pads=[k // 2] * 4, group=group
    )
    return node, inits


def model(items: list, output: str, channels: int = 1) -> onnx.ModelProto:
    """A graph from ``items`` in order: nodes, or (node, initializers) pairs made by :func:`conv`."""
    nodes = [item[0] if isinstance(item, tuple) else item for item in items]
    inits = [i for item in items if isinstance(item, tuple) for i in item[1]]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, None, None])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, None, None, None])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run(m: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def rewritten(m: onnx.ModelProto, block: int) -> tuple[onnx.ModelProto, dict]:
    copy = onnx.ModelProto()
    copy.CopyFrom(m)
    summary = block_channels(copy, block)
    onnx.checker.check_model(copy)
    return copy, summary


def weights(m: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    return {i.name: tuple(i.dims) for i in m.graph.initializer if i.name.endswith(".w") or "/weight" in i.name}


def test_split_rule_and_block_size():
    assert [split_blocks(n) for n in (1, 3, 4, 5, 6, 7, 8, 9, 10, 13)] == [
        [1],
        [3],
        [4],
        [2, 3],
        [3, 3],
        [7],
        [8],
        [3, 3, 3],
        [4, 3, 3],
        [4, 3, 3, 3],
    ]
    assert all(sum(split_blocks(n)) == n for n in range(1, 40))
    assert nchwc_block({"avx512f", "avx2"}) == 16 and nchwc_block({"avx2"}) == 8 and nchwc_block({"sse4_2"}) == 0


def test_a_chain_is_padded_and_a_five_block_conv_split_with_equal_outputs():
    m = model(
        [
            conv("a", "x", 1, 20),
            helper.make_node("Relu", ["a"], ["r1"]),
            helper.make_node("MaxPool", ["r1"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            conv("b", "p", 20, 40),
            helper.make_node("Relu", ["b"], ["r2"]),
            conv("c", "r2", 40, 4),
        ],
        "c",
    )
    new, summary = rewritten(m, 8)
    assert summary == {"block": 8, "padded": 1, "split": 1}
    shapes = weights(new)
    assert shapes["a.w"] == (24, 1, 3, 3)  # 20 -> 24 zero filters
    assert sorted(s for n, s in shapes.items() if n.startswith("zoo_blocks/b/")) == [(16, 24, 3, 3), (24, 24, 3, 3)]
    assert shapes["c.w"] == (4, 40, 3, 3)
    ops = [n.op_type for n in new.graph.node]
    assert ops.count("Conv") == 4 and ops.count("Relu") == 3 and ops.count("Concat") == 1
    x = RNG.uniform(0, 1, (1, 1, 30, 22)).astype(np.float32)
    expected = run(m, x)
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(run(new, x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["graph output", "non-conv consumer", "grouped", "shared weight", "aligned"])
def test_graphs_it_must_not_touch(case):
    relu = helper.make_node("Relu", ["a"], ["r"])
    if case == "graph output":
        m = model([conv("a", "x", 1, 20), relu], "r")
    elif case == "non-conv consumer":
        m = model(
            [
                conv("a", "x", 1, 20),
                relu,
                helper.make_node("Add", ["r", "r"], ["s"]),
                conv("b", "r", 20, 8),
                helper.make_node("Sum", ["b", "b"], ["o"]),
            ],
            "o",
        )
        m.graph.output.append(helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, None, None, None]))
    elif case == "grouped":
        m = model(
            [conv("a", "x", 4, 20), relu, conv("b", "r", 20, 40, group=4), conv("c", "b", 40, 4)], "c", channels=4
        )
    elif case == "shared weight":
        first, inits = conv("a", "x", 20, 20)
        second, _ = conv("b", "r", 20, 20, weight="a.w")
        m = model([(first, inits), relu, (second, [inits[1]]), conv("c", "b", 20, 4)], "c", channels=20)
        m.graph.initializer.append(numpy_helper.from_array(np.zeros(20, np.float32), "b.b"))
        del m.graph.initializer[2]  # the duplicate a.b added with `second`
    else:
        m = model([conv("a", "x", 1, 16), relu, conv("b", "r", 16, 32)], "b")
    before = m.SerializeToString()
    assert block_channels(m, 8)["padded"] == 0 and block_channels(m, 8)["split"] == 0
    assert m.SerializeToString() == before


@pytest.mark.parametrize("block", [8, 16])
def test_mcnn_rewritten_for_either_block_size_gives_the_same_density(tmp_path, block):
    from zoo_mcnn.network import build_network

    ms = load_mindspore()
    net = build_network(5)
    for p in net.get_parameters():  # larger weights than the init, so the density is far from zero
        p.set_data(ms.Tensor(RNG.normal(0, 0.05, p.shape).astype(np.float32)))
    ms.export(
        net, ms.Tensor(np.zeros((1, 1, 64, 64), np.float32)), file_name=str(tmp_path / "mcnn"), file_format="ONNX"
    )
    m = onnx.load(str(tmp_path / "mcnn.onnx"))
    new, summary = rewritten(m, block)
    assert summary == {8: {"block": 8, "padded": 2, "split": 2}, 16: {"block": 16, "padded": 5, "split": 0}}[block]
    x = RNG.uniform(0, 255, (1, 1, 64, 64)).astype(np.float32)
    expected = net(ms.Tensor(x)).asnumpy()
    assert expected.max() > 1
    np.testing.assert_allclose(run(new, x), expected, rtol=1e-4, atol=1e-4)


def test_backend_reports_the_rewrite_and_can_skip_it(tmp_path):
    m = model([conv("a", "x", 1, 20), helper.make_node("Relu", ["a"], ["r"]), conv("b", "r", 20, 4)], "b")
    onnx.save(m, str(tmp_path / "m.onnx"))
    tuned = open_backend("onnxruntime", tmp_path / "m.onnx")
    plain = open_backend("onnxruntime", tmp_path / "m.onnx", tune=False)
    assert "channel_blocking" not in plain.details
    if nchwc_block():
        assert tuned.details["channel_blocking"]["padded"] == 1
    x = RNG.uniform(0, 1, (1, 1, 17, 9)).astype(np.float32)
    np.testing.assert_allclose(tuned(x), plain(x), rtol=1e-5, atol=1e-6)
