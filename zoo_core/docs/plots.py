# SPDX-License-Identifier: Apache-2.0
"""Plots of the delivery README: training loss and validation MAE per epoch (matplotlib, no display)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from ..io import atomic_write_bytes


def training_plot(metrics_file: Path, target: Path, write: bool = True) -> Path | None:
    """Loss and validation MAE per epoch from a train stage's metrics.jsonl (drawn to ``target`` when ``write``);
    None if it has no epoch lines."""
    epochs = []
    if metrics_file.is_file():
        epochs = [
            json.loads(row)
            for row in metrics_file.read_text(encoding="utf-8").splitlines()
            if row.strip() and '"type": "epoch"' in row
        ]
    if not epochs:
        return None
    if not write:
        return target
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    x = [e["epoch"] for e in epochs]
    fig, loss_axis = plt.subplots(figsize=(7, 3.5), dpi=100)
    loss_axis.plot(x, [e["loss"] for e in epochs], color="tab:blue", marker="o", label="training loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    loss_axis.set_ylabel("training loss (MSE)", color="tab:blue")
    mae_axis = loss_axis.twinx()
    mae_axis.plot(x, [e["val_mae"] for e in epochs], color="tab:red", marker="s", label="validation MAE")
    mae_axis.set_ylabel("validation MAE", color="tab:red")
    loss_axis.set_title("Training loss and validation MAE per epoch")
    fig.tight_layout()
    image = io.BytesIO()  # drawn in memory first: a full disk is then told the exact size needed
    fig.savefig(image, format="png")
    plt.close(fig)
    atomic_write_bytes(target, image.getvalue())
    return target
