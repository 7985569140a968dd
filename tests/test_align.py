"""Tests for align.py and face_detect.py: face detection on hard photos, UTKFace framing, input formats and chip
pass-through."""
import csv
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

import align
from align import FaceTooSmallError, NoFaceError, align_face, find_faces, prepare_face
from conftest import AGING_TILE, SHARED_UTKFACE, strip_size
from images import load_image as load_photo

cv2.setNumThreads(1)
UTKFACE = SHARED_UTKFACE
CHIP = '28_0_1_20170117020144774.jpg.chip.jpg'
# astronaut(), 512x512: eyes near (202, 101) and (245, 103), mouth near (225, 148), chin near (225, 168)
ASTRO_EYES = ((202, 101), (245, 103))
ASTRO_CROP_CENTRE = (225, 122)  # middle of hairline-to-chin, what a UTKFace chip centres on
ASTRO_FACE_SIDE = 95  # eyebrows to chin, about the chip side


def needs_utkface():
    """Skip a test when ../shared/UTKFace is not beside the checkout."""
    if not UTKFACE.is_dir():
        pytest.skip('UTKFace not found at ../shared/UTKFace')


@pytest.fixture(scope='module')
def astronaut():
    """The scikit-image astronaut portrait as a PIL image."""
    return Image.fromarray(data.astronaut())


def crop_geometry(crop_box):
    """Centre, side and top-edge angle (degrees) of a crop's four corners."""
    corners = np.array(crop_box)
    (x0, y0), (x1, y1) = corners[0], corners[1]
    return corners.mean(axis=0), np.hypot(x1 - x0, y1 - y0), np.degrees(np.arctan2(y1 - y0, x1 - x0))


def test_astronaut_face_is_found_and_framed_like_a_chip(astronaut):
    face = align_face(astronaut)
    centre, side, _ = crop_geometry(face.crop_box)
    assert face.crop.size == (128, 128) and face.crop.mode == 'RGB'
    assert np.allclose(centre, ASTRO_CROP_CENTRE, atol=12)
    assert 0.8 * ASTRO_FACE_SIDE < side < 1.25 * ASTRO_FACE_SIDE
    polygon = np.array(face.crop_box, dtype=np.float32)
    for point in ASTRO_EYES + ((225, 148), (225, 160)):
        assert cv2.pointPolygonTest(polygon, point, False) > 0, point


@pytest.mark.parametrize('tilt', [-10, 12, 30, -45])  # a tilted head, as in a photo taken at an angle
def test_tilted_face_is_levelled(astronaut, tilt):
    upright = crop_geometry(align_face(astronaut).crop_box)[2]
    tilted = astronaut.rotate(tilt, resample=Image.BILINEAR, center=ASTRO_CROP_CENTRE, fillcolor=(128, 128, 128))
    face = align_face(tilted)
    centre, _, angle = crop_geometry(face.crop_box)
    assert abs(angle - (upright - tilt)) < 4
    assert np.allclose(centre, ASTRO_CROP_CENTRE, atol=15)


def test_small_face_in_a_large_photo(astronaut):
    canvas = Image.new('RGB', (2000, 1500), (90, 110, 130))
    canvas.paste(astronaut.resize((358, 358), Image.BILINEAR), (1300, 700))
    face = align_face(canvas)
    centre, side, _ = crop_geometry(face.crop_box)
    assert np.allclose(centre, (1300 + 0.7 * ASTRO_CROP_CENTRE[0], 700 + 0.7 * ASTRO_CROP_CENTRE[1]), atol=10)
    assert 0.8 * 0.7 * ASTRO_FACE_SIDE < side < 1.25 * 0.7 * ASTRO_FACE_SIDE


@pytest.mark.parametrize('picture', ['cat', 'gradient'])
def test_no_face_raises_one_clear_error(picture, tmp_path):
    gradient = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    image = Image.fromarray(data.chelsea() if picture == 'cat' else gradient)
    path = tmp_path / f'{picture}.png'
    image.save(path)
    with pytest.raises(NoFaceError, match='--no-align') as raised:
        prepare_face(path)
    assert isinstance(raised.value, ValueError)
    assert prepare_face(path, align=False).size == (128, 128)


def test_no_align_only_resizes(astronaut, tmp_path):
    path = tmp_path / 'astronaut.png'
    astronaut.save(path)
    expected = np.asarray(astronaut.resize((128, 128), Image.BILINEAR))
    assert np.array_equal(np.asarray(prepare_face(path, align=False)), expected)


