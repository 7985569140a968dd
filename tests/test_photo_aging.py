"""The photo itself aged at its own size (photo_aging.py), from the command line and in --mode eval on photos."""
import csv
import dataclasses
import json

import cv2
import numpy as np
import pytest
from PIL import Image

import age_shape
import align
import beard
import composition
import consts
import games
import hair
import images
import main
import person
import photo_aging
import photo_eval
from face_region import face_region
from model import Net

SHIPPED = consts.SHIPPED_MODEL


@pytest.fixture(scope='module')
def framed(astronaut):
    return align.align_face(Image.open(astronaut))


@pytest.fixture(scope='module')
def shipped_net():
    net = Net(precision='fp32')
    net.load(SHIPPED, slim=True)
    return net


def outside_region(framed):
    """A boolean mask of the photo's pixels outside the region the default composition may change."""
    x0, y0, x1, y1 = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, gender=consts.FEMALE).region
    outside = np.ones(framed.photo.size[::-1], bool)
    outside[y0:y1, x0:x1] = False
    return outside


def test_cli_writes_the_photo_aged_to_every_group_at_its_own_size(games_checkpoint, astronaut, tmp_path, capsys):
    main.main(['--mode', 'test', '--load', games_checkpoint, '--input', str(astronaut), '--age', '42',
               '--gender', 'f', '--personalise', '0', '--smooth', '5', '--output', str(tmp_path)])
    out = capsys.readouterr().out.split()
    aged = [str(tmp_path / f'astronaut_aged_{k}.jpg') for k in range(consts.NUM_AGES)]
    assert out == [str(tmp_path / f'out_female_42.{ext}') for ext in ('png', 'gif')] + [
        str(tmp_path / 'out_female_42_smooth.gif')] + aged + [str(tmp_path / 'astronaut_aged_smooth.gif')]
    photo = np.asarray(Image.open(astronaut), dtype=float)
    framed = align.align_face(Image.open(astronaut))
    outside = outside_region(framed)
    for path in aged:
        picture = np.asarray(Image.open(path), dtype=float)
        assert picture.shape == photo.shape  # the photo's own size
        assert np.abs(picture - photo)[outside].mean() < 1.5  # outside the face: the photo (JPEG noise only)
    gif = Image.open(tmp_path / 'astronaut_aged_smooth.gif')
    x0, y0, x1, y1 = face_region(framed.crop_box, framed.photo.size)
    assert (gif.n_frames, gif.size) == (5, (x1 - x0, y1 - y0))  # the face's region at the photo's resolution


@pytest.mark.parametrize('method', ['compose', 'child', 'texture'])
def test_pixels_outside_the_face_keep_their_exact_values_and_the_own_age_is_the_photo(framed, method):
    rng = np.random.default_rng(0)
    own = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    older = np.clip(own.astype(int) + rng.integers(-40, 40, own.shape), 0, 255).astype(np.uint8)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS[method], consts.FEMALE)
    photo = np.asarray(framed.photo)
    outside = np.ones(photo.shape[:2], bool)
    x0, y0, x1, y1 = ager.region
    outside[y0:y1, x0:x1] = False
    assert outside.mean() > 0.3  # the photo around the face
    assert np.array_equal(np.asarray(ager.aged(own, own, 42)), photo)  # no change asked: the photo, bit for bit
    region, coarse = ager.roi.copy(), ager.coarse.copy()
    for years in (2.5, 80):
        aged = np.asarray(ager.aged(older, own, years))
        assert np.array_equal(aged[outside], photo[outside])
        assert np.abs(aged.astype(int) - photo).max() > 20  # the face did change
    assert np.array_equal(ager.roi, region) and np.array_equal(ager.coarse, coarse)  # each age changes its own copy
    assert np.array_equal(np.asarray(ager.aged(older, own, 80)), aged)  # the same age again: the same photo


@pytest.mark.parametrize('name, age, older', [('fairface_0124.jpg', 1, True), ('fairface_0509.jpg', 75, False)])
def test_a_baby_and_an_elder_age_to_every_group_and_their_faces_take_the_shape_of_age(shipped_net, name, age, older):
    """A 0-2 photo aged to 71+ gets a longer lower face (no baby's face kept), a 71+ photo at 0-5 a shorter one (one
    facing the camera: a profile, as 0379 is, takes none of the shape of age, and its chin read as dlib reads it)."""
    framed = align.align_face(Image.open(f'photos/fairface/{name}'))
    z = photo_aging.z_of(shipped_net, framed)
    aged = photo_aging.aged_photos(shipped_net, framed, z, age, consts.MALE, method='child')
    assert len(aged) == consts.NUM_AGES and all(photo.size == framed.photo.size for photo in aged)
    chip = lambda photo: np.asarray(align.face_chip(framed, photo))
    lower = lambda photo: age_shape.lower_face(age_shape.landmarks(chip(photo)))
    change = lower(aged[-1 if older else 0]) - lower(framed.photo)
    assert change > 0.05 if older else change < -0.05


@pytest.mark.parametrize('method, shaved', [('compose', False), ('child', True)])
def test_facial_hair_fades_towards_childhood(framed, method, shaved):
    """A dark patch on the lower face (a beard) that G draws at every age is gone from the child where the photo's
    facial hair is looked for, and stays in the adult."""
    points = age_shape.landmarks(np.asarray(framed.crop))
    region = age_shape.lower_face_region(points, 0, 128)
    photo = np.array(framed.photo)
    chin = cv2.warpAffine(region, align.face_to_image_matrix(framed.crop_box), framed.photo.size) > 0.9
    photo[chin] = (40, 30, 25)  # a dark beard over the chin and jaw
    bearded = Image.fromarray(photo)
    ager = photo_aging.PhotoAger(bearded, framed.crop_box, 42, composition.METHODS[method], consts.MALE)
    own = np.asarray(align.face_chip(framed, bearded))  # G drawing the bearded face, at every age
    chin_lightness = lambda image: np.asarray(image, float)[chin].mean()
    assert chin_lightness(ager.aged(own, own, 42)) < 60  # the adult keeps it
    region = ager.roi.copy()
    assert (chin_lightness(ager.aged(own, own, 2.5)) > 100) == shaved  # the child's skin is the cheeks'
    assert np.array_equal(ager.roi, region)  # shaved in the age's own copy
    greying = photo_aging.PhotoAger(bearded, framed.crop_box, 42, composition.METHODS['hair'], consts.MALE)
    assert chin_lightness(greying.aged(own, own, 80)) > chin_lightness(greying.aged(own, own, 42)) + 30  # it greys


def test_the_age_change_keeps_only_its_coarse_colour():
    """G's blue eyes are a small patch of colour: gone; a change of the whole face's tone stays (scaled)."""
    how = composition.METHODS['compose']
    tint, dot = np.zeros((128, 128, 3), np.float32), np.zeros((128, 128, 3), np.float32)
    tint[..., 2] += 20
    dot[60:66, 40:46, 2] += 60  # a blue iris, 6 px
    chroma = lambda change: np.abs(change - change.mean(2, keepdims=True)).max()
    assert chroma(photo_aging.coarse_colour(dot, how)) < chroma(dot) / 10
    assert np.isclose(chroma(photo_aging.coarse_colour(tint, how)), how.chroma_gain * chroma(tint), rtol=0.05)
    assert np.array_equal(photo_aging.coarse_colour(dot, composition.METHODS['change']), dot)


