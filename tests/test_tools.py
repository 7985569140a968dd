"""tools/: the WebP pack of the faces that travels to a GPU machine."""
import tarfile

import numpy as np
import torch

import data
from conftest import load_tool

pack_faces = load_tool('pack_faces')


def test_packed_faces_train_on_the_same_faces_in_the_same_order(raw_faces, tmp_path):
    tar_path = tmp_path / 'faces.tar.gz'
    pack_faces.main(str(raw_faces), str(tar_path))
    with tarfile.open(tar_path) as tar:
        tar.extractall(tmp_path / 'packed', filter='data')
    original = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    packed = data.FaceDataset.from_folder(str(tmp_path / 'packed'), show_progress=False)
    assert packed.names == [name + '.webp' for name in original.names]
    assert torch.equal(packed.labels, original.labels)
    assert all(torch.equal(a, b) for a, b in zip(packed.split(4, 4), original.split(4, 4)))
    difference = np.abs(np.asarray(packed.images, float) - np.asarray(original.images, float))
    assert 0 < difference.mean() < 4  # lossy, but by a few levels of 255
