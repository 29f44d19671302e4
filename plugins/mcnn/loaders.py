# SPDX-License-Identifier: Apache-2.0
"""Readers for the data formats users bring: ShanghaiTech (.mat head positions) and the reference CSV density maps.

Accepted layouts (``--data PATH``):
- ``PATH/{train_data,test_data}/images/*.jpg`` with ``ground_truth/GT_<image>.mat`` (ShanghaiTech) or
  ``ground_truth_csv/<image>.csv`` (full-resolution density map, comma-separated, no header); PATH may also be a
  folder holding exactly one ``part_*_final``;
- ``PATH/images`` + ``PATH/ground_truth_csv`` (the reference CSV test layout): a test split only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

from zoo_core import ZooError

from .density import density_map, resize_density

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def file_order(path: Path) -> tuple[int, str]:
    """Sort key putting IMG_2 before IMG_10 (ShanghaiTech's numbering)."""
    return len(path.stem), path.stem


BORDER_TOLERANCE = 5.0  # px: real labels have heads a pixel or two outside the image; clip those


@dataclass(frozen=True)
class Split:
    images: list[Path]
    labels: Path
    kind: str  # "mat" or "csv"


@dataclass(frozen=True)
class Sample:
    name: str
    image: np.ndarray  # uint8 H x W, H and W multiples of 4
    density: np.ndarray  # float32 H x W, sums to the count
    count: float
    clipped: int  # heads clipped into the image


def _split(folder: Path) -> Split:
    images_dir = folder / "images"
    if not images_dir.is_dir():
        raise ZooError(f"{folder}: no images/ folder; expected {folder}/images with the pictures")
    images = sorted((p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=file_order)
    if not images:
        raise ZooError(f"{images_dir}: no images (.jpg, .jpeg, .png, .bmp) found")
    split = labelled(images, folder)
    if split is None:
        raise ZooError(f"{folder}: no labels: expected ground_truth/ (.mat) or ground_truth_csv/ (.csv) beside images/")
    return split


def labelled(images: list[Path], folder: Path) -> Split | None:
    """``images`` with the label folder beside them in ``folder`` (.mat first, then CSV), or None if it has none."""
    for name, kind in (("ground_truth", "mat"), ("ground_truth_csv", "csv")):
        if (folder / name).is_dir():
            return Split(images, folder / name, kind)
    return None


def find_splits(root: Path) -> dict[str, Split]:
    """Map ``train``/``test`` to their images and labels; a clear error for any other layout."""
    root = Path(root)
    if not root.is_dir():
        raise ZooError(
            f"--data {root}: folder not found; give a ShanghaiTech part folder (part_A_final) or a CSV "
            f"layout, or leave out --data to use the built-in synthetic data"
        )
    if not any(root.iterdir()):
        raise ZooError(f"--data {root}: the folder is empty")
    parts = sorted(p for p in root.glob("part_*_final") if p.is_dir())
    if not (root / "train_data").is_dir() and not (root / "test_data").is_dir() and not (root / "images").is_dir():
        if len(parts) == 1:
            root = parts[0]
        elif parts:
            raise ZooError(f"--data {root}: holds {', '.join(p.name for p in parts)}; pass one of them")
    if (root / "images").is_dir() and not (root / "train_data").is_dir():
        return {"test": _split(root)}
    splits = {name: _split(root / f"{name}_data") for name in ("train", "test") if (root / f"{name}_data").is_dir()}
    if not splits:
        raise ZooError(f"--data {root}: no train_data/ or test_data/ (ShanghaiTech) and no images/ (CSV layout)")
    return splits


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise ZooError(f"{path}: unreadable or corrupt image; replace it or remove it from the data set")
    if min(image.shape) < 16:
        raise ZooError(f"{path}: image is {image.shape[1]}x{image.shape[0]}, smaller than 16 px; remove it")
    return image


def label_path(image: Path, split: Split) -> Path:
    candidates = (
        [split.labels / f"GT_{image.stem}.mat"]
        if split.kind == "mat"
        else [split.labels / f"{image.stem}.csv", split.labels / f"GT_{image.stem}.csv"]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ZooError(f"{image}: no label file (expected {candidates[0]}); every image needs its ground truth")


def _unwrap(value: object) -> object:
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def read_mat_points(path: Path) -> np.ndarray:
    """Head positions (N x 2, [x y], 1-based pixels) from ShanghaiTech's ``image_info{1,1}.location``."""
    try:
        mat = loadmat(str(path))
    except (MatReadError, ValueError, NotImplementedError, OSError, TypeError) as exc:
        raise ZooError(f"{path}: not a readable MATLAB .mat file ({exc}); save it with -v7 or earlier") from None
    if "image_info" not in mat:
        raise ZooError(
            f"{path}: no 'image_info' variable; expected ShanghaiTech ground truth with "
            f"image_info{{1,1}}.location (N x 2 head positions)"
        )
    info = _unwrap(mat["image_info"])
    if not isinstance(info, np.ndarray) or info.dtype.names is None or "location" not in info.dtype.names:
        raise ZooError(f"{path}: image_info has no 'location' field (N x 2 head positions [x y])")
    location = np.asarray(_unwrap(info.reshape(-1)[0]["location"]), dtype=np.float64)
    if location.size == 0:
        return np.zeros((0, 2))
    if location.ndim != 2 or location.shape[1] != 2:
        raise ZooError(f"{path}: image_info location has shape {location.shape}; expected N x 2 ([x y] per head)")
    return location


def check_points(points: np.ndarray, shape: tuple[int, int], path: Path) -> tuple[np.ndarray, int]:
    """Reject impossible heads (NaN, far outside, x/y swapped); clip the few just outside the border."""
    height, width = shape
    if not np.isfinite(points).all():
        row = int(np.argwhere(~np.isfinite(points))[0][0])
        raise ZooError(f"{path}: head {row + 1} has a non-finite coordinate {points[row].tolist()}; fix or remove it")
    x, y = points[:, 0], points[:, 1]
    far = (
        (x < -BORDER_TOLERANCE)
        | (x > width + BORDER_TOLERANCE)
        | (y < -BORDER_TOLERANCE)
        | (y > height + BORDER_TOLERANCE)
    )
    if far.any():
        swapped_fits = ((y >= 0) & (y <= width) & (x >= 0) & (x <= height)).all()
        if swapped_fits:
            raise ZooError(
                f"{path}: head positions fit the {width}x{height} image only with x and y swapped; "
                f"store them as [x y] (column, row)"
            )
        row = int(np.argmax(far))
        raise ZooError(
            f"{path}: head {row + 1} at {points[row].round(1).tolist()} is far outside the "
            f"{width}x{height} image; fix the label or its image"
        )
    outside = (x < 1) | (x >= width + 1) | (y < 1) | (y >= height + 1)
    clipped = points.copy()
    clipped[:, 0] = np.clip(x, 1, width + 1 - 1e-6)
    clipped[:, 1] = np.clip(y, 1, height + 1 - 1e-6)
    return clipped, int(outside.sum())


def read_csv_density(path: Path, shape: tuple[int, int]) -> np.ndarray:
    try:
        density = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, OSError) as exc:
        raise ZooError(f"{path}: not a comma-separated density matrix ({exc})") from None
    if density.shape != shape:
        raise ZooError(
            f"{path}: density map is {density.shape[1]}x{density.shape[0]} but its image is "
            f"{shape[1]}x{shape[0]}; regenerate the map for this image"
        )
    if not np.isfinite(density).all() or (density < 0).any():
        raise ZooError(f"{path}: density map has negative or non-finite values")
    return density


def load_sample(image_path: Path, split: Split, kernel: str) -> Sample:
    """Read one image and its labels; resize to multiples of 4 keeping the count exact."""
    image = read_image(image_path)
    labels = label_path(image_path, split)
    height, width = image.shape
    h4, w4 = height // 4 * 4, width // 4 * 4
    resized = image if (h4, w4) == (height, width) else cv2.resize(image, (w4, h4), interpolation=cv2.INTER_AREA)
    if split.kind == "csv":
        full = read_csv_density(labels, (height, width))
        return Sample(image_path.stem, resized, resize_density(full, (h4, w4)), float(full.sum()), 0)
    points, clipped = check_points(read_mat_points(labels), (height, width), labels)
    scale = np.array([w4 / width, h4 / height])
    scaled = (points - 1.0) * scale + 1.0  # scale 0-based positions, back to 1-based
    return Sample(image_path.stem, resized, density_map(scaled, (h4, w4), kernel), float(len(points)), clipped)
