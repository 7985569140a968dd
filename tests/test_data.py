"""Labels, the image transform, the labeler and the face cache, including bad files."""
import errno
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import data
import images
import utils
from conftest import REPO, SHARED_UTKFACE, copy_sample, hostile_files


@pytest.mark.parametrize('age, group', [(0, 0), (1, 0), (5, 0), (6, 1), (10, 1), (11, 2), (15, 2), (16, 3),
                                        (20, 3), (21, 4), (30, 4), (31, 5), (40, 5), (41, 6), (50, 6),
                                        (51, 7), (60, 7), (61, 8), (70, 8), (71, 9), (116, 9)])
def test_age_groups(age, group):
    assert data.age_to_group(age) == group


def test_label_vector():
    label = data.label_tensor(4, 1)
    assert label.shape == (20,)
    assert label[:10].tolist() == [-1, -1, -1, -1, 1, -1, -1, -1, -1, -1]
    assert label[10:].tolist() == [-1, 1] * 5
    batch = data.label_tensor(torch.tensor([0, 9]), torch.tensor([0, 1]))
    assert batch.shape == (2, 20) and batch[1, 9] == 1 and batch[0, 10] == 1


def test_class_names():
    assert data.class_name(4, 1) == '4.1'
    assert data.parse_class_name('4.1') == (4, 1)
    assert data.parse_class_name('10.1') is None and data.parse_class_name('labeled') is None


@pytest.mark.parametrize('name, parsed', [
    ('25_1_3_20170104230455985.jpg.chip.jpg', (25, 1, 3)),
    ('14_0_0_2017011022340900.jpg.chip.jpg', (14, 0, 0)),
    ('39_1_20170116174525125.jpg.chip.jpg', None),
    ('55_0_0_20170116232725357jpg.chip.jpg', None),
    ('25_2_0_20170104230455985.jpg.chip.jpg', None),
    ('face.jpg', None)])
def test_utkface_names(name, parsed):
    assert data.parse_utkface_name(name) == parsed


def test_transform_matches_torchvision():
    from torchvision import transforms
    image = Image.open(sorted((REPO / 'data/UTKFace/unlabeled').iterdir())[0])
    reference = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor(),
                                    transforms.Lambda(lambda t: t.mul(2).sub(1))])
    ours = images.pil_to_model_tensor_transform(image)
    assert ours.shape == (3, 128, 128) and ours.dtype == torch.float32
    assert torch.allclose(ours, reference(image), atol=1e-6)


