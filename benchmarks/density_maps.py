# SPDX-License-Identifier: Apache-2.0
"""Density-map generation: the fast paths of zoo_mcnn.density against one full-image filter per head.

Runs both on the same head positions, side by side in one process, checks they give the same map, and prints
medians and the speed-up ratio. Usage: python benchmarks/density_maps.py [--repeats N]
"""

from __future__ import annotations

import argparse
import functools
import json

import numpy as np
from timing import median_seconds

from zoo_mcnn.density import density_map, density_naive

CASES = [  # (name, image height, width, heads): ShanghaiTech B-like, A-like, and a dense A image
    ("B-like 768x1024, 120 heads", 768, 1024, 120),
    ("A-like 768x1024, 500 heads", 768, 1024, 500),
    ("dense 768x1024, 1500 heads", 768, 1024, 1500),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    rows = []
    for name, height, width, heads in CASES:
        rng = np.random.default_rng(heads)
        points = np.c_[rng.uniform(1, width + 1, heads), rng.uniform(1, height + 1, heads)]
        for kernel in ("fixed", "adaptive"):
            fast = density_map(points, (height, width), kernel)
            naive = density_naive(points, (height, width), kernel)
            error = float(np.abs(fast - naive).max())
            assert error < 1e-6, f"{name} {kernel}: maps differ by {error}"
            shape = (height, width)
            t_fast = median_seconds(
                functools.partial(density_map, points, shape, kernel), args.repeats * 5, warm_up=False
            )
            t_naive = median_seconds(
                functools.partial(density_naive, points, shape, kernel), args.repeats, warm_up=False
            )
            rows.append(
                {
                    "case": name,
                    "kernel": kernel,
                    "fast_s": t_fast,
                    "per_head_s": t_naive,
                    "speedup": t_naive / t_fast,
                    "max_abs_diff": error,
                    "sum": float(fast.sum()),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<30} {'kernel':<9} {'fast':>9} {'per-head':>9} {'speed-up':>9} {'max |diff|':>11}")
    for r in rows:
        print(
            f"{r['case']:<30} {r['kernel']:<9} {r['fast_s'] * 1e3:>7.1f}ms {r['per_head_s']:>8.2f}s "
            f"{r['speedup']:>8.0f}x {r['max_abs_diff']:>11.1e}"
        )


if __name__ == "__main__":
    main()
