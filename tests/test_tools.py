"""bench.py and tools/: the WebP pack of the faces that travels to a GPU machine, and a run of every script at its
smallest settings."""
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import data
from conftest import REPO, load_tool

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


def run_script(*args, env=None, timeout=600):
    """Run a script of the repository from its root; returns its stdout (the test fails on a non-zero exit)."""
    done = subprocess.run([*map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_bench_compares_the_fast_path_with_plain_fp32_at_the_smallest_settings():
    out = run_script(sys.executable, 'bench.py', '--rounds', 1, '--steps', 1, '--strips', 1, '--batch-size', 2)
    assert '| plain fp32 | ' in out and '| 1.00x |' in out and '| fast auto' in out


@pytest.mark.slow
def test_profile_step_prints_the_layers_and_operators_at_the_smallest_settings():
    out = run_script(sys.executable, 'tools/profile_step.py', '--batch-size', 2, '--steps', 1)
    assert 'ms a step' in out and '| G.deconv_layers.' in out and '| aten::' in out


@pytest.mark.slow
def test_bench_app_times_the_slider_in_process():
    if not (REPO / 'trained_models' / 'utkface_z50').is_dir():
        pytest.skip('the shipped models are not in trained_models/')
    out = run_script(sys.executable, 'tools/bench_app.py', '-n', 2)
    assert 'UTKFace chip (200x200): median' in out and 'the photo aged at its size (2000x1500): median' in out


def test_doc_photos_cuts_the_readme_pictures_from_the_contact_sheets(tmp_path):
    import photo_eval
    rows = len((REPO / 'photos' / 'photos.csv').read_text().splitlines()) - 1
    side = photo_eval.SHEET_HEIGHT
    for method in ('paste', 'change', 'compose'):
        (tmp_path / f'eval_{method}').mkdir()
        sheet = np.full((24 + rows * (side + 4), 11 * side, 3), 30 * len(method), np.uint8)
        Image.fromarray(sheet).save(tmp_path / f'eval_{method}' / 'contact_sheet.jpg')
    out = run_script(sys.executable, 'tools/doc_photos.py', f'{tmp_path}/eval_', '--out', tmp_path).split()
    assert out == [str(tmp_path / 'photo_aging.jpg'), str(tmp_path / 'photo_aging_candidates.jpg')]
    assert Image.open(out[0]).size == (11 * side, 24 + 6 * (side + 4))
    assert Image.open(out[1]).size == (11 * side, 24 + 3 * (side + 4))


def test_ablation_table_reads_each_variants_eval(tmp_path, capsys):
    ablation_table = load_tool('ablation_table')
    numbers = {'renders_age_within_one': 0.9, 'renders_mean_age_per_asked_group': [5.0, 70.5],
               'identity_adult_renders_verified': 0.5, 'identity_reconstruction_verified': 0.75, 'l1': 0.1,
               'delta_e_mean_colour_own_age': 2.0, 'kid_renders_vs_real': 0.05}
    for name, l1 in (('full', 0.1), ('age', 0.2)):
        (tmp_path / name / 'eval').mkdir(parents=True)
        (tmp_path / name / 'eval' / 'eval.json').write_text(json.dumps({**numbers, 'l1': l1}))
    ablation_table.main(str(tmp_path), ['full', 'age=0'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == '| full recipe | 0.90 | 70.5 | 0.50 | 0.75 | 0.1000 | 2.00 | 0.050 |'
    assert lines[3].startswith('| age=0 | ') and '| 0.2000 |' in lines[3]


@pytest.mark.slow
def test_ablation_script_trains_and_evaluates_each_variant(raw_faces, games_checkpoint, tmp_path):
    out = run_script('bash', 'tools/ablation.sh', tmp_path / 'ablation', env={
        'INPUT': str(raw_faces), 'INIT': games_checkpoint, 'EPOCH_SIZE': '4', 'BATCH': '4', 'PY': sys.executable,
        'VARIANTS': 'full age=0'})
    rows = [line for line in out.splitlines() if line.startswith('| full recipe') or line.startswith('| age=0')]
    assert len(rows) == 2
    assert json.loads((tmp_path / 'ablation' / 'age' / 'run.json').read_text())['weights']['age'] == 0


@pytest.mark.slow
def test_gpu_train_script_trains_and_packs_what_travels_back(raw_faces, tmp_path):
    """The GPU script on the CPU (no nvidia-smi: it says so and goes on), the smallest run: one epoch of batch 4."""
    pack_faces.main(str(raw_faces), str(tmp_path / 'faces.tar.gz'))
    out_folder = tmp_path / 'out'
    run_script('bash', 'tools/gpu_train.sh', env={
        'OUT': str(out_folder), 'WORK': str(tmp_path / 'work'), 'DATA': str(tmp_path / 'faces.tar.gz'), 'BATCH': '4',
        'EPOCHS': '1', 'TRAIN_SECONDS': '300', 'TOTAL_SECONDS': '0', 'PY': sys.executable})
    assert (out_folder / 'weights.tgz.part-aa').is_file() and (out_folder / 'pictures.tgz').is_file()
    with tarfile.open(out_folder / 'pictures.tgz') as tar:
        assert 'run.json' in {Path(name).name for name in tar.getnames()}
    assert 'done after' in (out_folder / 'device.txt').read_text()


@pytest.mark.slow
def test_detect_eval_tables_the_detectors_and_judges_the_framing():
    from conftest import SHARED_UTKFACE
    framing = ['--framing', SHARED_UTKFACE] if SHARED_UTKFACE.is_dir() else []
    out = run_script(sys.executable, 'tools/detect_eval.py', 'photos/fairface', '--candidates', '--limit', 2,
                     *framing, '--time', 'photos/obama_2012.jpg', '-n', 2)
    assert '| align (MTCNN) | 2/2 | 2/2 |' in out and '| Haar alt2 (align before) |' in out
    assert 'photos/obama_2012.jpg (910x1137): detection, landmarks and framing median' in out
    assert not framing or 'the photos, framed by align' in out
