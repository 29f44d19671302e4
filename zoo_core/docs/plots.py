# SPDX-License-Identifier: Apache-2.0
"""The delivery README's training plot, from the train result's history (matplotlib, no display): the training
loss per epoch, and beside it one panel per validation series the model declares (its metrics, primary first),
labelled with the metric's declared (English) name, unit and direction."""

from __future__ import annotations

import io
import math
from pathlib import Path

from ..io import atomic_write_bytes
from ..results import EpochPoint, Metric

MAX_PANELS = 4  # loss and up to three validation series


def plotted_series(history: list[EpochPoint], metrics: tuple[Metric, ...]) -> list[Metric]:
    """The declared metrics with a value in some epoch, primary first."""
    present = [m for m in metrics if any(not math.isnan(p.metrics.get(m.key, math.nan)) for p in history)]
    return sorted(present, key=lambda m: not m.primary)[: MAX_PANELS - 1]


def training_plot(history: list[EpochPoint], series: list[Metric], target: Path, write: bool = True) -> Path | None:
    """Draw the loss and the validation ``series`` (:func:`plotted_series`) to ``target`` when ``write``; None when
    there is no epoch to draw."""
    if not history:
        return None
    if not write:
        return target
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    epochs = [point.epoch for point in history]
    fig, axes = plt.subplots(1, 1 + len(series), figsize=(3.6 * (1 + len(series)), 3.2), dpi=100, squeeze=False)
    panels = [("training loss", [point.loss for point in history], "tab:blue")] + [
        (
            f"validation {metric.label('en')}\n({metric.better} is better)",
            [point.metrics.get(metric.key, math.nan) for point in history],
            "tab:red",
        )
        for metric in series
    ]
    for axis, (title, values, colour) in zip(axes[0], panels, strict=True):
        axis.plot(epochs, values, color=colour, marker="o")
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    image = io.BytesIO()  # drawn in memory first: a full disk is then told the exact size needed
    fig.savefig(image, format="png")
    plt.close(fig)
    atomic_write_bytes(target, image.getvalue())
    return target
