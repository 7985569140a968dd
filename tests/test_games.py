"""The aging, morph and kids games: from Python, from the command line and in the notebooks."""
import os
import shutil

import nbformat
import numpy as np
import pytest
import torch
from PIL import Image

import consts
import main
import data
import images
from conftest import AGING_TILE, OTHER_TILE, REPO, SAMPLE, hostile_files, run_notebook, strip_size

FACE_A = os.path.join(SAMPLE, '38_1_0_20170105001437325.jpg.chip.jpg')
FACE_B = os.path.join(SAMPLE, '70_0_0_20170117174803325.jpg.chip.jpg')


def gif_frames(png):
    with Image.open(images.gif_beside(png)) as gif:
        return gif.n_frames


def tile_border(strip, index, tile=AGING_TILE):
    """The outermost pixel ring of the tile at `index` in a strip array."""
    x, y = 2 + index * (tile + 2), 2
    face = strip[y:y + tile, x:x + tile]
    return np.concatenate((face[0], face[-1], face[:, 0], face[:, -1]))


@pytest.fixture(scope='module')
def net(games_checkpoint):
    consts.NUM_Z_CHANNELS = 50
    from model import Net
    return Net().load(games_checkpoint, slim=True)


@pytest.fixture(scope='module')
def faces():
    return [images.pil_to_model_tensor_transform(images.load_image(p)) for p in (FACE_A, FACE_B)]


def test_reference_notebook_calls(games_checkpoint, tmp_path):
    from torchvision.datasets.folder import pil_loader
    from model import Net
    from utils import pil_to_model_tensor_transform
    consts.NUM_Z_CHANNELS = 50
    net = Net()
    net.load(games_checkpoint, slim=True)
    tmp = str(tmp_path)
    a = pil_to_model_tensor_transform(pil_loader(FACE_A))
    b = pil_to_model_tensor_transform(pil_loader(FACE_B))
    single = net.test_single(image_tensor=a, age=38, gender=1, target=tmp, watermark=False)
    morph = net.morph(image_tensors=(a, b), ages=(5, 70), genders=(0, 1), length=10, target=tmp)
    kids = net.kids(image_tensors=(a, b), length=10, target=tmp)
    assert single == os.path.join(tmp, 'out_female_38.png')
    assert morph == os.path.join(tmp, 'morph.png')
    assert kids == os.path.join(tmp, 'kids.png')
    assert Image.open(single).size == strip_size(11, AGING_TILE)
    assert Image.open(morph).size == strip_size(11, OTHER_TILE)
    assert Image.open(kids).size == strip_size(10, OTHER_TILE)
    assert [gif_frames(p) for p in (single, morph, kids)] == [10, 11, 10]


def test_aging_frames_the_input_and_its_own_age_group(net, faces, tmp_path):
    png = net.test_single(faces[0], age=38, gender=consts.FEMALE, target=str(tmp_path), watermark=False)
    strip = np.asarray(Image.open(png))
    framed = [i for i in range(11) if (tile_border(strip, i) == 255).all()]
    assert framed == [0, data.age_to_group(38) + 1]
    assert all((tile_border(strip, i) == 0).all() for i in range(11) if i not in framed)


def test_aging_watermark_writes_dark_green_on_the_input(net, faces, tmp_path):
    plain, marked = (np.asarray(Image.open(net.test_single(faces[0], 38, consts.MALE, str(tmp_path / str(w)), w)),
                                dtype=int) for w in (False, True))
    assert (plain[:, AGING_TILE + 2:] == marked[:, AGING_TILE + 2:]).all(), 'only the input tile changes'
    dark_green = [(image == (0, 128, 0)).all(axis=2).sum() for image in (plain, marked)]
    assert dark_green[0] == 0 and dark_green[1] > 30


def test_kids_seed_reproduces_the_children(net, faces, tmp_path):
    first, second, other = (np.asarray(Image.open(net.kids(faces, 3, str(tmp_path / name), seed=seed)))
                            for name, seed in (('a', 7), ('b', 7), ('c', 8)))
    assert first.shape == (OTHER_TILE + 4, 3 * (OTHER_TILE + 2) + 2, 3)
    assert (first == second).all() and not (first == other).all()


def run_main(argv, capsys):
    main.main(argv)
    return capsys.readouterr().out.split()


def test_cli_test_mode(games_checkpoint, tmp_path, capsys):
    out = run_main(['--mode', 'test', '--load', games_checkpoint, '--input', FACE_A, '--age', '38',
                    '--gender', 'Female', '--watermark', '--personalise', '0', '--output', str(tmp_path)], capsys)
    assert out == [str(tmp_path / 'out_female_38.png'), str(tmp_path / 'out_female_38.gif')]
    assert Image.open(out[0]).size == strip_size(11, AGING_TILE)
    assert gif_frames(out[0]) == 10