def test_the_aged_photo_is_as_sharp_as_the_photo_where_the_pasted_render_is_not(shipped_net, framed):
    z = photo_aging.z_of(shipped_net, framed)
    sharpness = {}
    for method in ('compose', 'paste'):
        aged = photo_aging.aged_photos(shipped_net, framed, z, 42, consts.FEMALE, method=method)
        base = photo_eval.laplacian_variance(framed.photo, framed.box)
        sharpness[method] = [photo_eval.laplacian_variance(photo, framed.box) / base for photo in aged]
    assert min(sharpness['compose'][4:]) >= 0.9 and min(sharpness['compose']) >= 0.6
    assert max(sharpness['paste']) < 0.7


def write_photo_folder(folder, photo, rows):
    folder.mkdir()
    Image.open(photo).save(folder / 'astronaut.jpg')
    (folder / 'photos.csv').write_text('file,age,gender\n' + ''.join(f'{row}\n' for row in rows))
    return folder


def test_eval_on_a_photo_folder_writes_numbers_per_group_and_a_contact_sheet(astronaut, tmp_path, capsys):
    from skimage import data
    folder = write_photo_folder(tmp_path / 'photos', astronaut, ['astronaut.jpg,42,f', 'cat.png,5,m'])
    Image.fromarray(data.chelsea()).save(folder / 'cat.png')  # no face: counted, named, skipped
    main.main(['--mode', 'eval', '--input', str(folder), '--personalise', '0', '--output', str(tmp_path / 'out')])
    result = json.loads((tmp_path / 'out' / 'eval.json').read_text())
    assert result['photos'] == 1 and result['method'] == composition.DEFAULT_METHOD and result['faces_found'] == '1 of 2 photos'
    assert result['no_face'] == ['cat.png: no face found in the image; use --no-align to use the image as it is']
    assert len(result['sharpness_per_group']) == len(result['estimated_years_per_group']) == consts.NUM_AGES
    years = result['estimated_years_per_group']
    assert years[-1] > years[0]  # the estimator reads the oldest group older than the youngest
    with open(tmp_path / 'out' / 'photo_eval.csv') as f:
        assert [int(row['group']) for row in csv.DictReader(f)] == list(range(consts.NUM_AGES))
    sheet = Image.open(tmp_path / 'out' / 'contact_sheet.jpg')
    assert sheet.size == (11 * photo_eval.SHEET_HEIGHT, 24 + photo_eval.SHEET_HEIGHT + 4)  # a header, one photo
    assert str(tmp_path / 'out' / 'contact_sheet.jpg') in capsys.readouterr().out


@pytest.mark.parametrize('row', ['astronaut.jpg,forty,f', 'astronaut.jpg,42,x', 'astronaut.jpg'])
def test_a_bad_row_of_photos_csv_is_one_line(astronaut, tmp_path, row):
    folder = write_photo_folder(tmp_path / 'photos', astronaut, [row])
    with pytest.raises(SystemExit) as exit_info:
        main.main(['--mode', 'eval', '--input', str(folder), '--personalise', '0', '--output', str(tmp_path / 'out')])
    message = str(exit_info.value)
    assert message.startswith(f'error: {folder / "photos.csv"}, line 2: give file,age,gender') and '\n' not in message


def test_the_photos_own_eyes_stay_towards_childhood_and_old_age(framed):
    """G's eyes were dark holes in children and turned dark irises grey-blue in old renders: the eyes keep the
    photo's, the cheeks take the change."""
    own = np.full((128, 128, 3), 100, np.uint8)
    brighter = own + np.uint8(40)
    eye, cheek = tuple(np.round(age_shape.EYE_CENTRES[0][::-1]).astype(int)), (90, 40)  # (row, column), 128-px face
    to_photo = align.face_to_image_matrix(framed.crop_box)
    at = lambda image, rc: np.asarray(image, float)[tuple(np.round(to_photo @ (rc[1], rc[0], 1)).astype(int)[::-1])]
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['compose'])  # unwarped
    for years in (80, 2.5):
        aged = ager.aged(brighter if years > 42 else own, own if years > 42 else brighter, years)
        change = lambda rc: np.abs(at(aged, rc) - at(framed.photo, rc)).mean()
        assert change(eye) < 0.05 * change(cheek), years


def test_a_smiling_adults_own_teeth_stay_towards_childhood(monkeypatch):
    """Obama 2012 smiles with his teeth: his child had a grey smear for them (the photo faded to G's blurred mouth);
    inside the inner lips (age_shape.teeth_mask, on the child's landmarks) the photo's own teeth stay."""
    framed = align.align_face(Image.open('photos/obama_2012.jpg'))
    own = np.full((128, 128, 3), 100, np.uint8)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 51, composition.METHODS['child'], consts.MALE)
    x0, y0, x1, y1 = ager.region
    target = age_shape.aged_landmarks(ager.points, ager.own_position, 0.0, consts.MALE, ager.warp_strength)
    teeth = ager.from_face(age_shape.teeth_mask(target, age_shape.PAD)) > 0.9
    lightness = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)[..., 0][teeth].mean()
    kept = lightness(ager.aged(own + np.uint8(40), own, 2.5))
    monkeypatch.setattr(age_shape, 'teeth_mask', lambda points, pad=0: np.zeros((128 + 2 * pad,) * 2, np.float32))
    faded = lightness(ager.aged(own + np.uint8(40), own, 2.5))
    assert teeth.sum() > 300 and kept > 185 and faded < kept - 25  # kept 194 (the photo's 192), faded 162


def test_a_childs_ears_and_neck_are_lit_as_its_face(shipped_net, monkeypatch):
    """Lujan's child's face was lit lighter than his ears and neck (a pale mask on an adult's head): the skin near the
    face beyond its mask (PhotoAger.skin_near) takes the change of the cheeks' colour."""
    framed = align.align_face(Image.open('photos/lujan_2021.jpg'))
    renders, own = photo_aging.renders_at(shipped_net, photo_aging.z_of(shipped_net, framed), [2.5], 48, consts.MALE)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 48, composition.METHODS['prototype'], consts.MALE)
    (x0, y0, x1, y1), near = ager.skin_near
    x0, y0, x1, y1 = np.add((x0, y0, x1, y1), ager.region[:2] * 2)
    lab = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)
    lightness = lambda image: lab(image)[..., 0][near > 0.5].mean()
    toned = lightness(ager.aged(renders[0], own, 2.5))
    monkeypatch.setattr(photo_aging.PhotoAger, 'toned_near', lambda self, roi, points: roi)
    untoned = lightness(ager.aged(renders[0], own, 2.5))
    assert (near > 0.5).sum() > 10000 and abs(untoned - lightness(framed.photo)) < 8  # the photo's: 114.4, 119.2
    assert toned > untoned + 7  # 129.3: as the cheeks, 1.10-1.14 times each channel


