# SPDX-License-Identifier: Apache-2.0
"""An exact rewrite of an ONNX graph so onnxruntime's CPU convolutions stay on their fast path.

At optimisation level ``all`` onnxruntime runs convolutions in its NCHWc blocked layout: 8 channels per block with
AVX2, 16 with AVX-512F. Two channel counts fall off the fast path (measured on MCNN with AVX2; see
``benchmarks/README.md``):

- a conv whose *input* channels are not a multiple of the block: the tensor is reordered back to plain NCHW and the
  conv runs in the kernel meant for 1-3 channel images (MCNN's 20-channel column: 111 ms instead of about 75 ms,
  plus a 9 ms reorder);
- a conv with 4k+1 or 4k+2 output blocks (40 channels = 5 blocks of 8, 48 = 6): the kernel works on up to 4 blocks
  at once, and a set of 1 or 2 blocks left over runs at half or three quarters of the speed.

:func:`block_channels` pads such a chain (conv -> Relu/MaxPool ... -> convs) with zero filters, which the next
convs multiply by zero weights, and splits such a conv (with its Relu/MaxPool) into convs of 3 and 4 blocks (5: 2 + 3)
joined by a Concat. Every output channel is computed by the same weights as before: the numbers do not change
beyond float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import helper, numpy_helper

from ..machine import cpu_flags

#: ops that work on each channel alone, so zero channels stay zero and a split can pass through them
PER_CHANNEL = {"Relu", "MaxPool"}


def nchwc_block(flags: set[str] | None = None) -> int:
    """onnxruntime's NCHWc block size on this CPU (0: it does not use the blocked layout here)."""
    flags = cpu_flags() if flags is None else flags
    return 16 if "avx512f" in flags else 8 if "avx2" in flags else 0


