"""`main.py --mode train` end to end on a few real faces, and every bad input it must explain."""
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys

import imageio.v2 as imageio
import pytest
import torch
from PIL import Image

import consts
import main
import recipes
import train as train_module
from conftest import AGING_TILE, REPO, copy_sample, load_tool, strip_size
from model import Net

pytestmark = pytest.mark.slow  # every test here trains


def train(*args):
    main.main(['--mode', 'train', '--bs', '4', *map(str, args)])


def replace_reference_step(monkeypatch, step):
    """Train with `step` in place of the reference recipe's step; returns the original step."""
    original = recipes.RECIPES['reference']
    monkeypatch.setitem(recipes.RECIPES, 'reference', dataclasses.replace(original, step=step))
    return original.step


def error_of(*args):
    with pytest.raises(SystemExit) as excinfo:
        train(*args)
    return str(excinfo.value.code)


@pytest.fixture
def trained(raw_faces, tmp_path, monkeypatch):
    """One epoch on 12 faces (4 for validation, two training batches of 4)."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / 'out'
    train('-i', raw_faces, '-o', out)
    return out


def test_one_epoch_writes_every_file(trained):
    assert sorted(os.listdir(trained)) == ['epoch1', 'log.txt', 'run.json', 'session_arguments.txt', 'validation.gif']
    assert sorted(os.listdir(trained / 'epoch1')) == ['Dimg.dat', 'Dz.dat', 'E.dat', 'G.dat', 'losses.json',
                                                      'losses.png', 'training_state.pt', 'validation.png']
    history = json.loads((trained / 'epoch1' / 'losses.json').read_text())
    for name in ('eg', 'reg', 'dz', 'ez', 'di', 'dg', 'valid'):
        assert len(history[name]) == 1 and math.isfinite(history[name][0]), name
    assert history['verdicts'] == ['unknown fitting']
    # 4 originals + 4 reconstructions, round(sqrt(8)) = 3 a row: a 3x3 grid of 128-pixel tiles, 2-pixel padding
    assert Image.open(trained / 'epoch1' / 'validation.png').size == (3 * 130 + 2, 3 * 130 + 2)
    assert Image.open(trained / 'epoch1' / 'losses.png').size == (800, 500)
    assert 'batch_size: 4' in (trained / 'session_arguments.txt').read_text()
    assert 'epoch 1 losses' in (trained / 'log.txt').read_text()
    Net().load(trained / 'epoch1', slim=False)


def test_run_record_names_the_validation_faces_and_each_epoch(trained, raw_faces):
    record = json.loads((trained / 'run.json').read_text())
    assert record['z_channels'] == 50 and record['config']['batch_size'] == 4 and record['config']['seed'] == 0
    assert record['precision'] in ('fp32', 'bf16 autocast') and record['torch'] == torch.__version__
    assert record['dataset_size'] == 12 and len(record['dataset_fingerprint']) == 16
    assert len(record['validation']) == 4 and set(record['validation']) <= set(os.listdir(raw_faces))
    assert [e['epoch'] for e in record['epochs']] == [1] and record['epochs'][0]['images_per_second'] > 0
    assert record['epochs'][0]['grid_pattern'] > 0


def test_eval_takes_the_validation_faces_from_the_run_record(trained, raw_faces, tmp_path):
    """Not from --batch-size: the default 128 would ask for more faces than the 12 there are."""
    main.main(['--mode', 'eval', '--load', str(trained / 'epoch1'), '-i', str(raw_faces), '-o', str(tmp_path / 'ev')])
    result = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    assert result['images'] == 4 and 'run.json' in result['evaluated on']


def test_continuing_gives_the_weights_of_an_uninterrupted_run(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    train('-i', raw_faces, '-o', tmp_path / 'whole', '-e', 2)
    torch.manual_seed(0)
    train('-i', raw_faces, '-o', tmp_path / 'split', '-e', 1)
    torch.manual_seed(123)  # the continuation restores the random generators it needs
    train('-i', raw_faces, '-o', tmp_path / 'split', '-e', 1, '--load', tmp_path / 'split' / 'epoch1')
    for name in ('E', 'G', 'Dz', 'Dimg'):
        whole, split = (torch.load(tmp_path / run / 'epoch2' / f'{name}.dat', weights_only=True) for run in ('whole', 'split'))
        assert all(torch.equal(whole[k], split[k]) for k in whole), name
    histories = [json.loads((tmp_path / run / 'epoch2' / 'losses.json').read_text()) for run in ('whole', 'split')]
    assert histories[0] == histories[1]


def test_a_failed_background_write_stops_the_run(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def full_disk(*args):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(train_module, 'save_image_normalized', full_disk)
    with pytest.raises(OSError, match='No space left'):
        train('-i', raw_faces, '-o', tmp_path / 'out')


def test_continue_with_load(trained, raw_faces):
    train('-i', raw_faces, '-o', trained, '--load', trained / 'epoch1')
    assert (trained / 'epoch2' / 'E.dat').is_file()
    history = json.loads((trained / 'epoch2' / 'losses.json').read_text())
    assert history['epochs'] == [1, 2] and len(history['eg']) == 2
    assert len(imageio.mimread(trained / 'validation.gif')) == 2


def test_validation_gif_of_a_long_run_keeps_first_and_last_epoch_cropped(tmp_path):
    import images
    for epoch in range(1, 8):
        (tmp_path / f'epoch{epoch}').mkdir()
        Image.new('RGB', (300, 200), (epoch * 30, 0, 0)).save(tmp_path / f'epoch{epoch}' / 'validation.png')
    gif = images.save_validation_gif(tmp_path, str(tmp_path / 'small.gif'), box=(100, 50), max_frames=3)
    frames = imageio.mimread(gif)
    assert [f.shape[:2] for f in frames] == [(50, 100)] * 3
    assert [int(f[-1, -1, 0]) for f in frames] == [30, 120, 210]  # epochs 1, 4 and 7


@pytest.mark.parametrize('policy, kept', [('tail', ['epoch2']), ('never', []), ('last', ['epoch2'])])
def test_models_saving_policies(policy, kept, raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train('-i', raw_faces, '-o', tmp_path / 'out', '-e', 2, '--ms', policy)
    with_models = sorted(d for d in os.listdir(tmp_path / 'out')
                         if (tmp_path / 'out' / d / 'E.dat').exists())
    assert with_models == kept
    assert (tmp_path / 'out' / 'epoch1' / 'validation.png').exists()


def test_ctrl_c_saves_the_current_epoch(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    original = replace_reference_step(monkeypatch, interrupted)
    message = error_of('-i', raw_faces, '-o', tmp_path / 'out')
    assert message.startswith('Interrupted')
    Net().load(tmp_path / 'out' / 'epoch1', slim=False)


def test_ctrl_c_with_tail_keeps_the_last_complete_epoch(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the first step of epoch 2
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    original = replace_reference_step(monkeypatch, interrupted)
    assert error_of('-i', raw_faces, '-o', tmp_path / 'out', '-e', 2, '--ms', 'tail').startswith('Interrupted')
    for epoch in ('epoch1', 'epoch2'):
        Net().load(tmp_path / 'out' / epoch, slim=False)
    assert (tmp_path / 'out' / 'epoch1' / 'training_state.pt').is_file()


def test_sigterm_saves_the_current_epoch_as_ctrl_c_does(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    handler_before = signal.getsignal(signal.SIGTERM)

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the first step of epoch 2
            os.kill(os.getpid(), signal.SIGTERM)
        return original(*args, **kwargs)

    original = replace_reference_step(monkeypatch, killed)
    assert error_of('-i', raw_faces, '-o', tmp_path / 'out', '-e', 3).startswith('Interrupted')
    assert len(calls) == 3 and signal.getsignal(signal.SIGTERM) is handler_before
    for epoch in ('epoch1', 'epoch2'):
        Net().load(tmp_path / 'out' / epoch, slim=False)
    assert not (tmp_path / 'out' / 'epoch3').exists()


def test_bad_files_are_skipped_and_counted(raw_faces, tmp_path, monkeypatch, capsys):
    from test_data import write_bad_files, write_odd_images
    monkeypatch.chdir(tmp_path)
    bad = write_bad_files(raw_faces)
    write_odd_images(raw_faces)
    (raw_faces / '39_1_20170116174525125.jpg.chip.jpg').write_bytes(b'x')
    train('-i', raw_faces, '-o', tmp_path / 'out')
    printed = capsys.readouterr().out
    assert '1 skipped' in printed and 'Skipped 3 unreadable image(s)' in printed
    log = (tmp_path / 'out' / 'log.txt').read_text()
    assert all(name in log for name in bad) and '39_1_20170116174525125.jpg.chip.jpg' in log


def test_missing_and_empty_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert error_of('-i', tmp_path / 'nope', '-o', tmp_path / 'o1') == f'error: {tmp_path / "nope"}: input folder does not exist'
    (tmp_path / 'empty').mkdir()
    assert 'no images found' in error_of('-i', tmp_path / 'empty', '-o', tmp_path / 'o2')


def test_output_not_writable(raw_faces, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert error_of('-i', raw_faces, '-o', blocker / 'out') == f'error: {blocker / "out"}: output folder is not writable'


def test_too_few_images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = copy_sample(tmp_path / 'raw', 6)
    assert 'training needs at least 8 (a validation batch of 4 plus one training batch of 4)' in error_of(
        '-i', raw, '-o', tmp_path / 'out')


def test_load_without_checkpoints(raw_faces, tmp_path):
    (tmp_path / 'epoch3').mkdir()
    message = error_of('-i', raw_faces, '-o', tmp_path / 'out', '--load', tmp_path / 'epoch3')
    assert message == f'error: {tmp_path / "epoch3" / "E.dat"}: no such checkpoint file'


def test_load_with_another_z_length(raw_faces, tmp_path):
    Net().save(tmp_path / 'epoch1')
    message = error_of('-i', raw_faces, '-o', tmp_path / 'out', '--load', tmp_path / 'epoch1', '-z', 100)
    assert message == (f'error: {tmp_path / "epoch1" / "E.dat"}: saved with z length 50, but -z 100 was given: '
                       "leave -z out to use the checkpoint's length")


def test_help_lists_every_option_with_its_default():
    result = subprocess.run([sys.executable, 'main.py', '--help'], capture_output=True, text=True, cwd=REPO)
    text = ' '.join(result.stdout.split())
    for option, default in [('--epochs', '1'), ('--models-saving', 'always'), ('--batch-size', '128'),
                            ('--weight-decay', '1e-05'), ('--learning-rate', '0.0002'), ('--b1', '0.5'),
                            ('--b2', '0.999'), ('--shouldplot', 'False'), ('--cpu', 'False'), ('--load', 'None'),
                            ('--input', 'None'), ('--output', ''), ('-z', 'None')]:
        assert option in text
        assert f'(default: {default})' in text.split(option, 1)[1], option


def test_cli_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, 'main.py', '-i', str(tmp_path / 'nope'), '-o', str(tmp_path / 'o')],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert result.stderr.strip().endswith('input folder does not exist')


def test_ship_model_then_eval_reproduces_its_numbers(trained, raw_faces, tmp_path, capsys):
    import ship_model
    dest, doc = tmp_path / 'shipped', tmp_path / 'doc'
    ship_model.main([str(trained / 'epoch1'), '--input', str(raw_faces), '--bs', '4', '--dest', str(dest),
                     '--doc', str(doc)])
    assert sorted(os.listdir(dest)) == ['E.dat', 'G.dat', 'eval.json', 'losses.png', 'run.json', 'validation.png']
    assert all(v.dtype == torch.float16 for v in torch.load(dest / 'G.dat', weights_only=True).values())
    assert sorted(os.listdir(doc)) == sorted([f'{game}_game.png' for game in ('aging', 'morph', 'kids')]
                                             + ['aging_game_keep_details.png', 'aging_game_personalised.png',
                                                'losses.png', 'validation.gif'])
    for strip in ('aging_game', 'aging_game_keep_details', 'aging_game_personalised'):
        assert Image.open(doc / f'{strip}.png').size == strip_size(11, AGING_TILE)
    shipped = json.loads((dest / 'eval.json').read_text())
    main.main(['--mode', 'eval', '--load', str(dest), '--input', str(raw_faces), '--bs', '4', '-o', str(tmp_path / 'ev')])
    evaluated = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    assert {k: evaluated[k] for k in shipped} == shipped


def test_pack_run_sends_back_the_newest_epoch_as_fp16_and_its_pictures(trained, tmp_path):
    load_tool('pack_run').main(str(trained), str(tmp_path / 'weights'), str(tmp_path / 'pictures'))
    assert sorted(os.listdir(tmp_path / 'weights' / 'epoch1')) == ['E.dat', 'G.dat']
    assert all(v.dtype == torch.float16 for v in torch.load(tmp_path / 'weights' / 'epoch1' / 'G.dat', weights_only=True).values())
    assert sorted(os.listdir(tmp_path / 'pictures')) == ['epoch1', 'log.txt', 'run.json', 'session_arguments.txt']
    assert sorted(os.listdir(tmp_path / 'pictures' / 'epoch1')) == ['losses.json', 'losses.png', 'validation.png']


def test_plus_recipe_trains_records_its_losses_and_continues_exactly(raw_faces, tmp_path, monkeypatch):
    """Fine-tuning E and G of another run with --recipe plus (an untrained classifier stands in for the shipped one)."""
    import estimators
    monkeypatch.chdir(tmp_path)
    estimators.save(estimators.AgeClassifier(), 'classifier', str(tmp_path / 'ages'))
    start = Net().save(str(tmp_path / 'start'), networks=('E', 'G'))
    plus = ['--recipe', 'plus', '--age-classifier', tmp_path / 'ages', '--weight', 'way_back=2']
    torch.manual_seed(0)
    train('-i', raw_faces, '-o', tmp_path / 'whole', '-e', 2, '--init', start, *plus)
    history = json.loads((tmp_path / 'whole' / 'epoch2' / 'losses.json').read_text())
    for name in ('eg', 'dz', 'di', 'dg', 'age', 'latent', 'back', 'colour', 'valid'):
        assert len(history[name]) == 2 and all(math.isfinite(v) for v in history[name]), name
    record = json.loads((tmp_path / 'whole' / 'run.json').read_text())
    assert record['config']['recipe'] == 'plus' and record['weights']['age'] > 0
    assert record['weights']['way_back'] == 2 and record['config']['weights'] == {'way_back': 2}
    torch.manual_seed(0)
    train('-i', raw_faces, '-o', tmp_path / 'split', '-e', 1, '--init', start, *plus)
    train('-i', raw_faces, '-o', tmp_path / 'split', '-e', 1, '--load', tmp_path / 'split' / 'epoch1', *plus)
    for name in ('E', 'G', 'Dz', 'Dimg'):
        whole, split = (torch.load(tmp_path / run / 'epoch2' / f'{name}.dat', weights_only=True) for run in ('whole', 'split'))
        assert all(torch.equal(whole[k], split[k]) for k in whole), name


def test_plus_cross_age_labels_and_skin_tone():
    """The cross-age faces are asked for another age group with the same gender; the skin tone is the face box's mean."""
    from data import label_tensor
    from losses import face_colour, other_age_groups, with_age_groups
    labels = label_tensor(torch.arange(10).repeat(2), torch.arange(2).repeat_interleave(10))
    groups = other_age_groups(labels, torch.Generator().manual_seed(0))
    crossed = with_age_groups(labels, groups)
    assert (groups != labels[:, :10].argmax(1)).all() and torch.equal(crossed[:, :10].argmax(1), groups)
    assert torch.equal(crossed[:, 10:], labels[:, 10:]) and set(crossed.unique().tolist()) == {-1.0, 1.0}
    faces = -torch.ones(2, 3, 128, 128)
    top, bottom, left, right = consts.FACE_BOX
    faces[1, 0, top:bottom, left:right] = 0.5  # a red face on a black picture: only the box counts
    assert torch.allclose(face_colour(faces), torch.tensor([[-1.0, -1, -1], [0.5, -1, -1]]))