def test_a_profiles_hair_behind_its_eyes_is_found():
    """FairFace 0086 in profile: dlib's landmarks squeezed onto her face's front put the crown patch on her forehead
    and no hair was found (her long dark hair stayed dark at 71+); behind the eyes (hair.head_frame) it is."""
    framed = align.align_face(Image.open('photos/fairface/fairface_0086.jpg'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 25, composition.METHODS['hair'], consts.FEMALE)
    face = ager.padded_face(ager.roi).clip(0, 255).astype(np.uint8)
    frontal = hair.hair_mask(face, ager.points, age_shape.PAD, person=person.person_map(face))
    on_face = age_shape.face_outline(ager.points, age_shape.PAD) > 0
    assert ager.facing < 0.2 and frontal.max() < 0.05
    assert ager.masks['hair'].sum() > 5000 and ager.masks['hair'][on_face].mean() < 0.05  # 12437, 0.016


def test_hair_greys_towards_old_age_and_grey_hair_darkens_towards_childhood(framed):
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['hair'], consts.FEMALE)
    x0, y0, x1, y1 = ager.region
    mask = cv2.warpAffine(ager.masks['hair'], cv2.invertAffineTransform(ager.to_face), (x1 - x0, y1 - y0)) > 0.9
    assert mask.mean() > 0.02
    lab = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)[mask].astype(float)
    chroma = lambda image: np.hypot(*(lab(image)[:, 1:] - 128).T).mean()
    old = ager.aged(own, own, 80)
    assert lab(old)[:, 0].mean() > lab(framed.photo)[:, 0].mean() + 20 and chroma(old) < chroma(framed.photo) / 2
    hair_lab = lambda rgb: cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2LAB).astype(np.float32)
    grey, black = hair_lab((175, 175, 170)), hair_lab((30, 25, 20))
    assert hair.hair_colour(grey, -1, None)[..., 0] < grey[..., 0] / 2  # grey hair darkens towards childhood
    assert np.allclose(hair.hair_colour(black, -1, None), black)  # black hair is not grey


def test_the_brows_grey_with_the_hair_and_the_skin_around_them_stays(framed):
    """Dark brows under grey hair looked dyed: at 80 the astronaut's brows are lighter and less coloured, and the
    skin between them keeps its lightness; her child's brows are the photo's (darkening dark brown brows as grey
    made them heavier)."""
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['hair'], consts.FEMALE)
    x0, y0, x1, y1 = ager.region
    brows = ager.from_face(ager.masks['brows']) > 0.5
    assert brows.mean() > 0.001
    between = np.zeros_like(ager.masks['brows'])
    centre = (ager.points[21] + ager.points[22]) / 2 + age_shape.PAD
    cv2.circle(between, tuple(int(v) for v in centre), 4, 1, -1)  # the skin between the brows
    between = (ager.from_face(between) > 0.5) & (ager.from_face(ager.masks['brows']) < 0.01)
    assert between.sum() > 20
    lab = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(float)
    old, photo = lab(ager.aged(own, own, 80)), lab(framed.photo)
    assert old[brows][:, 0].mean() > photo[brows][:, 0].mean() + 15
    chroma = lambda pixels: np.hypot(*(pixels[:, 1:] - 128).T).mean()
    assert chroma(old[brows]) < chroma(photo[brows])
    assert abs(old[between][:, 0].mean() - photo[between][:, 0].mean()) < 4
    child = np.asarray(ager.aged(own, own, 3))
    ager.masks['brows'] = np.zeros_like(ager.masks['brows'])
    assert np.array_equal(np.asarray(ager.aged(own, own, 3)), child)  # towards childhood they stay the photo's


def test_grey_hair_darkens_on_the_child_of_a_grey_haired_photo_and_a_young_photos_light_hair_stays():
    """FairFace 0455 (65, grey hair): his child's hair darkens also over the ear, where the hair mask fades (a child
    kept white temples; turned, his head's hair mask reaches them: hair.head_frame); the same photo said to be 30
    years old has no grey hair to darken (light hair at 30 is blond, ash or a shine): its child's hair beyond the face
    mask keeps the photo's lightness (it lost a third)."""
    framed = align.align_face(Image.open('photos/fairface/fairface_0455.jpg'))
    own = np.asarray(framed.crop)
    lightness = lambda image, where: np.asarray(image, float)[y0:y1, x0:x1][where].mean()
    old = photo_aging.PhotoAger(framed.photo, framed.crop_box, 65, composition.METHODS['hair'], consts.MALE)
    x0, y0, x1, y1 = old.region
    assert (old.masks['grey_hair'] >= old.masks['hair']).all()
    temples = (old.from_face(old.masks['grey_hair']) > 0.8) & (old.from_face(old.masks['hair']) < 0.5)  # 1429 px
    assert temples.sum() > 500
    assert lightness(old.aged(own, own, 3), temples) < lightness(framed.photo, temples) - 40
    young = photo_aging.PhotoAger(framed.photo, framed.crop_box, 30, composition.METHODS['hair'], consts.MALE)
    hair_beyond = (young.from_face(young.masks['hair']) > 0.5) & (young.alpha[..., 0] == 0)
    assert hair_beyond.sum() > 500
    assert abs(lightness(young.aged(own, own, 3), hair_beyond) - lightness(framed.photo, hair_beyond)) < 3


def test_a_dim_photos_hair_greys_as_dim_as_its_face_and_a_well_lit_ones_towards_white(framed):
    """FairFace 0001 (55, black hair, a dim hall: cheeks at Lab L 45): at 80 his hair's median is at most 2.2 times
    the cheeks' lightness, as the lightest real grey heads of both sets (FairFace 0512, 0245; it was 2.9: a white
    bonnet, lighter than his white collar), and still greyed; the well-lit astronaut's hair greys towards white."""
    photo = align.align_face(Image.open('photos/fairface/fairface_0001.jpg'))
    ager = photo_aging.PhotoAger(photo.photo, photo.crop_box, 55, composition.METHODS['hair'], consts.MALE)
    lightness = lambda image: cv2.cvtColor(ager.padded_face(np.float32(np.asarray(image))[y0:y1, x0:x1]).clip(
        0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0][ager.masks['hair'] > 0.9]
    x0, y0, x1, y1 = ager.region
    skin = np.median(ager.skin_colour[:, 0])
    assert skin < 60 and ager.white < 255 and lightness(photo.photo).size > 200
    old = np.median(lightness(ager.aged(np.asarray(photo.crop), np.asarray(photo.crop), 80)))
    assert 3 * np.median(lightness(photo.photo)) < old < 2.2 * skin
    lit = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['hair'], consts.FEMALE)
    assert lit.white == 255


def test_a_white_beard_hanging_below_the_jaw_is_gone_on_the_child_and_a_white_collar_is_no_beard():
    """FairFace 0537 (75): dlib's chin lies on his long white beard, which his child kept (only the jaw's inside was
    shaved): at 3 the beard below the jaw takes what is around it (his dark robe, his neck), at 25 it darkens with
    the hair as a young man's full beard; a beardless man's white collar below his chin (FairFace 0001) is no beard."""
    framed = align.align_face(Image.open('photos/fairface/fairface_0537.jpg'))
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 75, composition.METHODS['texture'], consts.MALE)
    x0, y0, x1, y1 = ager.region
    iod = age_shape.eye_distance(ager.points)
    below = np.zeros_like(ager.masks['hanging'])
    below[int(ager.points[8, 1] + age_shape.PAD + 0.3 * iod):] = 1  # under the chin
    hung = (ager.from_face(ager.masks['hanging'] * below) > 0.9)
    assert hung.sum() > 2000 and ager.bearded
    lightness = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)[..., 0][hung].mean()
    assert lightness(framed.photo) > 120
    assert lightness(ager.aged(own, own, 3)) < 80 and lightness(ager.aged(own, own, 25)) < lightness(framed.photo) - 30
    collar = align.align_face(Image.open('photos/fairface/fairface_0001.jpg'))
    plain = photo_aging.PhotoAger(collar.photo, collar.crop_box, 55, composition.METHODS['texture'], consts.MALE)
    assert plain.masks['hanging'].max() == 0