def test_largest_face_first_and_face_index_picks_another(astronaut, tmp_path):
    needs_utkface()
    canvas = Image.new('RGB', (900, 520), (120, 120, 120))
    canvas.paste(Image.open(UTKFACE / CHIP).resize((300, 300), Image.BILINEAR), (550, 110))
    canvas.paste(astronaut.crop((130, 20, 320, 220)), (60, 150))
    path, preview = tmp_path / 'two.png', tmp_path / 'two_face.png'
    canvas.save(path)
    boxes = [face.box for face in find_faces(canvas)]
    assert len(boxes) == 2 and boxes[0][2] > 2 * boxes[1][2]
    assert 550 < align_face(canvas).box[0] + boxes[0][2] / 2 < 850
    second = align_face(canvas, face_index=1)
    assert 60 < second.box[0] + second.box[2] / 2 < 250
    assert prepare_face(path, face_index=1, preview_path=preview).size == (128, 128)
    with Image.open(preview) as drawn:
        assert drawn.size == (800, 462)
        green_xs = np.nonzero(np.all(np.asarray(drawn) == (0, 255, 0), axis=-1))[1]
    assert abs(green_xs.mean() - (second.box[0] + second.box[2] / 2) * 800 / 900) < 5
    with pytest.raises(ValueError, match=r'0\.\.1') as raised:
        align_face(canvas, face_index=2)
    assert not isinstance(raised.value, NoFaceError)


@pytest.mark.parametrize('orientation, stored', [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)],
                         ids=['orientation6', 'orientation8'])
def test_exif_orientation_is_honoured(astronaut, tmp_path, orientation, stored):
    upright = astronaut.crop((0, 0, 400, 512))
    exif = Image.Exif()
    exif[274] = orientation
    path = tmp_path / f'rotated{orientation}.jpg'
    upright.transpose(stored).save(path, quality=95, exif=exif)
    loaded = load_photo(path)
    assert loaded.size == (400, 512)
    assert np.abs(np.asarray(loaded, float) - np.asarray(upright, float)).mean() < 6
    assert np.allclose(crop_geometry(align_face(loaded).crop_box)[0], ASTRO_CROP_CENTRE, atol=12)


def test_grayscale_rgba_and_webp_inputs(astronaut, tmp_path):
    rgba = astronaut.convert('RGBA')
    rgba.putalpha(Image.fromarray(np.pad(np.full((492, 492), 255, np.uint8), 10)))
    gray16 = Image.fromarray(np.asarray(astronaut.convert('L'), np.uint16) * 257)
    inputs = {'gray.png': astronaut.convert('L'), 'gray16.png': gray16, 'alpha.png': rgba, 'photo.webp': astronaut}
    for name, image in inputs.items():
        image.save(tmp_path / name)
        loaded = load_photo(tmp_path / name)
        assert loaded.mode == 'RGB' and loaded.size == (512, 512), name
        crop = prepare_face(tmp_path / name)
        assert crop.mode == 'RGB' and crop.size == (128, 128), name
    assert load_photo(tmp_path / 'alpha.png').getpixel((2, 2)) == (255, 255, 255)
    assert load_photo(tmp_path / 'gray16.png').getpixel((200, 100)) == (astronaut.convert('L').getpixel((200, 100)),) * 3


@pytest.mark.parametrize('content', [None, b'this is not an image', b'\xff\xd8\xff\xe0truncated'])
def test_unreadable_file_gives_one_line_value_error(tmp_path, content):
    path = tmp_path / 'photo.jpg'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match='photo.jpg') as raised:
        prepare_face(path)
    assert '\n' not in str(raised.value)


def test_utkface_chip_passes_through_unchanged():
    needs_utkface()
    with Image.open(UTKFACE / CHIP) as chip:
        expected = np.asarray(chip.convert('RGB').resize((128, 128), Image.BILINEAR))
    assert np.array_equal(np.asarray(prepare_face(UTKFACE / CHIP)), expected)
    for name in (CHIP, '39_1_20170116174525125.jpg.chip.jpg', '55_0_0_20170116232725357jpg.chip.jpg'):
        assert align.is_utkface_chip(name)
    assert not align.is_utkface_chip('holiday.jpg')


