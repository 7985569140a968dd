"""--precision auto picks each workload's precision (train, personalise, render) on its own: on CUDA bf16 where
supported, on a CPU without AMX or AVX512-BF16 fp32 without measuring, elsewhere whichever a measurement finds
faster, measured once and cached in $CAAE_CACHE_DIR/precision.json. The measurement is replaced by a counting fake
here (no timings in tests)."""
import json

import pytest
import torch

import consts
import precision
from model import Net


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """A fresh cache folder, and a CPU where bf16 may be fast (so that auto measures) unless a test says otherwise."""
    monkeypatch.setenv('CAAE_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setattr(precision, 'cpu_may_have_fast_bf16', lambda: True)
    return tmp_path / 'cache'


class FakeMeasure:
    """Counts its calls per workload; (fp32 s, bf16 s) with bf16 faster for the workloads in `bf16_faster`."""

    def __init__(self, bf16_faster=precision.WORKLOADS):
        self.bf16_faster, self.calls = set(bf16_faster), []

    def __call__(self, workload, *args, **kwargs):
        self.calls.append(workload)
        return (1.0, 0.5) if workload in self.bf16_faster else (1.0, 1.2)

    def of(self, workload):
        """A measure() for precision.autocast_dtype."""
        return lambda: self(workload)


def never_measure(*args, **kwargs):
    raise AssertionError('measured')


def test_the_answer_is_measured_once_written_to_the_cache_and_read_back(cache_dir):
    measure = FakeMeasure(bf16_faster={'train'})
    for _ in range(2):
        assert precision.autocast_dtype('cpu', 'auto', 'train', measure.of('train')) is torch.bfloat16
        assert precision.autocast_dtype('cpu', 'auto', 'render', measure.of('render')) is None
    assert measure.calls == ['train', 'render']
    cache = json.loads((cache_dir / 'precision.json').read_text())
    assert {w: e['precision'] for w, e in cache[precision.cpu_key()].items()} == {'train': 'bf16', 'render': 'fp32'}
    assert not [p for p in cache_dir.iterdir() if p.name != 'precision.json']  # no temporary file left


def test_nets_share_the_cache_and_each_workload_has_its_own_precision(monkeypatch):
    measure = FakeMeasure(bf16_faster={'render'})
    monkeypatch.setattr(precision, 'measure_precisions', measure)
    net = Net()
    assert net.autocast_dtype is None and net.workload_dtype('render') is torch.bfloat16
    assert net.workload_dtype('personalise') is None
    again = Net()
    assert [again.workload_dtype(w) for w in precision.WORKLOADS] == [None, None, torch.bfloat16]
    assert sorted(measure.calls) == sorted(precision.WORKLOADS)


class Recorder(torch.nn.Module):
    """Stands in for E or G: records the autocast state it runs under, returns zeros of E's or G's shape."""

    def __init__(self, shape):
        super().__init__()
        self.shape, self.seen = shape, []

    def forward(self, x):
        self.seen.append(torch.get_autocast_dtype('cpu') if torch.is_autocast_enabled('cpu') else None)
        return torch.zeros(len(x), *self.shape)


def test_encode_and_generate_render_and_the_training_context_trains(monkeypatch):
    monkeypatch.setattr(precision, 'measure_precisions', FakeMeasure(bf16_faster={'render'}))
    net = Net()
    net.E, net.G = Recorder([net.z_channels]), Recorder([3, 8, 8])
    z = net.encode(torch.zeros(2, 3, consts.IMAGE_LENGTH, consts.IMAGE_LENGTH, dtype=torch.uint8))
    net.generate(z, torch.zeros(2, consts.LABEL_LEN))
    with net.autocast():
        net.E(torch.zeros(1))
    with net.autocast('personalise'):
        net.G(torch.zeros(1))
    assert net.E.seen == [torch.bfloat16, None] and net.G.seen == [torch.bfloat16, None]


@pytest.mark.parametrize('cache_text', ['{not json', '[1, 2]', '{"KEY": "fp32"}', '{"KEY": {"render": "bf16"}}',
                                        '{"KEY": {"render": {"precision": "fp16"}}}', '\x00\xff'])
def test_a_corrupt_cache_is_ignored_and_rewritten(cache_dir, cache_text):
    cache_dir.mkdir()
    (cache_dir / 'precision.json').write_text(cache_text.replace('KEY', precision.cpu_key().replace('"', '')))
    measure = FakeMeasure()
    assert precision.autocast_dtype('cpu', 'auto', 'render', measure.of('render')) is torch.bfloat16
    assert measure.calls == ['render']
    entry = json.loads((cache_dir / 'precision.json').read_text())[precision.cpu_key()]['render']
    assert entry['precision'] == 'bf16'


def test_a_cache_that_cannot_be_written_is_measured_again_without_a_traceback(cache_dir, monkeypatch):
    cache_dir.parent.mkdir(exist_ok=True)
    cache_dir.write_text('a file where the folder should be')
    measure = FakeMeasure()
    for _ in range(2):
        assert precision.autocast_dtype('cpu', 'auto', 'train', measure.of('train')) is torch.bfloat16
    assert measure.calls == ['train', 'train']


def test_a_measurement_that_fails_runs_fp32_and_is_not_cached(cache_dir):
    def failing():
        raise RuntimeError('no bf16 kernel for this operator')
    assert precision.autocast_dtype('cpu', 'auto', 'personalise', failing) is None
    assert not (cache_dir / 'precision.json').exists()


def test_the_cache_key_tells_thread_counts_apart(monkeypatch):
    measure = FakeMeasure()
    precision.autocast_dtype('cpu', 'auto', 'render', measure.of('render'))
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 97)
    precision.autocast_dtype('cpu', 'auto', 'render', measure.of('render'))
    assert measure.calls == ['render', 'render']


@pytest.mark.parametrize('forced, dtype', [('fp32', None), ('bf16', torch.bfloat16)])
def test_a_forced_precision_holds_for_every_workload_without_measuring(monkeypatch, cache_dir, forced, dtype):
    monkeypatch.setattr(precision, 'measure_precisions', never_measure)
    net = Net(precision=forced)
    assert [net.workload_dtype(w) for w in precision.WORKLOADS] == [dtype] * 3 and net.autocast_dtype is dtype
    with net.autocast('render'):
        assert torch.is_autocast_enabled('cpu') is (dtype is not None)
    assert not cache_dir.exists()


def test_a_cpu_without_amx_or_avx512_bf16_runs_fp32_without_measuring(monkeypatch, cache_dir):
    monkeypatch.undo()  # the real cpu_may_have_fast_bf16, on a CPU that has neither
    monkeypatch.setenv('CAAE_CACHE_DIR', str(cache_dir))
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: False)
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)
    monkeypatch.setattr(precision, 'measure_precisions', never_measure)
    assert [Net().workload_dtype(w) for w in precision.WORKLOADS] == [None] * 3
    assert not cache_dir.exists()


def test_unknown_workloads_are_refused():
    with pytest.raises(ValueError, match='workload'):
        Net(precision='fp32').autocast('paint')