def test_a_full_beard_beyond_a_childs_jaw_takes_the_wall_beside_it_not_skin():
    """Thompson (74, a full white beard, facing the camera): dlib's jaw line follows the beard's edge, and his child
    was as wide as the beard or wider (the cheeks' colour out to it). At 3 his jaw is a child's under the beard
    (beard.jaw_under) and the beard beside it takes the blue wall around it: between the lower lip and the chin,
    across the face and a little beyond, the child's face and neck are a tenth narrower than the photo's beard (they
    were 5% wider); the chin itself stays skin."""
    framed = align.align_face(Image.open('photos/thompson_2022.jpg'))
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 74, composition.METHODS['texture'], consts.MALE)
    assert ager.bearded and beard.faces_camera(ager.points)
    target = age_shape.aged_landmarks(ager.points, ager.own_position, games.group_position(3), consts.MALE,
                                      ager.warp_strength)
    pad, side, iod = age_shape.PAD, 128 + 2 * age_shape.PAD, age_shape.eye_distance(target)
    rows, columns = np.mgrid[:side, :side] - pad
    band = ((rows > target[57, 1]) & (rows < target[8, 1]) & (columns > target[0, 0] - 0.3 * iod)
            & (columns < target[16, 0] + 0.3 * iod))
    chin = band & (np.abs(columns - target[8, 0]) < 0.1 * iod)
    x0, y0, x1, y1 = ager.region
    not_wall = lambda image, where: (cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)[..., 2][
        ager.from_face(np.float32(where)) > 0.5] >= 120).mean()  # Lab b: the wall is blue (128: no colour)
    child = ager.aged(own, own, 3)
    assert not_wall(child, band) < 0.9 * not_wall(framed.photo, band)
    assert not_wall(child, chin) == 1


def test_a_young_mans_full_beard_greys_with_his_hair():
    """Frost (25, a full black beard): his beard greys with his hair at 80 (from 18 a full beard is a man's: at 25 it
    stayed black under white hair, as dyed), its hairs and not the skin its mask's soft edge covers."""
    framed = align.align_face(Image.open('photos/frost_2022.jpg'))
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 25, composition.METHODS['hair'], consts.MALE)
    assert ager.bearded
    x0, y0, x1, y1 = ager.region
    lab = lambda image: cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(float)
    old = lab(ager.aged(own, own, 80))
    ager.bearded = False
    dark = lab(ager.aged(own, own, 80))  # as it was: the beard left black
    skin = np.median(ager.skin_colour[:, 0])
    on_beard = (ager.from_face(ager.masks['beard']) > 0.9) & (dark[..., 0] < skin - 40)
    mask = ager.from_face(ager.masks['beard'])
    skin_in_it = (mask > 0.3) & (dark[..., 0] > skin - 10)  # skin the beard's mask covers: on its cheeks, its edge
    assert on_beard.sum() > 1000 and skin_in_it.sum() > 300
    assert old[on_beard][:, 0].mean() > dark[on_beard][:, 0].mean() + 40
    assert np.abs(old[skin_in_it] - dark[skin_in_it]).mean() < 6  # greyed whole: 17 (L 32)


def test_the_hair_greys_by_itself_and_not_by_gs_change(framed):
    """Older, G's change leaves the hair out (its grey hair is greyed as the photo's: G's was a flat grey cap): with
    the hair mask over all the face, a render that brightens everything ages the photo as G's own-age render does;
    younger it does not."""
    own = np.asarray(framed.crop)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['hair'], consts.FEMALE)
    ager.masks['hair'] = np.ones_like(ager.masks['hair'])
    brighter = (own.astype(int) + 60).clip(0, 255).astype(np.uint8)
    change = lambda years: np.abs(np.asarray(ager.aged(brighter, own, years), float)
                                  - np.asarray(ager.aged(own, own, years), float)).mean()
    assert change(80) == 0 and change(25) > 0.2


def test_a_childs_photo_grown_up_is_gs_face_at_that_age_with_the_photos_grain():
    """A baby aged to an adult kept the baby's face under G's old skin: the photo's coarse features fade to G's."""
    framed = align.align_face(Image.open('photos/fairface/fairface_0124.jpg'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 1, composition.METHODS['compose'], consts.MALE)
    flat = np.full((128, 128, 3), 128, np.uint8)  # G's face, the same at every age
    cheek = lambda image: np.asarray(align.face_chip(framed, image), float)[80:100, 20:40]
    assert np.abs(cheek(ager.aged(flat, flat, 3)) - cheek(framed.photo)).mean() < 3  # the same group: the photo
    assert np.abs(cheek(ager.aged(flat, flat, 45)) - 128).mean() < 0.3 * np.abs(cheek(framed.photo) - 128).mean()


@pytest.mark.parametrize('nose, share', [(0.0, 1.0), (0.6, 0.0)])
def test_a_turned_face_takes_less_of_the_shape_of_age(nose, share):
    points = age_shape.prototype(consts.ADULT_GROUP, consts.MALE).copy()
    left, right = age_shape.eye_centres(points)
    points[30] = (left + right) / 2 + (nose * (right[0] - left[0]), 20)
    assert age_shape.warp_share(points, np.zeros((128, 128, 3), np.uint8)) == share  # no face found on the chip


def test_a_profile_that_dlib_reads_as_facing_the_camera_is_turned_by_the_face_detectors_landmarks(framed):
    """dlib read FairFace 0288's profile as frontal (its nose 0.2 eye distances off the eyes' midline), and G's
    frontal face was a ghost on the wall in front of it; the face detector's landmarks on the chip see it turned, and
    a frontal face stays frontal (the detector reads faces a little more turned than dlib: DETECTOR_TURN)."""
    chip_of = lambda face: np.asarray(align.face_chip(face, face.photo))
    profile = align.align_face(Image.open('photos/fairface/fairface_0288.jpg'))
    points = age_shape.landmarks(chip_of(profile))
    assert align.turn(np.vstack([*age_shape.eye_centres(points), points[30]])) < age_shape.WARP_TURN[0] + 0.05
    assert age_shape.warp_share(points, chip_of(profile)) == 0.0
    assert age_shape.warp_share(age_shape.landmarks(chip_of(framed)), chip_of(framed)) > 0.9  # the astronaut faces us


def test_a_face_in_profile_takes_none_of_gs_frontal_face_and_a_turned_ones_change_keeps_to_its_outline(framed):
    """G draws a frontal face: on FairFace's profiles its change and fade lit a ghost face on the background."""
    profile = align.align_face(Image.open('photos/fairface/fairface_0086.jpg'))
    ager = photo_aging.PhotoAger(profile.photo, profile.crop_box, 25, gender=consts.FEMALE)
    assert ager.facing == 0
    own, other = np.full((128, 128, 3), 100, np.uint8), np.full((128, 128, 3), 200, np.uint8)
    x0, y0, x1, y1 = ager.region
    change = np.abs(np.asarray(ager.aged(other, own, 8), float) - np.asarray(profile.photo, float))[y0:y1, x0:x1]
    assert change.mean() < 2  # the skin's detail, light and hair change; no trace of G's 100-level brightening
    frontal = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, gender=consts.FEMALE)
    pad = age_shape.PAD
    assert np.array_equal(age_shape.turned_face(frontal.points, 1.0, pad), np.ones((128 + 2 * pad,) * 2))
    reach = age_shape.turned_face(frontal.points, 0.0, pad)
    nose = np.round(frontal.points[30] + pad).astype(int)
    assert reach[nose[1], nose[0]] > 0.99 and reach[:10, :10].max() < 0.01 and reach[-10:, -10:].max() < 0.01


