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
    return 2 * MATMUL_N**3 / median_seconds(lambda: a @ b, repeats) / 1e9


def onnxruntime_session(path: Path, level: str, threads: int):
    """A plain onnxruntime session on the file as exported (no channel blocking)."""
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
    subprocess.run(
        zoo + ["run", "mcnn", "--stage", "train,export", "--preset", "smoke", "--workdir", str(workdir)],
        check=True,
        capture_output=True,
    )
    return zoo_peak_rss(
        "run", "mcnn", "--stage", "infer", "--preset", "smoke", "--data", str(images), "--workdir", str(workdir)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threads = os.cpu_count() or 1

    from zoo_core import load_mindspore, open_backend
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
        ms.export(
            net,
            ms.Tensor(shape=[None, 1, None, None], dtype=ms.float32),
            file_name=str(tmp / "dyn"),
            file_format="MINDIR",
        )
        make_dynamic_onnx(tmp / "mcnn.onnx", tmp / "dyn.onnx")
        reference = net(ms.Tensor(x)).asnumpy()
        graph = ms.nn.GraphCell(ms.load(str(tmp / "dyn.mindir")))
        variants = [
            (
                "onnxruntime (zoo default: dynamic ONNX, level all, channel blocking)",
                open_backend("onnxruntime", tmp / "dyn.onnx", threads),
            ),
            ("onnxruntime without channel blocking", onnxruntime_session(tmp / "dyn.onnx", "ALL", threads)),
            ("onnxruntime fixed-shape ONNX, channel blocking", open_backend("onnxruntime", tmp / "mcnn.onnx", threads)),
            (
                "onnxruntime level extended (no NCHWc layout)",
                onnxruntime_session(tmp / "dyn.onnx", "EXTENDED", threads),
            ),
            ("onnxruntime level basic", onnxruntime_session(tmp / "dyn.onnx", "BASIC", threads)),
            ("onnxruntime 1 thread, channel blocking", open_backend("onnxruntime", tmp / "dyn.onnx", 1)),
            ("mindspore (zoo: dynamic MINDIR GraphCell, graph mode)", lambda a: graph(ms.Tensor(a)).asnumpy()),
            ("mindspore network cell, graph mode", lambda a: net(ms.Tensor(a)).asnumpy()),
        ]
        peak = matmul_gflops(args.repeats)
        for name, run in variants:
            error = float(np.abs(run(x) - reference).max())
            seconds = median_seconds(lambda run=run: run(x), args.repeats)
            results.append(
                {
                    "variant": name,
                    "seconds": seconds,
                    "gflops": gflop / seconds,
                    "share_of_peak": gflop / seconds / peak,
                    "max_abs_error": error,
                }
            )
        peak_after = matmul_gflops(args.repeats)
        rss = infer_peak_rss(tmp)
    default = results[0]["seconds"]
    for row in results:
        row["vs_default"] = row["seconds"] / default
    report = {
        "matmul_gflops_before": peak,
        "matmul_gflops_after": peak_after,
        "mcnn_gflop": gflop,
        "infer_peak_rss_mib": rss,
        "threads": threads,
        "variants": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"peak: numpy {MATMUL_N}x{MATMUL_N} float32 matmul {peak:.0f} GFLOP/s (after the runs: {peak_after:.0f}); "
        f"MCNN {SIDE}x{SIDE} = {gflop:.1f} GFLOP; {threads} threads"
    )
    print(f"{'variant':<68} {'s/image':>8} {'GFLOP/s':>8} {'of peak':>8} {'vs default':>10} {'max|err|':>9}")
    for r in results:
        print(
            f"{r['variant']:<68} {r['seconds']:>8.3f} {r['gflops']:>8.1f} {r['share_of_peak']:>7.0%} "
            f"{r['vs_default']:>9.2f}x {r['max_abs_error']:>9.1e}"
        )
    print(f"peak RSS of `zoo run mcnn --stage infer` on a {SIDE}x{SIDE} image: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