def split_blocks(blocks: int) -> list[int]:
    """How a conv of ``blocks`` output blocks is split. onnxruntime works on up to 4 blocks at once; a set of 1 or 2
    left over runs slower than one of 3 (MCNN: 5 blocks as 2 + 3 instead of 4 + 1, 6 as 3 + 3 instead of 4 + 2)."""
    if blocks <= 4 or blocks % 4 in (0, 3):
        return [blocks]
    if blocks == 5:
        return [2, 3]
    threes = 3 if blocks % 4 == 1 else 2
    return [4] * ((blocks - 3 * threes) // 4) + [3] * threes


@dataclass
class _Graph:
    graph: Any  # onnx.GraphProto (onnx ships no usable types for protobuf messages)
    inits: dict = field(init=False)
    uses: dict = field(init=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.inits = {t.name: t for t in self.graph.initializer}
        self.uses = {}
        for node in self.graph.node:
            for name in node.input:
                self.uses.setdefault(name, []).append(node)
        for output in self.graph.output:
            self.uses.setdefault(output.name, []).append(None)

    def array(self, name: str) -> np.ndarray:
        return numpy_helper.to_array(self.inits[name])

    def set_array(self, name: str, value: np.ndarray) -> None:
        self.inits[name].CopyFrom(numpy_helper.from_array(value.astype(self.array(name).dtype), name))

    def plain_conv(self, node) -> bool:
        """A group-1 2-D Conv whose weight (and bias) are initializers used by this node alone."""
        if node is None or node.op_type != "Conv" or node.domain not in ("", "ai.onnx"):
            return False
        if any(a.name == "group" and a.i != 1 for a in node.attribute) or len(node.input) < 2:
            return False
        params = [n for n in node.input[1:] if n]
        return (
            all(n in self.inits and len(self.uses.get(n, [])) == 1 for n in params)
            and len(self.inits[node.input[1]].dims) == 4
        )

    def chain(self, tensor: str) -> tuple[list, str]:
        """The per-channel ops that alone consume ``tensor`` one after another, and the tensor they end in."""
        nodes: list[Any] = []
        while True:
            users = self.uses.get(tensor, [])
            if len(users) != 1 or users[0] is None or users[0].op_type not in PER_CHANNEL or len(users[0].output) != 1:
                return nodes, tensor
            nodes.append(users[0])
            tensor = users[0].output[0]


def _convs(g: _Graph):
    """Each plain conv of the graph as the caller's loop reaches it, with its weight array."""
    for node in list(g.graph.node):
        if g.plain_conv(node):
            yield node, g.array(node.input[1])


def _bias(node) -> str | None:
    return node.input[2] if len(node.input) > 2 and node.input[2] else None


def _grow(array: np.ndarray, extra: int, axis: int) -> np.ndarray:
    shape = list(array.shape)
    shape[axis] = extra
    return np.concatenate([array, np.zeros(shape, array.dtype)], axis)


def _pad(g: _Graph, block: int) -> int:
    padded = 0
    for node, weight in _convs(g):
        extra = -weight.shape[0] % block
        _, end = g.chain(node.output[0])
        users = g.uses.get(end, [])
        if not extra or not users or not all(g.plain_conv(u) and list(u.input).index(end) == 0 for u in users):
            continue
        g.set_array(node.input[1], _grow(weight, extra, 0))
        bias = _bias(node)
        if bias:
            g.set_array(bias, _grow(g.array(bias), extra, 0))
        for user in users:
            g.set_array(user.input[1], _grow(g.array(user.input[1]), extra, 1))
        padded += 1
    return padded


def _split(g: _Graph, block: int) -> int:
    split = 0
    for node, weight in _convs(g):
        parts = split_blocks(weight.shape[0] // block) if weight.shape[0] % block == 0 else [1]
        if len(parts) == 1:
            continue
        bias_name = _bias(node)
        bias = g.array(bias_name) if bias_name else None
        chain, end = g.chain(node.output[0])
        position = list(g.graph.node).index(node)
        new_nodes, ends, start = [], [], 0
        for k, size in enumerate(parts):
            rows = slice(start, start + size * block)
            start += size * block
            prefix = f"zoo_blocks/{node.name or node.output[0]}/{k}"
            names = [node.input[0], f"{prefix}/weight"]
            g.graph.initializer.append(numpy_helper.from_array(weight[rows], names[1]))
            if bias is not None:
                names.append(f"{prefix}/bias")
                g.graph.initializer.append(numpy_helper.from_array(bias[rows], names[2]))
            previous = f"{prefix}/conv"
            conv = helper.make_node("Conv", names, [previous], name=previous)
            conv.attribute.extend(node.attribute)
            new_nodes.append(conv)
            for index, op in enumerate(chain):
                out = f"{prefix}/{op.op_type}{index}"
                copy = helper.make_node(op.op_type, [previous], [out], name=out)
                copy.attribute.extend(op.attribute)
                new_nodes.append(copy)
                previous = out
            ends.append(previous)
        new_nodes.append(helper.make_node("Concat", ends, [end], axis=1, name=f"zoo_blocks/{end}/concat"))
        for old in [node, *chain]:
            g.graph.node.remove(old)
        for offset, new in enumerate(new_nodes):
            g.graph.node.insert(position + offset, new)
        for name in node.input[1:]:
            if name:
                g.graph.initializer.remove(g.inits[name])
        g.refresh()
        split += 1
    return split


def block_channels(model, block: int) -> dict[str, int]:
    """Rewrite ``model`` (an ``onnx.ModelProto``, changed in place) for NCHWc blocks of ``block`` channels.

    Returns how many convs were padded and split; a model with nothing to rewrite is left as it was.
    """
    if block <= 1:
        return {"block": block, "padded": 0, "split": 0}
    g = _Graph(model.graph)
    padded = _pad(g, block)
    g.refresh()
    split = _split(g, block)
    if padded or split:
        del model.graph.value_info[:]  # intermediate shapes changed; onnxruntime infers them again
    return {"block": block, "padded": padded, "split": split}
