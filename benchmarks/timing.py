# SPDX-License-Identifier: Apache-2.0
"""Shared timing helper of the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int, warm_up: bool = True) -> float:
    """Median wall time of ``repeats`` calls (after one untimed call when ``warm_up``)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


_PEAK = (
    "import sys\nfrom zoo_core.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('peak_kib', hwm, file=sys.stderr)"
)


def zoo_peak_rss(*args: str) -> float:
    """Run ``zoo ARGS`` in a new process; its peak RSS in MiB. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over fork/exec from the (large) benchmark process."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"zoo {' '.join(args)} failed: {run.stderr[-800:]}")
    return int(run.stderr.rsplit("peak_kib", 1)[1].split()[0]) / 1024.0
