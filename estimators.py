"""Age estimators trained on real UTKFace faces: a small loss classifier and a separate evaluation estimator.

- AgeClassifier ('classifier'): a cheap plain CNN on 64-px faces, differentiable w.r.t. its input, meant to be
  used as an age LOSS on generated faces (10 logits, the age groups).
- AgeEstimator ('estimator'): a residual CNN of another architecture and seed that no loss ever sees; it judges
  the age of renders (expectation of its softmax over the groups' mean ages in years) and its penultimate layer
  is the feature space of KID (see metrics.py).

Both take the model's [-1, 1] (or uint8) Nx3x128x128 faces and average-pool them to 64 px inside. They train on
the training split only: the shipped model's 128 validation faces (its run.json; the split of batch 128, seed 0) and a
further 1,000 faces (estimator_split, seed HOLD_OUT_SEED) are held out; accuracy on both goes in record.json.
Training augments with shifts, flips, JPEG re-encoding, blur, noise, horizontal stripes and colour jitter, so
that generator artifacts do not fool the classifier.

Train both (one thread each; about 10-15 minutes each on one core; the estimator fine-tunes nothing):
    OMP_NUM_THREADS=1 python estimators.py --input ../shared/UTKFace --output trained_models/age_estimators
Train one of them:
    OMP_NUM_THREADS=1 python estimators.py --kind classifier --input ../shared/UTKFace --output trained_models/age_estimators
Use them:
    classifier = estimators.load('classifier', 'trained_models/age_estimators')  # eval mode, frozen
    loss = F.cross_entropy(classifier(generated_faces), asked_groups)          # gradients reach the faces
"""
import argparse
import io
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

import consts
import metrics
import utils
from checkpoints import atomic_path, load_state_dict, save_state_dict
from data import FaceDataset, parse_utkface_name
from images import gaussian_blur, to_model_range

DEFAULT_FOLDER = consts.AGE_ESTIMATORS  # the shipped estimators, beside the code, whatever the working folder
RECORD = 'record.json'
HOLD_OUT_SEED = 1  # the further held-out faces that measure the estimators
HOLD_OUT_COUNT = 1000
SIDE = 64  # the networks see 64-px faces


def to_input(images):
    """uint8 or [-1, 1] Nx3xHxW faces -> float [-1, 1] at SIDE x SIDE (area average: exact 2x2 mean from 128)."""
    x = to_model_range(images)
    return F.adaptive_avg_pool2d(x, SIDE) if x.shape[-1] != SIDE else x


def _conv_bn(cin, cout, stride, kernel=3):
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class AgeClassifier(nn.Module):
    """The loss classifier: four stride-2 3x3 conv-BN-ReLU layers (64 -> 4 px, 24 to 192 channels), global
    average pooling and a linear layer to the 10 age-group logits."""

    def __init__(self, width=24):
        super().__init__()
        chans = (3, width, 2 * width, 4 * width, 8 * width)
        layers = [layer for cin, cout in zip(chans, chans[1:]) for layer in _conv_bn(cin, cout, 2)]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(chans[-1], consts.NUM_AGES))

    def features(self, images):
        return self.body(to_input(images))

    def forward(self, images):
        return self.head(self.features(images))


