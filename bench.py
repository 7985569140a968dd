"""Speed of CAAE training and of the aging strip: the plain fp32 eager path against the fast path, in one run.

    python bench.py                              # CPU, batch 64, fast path at the default precision
    python bench.py --precision auto bf16        # one fast path per precision
    python bench.py --device cuda
    python bench.py --data ../shared/UTKFace     # also: cost of building batches from the real cache

Synthetic data at the real shapes. The paths take turns (round after round) so that load from other processes
slows them alike; each figure is the median over the rounds. The training step is the real recipes.reference_step,
fed by Net.batch as in training; the aging strip is encoding one face and generating it at the 10 ages.
"""
import argparse
import functools
import statistics
import time

import numpy as np
import torch

import consts
import recipes
import train
import utils
from data import FaceDataset, label_tensor
from model import Net


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--precision', nargs='+', default=['auto'], choices=('auto', 'fp32', 'bf16'),
                        help='precision of the fast path (several: one fast path each)')
    parser.add_argument('--rounds', type=int, default=5, help='turns each path takes')
    parser.add_argument('--steps', type=int, default=2, help='training steps a turn')
    parser.add_argument('--strips', type=int, default=5, help='aging strips a turn')
    parser.add_argument('--data', help='UTKFace folder: also time building batches from its uint8 cache')
    return parser


def synthetic_faces(size):
    """A FaceDataset of random uint8 faces and labels, indexed like the real cache."""
    images = np.random.default_rng(0).integers(0, 256, (size, consts.IMAGE_LENGTH, consts.IMAGE_LENGTH,
                                                         consts.IMAGE_DEPTH), dtype=np.uint8)
    return FaceDataset(images, np.arange(size) % consts.NUM_AGES, np.arange(size) % consts.NUM_GENDERS,
                             [f'{i}.png' for i in range(size)])


def timed(device, fn, repeats):
    """Median seconds of `fn()` over `repeats` calls, waiting for the device."""
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def aging_strip(net, face, gender):
    """Encode one face, generate it at the 10 ages."""
    z = net.encode(face[None]).expand(consts.NUM_AGES, -1)
    return net.generate(z, label_tensor(range(consts.NUM_AGES), [gender] * consts.NUM_AGES))


def describe(device):
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    with open('/proc/cpuinfo') as f:
        model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '')
    return f'{model}, {torch.get_num_threads()} threads, fast bf16: {utils.cpu_has_fast_bf16()}'


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    nets = {'plain fp32': Net(device, precision='fp32', plain=True)}
    for precision in args.precision:
        net = Net(device, precision=precision)
        nets[f'fast {precision} ({"bf16" if net.autocast_dtype else "fp32"})'] = net
    data = synthetic_faces(4 * args.batch_size)
    batches = torch.arange(len(data)).view(-1, args.batch_size)
    face = data.images_tensor([0])[0]
    steps = {name: functools.partial(recipes.reference_step, net, train.make_optimizers(net, train.TrainConfig()))
             for name, net in nets.items()}
    training, strip = {name: [] for name in nets}, {name: [] for name in nets}
    print(f'{device}: {describe(device)}; torch {torch.__version__}; batch {args.batch_size}')
    for name, net in nets.items():  # warm up: first calls allocate and pick kernels
        steps[name](*net.batch(data, batches[0]))
        aging_strip(net, face, consts.MALE)
    for turn in range(args.rounds):
        for name, net in nets.items():
            batch = batches[turn % len(batches)]
            step = timed(device, lambda: steps[name](*net.batch(data, batch)), args.steps)
            training[name].append(args.batch_size / step)
            strip[name].append(1000 * timed(device, lambda: aging_strip(net, face, consts.FEMALE), args.strips))
        print(f'round {turn + 1}: ' + ', '.join(f'{n} {training[n][-1]:.2f} img/s' for n in nets), flush=True)
    report(training, strip)
    if args.data:
        fast = list(nets.values())[-1]
        report_data(fast, args.data, args.batch_size, statistics.median(training[list(nets)[-1]]), device)


def report(training, strip):
    base_train, base_strip = statistics.median(training['plain fp32']), statistics.median(strip['plain fp32'])
    print('\n| path | training img/s | vs plain | aging strip ms | vs plain |\n|---|---|---|---|---|')
    for name in training:
        t, s = statistics.median(training[name]), statistics.median(strip[name])
        print(f'| {name} | {t:.2f} | {t / base_train:.2f}x | {s:.0f} | {base_strip / s:.2f}x |')


def report_data(net, path, batch_size, images_per_second, device):
    """Time Net.batch on the real cache (random rows, as an epoch draws them) against the fast training step."""
    dataset = FaceDataset.from_folder(path)
    if device.type == 'cuda':
        dataset.to(device)
    order = torch.randperm(len(dataset))
    batches = order[:len(order) // batch_size * batch_size].view(-1, batch_size)
    start = time.perf_counter()
    for idx in batches:
        net.batch(dataset, idx)
    sync(device)
    per_batch = (time.perf_counter() - start) / len(batches)
    step = batch_size / images_per_second
    print(f'\nbatches from the cache of {len(dataset)} faces: {1000 * per_batch:.1f} ms per batch of {batch_size} '
          f'(all {len(batches)}), {100 * per_batch / (per_batch + step):.2f}% of a fast training step plus its batch')


if __name__ == '__main__':
    main()
