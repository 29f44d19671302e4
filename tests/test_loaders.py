# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from tests.conftest import write_csv_layout, write_shanghaitech
from zoo_core import ZooError
from zoo_mcnn.loaders import check_points, find_splits, load_sample, read_mat_points
from zoo_mcnn.synthetic import write_mat


def test_shanghaitech_layout_is_found_from_its_parent(tmp_path):
    write_shanghaitech(tmp_path / "part_A_final")
    splits = find_splits(tmp_path)
    assert set(splits) == {"train", "test"}
    assert [p.name for p in splits["train"].images] == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"]
    assert splits["train"].kind == "mat"


def test_mat_sample_has_density_summing_to_the_heads(shanghaitech):
    split = find_splits(shanghaitech)["train"]
    sample = load_sample(split.images[0], split, "fixed")
    heads = read_mat_points(split.labels / "GT_IMG_1.mat")
    assert sample.image.shape == sample.density.shape
    assert sample.image.shape[0] % 4 == 0 and sample.image.shape[1] % 4 == 0
    assert sample.count == len(heads)
    assert sample.density.sum() == pytest.approx(len(heads), abs=1e-3)


def test_mat_written_like_shanghaitech_reads_back(tmp_path):
    heads = np.array([[10.5, 20.25], [30.0, 40.0]])
    write_mat(tmp_path / "GT_IMG_1.mat", heads)
    np.testing.assert_array_equal(read_mat_points(tmp_path / "GT_IMG_1.mat"), heads)
    from scipy.io import loadmat  # the access path the reference MATLAB/Python code uses

    mat = loadmat(str(tmp_path / "GT_IMG_1.mat"))
    np.testing.assert_array_equal(mat["image_info"][0, 0][0, 0][0], heads)
    assert mat["image_info"][0, 0][0, 0][1][0, 0] == 2


def test_image_not_a_multiple_of_four_is_resized_keeping_the_count(tmp_path):
    root = tmp_path / "d"
    (root / "test_data" / "images").mkdir(parents=True)
    (root / "test_data" / "ground_truth").mkdir()
    cv2.imwrite(str(root / "test_data" / "images" / "IMG_1.jpg"), np.full((50, 71), 128, np.uint8))
    write_mat(root / "test_data" / "ground_truth" / "GT_IMG_1.mat", np.array([[5.0, 5.0], [70.0, 49.0]]))
    split = find_splits(root)["test"]
    sample = load_sample(split.images[0], split, "adaptive")
    assert sample.image.shape == (48, 68)
    assert sample.density.sum() == pytest.approx(2.0, abs=1e-4)


def test_csv_layout_reads_density_maps_as_they_are(tmp_path):
    root = write_csv_layout(tmp_path / "csv", shape=(50, 70))
    splits = find_splits(root)
    assert list(splits) == ["test"] and splits["test"].kind == "csv"
    sample = load_sample(splits["test"].images[1], splits["test"], "fixed")
    assert sample.count == pytest.approx(7.0)
    assert sample.image.shape == (48, 68)
    assert sample.density.sum() == pytest.approx(7.0, rel=1e-5)


def test_slightly_outside_heads_are_clipped_and_counted(tmp_path):
    points = np.array([[0.2, 10.0], [101.5, 20.0], [50.0, 50.0]])
    clipped, count = check_points(points, (60, 100), tmp_path / "GT.mat")
    assert count == 2
    assert clipped[:, 0].min() >= 1 and clipped[:, 0].max() < 101


@pytest.mark.parametrize(
    "points, message",
    [
        ([[np.nan, 3.0]], "head 1 has a non-finite coordinate"),
        ([[10.0, 10.0], [500.0, 10.0]], "head 2 at [500.0, 10.0] is far outside the 100x60 image"),
        ([[55.0, 90.0], [10.0, 95.0]], "only with x and y swapped"),
    ],
)
def test_impossible_heads_are_errors(tmp_path, points, message):
    with pytest.raises(ZooError) as info:
        check_points(np.array(points), (60, 100), tmp_path / "GT_IMG_1.mat")
    assert message in str(info.value) and "GT_IMG_1.mat" in str(info.value)


def test_bad_files_name_the_file_and_the_fix(tmp_path):
    root = write_shanghaitech(tmp_path / "part_B_final", train=2, test=1)
    gt = root / "train_data" / "ground_truth"
    savemat(str(gt / "GT_IMG_1.mat"), {"annotation": np.zeros((2, 2))})
    split = find_splits(root)["train"]
    with pytest.raises(ZooError, match="GT_IMG_1.mat: no 'image_info' variable"):
        load_sample(split.images[0], split, "fixed")
    (gt / "GT_IMG_2.mat").write_bytes(b"not a mat file")
    with pytest.raises(ZooError, match="GT_IMG_2.mat: not a readable MATLAB .mat file"):
        load_sample(split.images[1], split, "fixed")
    (root / "test_data" / "images" / "IMG_1.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    test = find_splits(root)["test"]
    with pytest.raises(ZooError, match="IMG_1.jpg: unreadable or corrupt image"):
        load_sample(test.images[0], test, "fixed")


def test_image_without_label_is_an_error(shanghaitech):
    (shanghaitech / "test_data" / "ground_truth" / "GT_IMG_2.mat").unlink()
    split = find_splits(shanghaitech)["test"]
    with pytest.raises(ZooError, match=r"IMG_2.jpg: no label file \(expected .*GT_IMG_2.mat\)"):
        load_sample(split.images[1], split, "fixed")


def test_csv_of_the_wrong_shape_is_an_error(tmp_path):
    root = write_csv_layout(tmp_path / "csv", shape=(50, 70))
    np.savetxt(root / "ground_truth_csv" / "IMG_1.csv", np.zeros((40, 70)), delimiter=",")
    split = find_splits(root)["test"]
    with pytest.raises(ZooError, match="IMG_1.csv: density map is 70x40 but its image is 70x50"):
        load_sample(split.images[0], split, "fixed")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: None, "folder not found"),
        (lambda root: root.mkdir(), "the folder is empty"),
        (lambda root: (root / "stuff").mkdir(parents=True), "no train_data/ or test_data/"),
        (lambda root: [(root / p).mkdir(parents=True) for p in ("part_A_final", "part_B_final")], "pass one of them"),
        (lambda root: (root / "train_data" / "images").mkdir(parents=True), "no images"),
    ],
)
def test_bad_layouts(tmp_path, make, message):
    root = tmp_path / "data"
    make(root)
    with pytest.raises(ZooError, match=message):
        find_splits(root)


def test_labels_folder_missing(tmp_path):
    images = tmp_path / "d" / "train_data" / "images"
    images.mkdir(parents=True)
    cv2.imwrite(str(images / "IMG_1.jpg"), np.zeros((32, 32), np.uint8))
    with pytest.raises(ZooError, match="no labels: expected ground_truth/"):
        find_splits(tmp_path / "d")
