"""The quality metrics agree with their textbook definitions."""
import numpy as np
import pytest
import torch

import evaluate
import metrics
import images
from conftest import SAMPLE
from PIL import Image


def sample_images(n=4):
    return torch.stack([images.pil_to_model_tensor_transform(Image.open(p)) for p in sorted(SAMPLE.iterdir())[:n]])


def test_psnr():
    images = sample_images()
    assert metrics.psnr(images, images) == pytest.approx(100, abs=1e-3)
    shifted = (images + 0.2).clamp(-1, 1)
    mse = (((shifted - images) / 2) ** 2).flatten(1).mean(1)
    assert metrics.psnr(shifted, images) == pytest.approx((10 * torch.log10(1 / mse)).mean().item(), rel=1e-5)


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity
    images = sample_images(2)
    noisy = (images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    ours = metrics.ssim(noisy, images)
    theirs = np.mean([structural_similarity(((n + 1) / 2).permute(1, 2, 0).numpy(), ((i + 1) / 2).permute(1, 2, 0).numpy(),
                                            channel_axis=2, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=1.0)
                      for n, i in zip(noisy, images)])
    assert ours == pytest.approx(theirs, abs=0.01)
    assert metrics.ssim(images, images) == pytest.approx(1, abs=1e-4)


def test_ks_against_the_uniform_prior():
    generator = torch.Generator().manual_seed(0)
    uniform = torch.rand(2000, 50, generator=generator) * 2 - 1
    assert metrics.ks_uniform(uniform) < 0.04
    assert metrics.ks_uniform(torch.zeros(100, 50)) == pytest.approx(0.5, abs=0.01)
    assert metrics.ks_uniform(torch.full((100, 5), 0.999)) > 0.99


@pytest.mark.parametrize('period', [16, 8])
def test_grid_pattern_is_about_one_for_photos_and_finds_a_faint_repeating_pattern(period):
    """Photos score near 1; a lattice of dots every `period` pixels (G's strides), 2% of the range, stands out."""
    faces = sample_images()
    pattern = torch.zeros(128, 128)
    pattern[::period, ::period] = 1
    pattern = 0.04 * (pattern - pattern.mean()) / pattern.std()
    photos, patterned = metrics.grid_pattern(faces), metrics.grid_pattern(faces + pattern)
    assert ((photos > 0.7) & (photos < 1.5)).all()
    assert (patterned > 2 * photos).all()


def test_evaluate_reports_every_number():
    from model import Net
    faces = torch.stack([torch.from_numpy(images.pil_to_uint8(Image.open(p)).copy()).permute(2, 0, 1)
                          for p in sorted(SAMPLE.iterdir())[:3]])
    result = evaluate.reconstruction(Net(), faces, torch.tensor([0, 4, 9]), torch.tensor([0, 1, 1]))
    assert set(result) == {'images', 'l1', 'psnr_db', 'ssim', 'z_ks', 'z_ks_prior_sample', 'age_effect_pixels'}
    assert result['images'] == 3 and all(np.isfinite(v) for v in result.values())


def test_eval_mode_reports_and_reproduces(games_checkpoint, raw_faces, tmp_path, monkeypatch, capsys):
    import json
    import main
    monkeypatch.chdir(tmp_path)
    argv = ['--mode', 'eval', '--load', games_checkpoint, '--input', str(raw_faces), '--bs', '4', '-o', 'ev']
    main.main(argv)
    first = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    printed = capsys.readouterr().out
    assert first['images'] == 4 and 'validation batch' in first['evaluated on']
    assert all(key in printed for key in ('l1', 'psnr_db', 'ssim', 'z_ks', 'age_effect_pixels'))
    main.main(argv)
    assert json.loads((tmp_path / 'ev' / 'eval.json').read_text()) == first
    main.main(argv + ['--eval-all'])
    assert json.loads((tmp_path / 'ev' / 'eval.json').read_text())['images'] == 12
