"""Hair in a photo's face (hair.py, beard.py): the beard and hair masks, what is a full beard, and the hair's colour."""
import cv2
import numpy as np
import pytest
from PIL import Image

import age_shape
import age_texture
import align
import beard
import consts
import hair
import photo_aging

pytest.importorskip('dlib')


def strands(colour, count, seed=0):
    """`count` pixels of hair of a colour, with strands: their lightness spread (a flat fill is no hair, hair.flat)."""
    rng = np.random.default_rng(seed)
    return (np.float32(colour) + rng.normal(0, 12, (count, 1))).clip(0, 255).astype(np.uint8)


def padded_adult_face():
    """An adult's landmarks, the padded face's pad and side (age_shape.PAD), and its rows and columns in the 128-px
    face's pixels."""
    pad = age_shape.PAD
    side = 128 + 2 * pad
    rows, columns = np.mgrid[:side, :side] - pad
    return age_shape.prototype(consts.ADULT_GROUP, consts.MALE), pad, side, rows, columns


def test_the_beard_mask_finds_dark_hair_on_the_lower_face_and_nothing_on_plain_skin():
    points = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    side = 128 + 2 * age_shape.PAD
    skin = np.full((side, side, 3), (200, 150, 120), np.uint8)
    assert beard.beard_mask(skin, points, age_shape.PAD).max() < 0.05
    bearded = skin.copy()
    lower = age_shape.lower_face_region(points, age_shape.PAD, side) > 0.5
    bearded[lower] = (50, 40, 35)
    found = beard.beard_mask(bearded, points, age_shape.PAD)
    assert found[lower].mean() > 0.9
    assert found[age_shape.cheek_mask(points, age_shape.PAD)].mean() < 0.15  # the upper cheeks: skin


