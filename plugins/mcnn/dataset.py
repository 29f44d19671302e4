# SPDX-License-Identifier: Apache-2.0
"""The dataset stage: read ShanghaiTech / CSV data (or make synthetic crowds) and write what training reads.

Output ``<workdir>/dataset/prepared/`` (replaced whole, atomically):
- ``train.npz``: ``images`` uint8 (N, P, P) patches, ``densities`` float32 (N, P/4, P/4), ``counts`` float32 (N);
- ``val/<image>.npz`` and ``test/<image>.npz``: ``image`` uint8 (H, W), ``density`` float32 (H/4, W/4), ``count``;
- ``manifest.json``: source, format, kernel, split sizes and the mean training count.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zoo_core import DatasetResult, StageContext, ZooError, atomic_dir, progress

from . import synthetic
from .config import McnnConfig
from .density import downsample
from .loaders import Sample, Split, file_order, find_splits, load_sample

DOWN = 4


def prepared_dir(workdir: Path) -> Path:
    return Path(workdir) / "dataset" / "prepared"


def patch_size(length: int) -> int:
    """About a quarter of the side, a multiple of 16 (at least 16, at most the side)."""
    return min(length // 16 * 16, max(16, length // 4 // 16 * 16))


def _fit(array: np.ndarray, side: int) -> np.ndarray:
    """Centre-crop to at most ``side`` (keeping multiples of 4 at 4-aligned offsets), then zero-pad to it."""
    height, width = array.shape
    top = max(0, (height - side) // 2 // DOWN * DOWN) if height > side else 0
    left = max(0, (width - side) // 2 // DOWN * DOWN) if width > side else 0
    array = array[top : top + side, left : left + side]
    return np.pad(array, ((0, side - array.shape[0]), (0, side - array.shape[1])))


def make_patches(sample: Sample, count: int, pad: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` random quarter-size crops at 4-aligned positions: (image, density downsampled by 4)."""
    height, width = sample.image.shape
    ph, pw = patch_size(height), patch_size(width)
    patches = []
    for _ in range(count):
        top = int(rng.integers(0, (height - ph) // DOWN + 1)) * DOWN
        left = int(rng.integers(0, (width - pw) // DOWN + 1)) * DOWN
        image = sample.image[top : top + ph, left : left + pw]
        density = sample.density[top : top + ph, left : left + pw]
        if pad:
            image, density = _fit(image, pad), _fit(density, pad)
        patches.append((image, downsample(density, DOWN)))
    return patches


def _save_image(folder: Path, sample: Sample) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(
        folder / f"{sample.name}.npz",
        image=sample.image,
        density=downsample(sample.density, DOWN),
        count=np.float64(sample.count),
    )


def _val_indices(count: int, fraction: float, seed: int) -> set[int]:
    n_val = int(round(count * fraction)) if count > 1 else 0
    return set(np.random.default_rng(seed).choice(count, size=n_val, replace=False).tolist()) if n_val else set()


def _prepare(ctx: StageContext, splits: dict[str, Split], out: Path) -> dict:
    """Stream every image once: test and validation images saved whole, training images cut into patches."""
    cfg: McnnConfig = ctx.config
    patches: list[tuple[np.ndarray, np.ndarray]] = []
    counts: dict[str, list[float]] = {"train": [], "val": [], "test": []}
    clipped: list[tuple[str, int]] = []
    for name, split in splits.items():
        held_out = _val_indices(len(split.images), cfg.val_fraction, cfg.data_seed) if name == "train" else set()
        for index, path in enumerate(progress(split.images, len(split.images), f"reading {name}")):
            sample = load_sample(path, split, cfg.kernel)
            if sample.clipped:
                clipped.append((str(path), sample.clipped))
            group = "test" if name == "test" else ("val" if index in held_out else "train")
            counts[group].append(sample.count)
            if group == "train":
                patches += make_patches(
                    sample, cfg.patches_per_image, cfg.patch_pad, np.random.default_rng([cfg.data_seed, index])
                )
            else:
                _save_image(out / group, sample)
    if len({p[0].shape for p in patches}) > 1:
        raise ZooError(
            "training patches differ in size (images of different sizes); set patch_pad, e.g. --set patch_pad=256"
        )
    if patches:
        np.savez(
            out / "train.npz",
            images=np.stack([p[0] for p in patches]),
            densities=np.stack([p[1] for p in patches]),
            counts=np.array([p[1].sum() for p in patches], dtype=np.float32),
        )
    heads_clipped = sum(n for _, n in clipped)
    if heads_clipped:
        ctx.warn(
            f"{heads_clipped} head(s) lay up to a few pixels outside their image and were clipped to the "
            f"border ({len(clipped)} image(s), first: {clipped[0][0]})"
        )
    kinds = {split.kind for split in splits.values()}
    return {
        "source": str(ctx.data),
        "format": "shanghaitech" if "mat" in kinds else "csv-density",
        "kernel": cfg.kernel if "mat" in kinds else "given (csv)",
        "images": {group: len(values) for group, values in counts.items()},
        "patches": len(patches),
        "patch_shape": list(patches[0][0].shape) if patches else None,
        "mean_train_count": float(np.mean(counts["train"])) if counts["train"] else None,
        "heads_clipped": heads_clipped,
    }


def run(ctx: StageContext) -> DatasetResult:
    cfg: McnnConfig = ctx.config
    source_kind = "user data"
    if ctx.data is None:
        with atomic_dir(ctx.stage_dir / "synthetic") as tmp:
            synthetic.generate(
                tmp,
                cfg.synthetic_train,
                cfg.synthetic_test,
                cfg.synthetic_size,
                3,
                cfg.synthetic_max_count,
                cfg.data_seed,
            )
        ctx.data = ctx.output(ctx.stage_dir / "synthetic") / synthetic.PART
        source_kind = "synthetic"
        ctx.log.info(
            f"no --data given: generated synthetic crowds ({cfg.synthetic_train} train, "
            f"{cfg.synthetic_test} test, {cfg.synthetic_size}px) in {ctx.data}"
        )
    splits = find_splits(ctx.data)
    ctx.input(ctx.data)
    with atomic_dir(prepared_dir(ctx.workdir)) as tmp:
        manifest = _prepare(ctx, splits, tmp) | {"source_kind": source_kind}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    ctx.output(prepared_dir(ctx.workdir))
    images = manifest["images"]
    ctx.log.info(
        f"prepared {images['train']} train images ({manifest['patches']} patches), {images['val']} val, "
        f"{images['test']} test from {ctx.data} ({manifest['format']}, {source_kind})"
    )
    facts = {
        "train_patches": manifest["patches"],
        "heads_clipped": manifest["heads_clipped"],
        "kernel": manifest["kernel"],
    }
    if manifest["mean_train_count"] is not None:
        facts["mean_train_count"] = round(manifest["mean_train_count"], 2)
    return DatasetResult(
        source=str(ctx.data),
        synthetic=source_kind == "synthetic",
        layout=manifest["format"],
        splits=images,
        prepared=ctx.rel(prepared_dir(ctx.workdir)),
        facts=facts,
    )


def read_manifest(workdir: Path) -> dict:
    path = prepared_dir(workdir) / "manifest.json"
    if not path.is_file():
        raise ZooError(f"no prepared data in {prepared_dir(workdir)}: run the dataset stage first")
    return json.loads(path.read_text())


def iter_images(workdir: Path, split: str) -> list[Path]:
    folder = prepared_dir(workdir) / split
    return sorted(folder.glob("*.npz"), key=file_order) if folder.is_dir() else []