class _Residual(nn.Module):
    """A pre-activation-free basic block: conv-BN-ReLU-conv-BN plus a (strided 1x1) shortcut, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.branch = nn.Sequential(*_conv_bn(cin, cout, stride), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                                    nn.BatchNorm2d(cout))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return F.relu(self.branch(x) + self.shortcut(x))


class AgeEstimator(nn.Module):
    """The evaluation estimator: a 5x5 stride-2 stem and three residual blocks (32 -> 4 px), global average
    pooling to a 256-d feature (KID's feature space) and a linear layer to the 10 age-group logits. `centre_ages`
    (a buffer, saved with the weights) holds the mean age in years of the training faces of each group."""

    def __init__(self, width=32):
        super().__init__()
        self.body = nn.Sequential(*_conv_bn(3, width, 2, kernel=5), _Residual(width, 2 * width, 2),
                                  _Residual(2 * width, 4 * width, 2), _Residual(4 * width, 8 * width, 2),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(8 * width, consts.NUM_AGES))
        self.register_buffer('centre_ages', torch.zeros(consts.NUM_AGES))

    def features(self, images):
        return self.body(to_input(images))

    def forward(self, images):
        return self.head(self.features(images))

    def ages(self, logits):
        """Estimated age in years: the expectation of the group centre ages under the softmax of `logits`."""
        return metrics.expected_ages(logits, self.centre_ages)


KINDS = {'classifier': AgeClassifier, 'estimator': AgeEstimator}
SEEDS = {'classifier': 10, 'estimator': 20}
DTYPES = {'classifier': None, 'estimator': torch.float16}  # the estimator's fp32 weights would be about 5 MB


def path_of(kind, folder):
    return os.path.join(folder, kind + '.pt')


def save(module, kind, folder):
    """Write the module's state_dict to <folder>/<kind>.pt atomically; returns the path."""
    path = path_of(kind, folder)
    save_state_dict(module, path, DTYPES[kind])
    return path


def load(kind, folder=DEFAULT_FOLDER):
    """A trained `kind` ('classifier' or 'estimator') from <folder>/<kind>.pt, in eval mode with frozen weights
    (gradients still reach its input)."""
    module = KINDS[kind]()
    load_state_dict(module, path_of(kind, folder))
    return module.eval().requires_grad_(False)


def load_or_explain(kind, folder, why):
    """load(kind, folder), or utils.InputError '<its path>: no such file: <why>' when the file is missing."""
    path = path_of(kind, str(folder))
    if not os.path.isfile(path):
        raise utils.InputError(f'{path}: no such file: {why}')
    return load(kind, str(folder))


def load_if_present(folder=DEFAULT_FOLDER):
    """(classifier, estimator) from `folder`, each None where its file is missing."""
    return tuple(load(kind, folder) if os.path.isfile(path_of(kind, folder)) else None for kind in KINDS)


def predict(module, images, batch_size=256, what='logits'):
    """Logits (or `what='features'`: penultimate features) of uint8 or [-1, 1] faces, batched, without gradients."""
    was_training = module.training
    module.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            outputs.append(module(batch) if what == 'logits' else module.features(batch))
    module.train(was_training)
    return torch.cat(outputs).float() if outputs else torch.empty(0)


# ---------------------------------------------------------------- data

def estimator_split(dataset, seed=HOLD_OUT_SEED, count=HOLD_OUT_COUNT, valid_size=128, valid_seed=0):
    """(train, held_out, validation) row indices: validation is the shipped model's held-out batch, held_out a
    further `count` rows of the rest drawn with `seed` to measure the estimators, train everything else."""
    validation = dataset.split(valid_size, 0, seed=valid_seed)[0]
    rest = dataset.rows_except(validation)
    order = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(seed))]
    count = min(count, len(rest) // 5)
    return order[count:].sort().values, order[:count].sort().values, validation


def ages_in_years(dataset, rows):
    """Age in years (from the UTKFace file names) of the dataset rows `rows`."""
    return torch.tensor([parse_utkface_name(dataset.names[int(i)])[0] for i in rows], dtype=torch.float)


def centre_ages(dataset, rows):
    """Mean age in years of the faces at `rows` in each age group (consts.AGE_GROUP_CENTRES where it has none)."""
    ages, groups = ages_in_years(dataset, rows), dataset.age_groups[rows]
    middle = torch.tensor(consts.AGE_GROUP_CENTRES)
    return torch.stack([ages[groups == g].mean() if (groups == g).any() else middle[g] for g in range(consts.NUM_AGES)])


# ---------------------------------------------------------------- augmentation

def _jpeg(image, quality):
    """A uint8 3xHxW image after JPEG encoding at `quality` and decoding (Pillow's libjpeg)."""
    buffer = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(buffer, format='JPEG', quality=quality)
    return torch.from_numpy(np.asarray(Image.open(buffer, formats=['JPEG']).convert('RGB')).copy()).permute(2, 0, 1)


def augment(images, generator):
    """uint8 Nx3xHxW faces -> float [-1, 1] faces, each randomly shifted (up to 1/16 of the side), flipped,
    JPEG re-encoded (quality 20-90), blurred (sigma 0.4-2 px), noised (std up to 0.1), striped (horizontal
    sinusoidal stripes, period 2-8 px, as generators draw them) and colour-jittered."""
    n, _, h, w = images.shape

    def chance(p):
        return torch.rand(n, generator=generator) < p

    def uniform(lo, hi, shape=(n,)):
        return lo + (hi - lo) * torch.rand(shape, generator=generator)

    shift = h // 16
    padded = F.pad(images, (shift,) * 4, mode='replicate')
    dy, dx = torch.randint(0, 2 * shift + 1, (2, n), generator=generator)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    flip = chance(0.5)
    out[flip] = out[flip].flip(-1)
    jpeg = chance(0.5).nonzero().flatten().tolist()
    if jpeg:
        qualities = torch.randint(20, 91, (len(jpeg),), generator=generator).tolist()
        for i, q in zip(jpeg, qualities):
            out[i] = _jpeg(out[i], q)
    x = to_model_range(out)
    for i in chance(0.4).nonzero().flatten().tolist():
        x[i] = gaussian_blur(x[i:i + 1], uniform(0.4, 2.0, ()).item(), radius=3, edges='replicate')[0]
    noisy = chance(0.4)
    x = x + noisy.view(-1, 1, 1, 1) * uniform(0, 0.1).view(-1, 1, 1, 1) * torch.randn(x.shape, generator=generator)
    striped = chance(0.3).view(-1, 1, 1, 1)
    rows = torch.arange(h, dtype=torch.float).view(1, 1, -1, 1)
    phase, period, amplitude = uniform(0, 2 * math.pi), uniform(2, 8), uniform(0.02, 0.15)
    stripes = amplitude.view(-1, 1, 1, 1) * torch.sin(2 * math.pi * rows / period.view(-1, 1, 1, 1) + phase.view(-1, 1, 1, 1))
    x = x + striped * stripes
    jitter = chance(0.5).view(-1, 1, 1, 1)
    contrast, brightness = uniform(0.85, 1.15).view(-1, 1, 1, 1), uniform(-0.1, 0.1).view(-1, 1, 1, 1)
    tint = uniform(-0.05, 0.05, (n, 3)).view(n, 3, 1, 1)
    x = torch.where(jitter, x * contrast + brightness + tint, x)
    return x.clamp(-1, 1)


# ---------------------------------------------------------------- training

def fit(kind, dataset, train_rows, epochs, batch_size=64, lr=3e-3, seed=None, show_progress=True, max_steps=None):
    """Train a fresh `kind` network on the dataset rows `train_rows` with augmentation (AdamW, one-cycle learning
    rate, cross-entropy with label smoothing 0.05); returns the module in eval mode."""
    seed = SEEDS[kind] if seed is None else seed
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    module = KINDS[kind]()
    if kind == 'estimator':
        module.centre_ages.copy_(centre_ages(dataset, train_rows))
    steps_per_epoch = max(1, len(train_rows) // batch_size)
    total = steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs)
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=total, pct_start=0.15)
    module.train()
    step, bar = 0, tqdm(total=total, desc=f'Training the {kind}', unit='step', disable=not show_progress)
    while step < total:
        order = train_rows[torch.randperm(len(train_rows), generator=generator)]
        for start in range(0, steps_per_epoch * batch_size, batch_size):
            if step >= total:
                break
            rows = order[start:start + batch_size]
            x = augment(dataset.images_tensor(rows), generator)
            loss = F.cross_entropy(module(x), dataset.age_groups[rows], label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            bar.update()
            if step % 50 == 0:
                bar.set_postfix(loss=f'{loss.item():.3f}')
    bar.close()
    return module.eval()


def measure(module, dataset, rows):
    """Accuracy (exact, within one group) of `module` on the real faces at `rows`."""
    return metrics.age_shares(predict(module, dataset.images_tensor(rows)), dataset.age_groups[rows])


def describe(module):
    return {'architecture': ' '.join(module.__doc__.split()),
            'parameters': sum(p.numel() for p in module.parameters())}


def train_and_record(kind, dataset, data_path, folder, epochs, show_progress=True):
    """Train `kind`, save it into `folder` and add its entry (architecture, epochs, seed, time, accuracy) to
    <folder>/record.json; returns the entry."""
    train_rows, held_out, validation = estimator_split(dataset)
    started = time.time()
    module = fit(kind, dataset, train_rows, epochs, show_progress=show_progress)
    seconds = time.time() - started
    path = save(module, kind, folder)
    entry = {**describe(module), 'file': os.path.basename(path), 'file_bytes': os.path.getsize(path),
             'epochs': epochs, 'seed': SEEDS[kind], 'train_seconds': round(seconds, 1),
             'threads': torch.get_num_threads(), 'train_faces': len(train_rows),
             'accuracy': {f'validation_{len(validation)}': measure(module, dataset, validation),
                          f'held_out_{len(held_out)}': measure(module, dataset, held_out)}}
    if kind == 'estimator':
        entry['centre_ages'] = [round(a, 2) for a in module.centre_ages.tolist()]
    record_path = os.path.join(folder, RECORD)
    record = json.load(open(record_path)) if os.path.isfile(record_path) else {}
    record.update({'data': data_path, 'images': len(dataset),
                   'split': {'validation': 'dataset.split(128, 0, seed=0): the shipped model\'s validation batch (its run.json)',
                             'held_out': f'estimators.estimator_split(dataset, seed={HOLD_OUT_SEED}, '
                                         f'count={HOLD_OUT_COUNT}): never trained on',
                             'held_out_seed': HOLD_OUT_SEED, 'held_out_count': len(held_out)},
                   kind: entry})
    with atomic_path(record_path) as tmp, open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    return entry


def main(argv=None):
    parser = argparse.ArgumentParser(description='Train the age classifier (a loss) and the age estimator (eval)',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--input', '-i', default=consts.DEFAULT_DATASET, help='UTKFace folder')
    parser.add_argument('--output', '-o', default=DEFAULT_FOLDER, help='folder for classifier.pt, estimator.pt, record.json')
    parser.add_argument('--kind', choices=('both',) + tuple(KINDS), default='both')
    parser.add_argument('--epochs', type=int, default=None, help='epochs (None: 8 for the classifier, 5 for the estimator)')
    args = parser.parse_args(argv)
    try:
        dataset = FaceDataset.from_folder(args.input)
        for kind in KINDS if args.kind == 'both' else (args.kind,):
            epochs = args.epochs or {'classifier': 8, 'estimator': 5}[kind]
            entry = train_and_record(kind, dataset, args.input, args.output, epochs)
            print(kind, json.dumps(entry['accuracy']), f"{entry['train_seconds']} s")
    except utils.InputError as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    main()
