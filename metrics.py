"""Quality numbers for a trained CAAE: reconstruction (L1, PSNR, SSIM), z's fit to its prior, the age effect."""
import torch
import torch.nn.functional as F

import checkpoints
import consts
from data import label_tensor
from images import to_model_range
from utils import print_timestamp


def psnr(images, references):
    """Mean PSNR in dB of [-1, 1] images, computed on the [0, 1] scale per image."""
    mse = ((images.float() - references.float()) / 2).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()


def ssim(images, references, window=11, sigma=1.5):
    """Mean SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5) of [-1, 1] images on the [0, 1] scale."""
    x, y = (images.float() + 1) / 2, (references.float() + 1) / 2
    coords = torch.arange(window, dtype=torch.float) - window // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    kernel = (g[:, None] * g[None, :] / g.sum() ** 2).expand(x.shape[1], 1, window, window).contiguous()

    def blur(t):
        return F.conv2d(t, kernel, groups=x.shape[1])
    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x ** 2, blur(y * y) - mu_y ** 2, blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean().item()


def ks_uniform(z):
    """Kolmogorov-Smirnov statistic of each column of z against U[-1, 1], averaged over the columns."""
    n = z.shape[0]
    sorted_z = z.float().sort(dim=0).values
    cdf = ((sorted_z + 1) / 2).clamp(0, 1)
    steps = torch.arange(1, n + 1, dtype=torch.float)[:, None] / n
    return torch.maximum(steps - cdf, cdf - (steps - 1 / n)).max(dim=0).values.mean().item()


def held_out_rows(dataset, model_folder, batch_size=128, seed=0):
    """(rows, description) of the faces that training held out: those named in the model's run.json, or, for an
    older run without one, the split that batch size and seed give."""
    record = checkpoints.find_run_record(model_folder)
    if record:
        return dataset.rows_of(record['validation']), f'the validation faces named in the run\'s {consts.RUN_RECORD}'
    print_timestamp(f'{model_folder}: no {consts.RUN_RECORD} beside the model, so its validation batch is found again '
                    f'from --batch-size {batch_size} and --seed {seed}')
    described = f'the validation batch the trainer held out (--batch-size {batch_size}, --seed {seed})'
    return dataset.split(batch_size, 0, seed=seed)[0], described


def evaluate_rows(net, dataset, rows):
    """evaluate() on the dataset rows `rows`."""
    return evaluate(net, dataset.images_tensor(rows), dataset.age_groups[rows], dataset.genders[rows])


def evaluate(net, images, age_groups, genders, seed=0):
    """All quality numbers of `net` on uint8 images (Nx3xHxW) with their true labels, as a dict."""
    z, reconstructed, young, old = [], [], [], []
    for start in range(0, len(images), 64):
        batch = slice(start, start + 64)
        z_batch = net.encode(images[batch])
        z.append(z_batch.cpu())
        reconstructed.append(net.generate(z_batch, label_tensor(age_groups[batch], genders[batch])).cpu())
        young.append(net.generate(z_batch, label_tensor(torch.zeros_like(genders[batch]), genders[batch])).cpu())
        old.append(net.generate(z_batch, label_tensor(torch.full_like(genders[batch], consts.NUM_AGES - 1),
                                                            genders[batch])).cpu())
    z, reconstructed, young, old = map(torch.cat, (z, reconstructed, young, old))
    originals = to_model_range(images)
    prior = torch.rand(z.shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return {
        'images': len(images),
        'l1': (reconstructed - originals).abs().mean().item(),
        'psnr_db': psnr(reconstructed, originals),
        'ssim': ssim(reconstructed, originals),
        'z_ks': ks_uniform(z),
        'z_ks_prior_sample': ks_uniform(prior),
        'age_effect_pixels': ((old - young).abs().mean() * 127.5).item(),
    }
