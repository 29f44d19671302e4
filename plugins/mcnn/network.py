# SPDX-License-Identifier: Apache-2.0
"""MCNN (Zhang et al., CVPR 2016) in MindSpore, with the parameter names of the MindSpore models repository.

Three columns of convolutions with different receptive fields (2x2 max-pool after the first two convs of each),
ReLU after every conv including the 1x1 fuse, grayscale 0-255 input, density map at 1/4 resolution. Parameter
names are ``branch{1,2,3}.{0,2,4,5}.conv.{weight,bias}`` and ``fuse.0.conv.{weight,bias}`` (positions 1 and 3 are
the pools), so checkpoints from ``mindspore-ai/models`` ``research/cv/MCNN`` load unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zoo_core import NetworkResult, ZooError, load_mindspore
from zoo_core import load_weights as load_weights  # MCNN checkpoints: the core loader, by name and shape

ms = load_mindspore()
if TYPE_CHECKING:
    from mindspore import nn
else:
    nn = ms.nn

# (in, out, kernel) per conv of each column; a 2x2 pool follows the first two convs.
COLUMNS: dict[str, list[tuple[int, int, int]]] = {
    "branch1": [(1, 16, 9), (16, 32, 7), (32, 16, 7), (16, 8, 7)],
    "branch2": [(1, 20, 7), (20, 40, 5), (40, 20, 5), (20, 10, 5)],
    "branch3": [(1, 24, 5), (24, 48, 3), (48, 24, 3), (24, 12, 3)],
}
FUSE_IN = sum(convs[-1][1] for convs in COLUMNS.values())  # 8 + 10 + 12 = 30
DOWNSAMPLE = 4


class ConvReLU(nn.Cell):
    """A 'same'-padded conv with bias, N(0, 0.01) weights, zero bias, followed by ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            cin,
            cout,
            kernel,
            stride=1,
            pad_mode="pad",
            padding=(kernel - 1) // 2,
            has_bias=True,
            weight_init=ms.common.initializer.Normal(sigma=0.01),
            bias_init="zeros",
        )
        self.relu = nn.ReLU()

    def construct(self, x):
        return self.relu(self.conv(x))


class MaxPool2x2(nn.Cell):
    """2x2 max-pool, stride 2. In training mode it runs ``MaxPoolWithArgmax``: same values and same gradients as
    ``MaxPool`` (ties included, tests/test_network.py), but on CPU its backward is a native scatter from the saved
    argmax, while ``MaxPool``'s reruns the forward in oneDNN's single-threaded reference kernel (about 18% of a
    256x256 training step; benchmarks/README.md). Inference and export use the plain ``MaxPool``."""

    def __init__(self) -> None:
        super().__init__()
        self.plain = ms.ops.MaxPool(kernel_size=2, strides=2)
        self.with_argmax = ms.ops.MaxPoolWithArgmax(kernel_size=2, strides=2)

    def construct(self, x):
        if self.training:
            return self.with_argmax(x)[0]
        return self.plain(x)


def _column(convs: list[tuple[int, int, int]]) -> nn.SequentialCell:
    first, second, third, fourth = (ConvReLU(*c) for c in convs)
    return nn.SequentialCell([first, MaxPool2x2(), second, MaxPool2x2(), third, fourth])


class MCNN(nn.Cell):
    """Input ``(N, 1, H, W)`` float32 grayscale 0-255 with H, W multiples of 4; output ``(N, 1, H/4, W/4)``."""

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = _column(COLUMNS["branch1"])
        self.branch2 = _column(COLUMNS["branch2"])
        self.branch3 = _column(COLUMNS["branch3"])
        self.fuse = nn.SequentialCell([ConvReLU(FUSE_IN, 1, 1)])
        self.concat = ms.ops.Concat(axis=1)

    def construct(self, x):
        return self.fuse(self.concat((self.branch1(x), self.branch2(x), self.branch3(x))))


def build_network(seed: int | None = None) -> MCNN:
    if seed is not None:
        ms.set_seed(seed)
    return MCNN()


def parameter_count(net: nn.Cell) -> int:
    return int(sum(np.prod(p.shape) for p in net.get_parameters()))


def conv_flops(height: int, width: int) -> int:
    """Multiply-adds x 2 of one forward pass on an ``height`` x ``width`` image (convolutions only)."""
    total = 0
    for convs in COLUMNS.values():
        h, w = height, width
        for index, (cin, cout, k) in enumerate(convs):
            total += 2 * k * k * cin * cout * h * w
            if index < 2:
                h, w = h // 2, w // 2
    return total + 2 * FUSE_IN * (height // DOWNSAMPLE) * (width // DOWNSAMPLE)


def run(ctx) -> NetworkResult:
    """The network stage: build MCNN, check a forward pass, and record its size and cost."""
    from zoo_core import atomic_write_json

    net = build_network(ctx.config.seed)
    side = 256
    out = net(ms.Tensor(np.zeros((1, 1, side, side), np.float32))).shape
    expected = (1, 1, side // DOWNSAMPLE, side // DOWNSAMPLE)
    if tuple(out) != expected:
        raise ZooError(f"MCNN output shape {tuple(out)} for a {side}x{side} input, expected {expected}")
    params = {p.name: list(p.shape) for p in net.get_parameters()}
    ctx.output(atomic_write_json(ctx.stage_dir / "summary.json", {"parameters": params}))
    ctx.metrics.update({"parameter_tensors": len(params), "output_shape_256": list(expected)})
    ctx.log.info(
        f"MCNN: {len(params)} parameter tensors, {parameter_count(net):,} values, "
        f"{conv_flops(1024, 1024) / 1e9:.1f} GFLOP per 1024x1024 image"
    )
    return NetworkResult(parameters=parameter_count(net), flops=conv_flops(1024, 1024), flops_input=[1, 1, 1024, 1024])