def run_labeler(*args):
    return subprocess.run([sys.executable, str(REPO / 'utk_labeler.py'), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def test_labeler_sorts_skips_and_is_idempotent(raw_faces, tmp_path):
    shutil.copy(next(raw_faces.iterdir()), raw_faces / '39_1_20170116174525125.jpg.chip.jpg')
    shutil.copy(next(raw_faces.iterdir()), raw_faces / '55_0_0_20170116232725357jpg.chip.jpg')
    os.chmod(raw_faces, 0o555)
    before = sorted(os.listdir(raw_faces))
    dest = tmp_path / 'labeled'
    first = run_labeler(raw_faces, dest)
    assert first.returncode == 0, first.stderr
    assert '12 sorted, 0 already there, 2 skipped' in first.stdout
    assert '55_0_0_20170116232725357jpg.chip.jpg' in (dest / 'labeler.log').read_text()
    for name in before:
        parsed = data.parse_utkface_name(name)
        if parsed:
            assert (dest / data.class_name(data.age_to_group(parsed[0]), parsed[1]) / name).is_file()
    second = run_labeler(raw_faces, dest)
    assert '0 sorted, 12 already there, 2 skipped' in second.stdout
    assert sorted(os.listdir(raw_faces)) == before


def test_labeler_errors_are_one_line(tmp_path):
    result = run_labeler(tmp_path / 'missing', tmp_path / 'out')
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    assert result.stderr.strip() == f'error: {tmp_path / "missing"}: no such folder'


def test_read_only_source_is_labeled_elsewhere(raw_faces, tmp_path):
    os.chmod(raw_faces, 0o555)
    labeled = data.resolve_labeled_folder(str(raw_faces), work_dir=str(tmp_path / 'work'))
    assert labeled.startswith(str(tmp_path / 'work')) and not (raw_faces / 'labeled').exists()
    assert len(data.list_labeled_images(labeled)) == 12


@pytest.mark.skipif(not SHARED_UTKFACE.is_dir(), reason='needs ../shared/UTKFace')
def test_shared_dataset_is_never_written(tmp_path):
    assert not utils.is_writable_folder(str(SHARED_UTKFACE))
    assert not utils.is_writable_folder(str(SHARED_UTKFACE / 'labeled'))


def write_bad_files(folder):
    """Files with valid UTKFace names that are empty, truncated or not images at all."""
    good = next(p for p in sorted(folder.iterdir()))
    (folder / '30_0_0_20170101000000001.jpg.chip.jpg').write_bytes(b'')
    (folder / '30_0_0_20170101000000002.jpg.chip.jpg').write_bytes(good.read_bytes()[:300])
    (folder / '30_0_0_20170101000000003.jpg.chip.jpg').write_text('not an image')
    return ['30_0_0_20170101000000001.jpg.chip.jpg', '30_0_0_20170101000000002.jpg.chip.jpg',
            '30_0_0_20170101000000003.jpg.chip.jpg']


def write_odd_images(folder):
    """Valid images in other modes, formats and sizes, under UTKFace names."""
    rgb = Image.open(next(p for p in sorted(folder.iterdir())))
    rgb.convert('L').save(folder / '40_1_0_20170101000000004.jpg.chip.jpg', format='JPEG')
    rgb.convert('RGBA').save(folder / '40_1_0_20170101000000005.jpg.chip.jpg', format='PNG')
    rgb.resize((300, 250)).save(folder / '40_1_0_20170101000000006.jpg.chip.jpg', format='JPEG')


def test_cache_skips_bad_files_and_converts_odd_ones(raw_faces, tmp_path, caplog):
    bad = write_bad_files(raw_faces)
    write_odd_images(raw_faces)
    with caplog.at_level(logging.WARNING, logger='caae'):
        dataset = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    assert len(dataset) == 12 + 3
    assert all(any(name in r.message for r in caplog.records) for name in bad)
    assert dataset.images.shape == (15, 128, 128, 3) and dataset.images.dtype == np.uint8
    odd = [dataset.names.index(f'40_1_0_2017010100000000{i}.jpg.chip.jpg') for i in (4, 5, 6)]
    images = dataset.images_tensor(odd)
    assert images.shape == (3, 3, 128, 128)
    assert torch.equal(dataset.labels_tensor(odd), data.label_tensor([5, 5, 5], [1, 1, 1]))


def test_postscript_and_pdf_under_utkface_names_are_skipped_and_counted_and_start_no_program(raw_faces, tmp_path,
                                                                                              capsys, no_subprocess):
    hostile = hostile_files(tmp_path / 'hostile')
    for i, path in enumerate(hostile.values()):
        shutil.move(path, raw_faces / f'30_0_0_2017010100000{i:04d}.jpg.chip.jpg')
    dataset = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    assert len(dataset) == 12 and f'Skipped {len(hostile)} unreadable image(s)' in capsys.readouterr().out
    assert no_subprocess == []


def test_cache_is_reused_and_rebuilt_when_files_change(raw_faces):
    first = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    cache = raw_faces / 'cache'
    files = sorted(os.listdir(cache))
    assert len(files) == 2
    second = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    assert sorted(os.listdir(cache)) == files and np.array_equal(first.images, second.images)
    for p in copy_sample(raw_faces.parent / 'more', 3).iterdir():
        parsed = data.parse_utkface_name(p.name)
        target = raw_faces / 'labeled' / data.class_name(data.age_to_group(parsed[0]), parsed[1]) / ('x' + p.name)
        target.parent.mkdir(exist_ok=True)
        shutil.copy(p, target)
    third = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    assert len(third) == 15 and len(os.listdir(cache)) == 4


def test_a_full_disk_decodes_into_memory_and_leaves_no_cache_file(raw_faces, monkeypatch, capsys):
    cached = data.FaceDataset.from_folder(str(raw_faces), cache_dirs=[str(raw_faces / 'first')], show_progress=False)

    def full_disk(fd, offset, length):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'posix_fallocate', full_disk)
    dataset = data.FaceDataset.from_folder(str(raw_faces), cache_dirs=[str(raw_faces / 'full')], show_progress=False)
    assert 'Not enough disk space for a 0.0 GB face cache' in capsys.readouterr().out
    assert os.listdir(raw_faces / 'full') == []
    assert dataset.names == cached.names and np.array_equal(dataset.images, cached.images)


def test_images_and_labels_stay_aligned(raw_faces):
    dataset = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    idx = torch.tensor([7, 2, 11, 0])
    images = dataset.images_tensor(idx)
    for row, i in enumerate(idx.tolist()):
        assert torch.equal(images[row].permute(1, 2, 0), torch.from_numpy(np.array(dataset.images[i])))
        assert torch.equal(dataset.labels_tensor(idx)[row], dataset.labels[i])


def test_split_is_reproducible_and_disjoint(raw_faces):
    dataset = data.FaceDataset.from_folder(str(raw_faces), show_progress=False)
    valid, train = dataset.split(4, 4, seed=0)
    again, _ = dataset.split(4, 4, seed=0)
    assert torch.equal(valid, again) and not set(valid.tolist()) & set(train.tolist())
    with pytest.raises(utils.InputError, match='12 usable images, but training needs at least 16'):
        dataset.split(8, 8)


def test_input_layouts(raw_faces, tmp_path):
    unlabeled_root = tmp_path / 'utk'
    (unlabeled_root).mkdir()
    shutil.copytree(raw_faces, unlabeled_root / 'unlabeled')
    labeled = data.resolve_labeled_folder(str(unlabeled_root))
    assert labeled == str(unlabeled_root / 'labeled') and len(data.list_labeled_images(labeled)) == 12
    labeled_only = tmp_path / 'sorted'
    shutil.copytree(unlabeled_root / 'labeled', labeled_only / 'labeled')
    assert data.resolve_labeled_folder(str(labeled_only)) == str(labeled_only / 'labeled')
    assert sorted(os.listdir(labeled_only)) == ['labeled']
    class_folders = labeled_only / 'labeled'
    assert data.resolve_labeled_folder(str(class_folders)) == str(class_folders)
