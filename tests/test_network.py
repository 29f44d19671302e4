# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import numpy as np
import pytest

from zoo_core import ZooError, load_mindspore
from zoo_mcnn.network import MCNN, MaxPool2x2, build_network, conv_flops, load_weights, parameter_count

ms = load_mindspore()


def names_and_shapes(net) -> dict[str, tuple[int, ...]]:
    return {p.name: tuple(p.shape) for p in net.get_parameters()}


def test_parameter_names_match_the_mindspore_models_repository():
    shapes = names_and_shapes(build_network(1))
    expected = {f"branch{b}.{i}.conv.{kind}" for b in (1, 2, 3) for i in (0, 2, 4, 5) for kind in ("weight", "bias")}
    assert set(shapes) == expected | {"fuse.0.conv.weight", "fuse.0.conv.bias"}
    assert shapes["branch1.0.conv.weight"] == (16, 1, 9, 9)
    assert shapes["branch3.5.conv.weight"] == (12, 24, 3, 3)
    assert shapes["fuse.0.conv.weight"] == (1, 30, 1, 1)
    assert parameter_count(build_network(1)) == 127_953


def test_output_is_a_non_negative_quarter_resolution_density():
    net = build_network(2)
    out = net(ms.Tensor(np.random.default_rng(0).uniform(0, 255, (2, 1, 64, 96)).astype(np.float32))).asnumpy()
    assert out.shape == (2, 1, 16, 24)
    assert (out >= 0).all()


def test_flops_of_a_1024_image():
    assert conv_flops(1024, 1024) / 1e9 == pytest.approx(44.2, abs=0.05)


def test_checkpoint_round_trip(tmp_path):
    net = build_network(3)
    x = ms.Tensor(np.random.default_rng(1).uniform(0, 255, (1, 1, 32, 32)).astype(np.float32))
    ms.save_checkpoint(net, str(tmp_path / "net.ckpt"))
    other = build_network(4)
    assert not np.allclose(other(x).asnumpy(), net(x).asnumpy())
    loaded = load_weights(other, tmp_path / "net.ckpt")
    assert len(loaded) == 26
    np.testing.assert_array_equal(other(x).asnumpy(), net(x).asnumpy())


def test_checkpoint_with_optimizer_state_loads_weights_only(tmp_path):
    net = build_network(5)
    train = ms.nn.TrainOneStepCell(
        ms.nn.WithLossCell(net, ms.nn.MSELoss()), ms.nn.Adam(net.trainable_params(), learning_rate=1e-4)
    )
    ms.save_checkpoint(train, str(tmp_path / "train.ckpt"), append_dict={"epoch": 3})
    fresh = MCNN()
    load_weights(fresh, tmp_path / "train.ckpt")
    for a, b in zip(fresh.get_parameters(), net.get_parameters(), strict=True):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


def test_checkpoint_of_another_network_is_a_clear_error(tmp_path):
    other = ms.nn.SequentialCell([ms.nn.Dense(4, 2)])
    ms.save_checkpoint(other, str(tmp_path / "dense.ckpt"))
    with pytest.raises(ZooError, match="not a checkpoint of this network: missing 26 of 26 parameters"):
        load_weights(build_network(), tmp_path / "dense.ckpt")
    params = {p.name: p.asnumpy() for p in build_network(1).get_parameters()}
    params["fuse.0.conv.weight"] = np.zeros((2, 30, 1, 1), np.float32)
    ms.save_checkpoint([{"name": k, "data": ms.Tensor(v)} for k, v in params.items()], str(tmp_path / "wide.ckpt"))
    with pytest.raises(ZooError, match=r"'fuse.0.conv.weight' has shape \(2, 30, 1, 1\), the network needs"):
        load_weights(build_network(), tmp_path / "wide.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"junk")
    with pytest.raises(ZooError, match="junk.ckpt: not a readable MindSpore checkpoint"):
        load_weights(build_network(), tmp_path / "junk.ckpt")
    with pytest.raises(ZooError, match="not found"):
        load_weights(build_network(), tmp_path / "missing.ckpt")


@pytest.mark.parametrize("kind", ["random", "relu zeros", "flat", "integer ties"])
def test_training_pool_has_maxpools_values_and_gradients(kind):
    """Training runs MaxPoolWithArgmax for speed; it must be MaxPool exactly, ties included."""
    rng = np.random.default_rng(1)
    x = {
        "random": rng.standard_normal((2, 3, 8, 12)),
        "relu zeros": np.maximum(rng.standard_normal((2, 3, 8, 12)), 0),
        "flat": np.ones((1, 2, 8, 12)),
        "integer ties": rng.integers(0, 3, (2, 3, 8, 12)),
    }[kind]
    x = ms.Tensor(x.astype(np.float32))
    sens = ms.Tensor(rng.standard_normal((x.shape[0], x.shape[1], 4, 6)).astype(np.float32))
    reference = ms.nn.MaxPool2d(2, 2)
    pool = MaxPool2x2()
    pool.set_train(True)
    grad = ms.ops.GradOperation(sens_param=True)
    np.testing.assert_array_equal(pool(x).asnumpy(), reference(x).asnumpy())
    np.testing.assert_array_equal(grad(pool)(x, sens).asnumpy(), grad(reference)(x, sens).asnumpy())
    pool.set_train(False)
    np.testing.assert_array_equal(pool(x).asnumpy(), reference(x).asnumpy())