def test_every_change_keeps_to_the_person_and_not_to_the_wall_in_front_of_a_profile():
    """dlib's landmarks of FairFace 0288's profile lie on the wall in front of him: G's change, the skin's lines and
    the old skin drawn on them were grey streaks on the wall; the person's map (person.py) keeps them to him."""
    profile = align.align_face(Image.open('photos/fairface/fairface_0288.jpg'))
    ager = photo_aging.PhotoAger(profile.photo, profile.crop_box, 45, gender=consts.MALE)
    x0, y0, x1, y1 = ager.region
    photo = np.asarray(profile.photo)[y0:y1, x0:x1]
    wall = cv2.erode(np.uint8(person.person_map(photo) < 0.01), np.ones((11, 11), np.uint8)) > 0  # 5 px clear
    face_mask = cv2.warpAffine(align.paste_mask(), ager.matrix, photo.shape[1::-1])
    assert wall[face_mask > 0.5].mean() > 0.2  # the face mask on his landmarks is partly the wall
    own, other = np.full((128, 128, 3), 100, np.uint8), np.full((128, 128, 3), 200, np.uint8)
    for years in (2.5, 80):
        aged = np.asarray(ager.aged(other, own, years))[y0:y1, x0:x1]
        assert np.array_equal(aged[wall], photo[wall]), years
        assert np.abs(np.int16(aged) - photo)[~wall].max() > 50  # he changes


def test_real_faces_light_leaves_the_skin_a_shaved_beard_left(framed):
    """The shaved skin has a child's shading already: lit again by the mean faces, a dark man's child's muzzle was
    pale."""
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['prototype'], consts.MALE)
    side = 128 + 2 * age_shape.PAD
    keep = np.ones((128, 128), np.float32)
    lit = ager.relit(ager.roi.copy(), ager.points, 0.0, keep)  # the steps change the region they are given
    assert np.abs(lit - ager.roi).mean() > 1
    shaved = ager.relit(ager.roi.copy(), ager.points, 0.0, keep, np.ones((side, side), np.float32))
    assert np.abs(shaved - ager.roi).max() < 1e-3


def test_old_skin_is_drawn_at_the_photos_scale_towards_old_age_and_not_towards_childhood(astronaut, monkeypatch):
    """With G's change left out (its own render at every age), the forehead of the 80-year-old takes lines: fine
    detail (the Laplacian) grows there; the child's does not (the astronaut at three times her size, her face 2.5
    photo pixels a face pixel, taken as a sharp photo: its enlarged edges are soft, see the next test)."""
    monkeypatch.setattr(photo_aging, 'SHARP_EDGE', 2.0)
    photo = Image.open(astronaut)
    framed = align.align_face(photo.resize((3 * photo.width, 3 * photo.height), Image.LANCZOS))
    own = np.asarray(framed.crop)
    points = age_shape.landmarks(own)
    brows = points[17:27]
    box = np.array([(brows[:, 0].min(), brows[:, 1].min() - 20), (brows[:, 0].max(), brows[:, 1].min() - 6)])
    (x0, y0), (x1, y1) = np.round(box @ align.face_to_image_matrix(framed.crop_box)[:, :2].T
                                  + align.face_to_image_matrix(framed.crop_box)[:, 2]).astype(int)
    detail = lambda image: cv2.Laplacian(cv2.cvtColor(np.asarray(image)[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY),
                                         cv2.CV_64F).var()
    aged = {name: photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS[name], consts.FEMALE)
            for name in ('prototype', 'texture')}
    assert detail(aged['texture'].aged(own, own, 80)) > 1.3 * detail(aged['prototype'].aged(own, own, 80))
    child = [np.asarray(aged[name].aged(own, own, 2.5)) for name in ('texture', 'prototype')]
    assert np.array_equal(*child)


@pytest.mark.parametrize('sigma', [1.5, 2.5, 4.0])
def test_edge_blur_reads_how_blurred_a_photos_sharpest_edges_are(sigma):
    """Rectangles (step edges) blurred by a known sigma read as that sigma within a fifth; unblurred, under 1 px;
    too few pixels to judge read 0."""
    rng = np.random.default_rng(0)
    grey = np.full((200, 200), 128, np.uint8)
    for x, y, w, h, level in zip(*rng.integers(0, 160, (4, 30)), rng.integers(0, 255, 30)):
        grey[y:y + h // 3 + 8, x:x + w // 3 + 8] = level
    where = np.ones(grey.shape, bool)
    assert images.edge_blur(grey, where) < 1.0
    assert images.edge_blur(cv2.GaussianBlur(grey, (0, 0), sigma), where) == pytest.approx(sigma, rel=0.2)
    assert images.edge_blur(grey, np.zeros(grey.shape, bool)) == 0.0


def test_old_skin_is_as_soft_as_a_blurred_photo(astronaut):
    """The same photo blurred by 2.5 px: its sharpest edges read as blurred, and the old skin drawn on it (texture
    less prototype at 80, G's change left out) is as much softer: its Laplacian is a smaller share of it."""
    photo = Image.open(astronaut).convert('RGB')
    blurred = Image.fromarray(cv2.GaussianBlur(np.asarray(photo), (0, 0), 2.5))
    fineness, soft = [], []
    for image in (photo, blurred):
        framed = align.align_face(image)
        own = np.asarray(framed.crop)
        agers = [photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS[name], consts.FEMALE)
                 for name in ('texture', 'prototype')]
        old_skin = np.subtract(*[np.asarray(ager.aged(own, own, 80), float).mean(2) for ager in agers])
        fineness.append(cv2.Laplacian(old_skin, cv2.CV_64F).var() / old_skin.var())
        soft.append(agers[0].soft)
    assert soft[0] == pytest.approx(photo_aging.TEXTURE_SOFT, abs=0.2) and soft[1] > 2.0
    assert fineness[1] < 0.5 * fineness[0]


def test_real_faces_light_lightens_a_childs_skin_as_much_from_an_elder_as_from_an_adult(framed):
    """Within each race UTKFace's elders are darker than its adults: their mean lit an elder's child 23% lighter than
    the adults' mean does (15%), a pale child of a dark elder. The mean faces lighten at most PROTOTYPE_LIGHTER."""
    def child_gain(own_age):
        ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, own_age, composition.METHODS['prototype'],
                                     consts.MALE)
        lit = ager.relit(ager.roi.copy(), ager.points, 0.0, np.ones((128, 128), np.float32))
        skin = ager.from_face(age_shape.skin_mask(ager.points, age_shape.PAD), borderValue=0) > 0.99
        return np.median((lit[skin] + 1) / (ager.roi[skin] + 1))
    adult, elder = child_gain(35), child_gain(80)
    assert adult > 1.02 and abs(elder - adult) < 0.02, (adult, elder)  # uncapped: 1.04, 1.08