def test_aligning_chips_keeps_their_framing():
    needs_utkface()
    names = random.Random(3).sample(sorted(p.name for p in UTKFACE.iterdir()), 20)
    errors = []
    for name in names:
        image = load_photo(UTKFACE / name)
        try:
            corners = np.array(align_face(image).crop_box)
        except NoFaceError:
            continue
        errors.append(np.abs(corners - [(0, 0), (200, 0), (200, 200), (0, 200)]).max() / 200)
    assert len(errors) >= 17
    assert np.median(errors) < 0.08 and max(errors) < 0.25


def test_face_index_out_of_range(astronaut):
    with pytest.raises(ValueError, match=r'0\.\.0'):
        align_face(astronaut, face_index=1)


def test_command_line_writes_crop_and_preview(astronaut, tmp_path):
    astronaut.save(tmp_path / 'in.jpg')
    align.main([str(tmp_path / 'in.jpg'), str(tmp_path / 'out.png')])
    assert Image.open(tmp_path / 'out.png').size == (128, 128)
    assert (tmp_path / 'out_face.png').is_file()


@pytest.mark.slow
def test_game_modes_align_real_photos(astronaut, games_checkpoint, tmp_path, capsys):
    import main
    photo = tmp_path / 'astronaut.jpg'
    astronaut.save(photo)
    main.main(['--mode', 'test', '--load', games_checkpoint, '--input', str(photo), '--age', '60', '--gender', 'f',
               '--output', str(tmp_path / 'out')])
    png, gif, *aged = capsys.readouterr().out.split()
    assert Image.open(png).size == strip_size(11, AGING_TILE)
    assert aged == [str(tmp_path / 'out' / f'astronaut_aged_{k}.jpg') for k in range(10)]  # the photo, aged
    assert (tmp_path / 'out' / 'astronaut_face.png').is_file()
    aligned = np.asarray(prepare_face(photo), dtype=float)
    first_tile = np.asarray(Image.open(png), dtype=float)[6:134, 6:134]
    assert np.abs(first_tile - aligned).mean() < 3


@pytest.mark.slow
@pytest.mark.parametrize('extra, message', [([], 'no face found'), (['--face-index', '3'], 'no face found')])
def test_game_modes_explain_a_photo_without_a_face(extra, message, games_checkpoint, tmp_path):
    import main
    cat = tmp_path / 'chelsea.png'
    Image.fromarray(data.chelsea()).save(cat)
    with pytest.raises(SystemExit) as excinfo:
        main.main(['--mode', 'test', '--load', games_checkpoint, '--input', str(cat), '--age', '30', '--gender', 'm',
                   '--output', str(tmp_path / 'out'), *extra])
    text = str(excinfo.value.code)
    assert text.startswith(f'error: {cat}: ') and message in text and '--no-align' in text and '\n' not in text
    main.main(['--mode', 'test', '--load', games_checkpoint, '--input', str(cat), '--age', '30', '--gender', 'm',
               '--output', str(tmp_path / 'out'), '--no-align'])
    assert (tmp_path / 'out' / 'out_male_30.png').is_file()