def test_the_cycle_blur_wipes_out_a_checkerboard_but_keeps_a_face(raw_faces):
    """A faint pixel-scale pattern (the kind G could hide the person in) does not survive what the cycles encode."""
    from images import load_image, pil_to_model_tensor_transform
    from images import gaussian_blur as blur
    face = pil_to_model_tensor_transform(load_image(os.path.join(raw_faces, sorted(os.listdir(raw_faces))[0])))[None]
    rows, columns = torch.meshgrid(torch.arange(128), torch.arange(128), indexing='ij')
    checkerboard = 0.05 * (((rows + columns) % 2) * 2 - 1).float().expand(1, 3, 128, 128)
    inner = (slice(None), slice(None), slice(4, -4), slice(4, -4))
    assert blur(checkerboard)[inner].abs().max() < 0.05 / 10
    assert (blur(face) - face)[inner].abs().mean() < 0.05


def plus_step_result(weights):
    """E and G after one plus step from the same start and seed (a random classifier; two faces)."""
    import estimators
    from data import label_tensor
    torch.manual_seed(0)
    net = Net()
    optimizers = train_module.make_optimizers(net, train_module.TrainConfig(data=''))
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    labels = label_tensor([3, 7], [0, 1])
    recipes.plus_step(net, optimizers, images, labels, weights, classifier=estimators.AgeClassifier())
    return {name: net.networks[name].state_dict() for name in ('E', 'G', 'Dimg')}