def test_a_grown_childs_lips_are_lit_no_lighter_than_its_skin_and_darken_with_it(framed, monkeypatch):
    """A baby's pink lips lit as a young woman's mean face (her mean's lips lighter than the baby's) were a red blob
    (FairFace 0403 at 16-20): grown older, the lips are lit at most as the skin, or not at all where it darkens; an
    elder made younger takes the young mean's lighter lips (capped there too, photos/' elders read 2-3 years older)."""
    pad, keep = age_shape.PAD, np.ones((128, 128), np.float32)

    def lit(lips_light, skin_light, own_age=1):
        ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, own_age, composition.METHODS['prototype'],
                                     consts.FEMALE)
        lips = age_shape.lips_mask(ager.points, pad)
        on_lips = ager.from_face(lips, borderValue=0) > 0.99
        cheeks = ager.from_face(age_shape.cheek_mask(ager.points, pad).astype(np.float32), borderValue=0) > 0.99
        assert on_lips.sum() > 100 and cheeks.sum() > 100
        means = {ager.own_position: 100.0, 3.0: 100.0 * skin_light}
        monkeypatch.setattr(age_shape, 'prototype_face', lambda position, gender, points, pad: np.dstack(
            [means[position] * (1 + (lips_light / skin_light - 1) * lips * (position != ager.own_position))] * 3))
        gain = (ager.relit(ager.roi.copy(), ager.points, 3.0, keep) + 1) / (ager.roi + 1)
        return np.median(gain[on_lips]), np.median(gain[cheeks])
    lips_gain, skin_gain = lit(1.3, 0.9)  # the skin darkens, the lips' mean lightens: the lips stay
    assert lips_gain == pytest.approx(1, abs=0.01) and skin_gain == pytest.approx(0.9, abs=0.01)
    lips_gain, skin_gain = lit(1.4, 1.1)  # the skin lightens: the lips as much, no more
    assert lips_gain == pytest.approx(1.1, abs=0.01) and skin_gain == pytest.approx(1.1, abs=0.01)
    lips_gain, skin_gain = lit(0.7, 0.9)  # the lips' mean darkens more than the skin's: so do they
    assert lips_gain == pytest.approx(0.7, abs=0.02)
    lips_gain, skin_gain = lit(1.4, 1.1, own_age=80)  # an elder at 16-20: the young mean's lighter lips
    assert lips_gain == pytest.approx(1.4, abs=0.02) and skin_gain == pytest.approx(1.1, abs=0.01)


