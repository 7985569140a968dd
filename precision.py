"""The precision each workload (training, personalising, rendering) runs at with --precision auto: bf16 autocast
where it is faster here, else fp32. On CUDA bf16 where supported; on a CPU without AMX or AVX512-BF16 fp32 without
measuring; elsewhere a small call of the workload is timed in both, once, and the answer cached in
$CAAE_CACHE_DIR/precision.json (BENCHMARKS.md, "Precision per workload"). model.Net asks autocast_dtype for each workload on first use.
"""
import contextlib
import functools
import hashlib
import json
import os
import platform
import statistics
import tempfile
import threading
import time

import torch

import consts
from utils import log, print_timestamp

WORKLOADS = ('train', 'personalise', 'render')  # what auto picks a precision for, each on its own (autocast_dtype)
BF16_MARGIN = 0.95  # auto picks bf16 only where it takes under 95% of fp32's time: fp32 is the more exact
_measuring = threading.Lock()  # one measurement at a time, so that threads do not slow each other's


def autocast_dtype(device, precision='auto', workload='train', measure=None):
    """bf16 for `workload`, or None (fp32): forced by `precision`; on CUDA where bf16 is supported; on a CPU where
    bf16 may be fast, whichever `measure()` ((fp32 s, bf16 s) a call) finds faster, measured once and cached."""
    if workload not in WORKLOADS:
        raise ValueError(f'unknown workload {workload!r}, not one of {WORKLOADS}')
    device = torch.device(device)
    if precision in ('fp32', 'bf16'):
        return torch.bfloat16 if precision == 'bf16' else None
    if device.type == 'cuda':
        fast = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    elif not cpu_may_have_fast_bf16():
        fast = False
    elif measure is None:
        fast = cpu_has_fast_bf16()
    else:
        fast = measured_precision(workload, measure) == 'bf16'
    return torch.bfloat16 if fast else None


def cpu_may_have_fast_bf16():
    """AMX or AVX512-BF16: bf16 may beat fp32 here, so auto measures (without either it never does)."""
    return cpu_has_fast_bf16() or torch.cpu._is_avx512_bf16_supported()


def cpu_has_fast_bf16():
    """AMX, or AVX512-BF16 on a core without AVX512-FP16 (Cooper Lake, Zen 4), where bf16 dot products run at twice
    the fp32 rate. Sapphire Rapids and later cores run them at the fp32 rate and count on AMX for bf16: in a VM
    that hides AMX, bf16 convolutions and matmuls measured 40% slower than fp32 (BENCHMARKS.md)."""
    if torch.cpu._is_amx_tile_supported():
        return True
    return torch.cpu._is_avx512_bf16_supported() and 'avx512_fp16' not in _cpu_flags()


def _cpu_flags():
    return _cpuinfo('flags').split()


def _cpuinfo(field):
    """The first value of `field` in /proc/cpuinfo ('' where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(':', 1)[1].strip() for line in f if line.split(':')[0].strip() == field), '')
    except OSError:
        return ''


def measured_precision(workload, measure):
    """'bf16' or 'fp32' for `workload`, whichever `measure()` timed faster on this CPU; measured once, then cached."""
    with _measuring:
        key = cpu_key()
        entry = read_precision_cache().get(key, {}).get(workload)
        if isinstance(entry, dict) and entry.get('precision') in ('fp32', 'bf16'):
            return entry['precision']
        print_timestamp(f'Timing fp32 against bf16 for {workload} on this CPU (once; cached in '
                        f'{precision_cache_path()})')
        try:
            fp32, bf16 = measure()
        except RuntimeError as error:  # an operator bf16 lacks here, say: fp32, measured again next time
            log.warning('timing bf16 for %s failed, so it runs in fp32: %s', workload, error)
            return 'fp32'
        answer = 'bf16' if bf16 < BF16_MARGIN * fp32 else 'fp32'
        cache = read_precision_cache()  # another process may have added its answers meanwhile
        cache.setdefault(key, {})[workload] = {'precision': answer, 'fp32_ms': round(1000 * fp32, 2),
                                               'bf16_ms': round(1000 * bf16, 2)}
        write_precision_cache(cache)
        return answer


def cpu_key():
    """This CPU and torch setup as the precision cache keys it: model name, flags' hash, torch version, threads."""
    flags = hashlib.sha1(' '.join(sorted(_cpu_flags())).encode()).hexdigest()[:12]
    model = _cpuinfo('model name') or platform.processor() or 'unknown CPU'
    return f'{model} | flags {flags} | torch {torch.__version__} | {torch.get_num_threads()} threads'


