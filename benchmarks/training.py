# SPDX-License-Identifier: Apache-2.0
"""MCNN training speed and memory: MindSpore (graph mode, what `zoo run mcnn --stage train` runs) against the same
network in PyTorch on the CPU, side by side in one run; the data feed against the training step; the peak RSS of
a training run. PyTorch is optional (`pip install torch==2.13.0`); without it that comparison is skipped.

Usage: python benchmarks/training.py [--repeats 20] [--json] [--no-rss]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import median_seconds, zoo_peak_rss

SIDE = 256


def mindspore_step(batch: int, optimizer: str, plain_pool: bool = False):
    """One training step of zoo's MCNN, the cell zoo's training helper trains (MindSpore's ``Model`` over the
    network, MSE loss and optimizer); ``plain_pool``: with ``nn.MaxPool2d`` instead of zoo's training pool."""
    from zoo_core import load_mindspore
    from zoo_mcnn.network import build_network

    ms = load_mindspore()
    net = build_network(1)
    if plain_pool:
        for column in (net.branch1, net.branch2, net.branch3):
            column[1], column[3] = ms.nn.MaxPool2d(2, 2), ms.nn.MaxPool2d(2, 2)
    opt = (
        ms.nn.SGD(net.trainable_params(), learning_rate=1e-6, momentum=0.9)
        if optimizer == "sgd"
        else ms.nn.Adam(net.trainable_params(), learning_rate=1e-4)
    )
    cell = ms.train.Model(net, ms.nn.MSELoss(), opt, amp_level="O0").train_network
    cell.set_train()
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.uniform(0, 255, (batch, 1, SIDE, SIDE)).astype(np.float32))
    y = ms.Tensor(rng.uniform(0, 0.01, (batch, 1, SIDE // 4, SIDE // 4)).astype(np.float32))
    return lambda: cell(x, y).asnumpy()


def torch_step(batch: int, optimizer: str):
    import torch
    from torch import nn

    from zoo_mcnn.network import COLUMNS, FUSE_IN

    def column(convs):
        layers = []
        for index, (cin, cout, k) in enumerate(convs):
            layers += [nn.Conv2d(cin, cout, k, padding=(k - 1) // 2), nn.ReLU()]
            if index < 2:
                layers.append(nn.MaxPool2d(2, 2))
        return nn.Sequential(*layers)

    class TorchMCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.columns = nn.ModuleList(column(c) for c in COLUMNS.values())
            self.fuse = nn.Sequential(nn.Conv2d(FUSE_IN, 1, 1), nn.ReLU())

        def forward(self, x):
            return self.fuse(torch.cat([c(x) for c in self.columns], 1))

    torch.manual_seed(1)
    net = TorchMCNN()
    opt = (
        torch.optim.SGD(net.parameters(), lr=1e-6, momentum=0.9)
        if optimizer == "sgd"
        else torch.optim.Adam(net.parameters(), lr=1e-4)
    )
    loss_fn = nn.MSELoss()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 255, (batch, 1, SIDE, SIDE)).astype(np.float32))
    y = torch.from_numpy(rng.uniform(0, 0.01, (batch, 1, SIDE // 4, SIDE // 4)).astype(np.float32))

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def feed_rate(batch: int, steps: int = 200) -> float:
    """Batches per second the training helper's feed makes (MindSpore's GeneratorDataset over ArrayBatches:
    shuffled indexing of the patch arrays, float32 conversion, tensors), on arrays shaped like the default
    preset's (2430 patches of 256x256)."""
    from zoo_core import ArrayBatches
    from zoo_core.training import epoch_dataset

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2430, SIDE, SIDE), dtype=np.uint8)
    densities = rng.random((2430, SIDE // 4, SIDE // 4), dtype=np.float32)

    def prepare(arrays):
        return arrays[0][:, None].astype(np.float32), arrays[1][:, None]

    feed = epoch_dataset(ArrayBatches((images, densities), batch, 0, prepare), 1).create_tuple_iterator(num_epochs=1)
    start = time.perf_counter()
    for _, _ in zip(range(steps), feed, strict=False):
        pass
    return steps / (time.perf_counter() - start)


def train_peak_rss(images: int) -> tuple[float, int]:
    """Peak RSS (MiB, VmHWM) of `zoo run mcnn --stage train` at the default preset, one epoch, on
    ``images`` synthetic 1024x1024 training images; returns it with the number of training patches."""
    settings = ["--set", "epochs=1", "--set", f"synthetic_train={images}", "--set", "synthetic_test=2"]
    with tempfile.TemporaryDirectory() as tmp:
        zoo_peak_rss("run", "mcnn", "--stage", "dataset", *settings, "--workdir", tmp)
        peak = zoo_peak_rss("run", "mcnn", "--stage", "train", *settings, "--workdir", tmp)
        records = sorted(Path(tmp, "records").glob("*-dataset.json"))
        patches = json.loads(records[-1].read_text())["result"]["facts"]["train_patches"]
    return peak, patches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-rss", action="store_true", help="skip the (minutes long) peak-RSS training run")
    args = parser.parse_args()
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    rows = []
    for batch, optimizer in ((1, "sgd"), (1, "adam"), (8, "sgd")):
        steps = {
            "mindspore": mindspore_step(batch, optimizer),
            "plain_pool": mindspore_step(batch, optimizer, plain_pool=True),
        }
        if have_torch:
            steps["torch"] = torch_step(batch, optimizer)
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(3):  # interleaved rounds, so a noisy moment hits every variant alike
            for name, step in steps.items():
                times[name].append(median_seconds(step, max(1, args.repeats // 3)))
        ms_s, plain_s = float(np.median(times["mindspore"])), float(np.median(times["plain_pool"]))
        row = {"batch": batch, "optimizer": optimizer, "mindspore_ms": 1000 * ms_s, "plain_pool_ms": 1000 * plain_s}
        if have_torch:
            torch_s = float(np.median(times["torch"]))
            row.update(torch_ms=1000 * torch_s, ratio=ms_s / torch_s)
        row["feed_batches_per_s"] = feed_rate(batch)
        row["feed_vs_step"] = row["feed_batches_per_s"] * ms_s
        rows.append(row)
    rss = None if args.no_rss else train_peak_rss(60)
    report = {
        "torch": have_torch,
        "threads": os.cpu_count(),
        "rows": rows,
        "train_peak_rss_mib": rss[0] if rss else None,
        "rss_patches": rss[1] if rss else None,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    if not have_torch:
        print("PyTorch is not installed: the comparison is skipped (pip install torch==2.13.0)")
    print(f"MCNN train step at {SIDE}x{SIDE}, medians of {args.repeats}, {os.cpu_count()} cores")
    print(f"{'batch':>5} {'optim':>6} {'MindSpore':>10} {'MaxPool2d':>10} {'PyTorch':>9} {'MS/PT':>6} {'feed/step':>9}")
    for r in rows:
        torch_part = f"{r['torch_ms']:>7.1f}ms {r['ratio']:>5.2f}x" if have_torch else f"{'-':>9} {'-':>6}"
        print(
            f"{r['batch']:>5} {r['optimizer']:>6} {r['mindspore_ms']:>8.1f}ms {r['plain_pool_ms']:>8.1f}ms "
            f"{torch_part} {r['feed_vs_step']:>8.0f}x"
        )
    if rss:
        print(f"peak RSS of one default-preset training epoch ({rss[1]} patches of 256x256): {rss[0]:.0f} MiB")


if __name__ == "__main__":
    main()