def test_detection_in_threads_at_once_equals_detection_one_at_a_time(astronaut):
    """The web page detects faces in two worker threads; a classifier shared between them raised cv2.error and
    returned wrong boxes. Real photos (the astronaut, two faces side by side, bundled chips enlarged), 4 threads."""
    from concurrent.futures import ThreadPoolExecutor
    from conftest import SAMPLE
    pair = Image.new('RGB', (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(astronaut.transpose(Image.FLIP_LEFT_RIGHT).resize((384, 384)), (600, 60))
    chips = [load_photo(p).resize((400, 400)) for p in sorted(SAMPLE.iterdir())[::40][:6]]
    photos = [astronaut, pair] + chips

    def faces_and_landmarks(photo):
        return [(face.box, face.landmarks.round(3).tolist()) for face in align.find_faces(photo)]
    one_at_a_time = [faces_and_landmarks(p) for p in photos]
    assert sum(len(faces) for faces in one_at_a_time) >= len(photos) + 1
    with ThreadPoolExecutor(4) as pool:
        at_once = list(pool.map(lambda i: faces_and_landmarks(photos[i % len(photos)]), range(4 * len(photos))))
    assert at_once == one_at_a_time * 4


FAIRFACE = Path(__file__).resolve().parent.parent / 'photos' / 'fairface'


def eyes_in_chip(aligned):
    """Where the framed face's eyes land in the 200-px chip (the landmarks taken through the framing)."""
    matrix = align.chip_transform(aligned.landmarks)
    return aligned.landmarks[:2] @ matrix[:, :2].T + matrix[:, 2]


@pytest.mark.parametrize('name', ['fairface_0124.jpg', 'fairface_0509.jpg'], ids=['baby_0-2', 'elder_70+'])
def test_a_baby_and_an_old_person_are_found_and_framed_like_utkface(name):
    """The Haar cascade turned away a third of FairFace's babies and 40% of its people over 70."""
    photo = load_photo(FAIRFACE / name)
    aligned = align_face(photo)
    w, h = photo.size
    assert abs(aligned.box[0] + aligned.box[2] / 2 - w / 2) < w / 4  # FairFace's subject is in the middle
    assert np.abs(eyes_in_chip(aligned) - align.TEMPLATE[:2] * align.CHIP_SIZE).max() < 8
    assert aligned.crop.size == (128, 128) and not any('turned' in note for note in align.notes(aligned))


def test_a_face_in_profile_is_aged_with_a_note():
    aligned = align_face(load_photo(FAIRFACE / 'fairface_0379.jpg'))  # 70+, turned almost to profile
    assert aligned.crop.size == (128, 128)
    assert any('turned to one side' in note for note in align.notes(aligned))


@pytest.mark.parametrize('folder, count', [(FAIRFACE, 90), (FAIRFACE.parent, 25)], ids=['fairface', 'photos'])
def test_every_face_of_the_photo_sets_is_found(folder, count):
    """photos/fairface: 90 photos, 10 per age bin from 0-2 to 70+; photos/: 25 portraits and children."""
    with open(folder / 'photos.csv', newline='') as f:
        names = [row['file'] for row in csv.DictReader(f)]
    missed = [name for name in names if not find_faces(load_photo(folder / name))]
    assert len(names) == count and missed == []


def test_framing_puts_the_landmarks_where_utkface_has_them(astronaut):
    """A photo framed, then the detector run again on its chip: the eyes land within a few pixels of TEMPLATE."""
    chip = align.cut_chip(astronaut, align.chip_transform(align.find_faces(astronaut)[0].landmarks))
    chip = np.asarray(chip.resize((align.CHIP_SIZE, align.CHIP_SIZE), Image.BILINEAR))
    found = align.faces_in_chip(chip)
    assert np.abs(found[0].landmarks[:2] - align.TEMPLATE[:2] * align.CHIP_SIZE).max() < 6


def test_a_tiny_face_says_the_photo_is_too_small(astronaut, tmp_path):
    small = astronaut.resize((180, 180), Image.BILINEAR)  # the face about 30 px wide
    with pytest.raises(FaceTooSmallError, match=r'only \d+ pixels wide; a face needs at least 40') as raised:
        align_face(small)
    assert '\n' not in str(raised.value) and not isinstance(raised.value, NoFaceError)
    assert align_face(astronaut.resize((300, 300), Image.BILINEAR)).box[2] >= align.MIN_FACE


def test_notes_say_how_many_faces_and_when_the_head_is_turned(astronaut):
    pair = Image.new('RGB', (1024, 512))
    pair.paste(astronaut, (0, 0))
    pair.paste(astronaut.transpose(Image.FLIP_LEFT_RIGHT).resize((384, 384)), (600, 60))
    assert align.notes(align_face(pair)) == ['2 faces found; the largest, most central one is used']
    assert align.notes(align_face(astronaut)) == []
    frontal = align_face(astronaut).landmarks
    turned = frontal.copy()
    turned[2, 0] += 0.5 * (frontal[1, 0] - frontal[0, 0])  # the nose half the eyes' distance off their midline
    assert align.turn(frontal) < 0.1 and align.turn(turned) > align.TURNED
    assert 'turned to one side' in align.notes(align.AlignedFace(None, None, None, turned, 1))[0]


def test_of_two_faces_of_about_one_size_the_central_one_goes_first(astronaut):
    canvas = Image.new('RGB', (1500, 512), (120, 120, 120))
    face = astronaut.crop((100, 0, 400, 300))
    for x in (50, 600, 1150):  # three equal faces: the middle one is the subject
        canvas.paste(face, (x, 100))
    boxes = [face.box for face in find_faces(canvas)]
    assert len(boxes) == 3 and 600 < boxes[0][0] + boxes[0][2] / 2 < 900
