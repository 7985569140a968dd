"""Speed of CAAE's three workloads (a training step, personalising, the aging strip): the plain fp32 eager path
against the fast path at each precision, in one run.

    python bench.py                              # CPU, batch 64: plain fp32, fast auto, fast fp32, fast bf16
    python bench.py --measure                    # also the small calls that --precision auto times on a CPU
    python bench.py --device cuda
    python bench.py --data ../shared/UTKFace     # also: cost of building batches from the real cache

Synthetic data at the real shapes. The paths take turns (round after round) so that load from other processes
slows them alike; each figure is the median over the rounds. The training step is the real recipes.reference_step,
fed by Net.batch as in training; personalising is personalise.personalised (G's later layers tuned to one face, an
untrained age classifier), per step; the aging strip is encoding one face and generating it at the 10 ages.
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
import precision
from data import FaceDataset, label_tensor
from estimators import AgeClassifier
from model import Net
from personalise import personalised

def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--precision', nargs='+', default=['auto', 'fp32', 'bf16'], choices=('auto', 'fp32', 'bf16'),
                        help='precisions of the fast path (one fast path each)')
    parser.add_argument('--rounds', type=int, default=3, help='turns each path takes')
    parser.add_argument('--steps', type=int, default=2, help='training steps a turn')
    parser.add_argument('--tune-steps', type=int, default=5, help='personalising steps a turn')
    parser.add_argument('--strips', type=int, default=5, help='aging strips a turn')
    parser.add_argument('--measure', action='store_true',
                        help='also time the small calls that --precision auto times on a CPU (measure_precisions)')
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
    return (f'{model}, {torch.get_num_threads()} threads, AMX or AVX512-BF16 (auto measures): '
            f'{precision.cpu_may_have_fast_bf16()}, precision cache {precision.precision_cache_path()}')


def picks(net):
    """The dtype `net` runs each workload at, e.g. 'train bf16, personalise fp32, render fp32'."""
    return ', '.join(f'{w} {"bf16" if net.workload_dtype(w) else "fp32"}' for w in precision.WORKLOADS)


def workloads(net, data, batch_size, args):
    """The three workloads of `net` as (name, fn, repeats, seconds -> figure): img/s, ms a step, ms a strip."""
    step = functools.partial(recipes.reference_step, net, train.make_optimizers(net, train.TrainConfig()))
    face, classifier = data.images_tensor([0])[0], AgeClassifier()
    return (('train', lambda turn: step(*net.batch(data, torch.arange(batch_size) + turn % 4 * batch_size)),
             args.steps, lambda s: batch_size / s),
            ('personalise', lambda turn: personalised(net, face, 3, consts.FEMALE, classifier, args.tune_steps),
             1, lambda s: 1000 * s / args.tune_steps),
            ('render', lambda turn: aging_strip(net, face, consts.FEMALE), args.strips, lambda s: 1000 * s))


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    nets = {'plain fp32': Net(device, precision='fp32', plain=True)}
    nets.update({f'fast {forced}': Net(device, precision=forced) for forced in args.precision})
    data = synthetic_faces(4 * args.batch_size)
    calls = {name: workloads(net, data, args.batch_size, args) for name, net in nets.items()}
    figures = {name: {w: [] for w, *_ in calls[name]} for name in nets}
    print(f'{device}: {describe(device)}; torch {torch.__version__}; batch {args.batch_size}')
    for name in nets:  # warm up: first calls allocate and pick kernels (and auto measures, if it has to)
        for _, fn, _, _ in calls[name]:
            fn(0)
    for turn in range(args.rounds):
        for name in nets:
            for workload, fn, repeats, figure in calls[name]:
                figures[name][workload].append(figure(timed(device, functools.partial(fn, turn), repeats)))
        print(f'round {turn + 1}: ' + ', '.join(f'{n} {figures[n]["train"][-1]:.2f} img/s' for n in nets), flush=True)
    report(figures, {name: picks(net) for name, net in nets.items()})
    if args.measure:
        report_measurements(device, args.rounds)
    if args.data:
        report_data(list(nets.values())[-1], args.data, args.batch_size,
                    statistics.median(figures[list(nets)[-1]]['train']), device)


def report(figures, dtypes):
    """The table: each path's medians and their ratio to the plain fp32 path (above 1: faster), and its dtypes."""
    base = {w: statistics.median(values) for w, values in figures['plain fp32'].items()}
    print('\n| path | training img/s | vs plain | personalise ms/step | vs plain | aging strip ms | vs plain |'
          ' runs at |\n|---|---|---|---|---|---|---|---|')
    for name, by_workload in figures.items():
        t, p, r = (statistics.median(by_workload[w]) for w in precision.WORKLOADS)
        print(f'| {name} | {t:.2f} | {t / base["train"]:.2f}x | {p:.0f} | {base["personalise"] / p:.2f}x '
              f'| {r:.0f} | {base["render"] / r:.2f}x | {dtypes[name]} |')


def report_measurements(device, turns):
    """What --precision auto times on a CPU where bf16 may be fast: each workload's small call, fp32 and bf16."""
    print('\n| workload (auto\'s small call) | fp32 ms | bf16 ms | bf16 / fp32 |\n|---|---|---|---|')
    for workload in precision.WORKLOADS:
        fp32, bf16 = precision.measure_precisions(workload, functools.partial(Net, device, precision='fp32'), turns)
        print(f'| {workload} | {1000 * fp32:.0f} | {1000 * bf16:.0f} | {bf16 / fp32:.2f} |', flush=True)


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