def test_keep_details_gives_the_input_at_its_own_age_and_adds_only_the_change(net, faces, tmp_path):
    import games
    face = faces[0]
    z = net.encode(face[None]).expand(10, -1)
    renders = net.generate(z, data.label_tensor(torch.arange(10), torch.ones(10, dtype=torch.long)))
    detailed = games.with_details(face, renders, renders[5], 5 - torch.arange(10))
    assert torch.allclose(detailed[5], face.clamp(-1, 1))
    older, unclamped = detailed[5:], (detailed[5:] > -1) & (detailed[5:] < 1)
    assert torch.allclose((older - face)[unclamped], (renders[5:] - renders[5])[unclamped], atol=1e-6)
    png = games.aging(net, face, 38, consts.FEMALE, str(tmp_path), keep_details=True)
    assert Image.open(png).size == strip_size(11, AGING_TILE)


def test_keep_details_fades_the_photos_fine_detail_inside_the_face_of_younger_renders(net, faces):
    """Four groups younger, the face keeps only the photo's coarse difference from the render (colour, light);
    outside the face ellipse (hair, background) and at older ages the photo's detail stays whole."""
    import games
    from images import face_mask, gaussian_blur
    face = faces[0]
    z = net.encode(face[None]).expand(10, -1)
    renders = net.generate(z, data.label_tensor(torch.arange(10), torch.zeros(10, dtype=torch.long)))
    residual = face - renders[6]
    coarse = gaussian_blur(residual[None], games.DETAIL_SIGMA, radius=round(3 * games.DETAIL_SIGMA))[0]
    detailed = games.with_details(face, renders, renders[6], 6 - torch.arange(10))
    mask = face_mask()
    inside, outside = (mask == 1).expand_as(face), (mask == 0).expand_as(face)
    unclamped = (detailed > -1) & (detailed < 1)
    for young in (0, 2):  # six and four groups younger: all the fine detail gone
        keep = unclamped[young]
        assert torch.allclose((detailed[young] - renders[young])[inside & keep], coarse[inside & keep], atol=1e-5)
        assert torch.allclose((detailed[young] - renders[young])[outside & keep], residual[outside & keep], atol=1e-5)
    fine = (residual - coarse)[inside & unclamped[4]]  # two groups younger: half of it
    assert torch.allclose((detailed[4] - renders[4] - coarse)[inside & unclamped[4]], fine / 2, atol=1e-5)
    assert fine.abs().mean() > 0.01  # the photo has detail that the render lacks: the fade is visible


def test_cli_games_read_the_z_length_from_the_checkpoint(tmp_path, capsys):
    from model import Net
    model = Net(z_channels=100).save(str(tmp_path / 'z100'), networks=('E', 'G'))
    out = run_main(['--mode', 'kids', '--load', model, '--input', FACE_A, FACE_B, '--output', str(tmp_path)], capsys)
    assert Image.open(out[0]).size == strip_size(10, OTHER_TILE)
    assert consts.NUM_Z_CHANNELS == 50


def test_cli_morph_reads_labels_from_utkface_names(games_checkpoint, tmp_path, capsys):
    out = run_main(['--mode', 'morph', '--load', games_checkpoint, '--input', FACE_A, FACE_B, '--length', '4',
                    '--output', str(tmp_path)], capsys)
    assert out == [str(tmp_path / 'morph.png'), str(tmp_path / 'morph.gif')]
    assert Image.open(out[0]).size == strip_size(5, OTHER_TILE)
    assert gif_frames(out[0]) == 5


def test_cli_kids(games_checkpoint, tmp_path, capsys):
    out = run_main(['--mode', 'kids', '--load', games_checkpoint, '--input', FACE_A, FACE_B, '--length', '3',
                    '--seed', '1', '--output', str(tmp_path)], capsys)
    assert out == [str(tmp_path / 'kids.png'), str(tmp_path / 'kids.gif')]
    assert Image.open(out[0]).size == strip_size(3, OTHER_TILE)
    assert gif_frames(out[0]) == 3