def test_a_beard_is_found_beside_a_corner_of_many_colours_and_not_on_a_plain_background_of_its_colour():
    """The top corners are the background a beard must differ from; a corner of hair, a hat or a neighbour's face has
    many colours, and its spread took a black moustache for background (FairFace 0152's stubble was not found)."""
    points = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    side, pad = 128 + 2 * age_shape.PAD, age_shape.PAD
    bearded = np.full((side, side, 3), (200, 150, 120), np.uint8)
    lower = age_shape.lower_face_region(points, pad, side) > 0.5
    bearded[lower] = (50, 40, 35)
    busy = bearded.copy()
    squares = ((np.indices((pad, pad)) // 8).sum(0) % 2 == 0)[..., None]
    busy[:pad, :pad] = np.where(squares, (30, 30, 30), (230, 230, 220))
    assert beard.beard_mask(busy, points, pad)[lower].mean() > 0.9
    plain = bearded.copy()
    plain[:pad, :pad] = (50, 40, 35)  # a wall the beard's colour: what looks like it may be the wall
    assert beard.beard_mask(plain, points, pad)[lower].mean() < 0.2


def test_a_black_beard_beside_a_black_fill_is_a_beard_but_the_hairs_rim_keeps_off_black():
    """FairFace's black fill around a turned photo in a top corner took a black beard for the background: FairFace
    0152's black chin stayed on his child as a dark blot. For the beard a black corner is no background; the hair's
    rim still keeps off black by it (0267's neighbour's black hair, joined to a black cap, would have greyed)."""
    points = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    side, pad = 128 + 2 * age_shape.PAD, age_shape.PAD
    bearded = np.full((side, side, 3), (200, 150, 120), np.uint8)
    lower = age_shape.lower_face_region(points, pad, side) > 0.5
    bearded[lower] = strands((8, 6, 5), lower.sum())
    bearded[:pad, -pad:] = 0  # the fill in a top corner
    assert beard.beard_mask(bearded, points, pad)[lower].mean() > 0.9
    lab = cv2.cvtColor(cv2.GaussianBlur(bearded, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    assert hair.unlike_background(lab, pad)[lower].mean() < 0.2


@pytest.mark.parametrize('name, age', [('fairface/fairface_0152.jpg', 25), ('frost_2022.jpg', 25)])
def test_a_black_beards_child_at_0_to_5_keeps_no_black_of_it(name, age):
    """FairFace 0152's child kept a black blot of his chin beard (11.6% of the beard's pixels darker than L 30 stayed
    so at 0-5, moved up with the chin); now under 3% of them, as Frost's full beard (none). G's change left out: the
    photo's own 128-px face as both renders, so only the shape of age and the shaved skin act."""
    framed = align.align_face(Image.open(f'photos/{name}'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, age, gender=consts.MALE)
    face = np.asarray(align.cut_chip(framed.photo, align.face_to_chip_matrix(framed.crop_box)).resize((128, 128)))
    child = np.asarray(ager.aged(face, face, 2))[photo_aging.box_slice(ager.region)]
    lightness = lambda image: cv2.cvtColor(image.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0]
    beard_region = ager.from_face(ager.masks['beard'], borderValue=0) > 0.5
    black = beard_region & (lightness(ager.roi) < 30)
    assert black.sum() > 0.15 * beard_region.sum()  # a black beard
    assert (beard_region & (lightness(child) < 30)).sum() < 0.03 * black.sum()


def test_the_hair_mask_finds_hair_framing_the_forehead_and_not_a_blanket_beside_a_bald_head_or_the_eyes():
    points, pad, side, rows, columns = padded_adult_face()
    face = np.full((side, side, 3), (90, 140, 200), np.uint8)  # a blue background
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1  # its top above the padded face
    face[head] = (200, 150, 120)  # a bald head
    blanket = (rows < 46) & (np.abs(columns - 136) < 16) & ~head
    face[blanket] = (200, 40, 40)
    iris = np.zeros((side, side), bool)
    for x, y in age_shape.eye_centres(points):
        iris |= np.hypot(columns - x, rows - y) < 4
    face[iris] = (40, 30, 25)
    assert hair.hair_mask(face, points, pad).max() < 0.05
    haired = face.copy()
    temples = head & (np.abs(columns - 64) > 60) & (rows < 21) & (rows > hair.HAIR_EDGE - pad)
    on_hair = head & (rows < points[17:27, 1].min() - 10) | temples
    haired[on_hair] = strands((50, 35, 25), on_hair.sum())
    mask = hair.hair_mask(haired, points, pad)
    assert mask[temples].mean() > 0.5
    assert mask[iris].max() < 0.05 and mask[blanket].mean() < 0.05  # but where the blur of the hair reaches
    crowd = haired.copy()  # a neighbour's hair and face in a corner: many colours, not the background to avoid
    crowd[:pad, :pad] = np.where(((np.indices((pad, pad)) // 8).sum(0) % 2 == 0)[..., None], (50, 35, 25),
                                 (200, 150, 120))
    assert hair.hair_mask(crowd, points, pad)[temples].mean() > 0.5


def test_the_hair_masks_reach_the_top_of_a_head_two_eye_distances_above_the_eyes():
    """A head's hair rises about two eye distances above the eyes: the padded face holds it (PAD), so brown hair
    greys and grey hair darkens up to the top (padded 40 face pixels, the top half eye distance lay beyond it or in
    its faded edge: a child's white hair over a brown band, Biden, FairFace 0352)."""
    points, pad, side, rows, columns = padded_adult_face()
    eyes, iod = np.mean(age_shape.eye_centres(points), 0)[1], age_shape.eye_distance(points)
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1  # its top 1.87 eye distances above the eyes
    on_head = head & (rows < points[17:27, 1].min() - 10)
    top = on_head & (rows > eyes - 1.75 * iod) & (rows < eyes - 1.5 * iod) & (np.abs(columns - 64) < 30)
    rng = np.random.default_rng(0)
    for colour, darkening in (((90, 60, 40), False), ((185, 185, 182), True)):
        face = np.full((side, side, 3), (230, 230, 225), np.float32)  # a light wall
        face[head] = (200, 150, 120)
        face[on_head] = np.float32(colour) + rng.normal(0, 25, (on_head.sum(), 1))  # strands
        face = face.clip(0, 255).astype(np.uint8)
        assert hair.hair_mask(face, points, pad, darkening)[top].mean() > 0.6, colour


def test_a_blue_cap_over_the_forehead_is_no_hair_but_grey_hair_before_a_blue_wall_is():
    """The patch over the forehead must have a hair's colour: a blue cap (greyed as hair at 71+: FairFace 0013) gives
    no hair mask, grey hair lit a little blue by the wall behind it (Norton) and brown hair do."""
    points, pad, side, rows, columns = padded_adult_face()
    face = np.full((side, side, 3), (230, 230, 225), np.uint8)  # a light wall
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1
    face[head] = (200, 150, 120)
    top = head & (rows < points[17:27, 1].min() - 10)
    for colour, found in (((40, 60, 170), False), ((150, 155, 175), True), ((90, 60, 40), True)):
        face[top] = strands(colour, top.sum())
        assert (hair.hair_mask(face, points, pad)[top].mean() > 0.5) == found, colour


def test_under_a_full_beard_the_jaw_line_is_the_ages_fitted_to_the_brows_eyes_and_nose():
    """dlib's jaw line on a full beard follows the beard's edge: jaw_under gives the age's own jaw line under it,
    fitted to the face's brows, eyes and nose wherever the face is and however large: the chin's points the age's,
    the ears' the face's (no beard there); where dlib found the face's own jaw, it stays about where it was, and
    where dlib's lies nearer the nose, it stays. A child's neck under it is NECK_WIDTH of its jaw's width at its end,
    faded out there."""
    face = age_shape.prototype(1.0, consts.MALE)
    moved = age_shape.to_frame(face, np.array([[1.1, -0.1, 9.0], [0.1, 1.1, -4.0]]))
    edge = moved.copy()
    edge[age_shape.OUTLINE] += 0.25 * (moved[age_shape.OUTLINE] - moved[age_shape.OUTLINE].mean(0))  # a beard's
    under = beard.jaw_under(edge, 1.0, consts.MALE)
    assert np.abs(under[5:12] - moved[5:12]).max() < 0.01 and np.abs(edge[5:12] - moved[5:12]).max() > 4
    assert np.array_equal(under[[0, 16]], edge[[0, 16]]) and np.array_equal(under[17:], edge[17:])
    assert np.abs(beard.jaw_under(moved, 1.0, consts.MALE) - moved).max() < 0.01
    inner = moved.copy()
    inner[age_shape.OUTLINE] -= 0.1 * (moved[age_shape.OUTLINE] - moved[30])  # dlib's found inside: kept
    assert np.array_equal(beard.jaw_under(inner, 1.0, consts.MALE), inner)
    neck = beard.neck(under, age_shape.PAD)
    row = neck[int(under[8, 1] + age_texture.NECK * age_shape.eye_distance(under)) + age_shape.PAD - 2]
    assert abs((row > 0).sum() / (under[12, 0] - under[4, 0]) - age_texture.NECK_WIDTH) < 0.05 and row.max() < 0.2


def test_a_full_beard_greys_but_a_stubbles_shadow_is_no_beard():
    points, pad = age_shape.prototype(consts.ADULT_GROUP, consts.MALE), age_shape.PAD
    side = 128 + 2 * pad
    lower = age_shape.lower_face_region(points, pad, side, jaw=beard.BEARD_JAW) > 0.5
    shadowed = np.full((side, side, 3), (200, 150, 120), np.uint8)
    shadowed[lower] = (150, 112, 90)  # the same skin a quarter darker
    bearded = shadowed.copy()
    bearded[lower] = (50, 40, 35)
    for face, full in ((shadowed, False), (bearded, True)):
        found = beard.beard_mask(face, points, pad)
        assert found[lower].mean() > 0.8  # both are facial hair to the mask (a child's skin replaces them) ...
        assert beard.full_beard(face, points, found, pad) == full  # ... but only the beard greys


def test_greyed_hair_keeps_its_strands_and_shading_and_skin_beside_it_stays_in_range():
    """Black hair with strands (lightness 10-40) greys to a lighter, colourless grey whose spread grows with it (a flat
    grey cap had none); a lighter pixel beyond the hair's spread (skin where the mask is soft) stays under white."""
    rng = np.random.default_rng(0)
    lightness = rng.uniform(10, 40, (64, 64)).astype(np.float32)
    lab = np.dstack([lightness, np.full((64, 64), 134, np.float32), np.full((64, 64), 138, np.float32)])
    where = np.ones((64, 64), bool)
    where[:, :4] = False
    lab[:, :4, 0] = 150  # skin at the hair's edge
    grey = hair.hair_colour(lab, 1.0, where)
    median = np.median(lightness[where])
    assert np.median(grey[where][:, 0]) == pytest.approx(median + hair.HAIR_LIGHTEN * (255 - median), abs=2)
    assert grey[where][:, 0].std() > 2.5 * lightness[where].std()
    assert np.allclose(grey[..., 1:], 128)
    assert (grey[:, :4, 0] > grey[where][:, 0].max()).all() and (grey[:, :4, 0] <= 255).all()
    half = hair.hair_colour(lab, 0.5, where)
    assert np.allclose(half, (lab + grey) / 2, atol=1e-3)


def test_greying_by_a_table_of_levels_is_greying_each_pixel():
    """The page greys a close-up's hair with greyed_table (each of 256 levels once): what greying each pixel gives."""
    rng = np.random.default_rng(1)
    lab = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    where = rng.random((48, 64)) < 0.5
    for amount in (0.3, 1.0):
        table = hair.greyed_table(amount, lab[..., 0][where].astype(np.float32))
        each = hair.hair_colour(lab.astype(np.float32), amount, where).clip(0, 255).astype(np.uint8)
        assert np.array_equal(cv2.LUT(lab, table), each)


def test_salt_and_pepper_hair_darkens_towards_childhood_strands_and_all():
    """Grey hair of white and black strands (one pixel each) darkens as a whole: its white strands too (they stayed
    white on a darker ground, and the child's hair still read as grey), towards a dark brown; black hair does not."""
    stripes = np.where(np.arange(64) % 2 == 0, 200, 20).astype(np.float32)
    lab = np.dstack([np.tile(stripes, (64, 1)), np.full((64, 64), 128, np.float32), np.full((64, 64), 128, np.float32)])
    dark = hair.hair_colour(lab, -1.0, None)
    white = lab[..., 0] == 200
    assert dark[..., 0][white].max() < 0.5 * 200 and dark[..., 0].mean() < 0.5 * lab[..., 0].mean()
    assert np.allclose(dark[..., 1:], hair.HAIR_DARK[1:], atol=1)
    black = lab.copy()
    black[..., 0] = 20
    assert np.allclose(hair.hair_colour(black, -1.0, None), black)


def test_grey_hair_darkens_to_the_colour_of_the_photos_own_dark_hair_or_dark_brown_where_all_is_grey():
    """On FairFace 0358 (lit green) her grey fringe darkened to the one dark brown, a red patch in her dark hair."""
    rng = np.random.default_rng(0)
    green_lit = lambda lightness: cv2.cvtColor(np.uint8([[[lightness, 118, 124]]]), cv2.COLOR_LAB2RGB)[0, 0]
    face = np.zeros((64, 64, 3), np.uint8)
    face[:, :32], face[:, 32:] = green_lit(50), green_lit(190)  # her dark hair; her grey fringe
    face = np.clip(face + rng.normal(0, 3, face.shape), 0, 255).astype(np.uint8)
    mask = np.ones((64, 64), np.float32)
    own = hair.own_dark(face, mask)
    assert own == pytest.approx((hair.HAIR_DARK[0], 118, 124), abs=2)
    assert hair.own_dark(face[:, 32:], mask[:, 32:]) == hair.HAIR_DARK  # all grey: no colour of its own
    assert hair.own_dark(face, np.zeros_like(mask)) == hair.HAIR_DARK  # no hair
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    fringe = hair.hair_colour(lab, -1.0, None, own)[:, 40:]
    assert np.allclose(np.median(fringe[..., 1:].reshape(-1, 2), 0), own[1:], atol=1)
    assert np.median(fringe[..., 0]) < 0.5 * 190


def test_a_blondes_white_highlight_takes_her_hairs_own_colour_and_lightness_towards_childhood_not_a_brown():
    """FairFace 0354's and 0191's children had a brown patch where the photo's blonde hair, a bald head, shone white
    (colourless, so grey to hair_colour): on a head whose hair is not grey and mostly not, the grey darkens to the
    hair's own colour and lightness; on a grey head to HAIR_DARK's dark brown as before."""
    lab_to_rgb = lambda lab: cv2.cvtColor(np.uint8([[lab]]), cv2.COLOR_LAB2RGB)[0, 0]
    face = np.zeros((64, 64, 3), np.uint8)
    face[:], face[24:40, 24:40] = lab_to_rgb((150, 140, 150)), lab_to_rgb((235, 129, 130))  # blonde, its shine
    mask = np.ones((64, 64), np.float32)
    own = hair.own_dark(face, mask, grey_head=False)
    assert own[0] == pytest.approx(150 / 235, abs=0.03) and own[1:] == pytest.approx((140, 150), abs=2)
    assert hair.own_dark(face, mask, grey_head=True) == hair.HAIR_DARK
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    shine = hair.hair_colour(lab, -1.0, None, own)[28:36, 28:36].reshape(-1, 3)
    assert np.median(shine[:, 0]) > 0.9 * 150 and np.median(shine[:, 1:], 0) == pytest.approx((140, 150), abs=3)
    assert np.median(hair.hair_colour(lab, -1.0, None)[28:36, 28:36, 0]) < 0.6 * 150  # the brown it took


def test_grey_hair_in_a_photo_lit_warm_is_grey_beside_skin_as_warm_and_blond_hair_beside_pale_skin_is_not():
    """FairFace 0500's grey hair, of Lab chroma 21 in a photo lit orange, stayed grey on his child: beside skin that
    colourful, grey is judged against HAIR_GREY_SKIN of the skin's chroma; beside pale skin, HAIR_GREY as before."""
    skin = lambda chroma: np.float32([[150, 128 + chroma * 0.6, 128 + chroma * 0.8]] * 30)
    warm_grey = np.float32([[[160, 128 + 21 * 0.6, 128 + 21 * 0.8]]])
    assert hair.grey_chroma(skin(54)) == pytest.approx(hair.HAIR_GREY_SKIN * 54, abs=0.1)
    assert hair.grey_chroma(skin(15)) == hair.grey_chroma(None) == hair.HAIR_GREY
    assert hair.grey_share(warm_grey, hair.grey_chroma(skin(54)))[0, 0] > 0.8
    assert hair.grey_share(warm_grey, hair.grey_chroma(skin(15)))[0, 0] == 0
    darkened = hair.hair_colour(warm_grey, -1.0, None, chroma=hair.grey_chroma(skin(54)))
    assert darkened[0, 0, 0] < 0.5 * 160


def test_the_brow_mask_finds_dark_brows_on_the_landmarks_and_not_the_skin_or_glasses_below():
    """The brows' hair is what along the brow landmarks is darker than the skin around: dark brows are found whole,
    the skin above them and a glasses' rim at the eyes are not, and a face without brows (or with brows as light as
    its skin) has none to grey."""
    points, pad = age_shape.prototype(consts.ADULT_GROUP, consts.FEMALE), age_shape.PAD
    side = 128 + 2 * pad
    face = np.full((side, side, 3), (200, 150, 120), np.uint8)
    assert hair.brow_mask(face, points, pad).max() == 0
    iod = age_shape.eye_distance(points)
    brows = np.zeros((side, side), np.uint8)
    for brow in hair.BROWS:
        line = np.round((points[brow] + pad + (0, 0.05 * iod)) * 16).astype(np.int32)
        cv2.polylines(brows, [line], False, 1, round(0.12 * iod), cv2.LINE_8, 4)
    browed = face.copy()
    browed[brows > 0] = (60, 45, 35)
    rim = np.zeros((side, side), np.uint8)
    for x, y in np.array(age_shape.eye_centres(points)) + pad:
        cv2.circle(rim, (round(x), round(y)), round(0.2 * iod), 1, 2)
    browed[(rim > 0) & (brows == 0)] = (20, 20, 20)
    mask = hair.brow_mask(browed, points, pad)
    assert mask[brows > 0].mean() > 0.8
    above = np.roll(brows, -round(0.2 * iod), axis=0) > cv2.dilate(brows, np.ones((5, 5), np.uint8))
    assert mask[above].max() == 0 and mask[(rim > 0) & (brows == 0)].mean() < 0.1


def test_brows_grey_each_hair_keeping_their_strands_and_never_lighter_than_the_skin_around():
    """Greyed brows move towards a colourless grey as light as the skin around them (at most BROW_GREY's) by the
    lightness around each pixel: dark hairs lighten and keep their contrast; on dark skin they stay darker than the
    skin (one light grey made pale smears of them), and a pixel as light as that grey stays."""
    stripes = np.where(np.arange(64) % 4 < 2, 20, 50).astype(np.float32)
    for skin in (200.0, 90.0):
        lab = np.dstack([np.tile(stripes, (64, 1)), np.full((64, 64), 140, np.float32),
                         np.full((64, 64), 150, np.float32)])
        where = np.zeros((64, 64), bool)
        where[16:48] = True
        lab[~where, 0] = skin
        grey = hair.brows_greyed(lab, 1.0, where, sigma=2.0).astype(np.float32)
        brows, level = grey[20:44], min(skin, hair.BROW_GREY[1])
        assert brows[..., 0].mean() == pytest.approx(35 + hair.BROW_GREY[0] * (level - 35), abs=2)
        assert brows[..., 0].std() == pytest.approx(lab[20:44, :, 0].std(), rel=0.1)
        assert brows[..., 0].max() < skin and np.abs(brows[..., 1:] - 128).max() < np.abs(lab[..., 1:] - 128).max()
        level_pixels = lab.copy()
        level_pixels[where, 0] = level
        assert np.abs(hair.brows_greyed(level_pixels, 1.0, where, 2.0)[20:44, :, 0] - level).max() <= 1


def test_grey_hair_is_colourless_and_lighter_than_the_skin_beside_it():
    """Grey hair beside a face is told from its skin: colourless (under GREY_HAIR[0] of the skin's chroma) and
    lighter; a darker grey (a shadow), the skin and blond hair are not, and in a colourless photo nothing is."""
    skin = np.float32([[150, 150, 145]] * 10)  # Lab, OpenCV's scale: chroma 27
    colours = np.float32([[200, 130, 129], [120, 128, 128], [150, 150, 145], [200, 140, 160]])
    assert hair.grey_hair(colours, skin).tolist() == [True, False, False, False]
    assert not hair.grey_hair(colours, np.float32([[150, 128, 129]] * 10)).any()


def test_grey_hair_darkens_beside_the_head_where_the_hair_mask_fades_and_not_a_blurred_background():
    """A grey-haired adult's child kept white temples: the hair mask fades towards its ellipse's edge, so the
    darkening mask takes all the grainy grey hair joined to the crown's, beside the head too; not a smooth light
    background beside it (corners of many colours give no background colour to avoid), nothing of a brown head."""
    points, pad, side, rows, columns = padded_adult_face()
    left, right = age_shape.eye_centres(points)
    ellipse = np.hypot((columns - (left[0] + right[0]) / 2) / hair.HEAD_RADII[0],
                       (rows - (left[1] + right[1]) / 2) / hair.HEAD_RADII[1]) / age_shape.eye_distance(points)
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1
    beside = (ellipse > 0.9) & (ellipse < 1.1) & ~head & (rows > -25) & (rows < points[48:55, 1].max())
    grey_hair = head & (rows < points[17:27, 1].min() - 10) | beside
    corners, crowd = np.zeros((side, side), bool), hair.BACKGROUND_AT  # where the background's colour is looked for
    corners[pad - crowd:pad, pad - crowd:pad] = corners[pad - crowd:pad, side - pad:side - pad + crowd] = True
    rng = np.random.default_rng(0)

    def face_with(hair_colour):
        face = np.full((side, side, 3), (240, 240, 236), np.float32)  # a light wall, smooth: out of focus
        face[corners] = np.where(((np.indices((crowd, 2 * crowd)) // 8).sum(0) % 2 == 0)[..., None], (30, 60, 30),
                                 (230, 200, 120)).reshape(-1, 3)
        face[head] = np.float32((200, 150, 120)) + rng.normal(0, 2, (head.sum(), 1))
        face[grey_hair] = np.float32(hair_colour) + rng.normal(0, 25, (grey_hair.sum(), 1))  # strands
        return face.clip(0, 255).astype(np.uint8)
    grey = face_with((185, 185, 182))
    temples = beside & (ellipse > 0.95) & (rows > 0)
    assert hair.hair_mask(grey, points, pad)[temples].mean() < 0.5
    darkening = hair.hair_mask(grey, points, pad, darkening=True)
    assert darkening[temples].mean() > 0.7
    grainy = grey_hair | corners
    off_grain = cv2.dilate(grainy.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0  # beyond the grain's blur
    wall = off_grain & ~head & (ellipse < 1.45) & (rows < points[48:55, 1].max())
    assert wall.sum() > 200 and darkening[wall].mean() < 0.1
    brown = face_with((90, 60, 40))
    assert hair.hair_mask(brown, points, pad)[head & grey_hair].mean() > 0.5
    assert hair.hair_mask(brown, points, pad, darkening=True).max() == 0


def test_grey_darkens_whole_towards_childhood_and_not_on_a_photo_younger_than_greying():
    """Hair under half HAIR_GREY's chroma is all grey (a grey lit by a yellow wall darkened only half, and the child
    kept grey hair); a photo of 31-40 or younger has no grey to darken (its child's ash-blond hair was darkened)."""
    lab = np.float32([[[200, 136, 132]]])  # chroma 9
    assert hair.hair_colour(lab, -1.0, None)[0, 0, 0] == pytest.approx(200 * hair.HAIR_DARK[0], abs=1)
    assert hair.hair_change(8, 0, 1.0) == -1.0 and hair.hair_change(8, 6, 0.0) == pytest.approx(-2 / 3)
    assert hair.hair_change(4, 0, 1.0) == 0.0 and hair.hair_change(4, 9, 0.0) == 1.0


def test_the_hair_keeps_to_the_person_and_a_flat_fill_over_the_forehead_is_no_hair():
    """Judged by colour alone, a dark wall beside a dark-haired head greyed with the hair (FairFace 0241's shadowed
    wall, 0250's chair), and hair filling the corners where the background is sampled was taken for the background
    (0200's bob had no mask). With the person's map (person.person_map) the mask ends where the head does and a
    corner of the person is no background. A flat fill over the forehead (FairFace's black filler) is no hair."""
    points, pad, side, rows, columns = padded_adult_face()
    face = np.full((side, side, 3), (230, 230, 225), np.uint8)  # a light wall
    ellipse = np.hypot((columns - 64) / 86, (rows - 76) / 130)
    head = ellipse < 1
    face[head] = (200, 150, 120)
    on_hair = head & (rows < points[17:27, 1].min() - 10)
    face[on_hair] = strands((50, 35, 25), on_hair.sum())
    shadow = ~head & (ellipse < 1.12) & (rows < 20)  # the wall darkened beside the head, the hair's colour
    face[shadow] = strands((50, 35, 25), shadow.sum(), seed=1)
    assert hair.hair_mask(face, points, pad)[shadow].mean() > 0.3
    with_person = hair.hair_mask(face, points, pad, person=head.astype(np.float32))
    assert with_person[shadow].max() == 0 and with_person[on_hair].mean() > 0.5
    big = face.copy()  # big hair fills the top corners
    crown = rows < points[17:27, 1].min() - 10
    big[crown] = strands((50, 35, 25), crown.sum(), seed=2)
    assert hair.hair_mask(big, points, pad).max() < 0.05  # the corners are the hair's colour: taken for the background
    assert hair.hair_mask(big, points, pad, person=(head | crown).astype(np.float32))[on_hair].mean() > 0.5
    filler = face.copy()
    filler[on_hair] = (0, 0, 0)
    assert hair.hair_mask(filler, points, pad, person=head.astype(np.float32)).max() < 0.05


def test_a_childs_hair_is_found_up_to_the_top_of_its_head_where_the_persons_map_ends():
    """A child's head rises higher above its eyes than an adult's (FairFace's children: 2.0-2.6 eye distances above
    the brows): the padded face holds it (PAD) and, where the person's map shows the head's top, the head's ellipse
    reaches it, so the hair greys to the top (a dark cap was left on a child's white hair at 71+: 0250, 0315)."""
    points, pad = age_shape.prototype(1, consts.MALE), age_shape.PAD
    side = 128 + 2 * pad
    rows, columns = np.mgrid[:side, :side] - pad
    eyes, iod = np.mean(age_shape.eye_centres(points), 0)[1], age_shape.eye_distance(points)
    height = 2.3 * iod  # the head's half height, its centre at the eyes: its top 2.3 eye distances above them
    head = np.hypot((columns - 64) / (1.6 * iod), (rows - eyes) / height) < 1
    face = np.full((side, side, 3), (230, 230, 225), np.uint8)  # a light wall
    face[head] = (200, 150, 120)
    on_hair = head & (rows < points[17:27, 1].min() - 10)
    face[on_hair] = strands((90, 60, 40), on_hair.sum())
    top = on_hair & (rows > eyes - 2.15 * iod) & (rows < eyes - 1.9 * iod) & (np.abs(columns - 64) < 0.4 * iod)
    assert top.sum() > 100
    assert hair.hair_mask(face, points, pad, person=head.astype(np.float32))[top].mean() > 0.8
    assert hair.hair_mask(face, points, pad)[top].mean() < 0.6  # no map: the adult's ellipse, its top faded


def test_a_straw_hat_or_a_cap_with_its_white_band_over_the_forehead_is_no_hair_but_white_hair_over_dark_skin_is():
    """The taller padded face took in hats: a crown patch much lighter than the skin is hair only if paler than it
    (white, grey or blond hair; FairFace 0289's straw hat, 0537's turban, 0380's yellow scarf were not), and one of
    two things (a dark cap and its white band: Hopper's) is none."""
    points, pad, side, rows, columns = padded_adult_face()
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1
    top = head & (rows < points[17:27, 1].min() - 10)
    person = head.astype(np.float32)
    for skin, colour, found in (((90, 60, 45), (225, 205, 150), False), ((90, 60, 45), (225, 225, 222), True),
                                ((200, 150, 120), (225, 215, 170), True)):
        face = np.full((side, side, 3), (90, 140, 200), np.uint8)  # a blue wall
        face[head] = skin
        face[top] = strands(colour, top.sum())
        assert (hair.hair_mask(face, points, pad, person=person)[top].mean() > 0.5) == found, (skin, colour)
    cap = np.full((side, side, 3), (90, 140, 200), np.uint8)
    cap[head] = (200, 150, 120)
    band = (rows // 6) % 2 == 0  # at the crown patch's height, as much white band as dark cap
    cap[top] = np.where(band[top][:, None], strands((240, 240, 238), top.sum()), strands((25, 25, 35), top.sum()))
    assert hair.hair_mask(cap, points, pad, person=person).max() < 0.05


def test_dark_hair_before_a_dark_room_is_hair_where_the_persons_map_is_sure_over_the_eyes_or_in_the_heads_core():
    """Hair of the background's colour was taken for the background (FairFace 0001, 0029, 0170: dark hair before a
    dark room had no hair mask and stayed black at 71+). Where the person's map is sure (HAIR_SURE), above the eyes
    in the head, it is hair; the wall around stays, and an unsure map (a soft outline) leaves the head's rim to the
    colours but not its core (HEAD_FADE inside the rim: no background shows there)."""
    points, pad, side, rows, columns = padded_adult_face()
    rng = np.random.default_rng(3)
    face = (np.float32((45, 36, 30)) + rng.normal(0, 3, (side, side, 1))).clip(0, 255).astype(np.uint8)  # a dark room
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1
    face[head] = (200, 150, 120)
    on_hair = head & (rows < points[17:27, 1].min() - 10)
    face[on_hair] = strands((50, 35, 25), on_hair.sum())
    sure = hair.hair_mask(face, points, pad, person=head.astype(np.float32))
    assert sure[on_hair].mean() > 0.6 and sure[~head].max() < 0.05
    unsure = hair.hair_mask(face, points, pad, person=0.8 * head.astype(np.float32))
    iod, eyes = age_shape.eye_distance(points), np.mean(age_shape.eye_centres(points), 0) + pad
    at = lambda across, above: unsure[int(eyes[1] - above * iod), int(eyes[0] + across * iod)]
    assert at(0, 1) > 0.6 and at(-1.6, 0.8) < 0.05 and at(1.6, 0.8) < 0.05 and unsure[~head].max() < 0.05
    assert hair.hair_mask(face, points, pad).max() < 0.05  # no map: the colours alone


@pytest.mark.parametrize('name, age', [('fairface_0207.jpg', 55), ('fairface_0277.jpg', 6)])
def test_dark_hair_in_the_middle_of_a_turned_head_before_a_dark_room_greys_with_the_rest(name, age):
    """FairFace 0207's and 0277's heads, turned before a dark room, kept dark holes in their grey hair at 71+ (3.1%
    and 2.5% of the greyed hair's pixels: hair of the room's colour where the person's map was unsure or below the
    eye line). Now under 1%: dark pixels left within 0.4 eye distances of grey (a closing) at the full greying."""
    framed = align.align_face(Image.open(f'photos/fairface/{name}'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, age, gender=consts.MALE)
    grey = ager.recoloured(ager.roi.copy(), ager.masks['hair'], 1.0)
    lightness = lambda roi: np.float32(cv2.cvtColor(roi.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0])
    greyed = np.uint8(lightness(grey) - lightness(ager.roi) > 30)
    size = int(0.4 * age_shape.eye_distance(ager.points) * ager.scale) | 1
    around = cv2.morphologyEx(greyed, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    holes = (around > 0) & (lightness(grey) < 45)
    assert holes.sum() < 0.01 * greyed.sum()


def test_hair_left_its_colour_at_the_photos_age_is_all_grey_at_71_and_an_elders_own_group_stays_near_itself():
    """Older, the hair greys the share of the way its age has left that the older age takes: a 55-year-old's blond
    or brown hair (FairFace 0354, 0367) was greyed half way at 71+, as if it were half grey already. A photo of
    71+ at 71+ (a fraction of a group) greys a little, its own age not at all, and darkening is as before."""
    assert hair.hair_change(7, 9, 0.0) == 1.0 and hair.hair_change(7, 8, 0.0) == pytest.approx(0.5)
    assert hair.hair_change(4, 9, 0.0) == 1.0 and hair.hair_change(7, 7, 0.0) == 0.0
    assert hair.hair_change(8.75, 9, 0.0) == pytest.approx(0.125)
    assert hair.hair_change(8, 6, 0.0) == pytest.approx(-2 / 3)


def test_a_greying_beard_greys_its_hairs_and_not_the_skin_between_them_or_a_wall_beside_the_jaw():
    """Beard pixels (dark, with strands) grey as the hair does; the skin between and around them and a blue wall
    behind the jaw keep their colour (greyed whole, the mask's soft edge left a grey halo on the cheeks and a white rim
    on the wall, and a black cup before a beard greyed)."""
    rng = np.random.default_rng(0)
    lab = np.zeros((60, 90, 3), np.float32)
    lab[:, :30] = (60, 135, 138)  # the beard
    lab[:, :30, 0] += rng.normal(0, 8, (60, 30))  # its strands
    lab[:, 30:60] = (160, 145, 148)  # the cheeks' skin
    lab[:, 60:] = (120, 140, 90)  # a blue wall
    where = np.zeros((60, 90), bool)
    where[:, :34] = True  # the mask over its half (its soft edge reaches on)
    grey = beard.beard_greyed(lab, 1.0, where, skin=160.0, white=255.0, sigma=1.0).astype(np.float32)
    assert grey[:, 5:25, 0].mean() > lab[:, 5:25, 0].mean() + 40  # the hairs grey ...
    assert np.abs(grey[:, 5:25, 1:] - 128).max() < 3 and grey[:, 5:25, 0].std() > lab[:, 5:25, 0].std()  # ... strands
    assert np.abs(grey[:, 35:55] - lab[:, 35:55]).max() <= 1 and np.abs(grey[:, 65:] - lab[:, 65:]).max() <= 1
    whole = hair.greyed(lab, 1.0, lab[..., 0][where])
    assert np.abs(whole[:, 65:, 2] - lab[:, 65:, 2]).min() > 30  # greyed whole, the wall had gone grey


def profile_landmarks(points, eyes, pad):
    """A frontal face's landmarks as dlib fits a profile's: squeezed to 0.6 of their width about the eyes' middle
    (`eyes`, padded face pixels), the nose 10 px to the image's left (the back of the head to its right)."""
    squeezed = points.copy()
    squeezed[:, 0] = eyes[0] - pad + 0.6 * (points[:, 0] - eyes[0] + pad)
    squeezed[30, 0] -= 10
    return squeezed


def test_a_turned_heads_middle_lies_behind_its_eyes_away_from_the_nose():
    """dlib fits a profile's landmarks as a frontal face's squeezed onto its front: the head (hair_mask's ellipse and
    crown patch) lies behind the eyes, sized by the aligned face's eye distance in profile: in the middle of the
    person's map across the crown's height, or HEAD_BEHIND of that distance behind the eyes without a map."""
    points, pad = age_shape.prototype(consts.ADULT_GROUP, consts.MALE), age_shape.PAD
    eyes, iod = np.mean(age_shape.eye_centres(points), 0) + pad, age_shape.eye_distance(points)
    centre, unit = hair.head_frame(points, 1.0, pad)
    assert np.array_equal(centre, eyes) and unit == iod  # facing the camera: as before
    squeezed = profile_landmarks(points, eyes, pad)
    centre, unit = hair.head_frame(squeezed, 0.0, pad)
    assert hair.EYE_DISTANCE == 50 and unit == pytest.approx(50)
    assert np.allclose(centre, eyes + (hair.HEAD_BEHIND * 50, 0), atol=0.5)
    squeezed[30, 0] += 20
    assert hair.head_frame(squeezed, 0.5, pad)[0][0] == pytest.approx(eyes[0] - 0.5 * hair.HEAD_BEHIND * 50, abs=0.5)
    person = np.zeros((128 + 2 * pad,) * 2, np.float32)
    x = int(eyes[0])
    person[:, x - 10:x + 90] = 1  # the head seen in profile: its person map across the crown patch's height
    assert hair.head_frame(squeezed, 0.0, pad, person)[0][0] == pytest.approx(x + 39.5)  # its middle
    assert np.array_equal(hair.head_frame(points, 1.0, pad, person)[0], eyes)


def test_a_turned_heads_hair_greys_to_the_ellipses_edge_where_the_persons_map_is_sure():
    """On a face turned to one side the head's ellipse is a guess from squeezed landmarks: its rim's fade (from
    1 - HEAD_FADE of it) left FairFace 0107's, 0198's back hair and 0207's, 0086's fringe dark beside grey. In
    profile, where the person's map is sure above the eyes, the hair is whole to the ellipse's edge; an unsure map
    (0.85) keeps the rim's fade."""
    points, pad = age_shape.prototype(consts.ADULT_GROUP, consts.MALE), age_shape.PAD
    side = 128 + 2 * pad
    rows, columns = np.mgrid[:side, :side]
    eyes = np.mean(age_shape.eye_centres(points), 0) + pad
    squeezed = profile_landmarks(points, eyes, pad)
    person = ((columns > eyes[0] - 60) & (columns < eyes[0] + 130) & (rows > eyes[1] - 160)).astype(np.float32)
    face = np.full((side, side, 3), (225, 225, 220), np.uint8)
    face[person > 0] = (200, 150, 120)
    above_brows = rows < squeezed[17:27, 1].min() + pad - 8
    hairy = (person > 0) & (above_brows | (columns > eyes[0] + 45) & (rows < eyes[1] + 60))
    face[hairy] = strands((60, 42, 30), hairy.sum())
    centre, unit = hair.head_frame(squeezed, 0.0, pad, person)
    behind = (int(centre[1] - 0.6 * unit), int(centre[0] + 1.8 * unit * np.sqrt(0.95 ** 2 - 0.3 ** 2)))  # 0.95 out
    assert hairy[behind]
    assert hair.hair_mask(face, squeezed, pad, person=person, facing=0.0)[behind] > 0.95
    assert hair.hair_mask(face, squeezed, pad, person=0.85 * person, facing=0.0)[behind] < 0.7 * 0.85


def test_hair_greys_to_the_padded_faces_top_where_the_persons_head_runs_off_it():
    """Where the person's map runs off the padded face's top, the head's ellipse reaches that top (it stopped at
    two eye distances over the eyes, a dark band left on top at 71+: FairFace 0124, 0206, 0449, 0086, 0288)."""
    points, pad = age_shape.prototype(1, consts.MALE), age_shape.PAD
    side = 128 + 2 * pad
    rows, columns = np.mgrid[:side, :side] - pad
    eyes, iod = np.mean(age_shape.eye_centres(points), 0)[1], age_shape.eye_distance(points)
    head = np.hypot((columns - 64) / (1.6 * iod), (rows - eyes) / (4 * iod)) < 1  # its top beyond the face's
    face = np.full((side, side, 3), (230, 230, 225), np.uint8)  # a light wall
    face[head] = (200, 150, 120)
    on_hair = head & (rows < points[17:27, 1].min() - 10)
    face[on_hair] = strands((90, 60, 40), on_hair.sum())
    top = on_hair & (rows > hair.HAIR_EDGE - pad) & (rows < 30 - pad) & (np.abs(columns - 64) < 0.4 * iod)
    assert head[0].any() and top.sum() > 100
    assert hair.hair_mask(face, points, pad, person=head.astype(np.float32))[top].mean() > 0.8


def childs_head(shine=False):
    """A child's padded face (age_shape.prototype of 0-5), its hair only from 1.5 eye distances above the brows (a
    child's forehead is high), optionally a colourless shine lighter than the skin on the forehead's top; the face, the
    hair, the shine and the person's map (bool)."""
    points, pad = age_shape.prototype(0, consts.MALE), age_shape.PAD
    side = 128 + 2 * pad
    rows, columns = np.mgrid[:side, :side] - pad
    eyes, iod = np.mean(age_shape.eye_centres(points), 0)[1], age_shape.eye_distance(points)
    above_brows = points[17:27, 1].min() - rows
    head = np.hypot((columns - 64) / (1.6 * iod), (rows - eyes) / (2.6 * iod)) < 1
    face = np.full((side, side, 3), (230, 230, 225), np.uint8)  # a light wall
    face[head] = (200, 150, 120)
    on_hair = head & (above_brows > 1.5 * iod)
    face[on_hair] = strands((50, 35, 25), on_hair.sum())
    glare = head & (above_brows > 0.8 * iod) & (above_brows < 1.4 * iod) & (np.abs(columns - 64) < 0.5 * iod)
    if shine:
        face[glare] = strands((245, 240, 236), glare.sum(), seed=1)
    return points, face, on_hair, glare, head


def test_a_childs_hair_above_a_high_forehead_is_found_and_a_shine_on_it_is_no_grey_hair():
    """The crown patch over the forehead (HAIR_CROWN) lay on a child's high forehead: the skin (FairFace 0425's,
    0233's dark hair stayed dark at 71+) or its shine, light and colourless as grey hair (0448's was greyed white).
    On a child's photo the patch is looked for higher (HAIR_HIGHER) and a shine is no hair; an adult's is as before."""
    points, face, on_hair, glare, head = childs_head()
    person, pad = head.astype(np.float32), age_shape.PAD
    assert hair.hair_mask(face, points, pad, person=person).max() < 0.05  # the patch on the skin: no hair
    assert hair.hair_mask(face, points, pad, person=person, child=True)[on_hair].mean() > 0.6
    points, shiny, on_hair, glare, head = childs_head(shine=True)
    assert hair.hair_mask(shiny, points, pad, person=person)[glare].mean() > 0.5  # an adult's: grey hair
    child = hair.hair_mask(shiny, points, pad, person=person, child=True)
    assert child[on_hair].mean() > 0.6 and child[glare].mean() < 0.2


def test_a_black_fill_joined_to_the_faces_edge_is_no_hair_but_black_spots_in_the_hair_are():
    """FairFace's black filler around a turned photo, over the head and to the person's map the person, was greyed
    to a grey glow over 0365's head; a clipped black spot inside dark hair is hair (left out, it was a dark hole)."""
    points, face, on_hair, glare, head = childs_head()
    pad, side = age_shape.PAD, len(face)
    rows, columns = np.mgrid[:side, :side]
    fill = rows < 0.5 * (side * 2 // 3 - columns)  # a black wedge in the top left corner, over the head's top
    face[fill] = 0
    centre = rows[on_hair & ~fill].mean(), columns[on_hair & ~fill].mean() + 20
    spot = ~fill & on_hair & (np.hypot(rows - centre[0], columns - centre[1]) < 5)
    face[spot] = 0
    assert (fill & on_hair).sum() > 300 and spot.sum() > 50
    inside = cv2.distanceTransform(fill.astype(np.uint8), cv2.DIST_L2, 3)  # pixels to the fill's edge
    assert hair.black_fill(face)[inside > 3].all() and not hair.black_fill(face)[spot].any()
    mask = hair.hair_mask(face, points, pad, person=(head | fill).astype(np.float32), child=True)
    assert mask[on_hair & ~fill & ~spot].mean() > 0.6 and mask[spot].mean() > 0.3  # as black as the fill
    assert mask[inside > 8].max() < 0.05


def long_haired_head(room=(230, 230, 225)):
    """A woman's head before a wall of the colour `room`: the hair over her head and hanging beside her jaw to 1.4
    eye distances below her chin, a top of the hair's colour but plain under her chin and on her shoulders: the face,
    her landmarks, the padded face's rows and columns (128-px face pixels) and the masks of each."""
    points, pad, side, rows, columns = padded_adult_face()
    iod, chin = age_shape.eye_distance(points), points[8, 1]
    rng = np.random.default_rng(5)
    face = (np.float32(room) + rng.normal(0, 1, (side, side, 1))).clip(0, 255).astype(np.uint8)
    head = np.hypot((columns - 64) / 86, (rows - 76) / 130) < 1
    face[head] = (200, 150, 120)
    top = (rows > chin + 0.3 * iod) & (np.abs(columns - 64) < 2.5 * iod)
    face[top] = (62, 45, 35)  # of the hair's colour, without its strands
    beside = (np.abs(np.abs(columns - 64) - 1.4 * iod) < 0.35 * iod) & (rows > 0) & (rows < chin + 1.4 * iod)
    on_hair = head & (rows < points[17:27, 1].min() - 10) | beside
    streaks = np.float32((60, 42, 30)) + rng.normal(0, 15, (1, side, 1)) + rng.normal(0, 6, (side, side, 1))
    face[on_hair] = streaks.clip(0, 255).astype(np.uint8)[on_hair]  # strands hanging down
    return face, points, rows, columns, {'hair': on_hair, 'hanging': beside & (rows > chin + 0.7 * iod),
                                         'top': top & ~on_hair, 'head': head | on_hair | top}


def test_a_womans_long_hair_greys_down_to_its_ends_beside_her_jaw_but_not_her_top_of_its_colour():
    """Hair was looked for down to 0.6 eye distances below the chin: a woman's long hair greyed on top and stayed its
    colour below (FairFace 0078, 0181, Meng: grey to the ears, brown to the shoulders). Hers (long_hair) hangs beside
    her jaw LONG_HAIR[1] lower, as grainy as hair; a plain top of the hair's colour is none; a man's stays short."""
    face, points, rows, columns, parts = long_haired_head()
    pad = age_shape.PAD
    woman = hair.hair_mask(face, points, pad, long_hair=True)
    man = hair.hair_mask(face, points, pad)
    chin, iod = points[8, 1] + pad, age_shape.eye_distance(points)
    low = parts['hanging'] & (rows + pad < chin + (hair.HAIR_BELOW_CHIN + hair.LONG_HAIR[1]) * iod)
    assert woman[low].mean() > 0.6 and man[low].mean() < 0.1
    off_hair = cv2.distanceTransform(np.uint8(~parts['hair']), cv2.DIST_L2, 3) > 0.35 * iod  # its edge is soft
    above_eyes = rows < np.mean(age_shape.eye_centres(points), 0)[1] - hair.HAIR_ABOVE_EYES * iod
    assert np.abs(woman - man)[parts['top'] & off_hair | above_eyes].max() < 0.05


def test_a_shadow_in_the_hair_of_the_rooms_colour_greys_with_it_where_it_is_narrow():
    """Hair in its own shadow, as dark as the room behind, was taken for the room (unlike_background): a dark hole in
    grey hair beside the cheek (FairFace 0181). A gap narrower than HAIR_GAP, darker than the hair and not skin, is
    hair; with no such gap (HAIR_GAP 0) the hole stays."""
    room = (20, 16, 14)
    face, points, rows, columns, parts = long_haired_head(room)
    pad = age_shape.PAD
    iod, eyes = age_shape.eye_distance(points), np.mean(age_shape.eye_centres(points), 0)
    shadow = (np.hypot(np.abs(columns - 64) - 1.4 * iod, rows - eyes[1] - 0.6 * iod) < 0.12 * iod)
    face[shadow] = room
    person = 0.8 * parts['head'].astype(np.float32)
    filled = hair.hair_mask(face, points, pad, person=person)
    assert filled[shadow].mean() > 0.4 and filled[~parts['head']].max() < 0.05
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hair, 'HAIR_GAP', 0.0)
        assert hair.hair_mask(face, points, pad, person=person)[shadow].mean() < 0.2
