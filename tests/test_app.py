"""The web page's functions without a browser: continuous ages, the photo aged at its own size, paste-back, bad
uploads, the model picker, and the page under load (200 requests from several clients at once through its own
queue)."""
import os
import random
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import consts
from conftest import REPO, SAMPLE, hostile_files, strip_size

import align
import app  # importing the page's module must not start a server
import games
import utils
import data
import images
from web import actions, pictures, server
from web.aging_tab import AgingTab
from web.kids_tab import KidsTab
from web.morph_tab import MorphTab
from web.tab import SESSION_TTL_S, undecoded

SHIPPED = REPO / 'trained_models' / 'utkface_z50'


def sample_faces(count):
    names = sorted(p.name for p in SAMPLE.iterdir())
    return [SAMPLE / n for n in names[::len(names) // count][:count]]


@pytest.fixture(scope='module')
def net(games_checkpoint):
    from model import Net
    net = Net()
    net.load(games_checkpoint)
    net.eval()
    return net


@pytest.fixture(scope='module')
def games_models(games_checkpoint):
    """web.actions.Models with the briefly trained checkpoint as its one model, 'games'."""
    return actions.Models({'games': games_checkpoint})


def portrait_photo(folder, size, name='portrait.jpg'):
    """skimage's astronaut on a grey canvas of `size` (w, h), scaled to 3/4 of its height: a JPEG's path."""
    from skimage import data
    side = size[1] * 3 // 4
    canvas = Image.new('RGB', size, 'grey')
    canvas.paste(Image.fromarray(data.astronaut()).resize((side, side), Image.LANCZOS), ((size[0] - side) // 2, 0))
    path = Path(folder) / name
    canvas.save(path, quality=95)
    return path


def rendered_face(net, z, years, gender):
    """The face of z at an age in years (continuous, games.age_label): uint8 128x128x3."""
    return images.model_tensor_to_uint8(games.render_ages(net, z, [years], gender))[0]


def photo_state(net, prepared):
    """A loaded photo's state as web.actions.load_photo makes it, without the page's own entries."""
    return {'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box,
            'z': actions.encode(net, prepared.crop)}


# ---------------------------------------------------------------- continuous ages

@pytest.mark.parametrize('gender', [consts.MALE, consts.FEMALE])
def test_age_label_at_a_group_centre_is_the_group_label(gender):
    for group, centre in enumerate(games.AGE_GROUP_CENTRES):
        assert data.age_to_group(centre) == group
        assert torch.equal(games.age_label(centre, gender), data.label_tensor(group, gender))


def test_age_label_halfway_blends_the_two_neighbours_and_clamps_outside():
    centres = games.AGE_GROUP_CENTRES
    for group in range(consts.NUM_AGES - 1):
        label = games.age_label((centres[group] + centres[group + 1]) / 2, consts.FEMALE)
        expected = -torch.ones(consts.NUM_AGES)
        expected[group] = expected[group + 1] = 0.0
        assert torch.allclose(label[:consts.NUM_AGES], expected)
        assert torch.equal(label[consts.NUM_AGES:], data.label_tensor(group, consts.FEMALE)[consts.NUM_AGES:])
    quarter = games.age_label(centres[4] + (centres[5] - centres[4]) / 4, consts.MALE)
    assert torch.allclose(quarter[4:6], torch.tensor([0.5, -0.5]))
    assert torch.equal(games.age_label(0, 0), data.label_tensor(0, 0))
    assert torch.equal(games.age_label(100, 1), data.label_tensor(consts.NUM_AGES - 1, 1))
    ages = np.linspace(0, 100, 201)
    weights = torch.stack([games.age_weights(a) for a in ages])
    assert torch.allclose(weights.sum(1), torch.ones(len(ages)))
    assert (weights.diff(dim=0).abs().sum(1) < 0.25).all()  # no jumps between neighbouring slider positions


def test_render_at_a_centre_is_todays_rendering_and_halfway_lies_between(net):
    face = images.pil_to_model_tensor_transform(images.load_image(sample_faces(1)[0]))
    z = games.encode_face(net, face)
    groups = torch.arange(consts.NUM_AGES)
    today = net.generate(z.expand(consts.NUM_AGES, -1), data.label_tensor(groups, torch.ones_like(groups))).cpu()
    centres = games.render_ages(net, face, list(games.AGE_GROUP_CENTRES), consts.FEMALE)
    assert torch.equal(centres, today)
    centres = games.AGE_GROUP_CENTRES
    for group in range(consts.NUM_AGES - 1):
        halfway = games.render_ages(net, z, [(centres[group] + centres[group + 1]) / 2], consts.MALE)
        blend = (data.label_tensor(group, consts.MALE) + data.label_tensor(group + 1, consts.MALE)) / 2
        assert torch.allclose(halfway, net.generate(z, blend[None]).cpu(), atol=1e-6)


def test_smooth_aging_gif(net, tmp_path):
    face = images.pil_to_model_tensor_transform(images.load_image(sample_faces(1)[0]))
    path = games.save_smooth_aging_gif(net, face, consts.MALE, str(tmp_path / 'smooth.gif'), frames=9)
    with Image.open(path) as gif:
        assert gif.n_frames == 9 and gif.size == (128, 128)
    assert games.smooth_ages(5) == [0, 25, 50, 75, 100]


def test_smooth_aging_gif_from_the_command_line(games_checkpoint, tmp_path, capsys):
    import main
    face = sample_faces(1)[0]
    main.main(['--mode', 'test', '--input', str(face), '--smooth', '5', '--personalise', '0', '--load', games_checkpoint,
               '-o', str(tmp_path)])
    png, gif, smooth = capsys.readouterr().out.split()
    assert smooth == png[:-len('.png')] + '_smooth.gif'
    with Image.open(smooth) as frames:
        assert frames.n_frames == 5


# ---------------------------------------------------------------- paste-back

def test_paste_back_changes_only_the_face(astronaut):
    photo = actions.read_upload(astronaut)
    prepared = actions.prepare_upload(astronaut)
    assert prepared.boxes and prepared.face_index == 0
    other = np.asarray(Image.open(sample_faces(1)[0]).convert('RGB').resize((128, 128)))
    pasted = np.asarray(align.paste_back(photo, other, prepared.crop_box, reference=prepared.crop))
    original = np.asarray(photo)
    assert pasted.shape == original.shape
    alpha = align.paste_mask(128)
    matrix = align.face_to_image_matrix(prepared.crop_box, 128)
    import cv2
    footprint = cv2.warpAffine(alpha, matrix, photo.size, flags=cv2.INTER_LINEAR, borderValue=0) > 0
    assert np.array_equal(pasted[~footprint], original[~footprint])  # outside the face: the very same pixels
    x, y, w, h = prepared.boxes[0]
    inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    assert np.abs(pasted[inner].astype(int) - original[inner]).mean() > 5  # the face itself changed
    side = np.hypot(*np.subtract(prepared.crop_box[1], prepared.crop_box[0]))
    assert footprint.sum() < 0.65 * side ** 2  # a face-shaped ellipse, not the whole square


def test_paste_back_of_the_crop_itself_gives_the_photo_back(astronaut):
    prepared = actions.prepare_upload(astronaut)
    again = np.asarray(align.paste_back(prepared.photo, prepared.crop, prepared.crop_box), dtype=float)
    x, y, w, h = prepared.boxes[0]
    face = (slice(y, y + h), slice(x, x + w))
    assert np.abs(again[face] - np.asarray(prepared.photo, dtype=float)[face]).mean() < 6  # only resampling blur


def test_colour_matching_moves_the_face_to_the_photos_colours():
    mask = align.paste_mask(128)
    reference = np.full((128, 128, 3), (200, 150, 120), np.uint8)
    face = np.full((128, 128, 3), (90, 90, 160), np.uint8)
    matched = align.match_colours(face, reference, mask)
    assert np.abs(matched.astype(int) - reference).max() <= 3


def test_the_page_shows_the_photo_itself_at_its_own_size_and_only_its_face_changes(games_models, tmp_path):
    """A 1200x900 photo comes back 1200x900 at every slider position (photo_aging.PhotoAger, the person being the
    "Age of the person in the photo"): every pixel outside the face region is the photo's, the face changed; the
    128-px face at that age is the secondary view."""
    path = portrait_photo(tmp_path, (1200, 900))
    loaded = actions.load_photo(games_models, str(path), 'games', labels=(70.0, 'female'), photo_age=35)
    assert loaded.message == 'Ready: one face found. Drag the age slider.'
    assert loaded.aged.size == (1200, 900) and loaded.aged_face.size == (pictures.FACE_SHOW_SIDE,) * 2
    page = AgingTab(games_models, str(tmp_path), server.IdleMemoryTrim(trim=lambda _: None))
    photo = np.asarray(actions.read_upload(path), dtype=int)
    x0, y0, x1, y1 = pictures.face_region(loaded.state)
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    for years in (5, 70):
        aged, face, message = page.on_age(loaded.state, 'games', years, 'female', False, 35)
        aged = np.asarray(aged, dtype=int)
        assert aged.shape == photo.shape and face.size == (pictures.FACE_SHOW_SIDE,) * 2
        assert np.array_equal(aged[outside], photo[outside]) and message == f'Age {years:g} years.'
    assert np.abs(np.asarray(loaded.state['photo'], dtype=int) - photo).max() == 0
    child = np.asarray(page.on_age(loaded.state, 'games', 5, 'female', False, 35)[0], dtype=int)
    assert np.abs(child[~outside] - photo[~outside]).mean() > 0.5  # the face changed (its adult detail fades)
    at_own_age, _ = pictures.aged_view(games_models.get('games'), loaded.state, 35, 1, photo_age=35)
    assert np.array_equal(np.asarray(at_own_age), np.asarray(loaded.state['photo']))  # no change at its own age


def test_a_photo_over_the_cap_is_aged_at_the_cap_and_the_message_says_so(games_models, tmp_path):
    """Detection and alignment run on a WORK_MAX_SIDE copy; the crop's corners are moved onto the photo kept at
    SHOW_MAX_SIDE, so the face cut there is the framed face."""
    path = portrait_photo(tmp_path, (5000, 3000))
    prepared = actions.prepare_upload(path)
    assert prepared.photo.size == (pictures.SHOW_MAX_SIDE, 1800) and prepared.upload_size == (5000, 3000)
    framed = align.AlignedFace(prepared.crop, None, prepared.crop_box, photo=prepared.photo)
    cut_again = np.asarray(align.face_chip(framed, prepared.photo), dtype=int)
    assert np.abs(cut_again - np.asarray(prepared.crop, dtype=int)).mean() < 3
    loaded = actions.load_photo(games_models, str(path), 'games', labels=(50.0, 'female'), photo_age=35)
    assert '(the photo, 5000x3000, is shown aged at 3000x1800)' in loaded.message
    assert loaded.aged.size == (3000, 1800)


def test_a_utkface_chip_and_the_whole_image_are_aged_whole(games_models, tmp_path):
    from skimage import data
    chip = sample_faces(1)[0]
    loaded = actions.load_photo(games_models, str(chip), 'games')
    assert loaded.state['crop_box'] == ((0, 0), (200, 0), (200, 200), (0, 200)) and loaded.aged.size == (200, 200)
    cat = tmp_path / 'cat.png'
    Image.fromarray(data.chelsea()).save(cat)
    loaded = actions.load_photo(games_models, str(cat), 'games', whole=True, labels=(8.0, 'male'), photo_age=35)
    assert loaded.state['crop_box'] == ((0, 0), (451, 0), (451, 300), (0, 300)) and loaded.aged.size == (451, 300)
    assert loaded.message.startswith('Ready: the whole image is used.')


def test_the_strip_is_the_aged_photos_face_region_the_photo_first(net, tmp_path):
    """Eleven tiles of the face region (photo_aging.face_region), each STRIP_HEIGHT high: the photo's own, then the
    photo aged to each group's centre as the slider shows it there."""
    prepared = actions.prepare_upload(portrait_photo(tmp_path, (1200, 900)))
    state = photo_state(net, prepared)
    strip = pictures.group_strip(net, state, 1, 35)
    region = pictures.face_region(state)
    height, pad = pictures.STRIP_HEIGHT, pictures.STRIP_PADDING
    width = round((region[2] - region[0]) * height / (region[3] - region[1]))
    assert strip.shape == (height + 2 * pad, 11 * (width + pad) + pad, 3)
    tiles = [strip[pad:pad + height, pad + i * (width + pad):pad + i * (width + pad) + width].astype(int)
             for i in range(11)]
    shown = [prepared.photo] + [pictures.aged_view(net, state, years, 1, photo_age=35)[0]
                                for years in games.AGE_GROUP_CENTRES]
    for tile, photo in zip(tiles, shown):
        expected = np.asarray(photo.crop(region).resize((width, height), Image.LANCZOS), dtype=int)
        assert np.abs(tile - expected).mean() < 0.5
    assert np.abs(tiles[0] - tiles[1]).mean() > 0.5  # the face aged
    assert (strip[:pad, :width + 2 * pad] == 255).all()  # the photo's own tile is framed in white


def test_keep_details_on_the_page_gives_the_photo_at_its_own_age_and_the_games_change_elsewhere(net, astronaut):
    """The 128-px face at the photo's age, keeping its details, is the framed face itself; at a group centre, the
    aging game's keep-details render of that group (games.with_details, the same fade)."""
    prepared = actions.prepare_upload(astronaut)
    state = photo_state(net, prepared)
    _, same = pictures.aged_view(net, state, 35.5, 1, details=True, photo_age=35.5)
    assert same == pictures.show_face(np.asarray(prepared.crop))
    crop = actions.pil_to_model_tensor_transform(prepared.crop)
    renders = games.render_ages(net, state['z'], list(games.AGE_GROUP_CENTRES), 1)
    expected = games.with_details(crop, renders, renders[5], 5 - torch.arange(10))
    young = np.asarray(pictures.aged_view(net, state, 8.0, 1, details=True, photo_age=35.5)[1], dtype=int)
    expected_view = pictures.show_face(images.model_tensor_to_uint8(expected[1:2])[0])
    assert np.abs(young - np.asarray(expected_view, dtype=int)).max() <= 1
    assert np.abs(young - np.asarray(pictures.aged_view(net, state, 8.0, 1)[1], dtype=int)).mean() > 1


@pytest.mark.slow
def test_a_personalised_net_draws_the_framed_face_closer_at_its_age_and_needs_the_classifier(astronaut, tmp_path):
    """The page's personalisation (personalise.py through web.actions.personalised_net) on a real photo with the
    shipped plus model; without the age classifier it says so in one sentence."""
    from model import Net
    plus = Net.from_checkpoint(str(REPO / consts.SHIPPED_MODEL))
    prepared = actions.prepare_upload(astronaut)
    state = photo_state(plus, prepared)
    tuned = actions.personalised_net(plus, prepared.crop, 35, consts.FEMALE)
    photo = np.asarray(pictures.show_face(np.asarray(prepared.crop)), dtype=int)
    error = [np.abs(np.asarray(pictures.aged_view(n, state, 35, consts.FEMALE)[1], dtype=int) - photo).mean()
             for n in (plus, tuned)]
    assert error[1] < 0.8 * error[0]
    with pytest.raises(utils.InputError, match='Personalising needs the age classifier'):
        actions.personalised_net(plus, prepared.crop, 35, consts.FEMALE, classifier_folder=tmp_path)


# ---------------------------------------------------------------- bad input

def bad_files(folder):
    """{name: (path, words the message must hold)} for every kind of bad upload."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    text = folder / 'notes.jpg'
    text.write_text('this is not a picture\n')
    files['not an image'] = (text, 'not an image')
    empty = folder / 'empty.png'
    empty.write_bytes(b'')
    files['empty'] = (empty, 'empty')
    big = folder / 'big.png'
    Image.new('1', (8000, 6000)).save(big)  # 48 megapixels, a few kB on disk
    files['over 40 megapixels'] = (big, 'megapixels')
    bomb = folder / 'bomb.png'
    Image.new('1', (20000, 20000)).save(bomb)  # 400 megapixels: PIL's own bomb check fires first
    files['decompression bomb'] = (bomb, 'decompression bomb')
    frames = [Image.new('RGB', (64, 64), colour) for colour in ('red', 'blue')]
    for suffix in ('png', 'webp'):
        animated = folder / f'animated.{suffix}'
        frames[0].save(animated, save_all=True, append_images=frames[1:], duration=100, loop=0)
        files[f'animated {suffix}'] = (animated, 'Animated')
    gif = folder / 'still.gif'
    frames[0].save(gif)
    files['GIF (not a format we read)'] = (gif, 'JPEG, PNG, WebP or BMP')
    import cv2
    deep = folder / 'deep.png'
    cv2.imwrite(str(deep), (np.random.default_rng(0).random((64, 64, 3)) * 65535).astype(np.uint16))
    files['16-bit RGB'] = (deep, '16-bit')
    deep_gray = folder / 'deep_gray.png'
    cv2.imwrite(str(deep_gray), (np.random.default_rng(0).random((64, 64)) * 65535).astype(np.uint16))
    files['16-bit gray'] = (deep_gray, '16-bit')
    truncated = folder / 'truncated.jpg'
    truncated.write_bytes(Path(sample_faces(1)[0]).read_bytes()[:600])
    files['truncated'] = (truncated, 'damaged')
    for kind, path in hostile_files(folder / 'hostile').items():
        files[kind] = (path, 'not an image')
    return files


def test_every_bad_upload_is_one_clear_message(tmp_path, no_subprocess):
    for kind, (path, words) in bad_files(tmp_path).items():
        with pytest.raises(utils.InputError) as error:
            actions.read_upload(path)
        message = str(error.value)
        assert words in message and '\n' not in message and str(tmp_path) not in message, (kind, message)
    with pytest.raises(utils.InputError, match='Upload a photo first'):
        actions.read_upload(None)
    assert no_subprocess == []


def test_loading_a_photo_without_the_page(astronaut, tmp_path):
    """web.actions.load_photo, as an upload and as a reload that keeps the labels; and the tabs' handlers answer
    without a server."""
    models = actions.Models(actions.find_models())
    if not models.names():
        pytest.skip('the shipped model is not in trained_models/')
    loaded = actions.load_photo(models, str(astronaut), 'utkface_z50')
    estimate = actions.estimated_age(actions.prepare_upload(astronaut).crop)
    assert loaded.message.startswith('Ready: one face found. Drag the age slider. The person looks about '
                                     f'{estimate:.0f} to the shipped age estimator (an estimate')
    assert loaded.choices == ['1 (largest, most central)'] and 15 <= estimate <= 70
    assert (loaded.age, loaded.gender, loaded.photo_age) == (estimate, 'male', estimate)
    assert loaded.aged.size == (512, 512) and loaded.face.size == loaded.aged_face.size == (256, 256)
    assert loaded.state['z'].shape == (1, 50)
    again = actions.load_photo(models, str(astronaut), 'utkface_z50', labels=(61.0, 'female'), photo_age=35)
    assert (again.age, again.gender, again.photo_age) == (61.0, 'female', 35) and again.aged.size == (512, 512)
    chip = sample_faces(1)[0]
    assert actions.load_photo(models, str(chip), 'utkface_z50').age == actions.name_labels(chip)[0]
    with pytest.raises(utils.InputError, match='^Photo 2: This file is not an image'):
        actions.prepare_pair([chip, bad_files(tmp_path / 'bad')['not an image'][0]])
    memory = server.IdleMemoryTrim(trim=lambda _: None)
    page, kids = AgingTab(models, str(tmp_path), memory), KidsTab(models, str(tmp_path), memory)
    assert page.on_age(None, 'utkface_z50', 40, 'male', False) == (None, None,
                                                                   '**No photo is loaded: upload a photo first.**')
    shown, face, message = page.on_age(loaded.state, 'utkface_z50', 40, 'female', False, None)  # the field empty
    assert shown.size == (512, 512) and face.size == (256, 256) and message == 'Age 40 years.'
    assert kids.on_kids(None, chip, False, 'utkface_z50', 2, 1)[2] == '**Upload two photos.**'
    assert page.tuning_notice(True).startswith('Personalising the generator to this photo')


def test_several_faces_pick_which(astronaut, tmp_path):
    single = Image.open(astronaut)
    pair = Image.new('RGB', (2 * single.width, single.height))
    pair.paste(single.resize((single.width * 3 // 4, single.height * 3 // 4)), (0, 0))
    pair.paste(single, (single.width, 0))
    path = tmp_path / 'two.png'
    pair.save(path)
    largest, other = actions.prepare_upload(path, 0), actions.prepare_upload(path, 1)
    assert len(largest.boxes) == 2 and (largest.face_index, other.face_index) == (0, 1)
    assert largest.boxes[0][0] > single.width > other.boxes[1][0]  # the largest face is the right-hand one
    assert other.crop_box[0][0] < single.width < largest.crop_box[0][0]
    assert actions.prepare_upload(path, 7).face_index == 1  # out of range: the last face


@pytest.fixture(scope='module')
def two_astronauts(astronaut, tmp_path_factory):
    """Two copies of the astronaut side by side: a photo with two faces of one size."""
    single = Image.open(astronaut)
    pair = Image.new('RGB', (2 * single.width, single.height))
    pair.paste(single, (0, 0))
    pair.paste(single, (single.width, 0))
    path = tmp_path_factory.mktemp('two_faces') / 'two_astronauts.jpg'
    pair.save(path, quality=95)
    return path


def quiet_memory():
    return server.IdleMemoryTrim(trim=lambda _: None)


def test_a_photo_with_two_faces_shows_the_first_and_the_face_menu_picks_the_other(games_models, two_astronauts,
                                                                                    tmp_path):
    """The Aging tab says how many faces it found and which it shows; the Face menu's '2' frames the other face
    (align.align_face with face_index 1), on the other half of the photo; a menu entry that is no number is face 1."""
    tab = AgingTab(games_models, str(tmp_path), quiet_memory())
    state, _, _, aged, _, menu, *_, message = tab.on_upload(str(two_astronauts), 'games', False, False, False)
    assert message.startswith('Ready: 2 faces found; showing face 1 (the largest, most central); the Face menu picks '
                              'another.')
    first = '1 (largest, most central)'
    assert (menu['choices'], menu['value'], menu['visible']) == ([first, '2'], first, True)
    assert aged.size == (1024, 512)
    other, *_, message = tab.on_reload(state, str(two_astronauts), 'games', '2', False, 40.0, 'female', False, 35,
                                       False)
    assert 'showing face 2; the Face menu picks another.' in message
    photo = actions.read_upload(two_astronauts)
    assert np.array_equal(np.asarray(other['crop']), np.asarray(align.align_face(photo, 1).crop))
    centres = [np.mean([x for x, _ in s['crop_box']]) for s in (state, other)]
    assert (centres[0] < 512) != (centres[1] < 512)
    assert actions.chosen_face('junk') == actions.chosen_face(None) == 0 and actions.chosen_face('2') == 1
    again = tab.on_reload(state, str(two_astronauts), 'games', 'junk', False, 40.0, 'female', False, 35, False)
    assert again[0]['crop_box'] == state['crop_box']


def test_two_sessions_picking_faces_at_once_get_their_own(games_models, two_astronauts, tmp_path):
    """Threads loading face 1 and face 2 of one photo at once (as gradio's workers do) each get their own face."""
    tab = AgingTab(games_models, str(tmp_path), quiet_memory())
    alone = {face: tab.on_reload(None, str(two_astronauts), 'games', face, False, 30.0, 'male', False, 30, False)[0]
             for face in ('1', '2')}
    results, errors = [], []

    def load(face):
        try:
            state = tab.on_reload(None, str(two_astronauts), 'games', face, False, 30.0, 'male', False, 30, False)[0]
            results.append(state['crop_box'] == alone[face]['crop_box']
                           and np.array_equal(np.asarray(state['crop']), np.asarray(alone[face]['crop'])))
        except Exception as e:  # a failure in a thread is reported by the test, not lost
            errors.append(e)
    threads = [threading.Thread(target=load, args=(face,)) for face in ('1', '2') * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [True] * 4


def test_a_face_too_small_to_age_is_a_message(games_models, astronaut, tmp_path):
    small = tmp_path / 'small.jpg'
    Image.open(astronaut).resize((180, 180), Image.BILINEAR).save(small)  # the face about 30 px wide
    with pytest.raises(utils.InputError, match=r'^The face is only \d+ pixels wide; a face needs at least 40'):
        actions.prepare_upload(small)
    state, *_, message = AgingTab(games_models, str(tmp_path), quiet_memory()).on_upload(str(small), 'games', False,
                                                                                          False, False)
    assert state is None and message.startswith('**The face is only') and '\n' not in message


def test_a_face_turned_to_one_side_is_aged_with_a_note(games_models, astronaut, tmp_path):
    profile = REPO / 'photos' / 'fairface' / 'fairface_0379.jpg'  # 70+, turned almost to profile
    assert actions.prepare_upload(profile).turned and not actions.prepare_upload(astronaut).turned
    state, *_, message = AgingTab(games_models, str(tmp_path), quiet_memory()).on_upload(str(profile), 'games', False,
                                                                                         False, False)
    assert state is not None and align.TURNED_NOTE in message


def test_no_face_shows_the_photo_as_searched_read_once(games_models, tmp_path, monkeypatch):
    from skimage import data
    cat = tmp_path / 'cat.png'
    Image.fromarray(data.chelsea()).save(cat)
    reads = []
    read_upload = actions.read_upload
    monkeypatch.setattr(actions, 'read_upload', lambda path: reads.append(path) or read_upload(path))
    state, preview, *_, message = AgingTab(games_models, str(tmp_path), quiet_memory()).on_upload(
        str(cat), 'games', False, False, False)
    assert state is None and preview.size == (451, 300) and 'No face found' in message and len(reads) == 1


def test_new_morph_labels_relabel_the_framed_faces(games_checkpoint, tmp_path, monkeypatch):
    """Ages and genders change the labels only; the faces are framed once, and encoded again only for another
    model."""
    tab = MorphTab(actions.Models({'games': games_checkpoint, 'again': games_checkpoint}), str(tmp_path),
                   quiet_memory())
    first, second = (str(p) for p in sample_faces(2))
    state, face, *_, message = tab.on_photos(first, second, False, 'games', 0.5)
    assert message == 'Ready: drag the slider.'
    framed, encoded = [], []
    monkeypatch.setattr(actions, 'prepare_upload', lambda *args, **kwargs: framed.append(args))
    encode = actions.encode
    monkeypatch.setattr(actions, 'encode', lambda net, crop: encoded.append(crop) or encode(net, crop))
    relabelled, view, message = tab.on_labels(state, 'games', 0.5, 70.0, 'female', 5.0, 'male')
    assert message == 'Ready.' and framed == [] and encoded == [] and relabelled['crops'] is state['crops']
    labels = (games.age_label(70.0, consts.FEMALE), games.age_label(5.0, consts.MALE))
    net = tab.models.get('games')
    assert np.array_equal(np.asarray(view), np.asarray(actions.morph_view(net, state['z'], labels, 0.5)))
    assert not np.array_equal(np.asarray(view), np.asarray(face))  # the new labels show
    assert tab.on_labels(relabelled, 'again', 0.5, 70.0, 'female', 5.0, 'male')[2] == 'Ready.' and len(encoded) == 2
    assert framed == [] and tab.on_labels(None, 'games', 0.5, 70.0, 'female', 5.0, 'male') == (
        None, None, 'Upload two photos.')
    assert tab.on_labels(state, 'nope', 0.5, 70.0, 'female', 5.0, 'male')[2].startswith('**No model named')


def test_no_face_is_a_message_and_the_whole_image_can_be_used(tmp_path):
    from skimage import data
    cat = tmp_path / 'cat.png'
    Image.fromarray(data.chelsea()).save(cat)
    with pytest.raises(actions.NoFaceInPhoto, match='No face found.*whole image'):
        actions.prepare_upload(cat)
    prepared = actions.prepare_upload(cat, whole_image=True)
    assert prepared.crop.size == (128, 128) and prepared.boxes == [] and prepared.photo.size == (451, 300)


def test_a_utkface_chip_is_used_as_it_is_and_names_give_age_and_gender():
    path = sample_faces(1)[0]
    prepared = actions.prepare_upload(path)
    assert prepared.boxes == [] and np.array_equal(np.asarray(prepared.crop), np.asarray(align.prepare_face(path)))
    age, gender, _ = data.parse_utkface_name(path.name)
    assert actions.name_labels(path) == (age, gender)
    assert actions.name_labels('/tmp/holiday.jpg') == (None, None)


def test_big_photos_are_scaled_down_before_work(tmp_path):
    path = tmp_path / 'wide.jpg'
    Image.new('RGB', (4000, 1000), 'grey').save(path)
    assert max(actions.shrink(actions.read_upload(path)).size) == actions.WORK_MAX_SIDE


# ---------------------------------------------------------------- model picker, strip, animations

def test_the_model_menu_says_what_each_shipped_model_does():
    models = actions.Models(actions.find_models())
    if not models.names():
        pytest.skip('the shipped models are not in trained_models/')
    choices = dict((name, words) for words, name in models.choices())
    assert choices['utkface_z50'] == "utkface_z50: reference, the paper's recipe"
    assert choices['utkface_z50_plus'] == 'utkface_z50_plus: plus, ages visibly (default)'


def test_model_picker_lists_every_model_folder(games_checkpoint, tmp_path, monkeypatch):
    models = tmp_path / 'trained_models'
    for name in ('utkface_z50', 'utkface_z50_plus'):
        shutil.copytree(games_checkpoint, models / name)
    (models / 'half').mkdir()
    shutil.copy(Path(games_checkpoint) / 'E.dat', models / 'half' / 'E.dat')
    (models / 'notes.txt').write_text('not a model')
    monkeypatch.setattr(actions, 'MODELS_DIR', models)
    extra = tmp_path / 'run' / 'epoch2'
    shutil.copytree(games_checkpoint, extra)
    found = actions.find_models([extra])
    assert list(found) == ['utkface_z50', 'utkface_z50_plus', str(extra)]
    with pytest.raises(utils.InputError, match='no E.dat and G.dat'):
        actions.find_models([tmp_path])
    loaded = actions.Models(found)
    assert loaded.default() == os.path.basename(consts.SHIPPED_MODEL)  # the games' model, not the first by name
    assert loaded.get('utkface_z50_plus') is loaded.get('utkface_z50_plus')  # loaded once
    with pytest.raises(utils.InputError, match='No model named'):
        loaded.get('nope')


def test_the_real_picker_finds_the_shipped_model():
    if not SHIPPED.is_dir():
        pytest.skip('the shipped model is not in trained_models/')
    assert actions.find_models()['utkface_z50'] == str(SHIPPED)


def test_strip_lifespan_gif_and_mp4(net, tmp_path, monkeypatch):
    state = photo_state(net, actions.prepare_upload(sample_faces(1)[0]))
    strip = pictures.group_strip(net, state, 0)
    assert strip.shape == (pictures.STRIP_HEIGHT + 4, 11 * (pictures.STRIP_HEIGHT + 2) + 2, 3)  # square chips
    gif = actions.lifespan_animation(net, state, 0, tmp_path, 'gif', frames=6)
    x0, y0, x1, y1 = pictures.face_region(state)
    with Image.open(gif) as image:  # the photo's face region at its own resolution, not the 128-px face
        assert image.n_frames == 6 and image.size == (x1 - x0, y1 - y0) and image.width > 128
    with monkeypatch.context() as patch:
        patch.setattr(actions, 'ffmpeg_available', lambda: False)
        with pytest.raises(utils.InputError, match='MP4 needs the imageio-ffmpeg package'):
            actions.lifespan_animation(net, state, 0, tmp_path, 'mp4', frames=6)
    pytest.importorskip('imageio_ffmpeg')
    mp4 = actions.lifespan_animation(net, state, 0, tmp_path, 'mp4', frames=6)
    assert Path(mp4).stat().st_size > 1000 and Path(mp4).parent == tmp_path


def test_morph_ends_are_the_two_faces(net):
    crops = [Image.open(p).convert('RGB').resize((128, 128)) for p in sample_faces(2)]
    z = [actions.encode(net, c)[0] for c in crops]
    labels = [games.age_label(8, 0), games.age_label(65.5, 1)]
    start = np.asarray(actions.morph_view(net, z, labels, 0.0))
    end = np.asarray(actions.morph_view(net, z, labels, 1.0))
    first = images.model_tensor_to_uint8(net.generate(z[0][None], labels[0][None]).cpu())[0]
    assert np.array_equal(start, np.asarray(pictures.show_face(first)))
    assert not np.array_equal(start, end)


# ---------------------------------------------------------------- the page through its own queue

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rss_mib(pid='self'):
    with open(f'/proc/{pid}/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS')) / 1024


def resting_rss_mib(pid, seconds=3.0, every=0.05):
    """A process's resident memory at rest: the lowest of its samples over `seconds`. After answering a request
    gradio still does some of its work (the analytics summary, the output file), and the page gives freed memory
    back once idle for a second (web.server.IdleMemoryTrim), so a single sample can land on a passing peak: 50-100 MiB
    above the floor, seen every few seconds on a loaded 2-core machine. A leak raises the floor itself."""
    samples = []
    for _ in range(max(1, round(seconds / every))):
        samples.append(rss_mib(pid))
        time.sleep(every)
    return min(samples)


def repo_files():
    """Every file under the repository and trained_models with its size and mtime (what the app must not touch)."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in REPO.rglob('*')
            if p.is_file() and '.git' not in p.parts and '__pycache__' not in p.parts and '.venv' not in p.parts
            and '.pytest_cache' not in p.parts}


class RunningApp:
    """`python app.py --port N` in its own process, with its own temporary folder (TMPDIR)."""

    def __init__(self, tmp):
        import subprocess
        self.port, self.tmp = free_port(), Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, 'TMPDIR': str(self.tmp), 'PYTHONUNBUFFERED': '1'}
        self.process = subprocess.Popen([sys.executable, str(REPO / 'app.py'), '--port', str(self.port)], cwd=REPO,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = []
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()
        self.url = f'http://127.0.0.1:{self.port}'
        deadline = time.time() + 120
        while not any(self.url in line for line in self.output):
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError('app.py did not start:\n' + ''.join(self.output))
            time.sleep(0.2)

    def stop(self):
        """SIGTERM, as a plain kill: the app closes the server and removes its temporary folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except Exception:
                self.process.kill()
                self.process.wait()
        return ''.join(self.output)


@pytest.fixture(scope='module')
def running_app(tmp_path_factory):
    if not SHIPPED.is_dir():
        pytest.skip('the shipped model is not in trained_models/')
    files = repo_files()
    served = RunningApp(tmp_path_factory.mktemp('app_tmp'))
    yield served
    output = served.stop()
    assert served.process.returncode == 0, output
    assert 'Traceback' not in output, output
    left = [p.name for p in served.tmp.iterdir() if not p.name.startswith('torchinductor_')]  # torch's own cache
    assert left == [], f'the app left {left} in its temporary folder'
    assert repo_files() == files, 'the app wrote into the repository or the models'


@pytest.fixture(scope='module')
def shipped_net():
    if not SHIPPED.is_dir():
        pytest.skip('the shipped model is not in trained_models/')
    return actions.Models(actions.find_models()).get('utkface_z50')


def client(url, folder):
    from gradio_client import Client
    return Client(url, verbose=False, download_files=str(folder))


def test_the_app_prints_its_address_and_nothing_else(running_app):
    lines = [line.strip() for line in running_app.output if line.strip()]
    assert lines == [f'CAAE face aging page: {running_app.url}  (Ctrl+C to stop)']


def test_bad_uploads_are_answered_in_the_page(running_app, tmp_path):
    """Each bad file through the upload and the webcam endpoints: one sentence, and a slider move after a failed
    upload says that no photo is loaded."""
    from gradio_client import handle_file
    c = client(running_app.url, tmp_path / 'downloads')
    from skimage import data
    cat = tmp_path / 'cat.png'
    Image.fromarray(data.chelsea()).save(cat)
    cases = {**bad_files(tmp_path / 'bad'), 'no face': (cat, 'No face found')}
    for kind, (path, words) in cases.items():
        for endpoint in ('/upload', '/webcam'):
            *_, message = c.predict(handle_file(str(path)), 'utkface_z50', False, False, False, api_name=endpoint)
            assert words in message and 'Traceback' not in message, (kind, endpoint, message)
    shown, face, message = c.predict('utkface_z50', 40.0, 'male', False, 30, api_name='/render')
    assert shown is None and face is None and 'upload a photo first' in message
    *_, message = c.predict(handle_file(str(cat)), 'utkface_z50', True, False, False, api_name='/upload')
    assert message.startswith('Ready: the whole image')


def test_the_page_serves_the_photo_aged_at_its_own_size_and_a_huge_kids_seed_is_a_message(running_app, tmp_path):
    """A 1920x1080 photo (over WORK_MAX_SIDE) comes back from the upload and from a slider move as a 1920x1080 JPEG,
    the photo's own pixels outside the face region (up to JPEG noise), beside the 128-px face at that age."""
    from gradio_client import handle_file
    path = portrait_photo(tmp_path, (1920, 1080), 'wide.jpg')
    c = client(running_app.url, tmp_path / 'downloads')
    _, _, aged, face, *_, message = c.predict(handle_file(str(path)), 'utkface_z50', False, False, False,
                                              api_name='/upload')
    assert message.startswith('Ready: one face found. Drag the age slider.'), message
    assert Image.open(aged).size == (1920, 1080) and Image.open(face).size == (256, 256)
    aged, face, message = c.predict('utkface_z50', 75.0, 'female', False, 35, api_name='/render')
    assert aged.endswith('.jpeg') and Image.open(face).size == (256, 256) and message == 'Age 75 years.'
    prepared = actions.prepare_upload(path)
    x0, y0, x1, y1 = pictures.face_region(prepared._asdict())
    shown, photo = (np.asarray(Image.open(p).convert('RGB'), dtype=int) for p in (aged, path))
    assert shown.shape == photo.shape == (1080, 1920, 3)
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.abs(shown - photo)[outside].mean() < 2 < np.abs(shown - photo)[~outside].mean()
    chips = [handle_file(str(p)) for p in sample_faces(2)]
    row, gif, message = c.predict(*chips, False, 'utkface_z50', 2, 2 ** 70, api_name='/kids')
    assert row is None and message.startswith('**The seed must be a whole number from 0 to'), message
    row, gif, message = c.predict(*chips, False, 'utkface_z50', 2, 7, api_name='/kids')
    assert Image.open(row).size == strip_size(2, 128) and message.startswith('2 children (seed 7)')


def test_the_page_keeps_few_sessions_and_each_only_for_a_while(monkeypatch):
    """A session's state (photo, face, personalised generator) is dropped SESSION_TTL_S after its last change, and
    at most SESSIONS are kept (gradio's default: 10,000)."""
    if not SHIPPED.is_dir():
        pytest.skip('the shipped model is not in trained_models/')
    import gradio as gr
    for name in ('GRADIO_TEMP_DIR', 'GRADIO_ANALYTICS_ENABLED'):  # serve sets them: restored afterwards
        monkeypatch.setenv(name, os.environ.get(name, ''))
    page, _, work = app.serve(port=free_port(), block=False)
    try:
        states = [block for block in page.blocks.values() if isinstance(block, gr.State)]
        assert page.state_session_capacity == app.SESSIONS <= 100
        assert len(states) == 2 and all(state.time_to_live == SESSION_TTL_S for state in states)
    finally:
        page.close()
        work.cleanup()


def test_gradio_is_hardened_to_write_pictures_atomically_under_a_seed_of_the_run(tmp_path, monkeypatch):
    """web.server.harden_gradio replaces two names of gradio's processing_utils (no public setting does what it
    does); should a gradio release rename them or change the function's parameters, this fails instead of the patch
    silently doing nothing."""
    import inspect
    from gradio import processing_utils
    for name in ('hash_seed', 'save_pil_to_cache'):  # restored afterwards
        monkeypatch.setattr(processing_utils, name, getattr(processing_utils, name))
    installed_seed, gradios = processing_utils.hash_seed, processing_utils.save_pil_to_cache
    assert isinstance(installed_seed, bytes)
    server.harden_gradio()
    assert processing_utils.hash_seed != installed_seed
    assert (list(inspect.signature(processing_utils.save_pil_to_cache).parameters)
            == list(inspect.signature(gradios).parameters) == ['img', 'cache_dir', 'name', 'format'])
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, 'replace', lambda a, b: replaced.append(str(b)) or real_replace(a, b))
    picture = Image.new('RGB', (8, 8), 'red')
    path = processing_utils.save_pil_to_cache(picture, str(tmp_path), format='png')
    assert replaced == [path] and Path(path).parent.parent == tmp_path
    assert Path(path).read_bytes() == processing_utils.encode_pil_to_bytes(picture, 'png')


def test_the_webcam_picture_reaches_the_reader_undecoded_and_a_bomb_is_refused_by_its_header(tmp_path, monkeypatch):
    from gradio.data_classes import ImageData
    from PIL import ImageFile
    bomb = tmp_path / 'webcam.png'
    Image.new('1', (9000, 9000)).save(bomb)  # 81 megapixels, 10 kB
    opened, decoded = [], []
    real_open = Image.open
    monkeypatch.setattr(Image, 'open', lambda *a, **k: opened.append(a) or real_open(*a, **k))
    monkeypatch.setattr(ImageFile.ImageFile, 'load', lambda image: decoded.append(image))
    import gradio as gr
    webcam = undecoded(gr.Image(sources=['webcam'], type='filepath'))
    assert webcam.preprocess(ImageData(path=str(bomb), orig_name='webcam.png')) == str(bomb) and opened == []
    assert webcam.preprocess(None) is None
    with pytest.raises(utils.InputError, match='81 megapixels'):
        actions.read_upload(bomb)
    assert len(opened) == 1 and decoded == []


def test_only_the_named_endpoints_are_public(running_app, tmp_path):
    api = client(running_app.url, tmp_path).view_api(print_info=False, return_format='dict')
    assert sorted(api['named_endpoints']) == ['/gif', '/kids', '/morph', '/morph_step', '/morph_strip', '/mp4',
                                              '/personalise', '/render', '/strip', '/upload', '/webcam']
    assert not api['unnamed_endpoints']


def test_uploads_are_never_served_as_a_page_and_their_folders_are_not_the_content_hash(running_app, tmp_path):
    """An uploaded .html comes back as a download (application/octet-stream, attachment), never as text/html from
    the page's address; the folder gradio stores an upload in is not the hash of its content with gradio's
    installed seed, so nobody can tell from a photo where it was stored."""
    import hashlib
    import json
    import urllib.request
    from gradio.utils import get_hash_seed
    page = tmp_path / 'page.html'
    page.write_bytes(b'<html><script>alert(1)</script></html>')
    boundary = 'caae-test-boundary'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="page.html"\r\n'
            f'Content-Type: text/html\r\n\r\n').encode() + page.read_bytes() + f'\r\n--{boundary}--\r\n'.encode()
    request = urllib.request.Request(f'{running_app.url}/gradio_api/upload', data=body, method='POST',
                                     headers={'Content-Type': f'multipart/form-data; boundary={boundary}'})
    with urllib.request.urlopen(request, timeout=30) as answer:
        stored = json.loads(answer.read())[0]
    with urllib.request.urlopen(f'{running_app.url}/gradio_api/file={stored}', timeout=30) as answer:
        assert answer.headers['Content-Type'] == 'application/octet-stream'
        assert answer.headers['Content-Disposition'].startswith('attachment')
    content_hash = hashlib.sha256(get_hash_seed().encode() + page.read_bytes()).hexdigest()
    assert Path(stored).parent.name != content_hash


def test_200_requests_keep_memory_flat_and_every_answer_right(running_app, shipped_net, tmp_path):
    """Four clients (four sessions, four faces) at once, 200 slider moves in all, through the page's queue;
    the app process's resident memory at rest before and after."""
    from gradio_client import handle_file
    total, clients = int(os.environ.get('APP_LOAD_REQUESTS', 200)), 4
    sessions = []
    for i, face in enumerate(sample_faces(clients)):
        c = client(running_app.url, tmp_path / f'downloads{i}')
        c.predict(handle_file(str(face)), 'utkface_z50', False, False, False, api_name='/upload')
        sessions.append((c, actions.encode(shipped_net, actions.prepare_upload(face).crop), actions.name_labels(face)[1]))
    warm_up = [threading.Thread(target=lambda c=c, g=gender: [
        c.predict('utkface_z50', float(years), actions.GENDERS[g], False, 30, api_name='/render')
        for years in range(0, 100, 4)])
        for c, _, gender in sessions]  # 100 requests: the server's worker threads and caches reach their size
    for thread in warm_up:
        thread.start()
    for thread in warm_up:
        thread.join()
    before = resting_rss_mib(running_app.process.pid)
    errors, times = [], []

    def play(index):
        c, z, gender = sessions[index]
        rng = random.Random(index)
        for _ in range(total // clients):
            years = rng.randrange(0, 201) / 2
            tick = time.perf_counter()
            photo, path, message = c.predict('utkface_z50', years, actions.GENDERS[gender], False, 30,
                                             api_name='/render')
            times.append(time.perf_counter() - tick)
            shown = np.asarray(Image.open(path).convert('RGB'), dtype=int)
            expected = np.asarray(pictures.show_face(rendered_face(shipped_net, z, years, gender)), dtype=int)
            if message != f'Age {years:g} years.' or np.abs(shown - expected).max() > 1:
                errors.append((index, years, message))
            if Image.open(photo).size != (200, 200):  # the chip itself, aged
                errors.append((index, years, 'photo size'))
            os.remove(path)
            os.remove(photo)
    threads = [threading.Thread(target=play, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = resting_rss_mib(running_app.process.pid)
    print(f'\n{len(times)} requests from {clients} clients: app RSS {before:.0f} MiB before, {after:.0f} MiB after; '
          f'median {1000 * np.median(times):.0f} ms a request seen by a client, {len(errors)} wrong')
    assert len(times) == total // clients * clients and not errors
    # At rest: within 10 MiB here, but once 34 MiB more in CI with no leak (BENCHMARKS.md). So this catches a leak of
    # half a MiB a request: keeping each request's face as a 420-px picture (517 KiB) added 81 MiB; at 256 px
    # (192 KiB) it added 26 to 38 MiB, too close to that noise to tell apart in 200 requests.
    assert after - before < 48


def test_idle_memory_trim_waits_for_a_quiet_second_and_trims_once():
    trims = []
    memory = server.IdleMemoryTrim(idle_s=0.2, trim=trims.append)
    assert not memory.trim_if_idle()  # nothing served since the last trim
    with memory.serving():
        time.sleep(0.3)
        assert not memory.trim_if_idle()  # a request is running
    assert not memory.trim_if_idle()  # it has only just ended
    time.sleep(0.3)
    assert memory.trim_if_idle() and trims == [0]
    assert not memory.trim_if_idle() and trims == [0]
    with pytest.raises(ValueError):
        with memory.serving():
            raise ValueError('a failed request')
    time.sleep(0.3)
    assert memory.busy == 0 and memory.trim_if_idle() and trims == [0, 0]


def test_a_slider_move_renders_one_face(net, monkeypatch):
    """The page's own function for a slider move gives the photo at its own size and the face at that age; the face
    at the photo's own age is rendered once per gender and kept, so each move runs the generator once. How fast a
    move is: tools/bench_app.py and BENCHMARKS.md, not a test."""
    state = photo_state(net, actions.prepare_upload(sample_faces(1)[0]))
    ages = []
    render_ages = games.render_ages
    monkeypatch.setattr(games, 'render_ages', lambda net, z, years, gender: ages.append(years) or render_ages(
        net, z, years, gender))
    for i in range(20):
        photo, face = pictures.aged_view(net, state, 5 * i + 0.5, i % 2)
        assert photo.size == (200, 200) and face.size == (pictures.FACE_SHOW_SIDE,) * 2
    assert len(ages) == 20 + 2 and ages.count([pictures.DEFAULT_AGE]) == 2


def test_the_page_personalises_the_generator_to_an_uploaded_face(running_app, tmp_path):
    """Ticking *Personalise* (the upload's last input) makes the slider's face at the photo's own age much closer
    to the framed face than without it."""
    from gradio_client import handle_file
    face = SAMPLE / '38_1_0_20170105001437325.jpg.chip.jpg'
    framed = np.asarray(pictures.show_face(np.asarray(actions.prepare_upload(face).crop)), dtype=int)
    errors = []
    for personal in (False, True):
        c = client(running_app.url, tmp_path / f'downloads{personal}')
        *_, message = c.predict(handle_file(str(face)), 'utkface_z50_plus', False, False, personal,
                                api_name='/upload')
        assert message.startswith('Ready'), message
        _, path, _ = c.predict('utkface_z50_plus', 38.0, 'female', False, 38, api_name='/render')
        errors.append(np.abs(np.asarray(Image.open(path).convert('RGB'), dtype=int) - framed).mean())
    assert errors[1] < 0.8 * errors[0]