@pytest.mark.parametrize('option, value, expected', [
    ('--age', '121', 'from 0 to 120'),
    ('--age', '-3', 'from 0 to 120'),
    ('--gender', 'x', 'choose from m, male, 0, f, female, 1'),
])
def test_cli_rejects_bad_age_or_gender(option, value, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main(['--mode', 'test', '--input', FACE_A, option, value])
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


def test_cli_needs_one_input_per_face(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main(['--mode', 'morph', '--input', FACE_A])
    assert exit_info.value.code == 2
    assert 'takes 2 --input' in capsys.readouterr().err


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Games without --output write into ./results: keep that out of the repository."""
    monkeypatch.chdir(tmp_path)


def game_error(argv):
    """The one-line message a game exits with."""
    with pytest.raises(SystemExit) as exit_info:
        main.main(argv)
    return exit_info.value.code


def test_cli_missing_or_unreadable_image(games_checkpoint, tmp_path):
    missing = str(tmp_path / 'nobody.jpg')
    assert game_error(['--mode', 'test', '--load', games_checkpoint, '--input', missing, '--age', '30',
                       '--gender', 'm']) == f'error: {missing}: no such file'
    broken = tmp_path / 'broken.jpg'
    broken.write_text('not an image')
    message = game_error(['--mode', 'kids', '--load', games_checkpoint, '--input', FACE_A, str(broken)])
    assert message == f'error: {broken}: this file is not an image: use a JPEG, PNG, WebP or BMP photo'


def test_cli_refuses_postscript_and_pdf_photos_without_starting_a_program(games_checkpoint, tmp_path, no_subprocess):
    for kind, path in hostile_files(tmp_path).items():
        message = game_error(['--mode', 'test', '--load', games_checkpoint, '--input', str(path), '--age', '30',
                              '--gender', 'm'])
        assert message == f'error: {path}: this file is not an image: use a JPEG, PNG, WebP or BMP photo', kind
    assert no_subprocess == []


def test_kids_seed_out_of_range_is_one_line(games_checkpoint, tmp_path):
    message = game_error(['--mode', 'kids', '--load', games_checkpoint, '--input', FACE_A, FACE_B, '--seed',
                          str(2 ** 70), '--output', str(tmp_path)])
    assert message.startswith('error: the seed must be a whole number from 0 to') and '\n' not in message


def test_cli_without_a_model_says_where_one_is_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(consts, 'SHIPPED_MODEL', str(tmp_path / 'utkface_z50'))
    message = game_error(['--mode', 'kids', '--input', FACE_A, FACE_B])
    assert message.startswith('error: no model') and '--load' in message and consts.SHIPPED_MODEL in message


def test_cli_morph_asks_for_labels_of_other_names(games_checkpoint, tmp_path):
    a, b = shutil.copy(FACE_A, tmp_path / 'a.jpg'), shutil.copy(FACE_B, tmp_path / 'b.jpg')
    message = game_error(['--mode', 'morph', '--load', games_checkpoint, '--input', str(a), str(b),
                          '--output', str(tmp_path)])
    assert message.startswith(f'error: {a} is not a UTKFace name') and 'pass --age and --gender' in message


@pytest.mark.slow
@pytest.mark.parametrize('notebook, tiles', [('aging_game', 11), ('morph_game', 11), ('kids_game', 10)])
def test_notebook_runs_top_to_bottom(notebook, tiles, games_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv('CAAE_MODEL', games_checkpoint)
    monkeypatch.setenv('CAAE_RESULTS', str(tmp_path))
    saved = nbformat.read(os.path.join(REPO, notebook + '.ipynb'), as_version=4)
    assert not any(cell.get('outputs') for cell in saved.cells), 'notebooks are saved without outputs'
    nb = run_notebook(notebook)
    pngs = [p for p in os.listdir(tmp_path) if p.endswith('.png')]
    assert len(pngs) == 1
    tile = AGING_TILE if notebook == 'aging_game' else OTHER_TILE
    assert Image.open(tmp_path / pngs[0]).size == strip_size(tiles, tile)
    shown = [kind for cell in nb.cells for output in cell.get('outputs', []) for kind in output.get('data', {})]
    assert shown.count('image/png') >= 1 and 'image/gif' in shown
    if notebook == 'aging_game':  # and the same face personalised, and with keep-details
        for folder in ('personalised', 'keep_details'):
            assert sorted(os.listdir(tmp_path / folder)) == [pngs[0][:-len('png')] + 'gif', pngs[0]]
        assert shown.count('image/png') >= 3


def mirror_game(net, faces, ages, genders, target, options):
    """A toy game: the face redrawn beside its mirror image redrawn, at the face's own age."""
    pair = torch.stack((faces[0], faces[0].flip(-1)))
    z = net.encode(pair)
    redrawn = net.generate(z, data.label_tensor([data.age_to_group(ages[0])] * 2, [genders[0]] * 2)).cpu()
    return images.save_game(os.path.join(target, 'mirror.png'), images.image_strip(redrawn), redrawn,
                            ['face', 'mirrored'])


def test_a_new_game_is_one_entry_in_the_registry(games_checkpoint, tmp_path, monkeypatch, capsys):
    """Registered here alone (nothing else edited), the toy game plays from the command line."""
    import games
    monkeypatch.setitem(games.GAMES, 'mirror', games.Game('mirror', mirror_game, faces=1))
    main.main(['--mode', 'mirror', '--load', games_checkpoint, '--input', FACE_A, '--output', str(tmp_path)])
    png, gif = capsys.readouterr().out.split()
    assert png == str(tmp_path / 'mirror.png') and gif == str(tmp_path / 'mirror.gif')
    assert Image.open(png).size == strip_size(2, OTHER_TILE)
    with Image.open(gif) as animation:
        assert animation.n_frames == 2


def test_every_name_the_reference_kept_in_utils_still_imports_from_there():
    import utils
    for module, names in utils._MOVED.items():
        for name in names:
            assert getattr(utils, name) is getattr(__import__(module), name), name