def precision_cache_path():
    """$CAAE_CACHE_DIR/precision.json, else ~/.cache/caae/precision.json."""
    folder = os.environ.get('CAAE_CACHE_DIR') or os.path.join(os.path.expanduser('~'), '.cache', 'caae')
    return os.path.join(folder, 'precision.json')


def read_precision_cache():
    """The cache's {key: {workload: entry}}; {} where it is missing, unreadable or corrupt."""
    try:
        with open(precision_cache_path(), encoding='utf-8') as f:
            cache = json.load(f)
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in cache.items() if isinstance(v, dict)} if isinstance(cache, dict) else {}


def write_precision_cache(cache):
    """Write the cache atomically (a temporary file renamed over it); failing to write is logged, not raised."""
    path = precision_cache_path()
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.precision.', suffix='.tmp', dir=os.path.dirname(path))
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(cache, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError as error:
        log.warning('could not write the precision cache %s: %s', path, error)
    finally:
        if tmp and os.path.exists(tmp):
            with contextlib.suppress(OSError):
                os.remove(tmp)


# ---------------------------------------------------------------- the measurement

def measure_precisions(workload, new_net, turns=3):
    """Median seconds of a small call like `workload`'s in fp32 and in bf16 autocast, taking turns after a warm-up
    turn: (fp32, bf16). On the fresh fp32 Net that `new_net()` makes (speed does not depend on the weights; model.Net
    passes its own kind); the global RNG is left as it was."""
    with torch.random.fork_rng(devices=[]):
        net = new_net()
        call = functools.partial(_WORKLOAD_CALLS[workload], *_measuring_inputs(net))
    device = net.device
    times = {None: [], torch.bfloat16: []}
    for turn in range(1 + turns):
        for dtype, seconds in times.items():
            start = time.perf_counter()
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                call()
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            if turn:
                seconds.append(time.perf_counter() - start)
    return statistics.median(times[None]), statistics.median(times[torch.bfloat16])


def _measuring_inputs(net):
    """The net, 8 random faces, NUM_AGES random labels and one random z on its device."""
    device = net.device
    faces = net.images_to_device(torch.rand(8, consts.IMAGE_DEPTH, consts.IMAGE_LENGTH, consts.IMAGE_LENGTH) * 2 - 1)
    labels = torch.rand(consts.NUM_AGES, consts.LABEL_LEN) * 2 - 1
    return net, faces, labels.to(device), (torch.rand(1, net.z_channels) * 2 - 1).to(device)


def _train_call(net, faces, labels, _):
    """A training step's forward and backward of the four networks at batch 8 (no optimizer)."""
    with torch.enable_grad():
        z = net.E(faces)
        generated = net.G(torch.cat((z, labels[:len(z)]), dim=1))
        scores = (net.Dimg(generated, labels[:len(z)]), net.Dimg(faces, labels[:len(z)]), net.Dz(z))
        sum(score.float().mean() for score in scores).backward()


def _personalise_call(net, faces, labels, z):
    """A personalising step: G draws one z at 4 labels, backward into g_deconv_3 and later (personalise.py)."""
    with torch.enable_grad():
        renders = net.G(torch.cat((z.expand(4, -1), labels[:4]), dim=1)).float()
        (renders - faces[:1].float()).abs().mean().backward(inputs=list(net.G.deconv_layers[2:].parameters()))


def _render_call(net, faces, labels, _):
    """An aging strip: encode one face, generate it at the NUM_AGES labels."""
    with torch.no_grad():
        z = net.E(faces[:1]).float().expand(len(labels), -1)
        net.G(torch.cat((z, labels), dim=1))


_WORKLOAD_CALLS = {'train': _train_call, 'personalise': _personalise_call, 'render': _render_call}