def test_a_beard_s_edge_is_shaved_too_and_its_skin_takes_the_cheeks_texture(framed, monkeypatch):
    """The stubble around a beard's core (in the lower face) is skin for a child, where the generator kept a beard as
    dark patches on the cheeks; and the skin a beard leaves has the photo's own cheeks' grain and a child's share of
    their coarser texture (SKIN_PATCH) on the flat, shaded skin, at the photo's scale (three times the astronaut's)."""
    points = age_shape.landmarks(np.asarray(framed.crop))
    side, pad = 128 + 2 * age_shape.PAD, age_shape.PAD
    core = np.zeros((side, side), np.float32)
    cv2.circle(core, tuple(int(v) for v in points[8] + (pad, pad - 8)), 6, 1.0, -1)  # a goatee's core on the chin
    region = age_shape.lower_face_region(points, pad, side, jaw=beard.BEARD_JAW)
    shaven = beard.shaven(core, points)
    assert (shaven > core + 0.5).sum() > (core > 0.5).sum()  # its edge, much more than the core
    grow = np.ones((2 * beard.BEARD_GROW + 1,) * 2, np.uint8)
    assert shaven[cv2.dilate((region > 0.01).astype(np.uint8), grow) == 0].max() < 0.1  # not beyond the lower face
    assert np.abs(shaven - core)[:int(points[33, 1]) + pad - 4].max() == 0  # nothing above the nostrils
    assert np.array_equal(beard.shaven(core, points, grow=0.0), core)  # a profile: only the beard found
    background = np.ones_like(core)
    background[:, :int(points[8, 0]) + pad] = 0  # the left half of the face is the background's colour
    grown_on = beard.shaven(core, points, grow=background)
    assert np.array_equal(grown_on[background == 0], core[background == 0])  # not grown there
    large = framed.photo.resize((framed.photo.width * 3, framed.photo.height * 3), Image.BICUBIC)
    box = np.array(framed.crop_box) * 3
    ager = photo_aging.PhotoAger(large, box, 42, composition.METHODS['child'], consts.MALE)
    whole = (region > 0.9).astype(np.float32)
    shaved = ager.shaved(ager.roi.copy(), 1.0, {**ager.masks, 'shaven': whole}, ager.points, 3.0)[0]
    monkeypatch.setattr(photo_aging.age_texture, 'skin_patches', lambda detail, *_: np.zeros_like(detail))
    flat = photo_aging.PhotoAger(large, box, 42, composition.METHODS['child'], consts.MALE)  # its texture: nothing
    texture = shaved - flat.shaved(flat.roi.copy(), 1.0, {**flat.masks, 'shaven': whole}, flat.points, 3.0)[0]
    inside = cv2.erode((ager.from_face(whole) > 0.99).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    cheeks = ager.from_face(age_shape.cheek_mask(ager.points, pad).astype(np.float32)) > 0.5
    grain = lambda image: image - cv2.GaussianBlur(image, (0, 0), photo_aging.SKIN_GRAIN)
    detail = lambda image: image - cv2.GaussianBlur(image, (0, 0), photo_aging.SKIN_PATCH[1] * ager.scale)
    spread = lambda values: 1.48 * np.median(np.abs(values - np.median(values, 0)), 0)  # robust: the nose's edges
    grain_ratio = spread(grain(texture)[inside]) / spread(grain(ager.roi)[cheeks])
    assert np.all((grain_ratio > 1 / 1.6) & (grain_ratio < 1.6))  # the photo's own grain
    assert np.all(0.3 < spread(texture[inside]) / spread(detail(ager.roi)[cheeks]))  # textured, not flat ...
    assert np.all(spread(texture[inside]) < 0.8 * spread(detail(ager.roi)[cheeks]))  # ... and a child's: smoother


def test_lines_on_the_neck_high_on_the_forehead_and_by_the_jaw_fill_towards_childhood_beyond_the_face_mask(framed):
    """An elder's creases under the chin, a forehead line an eye distance over the brows and a line on the cheek just
    inside the jaw line (beyond the face mask or where it fades out: they stayed on a child) fill as the cheeks' do
    towards childhood, and stay for an adult: skin-coloured patches painted there (the astronaut at three times her
    size), a dark line 5 photo pixels wide through each."""
    points = age_shape.landmarks(np.asarray(framed.crop))
    iod = float(np.hypot(*np.subtract(*age_shape.eye_centres(points))))
    large = framed.photo.resize((framed.photo.width * 3, framed.photo.height * 3), Image.BICUBIC)
    box = np.array(framed.crop_box) * 3
    to_photo = align.face_to_image_matrix(box)
    photo = np.array(large)
    cx, cy = np.round(to_photo @ (*points[29], 1)).astype(int)
    skin = photo[cy - 3:cy + 4, cx - 3:cx + 4].reshape(-1, 3).mean(0)
    half = int(0.24 * iod * to_photo[0, 0])
    inward = (points[30] - points[3]) / np.linalg.norm(points[30] - points[3])
    lines = []
    for x, y in (points[8] + (0, 0.4 * iod), (points[17:27, 0].mean(), points[17:27, 1].min() - 1.0 * iod),
                 points[3] + 0.12 * iod * inward):
        px, py = np.round(to_photo @ (x, y, 1)).astype(int)
        photo[py - half:py + half, px - half:px + half] = skin
        photo[py - 2:py + 3, px - half // 2:px + half // 2] = 0.7 * skin  # the crease
        lines.append((px, py))
    ager = photo_aging.PhotoAger(Image.fromarray(photo), box, 80, composition.METHODS['texture'], consts.FEMALE)
    dx, dy = ager.region[:2]
    depth = lambda image, x, y: image[y - 7 - dy, x - half // 4 - dx:x + half // 4 - dx].mean() - image[
        y - dy, x - half // 4 - dx:x + half // 4 - dx].mean()
    child, adult = (ager.unlined(ager.roi.copy(), ager.points, 1.0, child=share) for share in (1.0, 0.0))
    for x, y in lines:
        assert depth(child, x, y) < 0.5 * depth(ager.roi, x, y)
        assert depth(adult, x, y) > 0.8 * depth(ager.roi, x, y)


def test_an_elder_made_younger_loses_the_skins_lines_and_a_white_beard_darkens(framed):
    """Dark lines on the cheeks (5 photo pixels, 2 face pixels wide, the astronaut at three times her size) fill
    (unlined: at 21-30 an elder kept every line), but where the colour is not the skin's (a glasses' rim); and a
    white full beard, kept at 74, is dark at 25 (it stayed white under dark hair)."""
    points = age_shape.landmarks(np.asarray(framed.crop))
    large = framed.photo.resize((framed.photo.width * 3, framed.photo.height * 3), Image.BICUBIC)
    box = np.array(framed.crop_box) * 3
    to_photo = align.face_to_image_matrix(box)
    x0, x1 = np.round(np.array([points[2, 0] + 4, points[36, 0]]) * to_photo[0, 0] + to_photo[0, 2]).astype(int)
    rows = np.round((points[29, 1] + np.array([0, 14])) * to_photo[1, 1] + to_photo[1, 2]).astype(int)
    lines = np.array(large)
    lines[rows[0] - 2:rows[0] + 3, x0:x1] = (lines[rows[0] - 2:rows[0] + 3, x0:x1] * 0.7).astype(np.uint8)  # a wrinkle
    lines[rows[1] - 2:rows[1] + 3, x0:x1] = (20, 20, 90)  # a dark blue rim
    ager = photo_aging.PhotoAger(Image.fromarray(lines), box, 80, composition.METHODS['texture'], consts.FEMALE)
    dx, dy = ager.region[:2]
    cols = slice((3 * x0 + x1) // 4 - dx, (x0 + 3 * x1) // 4 - dx)  # the middle half of the lines
    depth = lambda image, row: image[row - 7 - dy, cols].mean() - image[row - dy, cols].mean()
    unlined = ager.unlined(ager.roi.copy(), ager.points, 1.0)
    assert depth(unlined, rows[0]) < 0.5 * depth(ager.roi, rows[0])
    assert depth(unlined, rows[1]) > 0.9 * depth(ager.roi, rows[1])
    assert np.array_equal(ager.unlined(ager.roi.copy(), ager.points, 0.0), ager.roi)
    region = age_shape.lower_face_region(points, 0, 128)
    on_beard = cv2.warpAffine(region, align.face_to_image_matrix(framed.crop_box), framed.photo.size) > 0.9
    white = np.array(framed.photo)
    white[on_beard] = (225, 225, 222)
    old = photo_aging.PhotoAger(Image.fromarray(white), framed.crop_box, 74, composition.METHODS['texture'], consts.MALE)
    own = np.asarray(align.face_chip(framed, Image.fromarray(white)))
    assert old.bearded
    lightness = lambda image: np.asarray(image, float)[on_beard].mean()
    assert lightness(old.aged(own, own, 25)) < lightness(old.aged(own, own, 74)) - 40


def test_a_turned_elders_child_loses_the_relief_of_its_skin_where_gs_child_does_not_replace_it(framed):
    """Light ridges between an old cheek's furrows (3 photo pixels wide, 8 apart: the astronaut at three times her
    size) go towards childhood on a turned face (a profile's child kept every wrinkle: FairFace 0379, 0380), but
    for its grain; a frontal face's child (G's child replaces the photo there) and an adult keep them but for the dark
    lines between them that fill (unlined's closing)."""
    points = age_shape.landmarks(np.asarray(framed.crop))
    large = np.array(framed.photo.resize((framed.photo.width * 3, framed.photo.height * 3), Image.BICUBIC))
    box = np.array(framed.crop_box) * 3
    to_photo = align.face_to_image_matrix(box)
    x0, x1 = np.round(np.array([points[2, 0] + 4, points[36, 0]]) * to_photo[0, 0] + to_photo[0, 2]).astype(int)
    y0 = int(round(points[29, 1] * to_photo[1, 1] + to_photo[1, 2]))
    for row in range(y0, y0 + 40, 8):
        large[row:row + 3, x0:x1] = (large[row:row + 3, x0:x1] * 1.1).clip(0, 255).astype(np.uint8)  # a ridge
    ager = photo_aging.PhotoAger(Image.fromarray(large), box, 80, composition.METHODS['texture'], consts.FEMALE)
    dx, dy = ager.region[:2]
    patch = np.s_[y0 - dy:y0 + 40 - dy, (3 * x0 + x1) // 4 - dx:(x0 + 3 * x1) // 4 - dx]
    rows = lambda image: image[patch].mean((1, 2)).reshape(5, 8)
    ridges = lambda image: rows(image)[:, :3].mean() - rows(image)[:, 4:7].mean()  # over the skin between
    frontal = ager.unlined(ager.roi.copy(), ager.points, 1.0, child=1.0)
    adult = ager.unlined(ager.roi.copy(), ager.points, 1.0)
    ager.facing = 0.0
    turned = ager.unlined(ager.roi.copy(), ager.points, 1.0, child=1.0)
    fine = lambda image: (image - cv2.GaussianBlur(image, (0, 0), 1.0))[patch].std()
    assert ridges(turned) < 0.4 * ridges(ager.roi)
    assert min(ridges(frontal), ridges(adult)) > 0.6 * ridges(ager.roi)  # the dark lines between filled, no more
    assert fine(turned) > 0.5 * fine(ager.roi)  # the photo's grain


def test_an_age_is_computed_in_float32_whatever_its_masks_type(framed):
    """A float64 mask or constant made every later step of an age float64 (twice as slow on a close-up)."""
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, gender=consts.FEMALE)
    side = 128 + 2 * age_shape.PAD
    assert ager.from_face(np.ones((side, side))).dtype == np.float32
    lab = cv2.cvtColor(np.asarray(framed.photo), cv2.COLOR_RGB2LAB).astype(np.float32)
    where = np.zeros(lab.shape[:2], bool)
    where[:50] = True
    assert {hair.hair_colour(lab, amount, where).dtype for amount in (0.5, -0.5)} == {np.dtype(np.float32)}
    sample = lab[:50, :50].reshape(-1, 3)
    assert hair.colour_distance(lab, sample, (40.0, 2.0, 2.0)).dtype == np.float32
    as_table = hair.colour_distance(lab.astype(np.uint8), sample, (40.0, 2.0, 2.0))  # uint8 pixels: by a table
    assert np.array_equal(as_table, hair.colour_distance(lab, sample, (40.0, 2.0, 2.0)))  # bit for bit


def test_the_parts_of_an_age_worked_in_a_box_are_the_whole_regions(framed):
    """The composition, the mean faces' light and the old skin work in the box around the face mask (face_box) or the
    old skin, the warp in the box around where the face moves, the shaved skin in the box around it: what they give
    there is what the whole region gave, and beyond the warp's and the shaved skin's boxes the photo's pixels stay."""
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, gender=consts.FEMALE)
    x0, y0, x1, y1 = box = ager.face_box
    inside = np.s_[y0:y1, x0:x1]
    assert 0 < (x1 - x0) * (y1 - y0) < 0.8 * ager.roi.shape[0] * ager.roi.shape[1]
    assert np.array_equal(ager.skin_like(ager.roi, box=box), ager.skin_like(ager.roi)[inside])
    side = 128 + 2 * age_shape.PAD
    face = cv2.GaussianBlur(np.random.default_rng(0).uniform(0, 255, (side, side, 3)).astype(np.float32), (0, 0), 2)
    assert np.abs(ager.warp(face[:128, :128], box) - ager.warp(face[:128, :128])[inside]).max() < 0.5
    assert np.abs(ager.from_face(face, box) - ager.from_face(face)[inside]).max() < 0.5
    flow = np.zeros((side, side, 2), np.float32)
    bands = (ager.roi, cv2.INTER_LANCZOS4), (ager.coarse, cv2.INTER_LINEAR)
    assert all(np.array_equal(moved, still) for moved, (still, _) in zip(ager.moved(flow, *bands), bands))
    flow[100:110, 100:110] = 2.0  # two face pixels, on the nose
    moved = ager.moved(flow, *bands)[0]
    changed = np.abs(moved - ager.roi).max(-1) > 0
    mx0, my0, mx1, my1 = ager.box_from_face(flow.any(-1))
    assert changed.any() and not changed[:my0].any() and not changed[my1:].any()
    assert not changed[:, :mx0].any() and not changed[:, mx1:].any()
    shaven = np.zeros((side, side), np.float32)
    shaven[160:175, 100:140] = 1.0  # the chin: the shaved skin is worked in its box, beyond it the photo stays
    shaved = ager.shaved(ager.roi.copy(), 1.0, {**ager.masks, 'shaven': shaven}, ager.points, 0.0)[0]
    changed = np.abs(shaved - ager.roi).max(-1) > 0
    sx0, sy0, sx1, sy1 = ager.box_from_face(shaven > 0)
    assert changed[sy0:sy1, sx0:sx1].any() and changed.sum() == changed[sy0:sy1, sx0:sx1].sum()


def test_a_child_grown_old_takes_gs_mottle_smoothed_and_an_adult_as_before(framed):
    """A child's photo grown old fades to G's face, whose 128-px mottle made dark blotches at 71+ (FairFace 0425,
    0484): there G's change is smoothed up to 1 + grown_smooth times more; an adult's is as before, bit for bit."""
    own = np.full((128, 128, 3), 150, np.uint8)
    mottle = cv2.GaussianBlur(np.random.default_rng(0).normal(0, 25, (128, 128)).astype(np.float32), (0, 0), 1.5)
    old = np.clip(own + mottle[..., None], 0, 255).astype(np.uint8)
    texture = composition.METHODS['texture']
    plain = dataclasses.replace(texture, grown_smooth=0.0)

    def aged(age, how, render):
        ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, age, how, consts.FEMALE)
        return np.asarray(ager.aged(render, own, 80), np.float32).mean(2)

    def gs_fine_part(how):  # what G's change adds, finer than a few face pixels
        added = aged(1, how, old) - aged(1, how, own)
        return (added - cv2.GaussianBlur(added, (0, 0), 8)).var()

    assert np.array_equal(aged(42, texture, old), aged(42, plain, old))
    assert gs_fine_part(texture) < 0.6 * gs_fine_part(plain)


def test_the_face_region_holds_a_childs_whole_head_of_greyed_hair():
    """face_region is all that PhotoAger may change (the page's strip and lifespan, the CLI's GIF, the contact sheets
    show it): a child's hair greys up to the padded face's top, 0.69 of the crop's side above it (at 0.6 the top 12
    rows of FairFace 0315's greyed hair lay beyond it, cut off)."""
    framed = align.align_face(Image.open('photos/fairface_0315.jpg'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 6, gender=consts.MALE)
    own = np.random.default_rng(0).integers(60, 200, (128, 128, 3)).astype(np.uint8)
    photo = np.asarray(framed.photo)
    changed = np.abs(np.asarray(ager.aged(own, own, 80), float) - photo).max(2) > 0
    x0, y0, x1, y1 = face_region(framed.crop_box, framed.photo.size)
    outside = np.ones(changed.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert not changed[outside].any()
    assert changed[y0:y0 + 20, x0:x1].any()  # the grey hair reaches the region's top


def test_the_changes_keep_off_another_persons_face_and_side_beside_the_one_aged():
    """Two people cheek to cheek: the person map holds both, and a neighbour's hair and top greyed with the hair
    (FairFace 0350, 0029). Where the changes may go (reach) and the hair masks stop where the other's face is nearer
    (person.other_people); the aged face's own side keeps them."""
    from skimage import data
    half = data.astronaut()[::2, ::2][:, 83:139]  # her face (42 px wide) at columns 7-49: two faces side by side
    pair = Image.fromarray(np.concatenate([half, half], 1))
    framed = align.align_face(pair)
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, 42, composition.METHODS['texture'], consts.FEMALE)
    x0, y0, x1, y1 = ager.region
    own = framed.box[0] + framed.box[2] // 2 - x0
    other = [f.box for f in align.find_faces(pair) if abs(f.box[0] - framed.box[0]) > 40][0]
    near = slice(int(other[0]) - x0, int(other[0] + other[2] / 2) - x0) if own < 56 else slice(
        int(other[0] + other[2] / 2) - x0, int(other[0] + other[2]) - x0)  # its half inside the region
    rows = slice(framed.box[1] - y0, framed.box[1] + framed.box[3] - y0)
    assert ager.reach[rows, own - 10:own + 10].mean() > 0.9 and ager.reach[rows, near].size > 200
    assert ager.reach[rows, near].mean() < 0.05  # its edge soft (OTHER_FACE)
    assert ager.from_face(ager.masks['hair'], borderValue=0)[:, near].mean() < 0.05