@pytest.mark.parametrize('change', [{'total_variation': 1.0}, {'cycle_noise': 0.05}, {'feature_matching': 10.0}])
def test_smoothness_cycle_noise_and_feature_matching_change_the_step_only_when_given(change):
    default, again, changed = (plus_step_result(recipes.PlusWeights(**c)) for c in ({}, {}, change))
    assert all(torch.equal(default['G'][k], again['G'][k]) for k in default['G'])
    assert not all(torch.equal(default['G'][k], changed['G'][k]) for k in default['G'])
    assert all(torch.equal(default['Dimg'][k], changed['Dimg'][k]) for k in default['Dimg'])  # G's terms only


def test_an_unknown_weight_is_one_line(raw_faces, capsys):
    for option in ('--weight', '--plus-weight'):
        with pytest.raises(SystemExit):
            train('-i', raw_faces, '--recipe', 'plus', option, 'wrinkles=1')
        assert "invalid weight 'wrinkles=1': give NAME=VALUE with NAME one of reconstruction" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train('-i', raw_faces, '--weight', 'age=0')  # a plus weight, but the reference recipe
    assert "NAME one of reconstruction, total_variation, z_prior, adversarial" in capsys.readouterr().err


def test_load_and_init_together_are_refused(raw_faces, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train('-i', raw_faces, '--load', tmp_path, '--init', tmp_path)
    assert '--load continues a run, --init starts a new one' in capsys.readouterr().err


@dataclasses.dataclass
class ToyWeights:
    reconstruction: float = 1.0


def toy_step(net, optimizers, images, labels, weights=ToyWeights(), modules=None, classifier=None):
    """A recipe of one term: E and G learn to redraw the faces (no discriminator)."""
    import losses
    import torch.nn.functional as F
    m = modules or net.networks
    with net.autocast():
        generated = m['G'](torch.cat((m['E'](images), labels), dim=1))
    redraw = F.l1_loss(generated.float(), images.float())
    losses.step(optimizers['eg'], weights.reconstruction * redraw)
    return redraw.detach()[None]


def test_a_new_recipe_is_one_entry_in_the_registry(raw_faces, tmp_path, monkeypatch):
    """Registered here alone (nothing else edited), the toy recipe trains from the command line with its weight."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(recipes.RECIPES, 'toy', recipes.Recipe('toy', toy_step, ('redraw',), ToyWeights))
    train('-i', raw_faces, '-o', tmp_path / 'out', '-e', 2, '--recipe', 'toy', '--weight', 'reconstruction=2')
    history = json.loads((tmp_path / 'out' / 'epoch2' / 'losses.json').read_text())
    assert len(history['redraw']) == 2 and all(math.isfinite(v) for v in history['redraw'])
    record = json.loads((tmp_path / 'out' / 'run.json').read_text())
    assert record['config']['recipe'] == 'toy' and record['weights'] == {'reconstruction': 2.0}
