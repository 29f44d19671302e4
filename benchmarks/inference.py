# SPDX-License-Identifier: Apache-2.0
"""MCNN inference at 1024x1024: seconds per image per backend and variant, side by side in one run, as a share
of this machine's practical peak (a 4096x4096 float32 matrix multiply by numpy/OpenBLAS measured in the same
run), plus the peak RSS of `zoo run mcnn --stage infer` on a 1024x1024 image.

Usage: python benchmarks/inference.py [--repeats 7] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import median_seconds, zoo_peak_rss

SIDE = 1024
MATMUL_N = 4096



def matmul_gflops(repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.random((MATMUL_N, MATMUL_N), dtype=np.float32)
    b = rng.random((MATMUL_N, MATMUL_N), dtype=np.float32)
    return 2 * MATMUL_N ** 3 / median_seconds(lambda: a @ b, repeats) / 1e9


def padded_network(net, ms):
    """What-we-tried variant: every conv's channels rounded up to a multiple of 8 (zero filters), so onnxruntime
    keeps its NCHWc blocked layout through branch 2 (20/40/20/10 channels). Same output, more FLOPs."""
    from zoo_mcnn import network as mcnn

    def up(c: int) -> int:
        return (c + 7) // 8 * 8

    columns = {}
    for name, convs in mcnn.COLUMNS.items():
        prev, padded = 1, []
        for _, cout, k in convs:
            padded.append((prev, up(cout), k))
            prev = up(cout)
        columns[name] = padded

    class Padded(ms.nn.Cell):
        def __init__(self):
            super().__init__()
            self.branch1, self.branch2, self.branch3 = (mcnn._column(columns[f"branch{i}"]) for i in (1, 2, 3))
            self.fuse = ms.nn.SequentialCell([mcnn.ConvReLU(sum(c[-1][1] for c in columns.values()), 1, 1)])
            self.concat = ms.ops.Concat(axis=1)

        def construct(self, x):
            return self.fuse(self.concat((self.branch1(x), self.branch2(x), self.branch3(x))))

    padded = Padded()
    source = {p.name: p.asnumpy() for p in net.get_parameters()}
    offsets, offset = {}, 0
    for name in ("branch1", "branch2", "branch3"):
        offsets[name], offset = offset, offset + columns[name][-1][1]
    for param in padded.get_parameters():
        value, src = np.zeros(param.shape, np.float32), source[param.name]
        if param.name == "fuse.0.conv.weight":
            start = 0
            for name in ("branch1", "branch2", "branch3"):
                width = mcnn.COLUMNS[name][-1][1]
                value[:, offsets[name]:offsets[name] + width] = src[:, start:start + width]
                start += width
        else:
            value[tuple(slice(0, d) for d in src.shape)] = src
        param.set_data(ms.Tensor(value))
    return padded


def onnxruntime_session(path: Path, level: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, f"ORT_ENABLE_{level}")
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"x": x})[0]


def infer_peak_rss(folder: Path) -> float:
    """Peak RSS (MiB) of a `zoo run mcnn --stage infer` process on one 1024x1024 image."""
    import cv2

    images = folder / "images"
    images.mkdir()
    cv2.imwrite(str(images / "IMG_1.jpg"), np.random.default_rng(1).integers(0, 255, (SIDE, SIDE), np.uint8))
    workdir = folder / "w"
    zoo = [sys.executable, "-c", "from zoo_core.cli import main; main()"]
    subprocess.run(zoo + ["run", "mcnn", "--stage", "train,export", "--preset", "smoke", "--workdir", str(workdir)],
                   check=True, capture_output=True)
    return zoo_peak_rss("run", "mcnn", "--stage", "infer", "--preset", "smoke", "--data", str(images),
                        "--workdir", str(workdir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threads = os.cpu_count() or 1

    from zoo_core import load_mindspore
    from zoo_mcnn.export import make_dynamic_onnx
    from zoo_mcnn.network import build_network, conv_flops

    ms = load_mindspore()
    gflop = conv_flops(SIDE, SIDE) / 1e9
    x = np.random.default_rng(0).uniform(0, 255, (1, 1, SIDE, SIDE)).astype(np.float32)
    net = build_network(64678)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ms.export(net, ms.Tensor(x), file_name=str(tmp / "mcnn"), file_format="ONNX")
        ms.export(net, ms.Tensor(shape=[None, 1, None, None], dtype=ms.float32), file_name=str(tmp / "dyn"),
                  file_format="MINDIR")
        make_dynamic_onnx(tmp / "mcnn.onnx", tmp / "dyn.onnx")
        ms.export(padded_network(net, ms), ms.Tensor(x), file_name=str(tmp / "padded"), file_format="ONNX")
        reference = net(ms.Tensor(x)).asnumpy()
        graph = ms.nn.GraphCell(ms.load(str(tmp / "dyn.mindir")))
        variants = [
            ("onnxruntime (zoo default: dynamic ONNX, level all, all cores)",
             onnxruntime_session(tmp / "dyn.onnx", "ALL", threads)),
            ("onnxruntime fixed-shape ONNX, level all", onnxruntime_session(tmp / "mcnn.onnx", "ALL", threads)),
            ("onnxruntime level extended (no NCHWc layout)", onnxruntime_session(tmp / "dyn.onnx", "EXTENDED",
                                                                                threads)),
            ("onnxruntime level basic", onnxruntime_session(tmp / "dyn.onnx", "BASIC", threads)),
            ("onnxruntime 1 thread", onnxruntime_session(tmp / "dyn.onnx", "ALL", 1)),
            ("onnxruntime channels padded to x8 (tried)", onnxruntime_session(tmp / "padded.onnx", "ALL", threads)),
            ("mindspore (zoo: dynamic MINDIR GraphCell, graph mode)", lambda a: graph(ms.Tensor(a)).asnumpy()),
            ("mindspore network cell, graph mode", lambda a: net(ms.Tensor(a)).asnumpy()),
        ]
        peak = matmul_gflops(args.repeats)
        for name, run in variants:
            error = float(np.abs(run(x) - reference).max())
            seconds = median_seconds(lambda: run(x), args.repeats)
            results.append({"variant": name, "seconds": seconds, "gflops": gflop / seconds,
                            "share_of_peak": gflop / seconds / peak, "max_abs_error": error})
        peak_after = matmul_gflops(args.repeats)
        rss = infer_peak_rss(tmp)
    default = results[0]["seconds"]
    for row in results:
        row["vs_default"] = row["seconds"] / default
    report = {"matmul_gflops_before": peak, "matmul_gflops_after": peak_after, "mcnn_gflop": gflop,
              "infer_peak_rss_mib": rss, "threads": threads, "variants": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"peak: numpy {MATMUL_N}x{MATMUL_N} float32 matmul {peak:.0f} GFLOP/s (after the runs: {peak_after:.0f}); "
          f"MCNN {SIDE}x{SIDE} = {gflop:.1f} GFLOP; {threads} threads")
    print(f"{'variant':<58} {'s/image':>8} {'GFLOP/s':>8} {'of peak':>8} {'vs default':>10} {'max|err|':>9}")
    for r in results:
        print(f"{r['variant']:<58} {r['seconds']:>8.3f} {r['gflops']:>8.1f} {r['share_of_peak']:>7.0%} "
              f"{r['vs_default']:>9.2f}x {r['max_abs_error']:>9.1e}")
    print(f"peak RSS of `zoo run mcnn --stage infer` on a {SIDE}x{SIDE} image: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
