"""What every module shares: the one-line errors, the log, folder checks, and the precision each workload runs at.

The rest of what the reference kept in utils now lives in modules named for it (data, images, checkpoints,
loss_tracker); their names stay importable from here, so `utils.pil_to_model_tensor_transform` and the
other names the reference's notebooks use keep working.
"""
import contextlib
import datetime
import hashlib
import importlib
import json
import logging
import os
import platform
import tempfile
import threading

import torch
from tqdm import tqdm

log = logging.getLogger('caae')

WORKLOADS = ('train', 'personalise', 'render')  # what auto picks a precision for, each on its own (autocast_dtype)
BF16_MARGIN = 0.95  # auto picks bf16 only where it takes under 95% of fp32's time: fp32 is the more exact
_measuring = threading.Lock()  # one measurement at a time, so that threads do not slow each other's


class InputError(ValueError):
    """A problem with the user's input, reported as one line without a traceback."""


class CheckpointError(InputError):
    """A checkpoint that is missing, unsafe or does not fit the network."""


def print_timestamp(message):
    line = f'[{datetime.datetime.now():%H:%M:%S}] {message}'
    tqdm.write(line)
    log.info(message)


def is_writable_folder(path):
    """True if files can be created in `path` (created if missing).

    A folder without write bits counts as read-only even for root (who could write there anyway),
    so that read-only data such as ../shared/UTKFace is never written to."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.stat(existing).st_mode & 0o222:
        return False
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


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


_MOVED = {
    'data': ('age_to_group', 'label_tensor', 'class_name', 'parse_class_name', 'parse_utkface_name', 'random_face',
             'sort_to_classes', 'resolve_labeled_folder', 'list_labeled_images', 'FaceDataset'),
    'images': ('pil_to_uint8', 'to_model_range', 'pil_to_model_tensor_transform', 'model_tensor_to_uint8',
               'load_image', 'merge_images', 'image_grid', 'save_image_normalized', 'save_png', 'label_frame',
               'save_gif', 'image_strip', 'watermark', 'gif_beside', 'save_game', 'save_validation_gif',
               'validation_grids', 'top_left', 'thumbnail'),
    'checkpoints': ('atomic_path', 'save_state_dict', 'load_state_dict', 'default_where_to_save'),
    'loss_tracker': ('LossTracker',),
}


def __getattr__(name):
    """The reference's utils names, from the module that holds each now (imported on first use: no cycles)."""
    for module, names in _MOVED.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'utils' has no attribute {name!r}")
