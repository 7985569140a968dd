"""Where the training step's time goes, layer by layer: torch.profiler over a few fast-path steps.

    python tools/profile_step.py                       # batch 64, the reference recipe, --precision auto
    python tools/profile_step.py --batch-size 16 --precision fp32 --steps 3

Each network layer's forward is a profiler range named after its state_dict prefix (e.g. G.deconv_layers.g_deconv_2);
the table shows the forward time per layer, then the operators by their own time (backward and Adam included), so
that the convolutions' backward shows as aten::convolution_backward.
"""
import argparse
import functools
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile, record_function

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import recipes  # noqa: E402
import train  # noqa: E402
from data import label_tensor  # noqa: E402
from model import Net  # noqa: E402


def label_layers(net):
    """Wrap every leaf layer's forward in a profiler range named after the layer."""
    for network_name, network in net.networks.items():
        for name, module in network.named_modules():
            if not list(module.children()):
                module.forward = _ranged(module.forward, f'{network_name}.{name}')


def _ranged(forward, label):
    @functools.wraps(forward)
    def wrapped(*args, **kwargs):
        with record_function(label):
            return forward(*args, **kwargs)
    return wrapped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--precision', default='auto', choices=('auto', 'fp32', 'bf16'))
    parser.add_argument('--steps', type=int, default=3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    net = Net(precision=args.precision)
    optimizers = train.make_optimizers(net, train.TrainConfig())
    images = net.images_to_device(torch.randint(0, 256, (args.batch_size, 3, 128, 128), dtype=torch.uint8))
    labels = label_tensor(torch.arange(args.batch_size) % 10, torch.arange(args.batch_size) % 2)
    recipes.reference_step(net, optimizers, images, labels)  # warm-up
    label_layers(net)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            with record_function('step'):
                recipes.reference_step(net, optimizers, images, labels)
    events = prof.key_averages()
    step = next(e for e in events if e.key == 'step').cpu_time_total
    layers = sorted((e for e in events if e.key.split('.')[0] in net.networks), key=lambda e: -e.cpu_time_total)
    print(f'batch {args.batch_size}, {"bf16" if net.autocast_dtype else "fp32"}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads: {step / args.steps / 1e3:.0f} ms a step\n')
    print('| layer | ms a step (forward range) | share of the step |\n|---|---|---|')
    for e in layers[:20]:
        print(f'| {e.key} | {e.cpu_time_total / args.steps / 1e3:.1f} | {100 * e.cpu_time_total / step:.1f}% |')
    print('\n| operator | self ms a step | calls a step |\n|---|---|---|')
    ops = sorted((e for e in events if e.key.startswith('aten::')), key=lambda e: -e.self_cpu_time_total)
    for e in ops[:10]:
        print(f'| {e.key} | {e.self_cpu_time_total / args.steps / 1e3:.1f} | {e.count // args.steps} |')


if __name__ == '__main__':
    main()
