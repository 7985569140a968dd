"""Old skin at a photo's own scale (age_texture.py): where the lines go, that they only grow with age, and scale."""
import cv2
import numpy as np
import pytest

import age_shape
import age_texture
import consts

SCALE, OFFSET, SIDE = 4.0, 200.0, 912  # a 128-px face drawn 4 times larger in a region with room around it


@pytest.fixture(scope='module')
def points():
    """An old man's landmarks (the prototypes' median shape), in the 128-px face's pixels."""
    return age_shape.prototype(consts.NUM_AGES - 2, consts.MALE)


def matrix(scale=SCALE, offset=OFFSET):
    return np.array([[scale, 0, offset], [0, scale, offset]])


def region_points(points, scale=SCALE, offset=OFFSET):
    return points * scale + offset


def polygon_mask(polygon, side=SIDE):
    mask = np.zeros((side, side), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask > 0


def creased(shade, box):
    """The share of the pixels inside box (x0, y0, x1, y1) darker than a crepe's crinkle: in a crease."""
    x0, y0, x1, y1 = np.round(box).astype(int)
    return float((shade[y0:y1, x0:x1] < 0.93).mean())


def old_skin(points, matrix, size, amount, **options):
    """age_texture.old_skin over the whole region: (shade, tint) of its size, 1 and 0 beyond the box it draws."""
    w, h = size
    shade, tint = np.ones((h, w), np.float32), np.zeros((h, w, 3), np.float32)
    drawn = age_texture.old_skin(points, matrix, size, amount, **options)
    if drawn:
        (x0, y0, x1, y1), shade[y0:y1, x0:x1], tint[y0:y1, x0:x1] = drawn
    return shade, tint


def test_amount_zero_changes_nothing_and_far_from_the_face_nothing_changes(points):
    shade, tint = old_skin(points, matrix(), (SIDE, SIDE), 0.0)
    assert shade.shape == (SIDE, SIDE) and tint.shape == (SIDE, SIDE, 3)
    assert shade.dtype == np.float32 and tint.dtype == np.float32
    assert (shade == 1).all() and (tint == 0).all()
    big = 1600  # the face in the middle of a large region: its corners stay exact
    shade, tint = old_skin(points, matrix(offset=500), (big, big), 1.0)
    for corner in (np.s_[:250, :250], np.s_[:250, -250:], np.s_[-250:, :250], np.s_[-250:, -250:]):
        assert (shade[corner] == 1).all() and (tint[corner] == 0).all()
    assert shade.min() < 0.8 and (tint < 0).any()  # while the face itself is aged
    (x0, y0, x1, y1), _, _ = age_texture.old_skin(points, matrix(offset=500), (big, big), 1.0)
    assert (x1 - x0) * (y1 - y0) < 0.5 * big * big  # only the box around the face is drawn (and allocated)
    assert age_texture.old_skin(points, matrix(), (SIDE, SIDE), 0.0) is None


def test_lines_lie_on_the_forehead_and_beside_the_eyes_and_not_on_the_eyes_or_lips(points):
    shade, tint = old_skin(points, matrix(), (SIDE, SIDE), 1.0)
    p = region_points(points)
    iod = float(np.hypot(*(p[42:48].mean(0) - p[36:42].mean(0))))
    brows_top = p[17:27, 1].min()
    forehead = (p[19, 0], brows_top - 0.9 * iod, p[24, 0], brows_top - 0.2 * iod)
    cheek = (p[0, 0], p[29, 1], p[36, 0] - 0.1 * iod, p[33, 1])  # below the eye, as far in as its outer corner
    left_crows = (p[36, 0] - 0.4 * iod, p[36, 1] - 0.15 * iod, p[36, 0] - 0.05 * iod, p[36, 1] + 0.15 * iod)
    right_crows = (p[45, 0] + 0.05 * iod, p[45, 1] - 0.15 * iod, p[45, 0] + 0.4 * iod, p[45, 1] + 0.15 * iod)
    assert creased(shade, cheek) < 0.01
    assert creased(shade, forehead) > 0.05
    assert creased(shade, left_crows) > 0.015 and creased(shade, right_crows) > 0.015
    column = shade[int(brows_top - 0.9 * iod):int(brows_top), int(p[27, 0])]
    assert column.min() < 0.85  # forehead creases are clearly visible at amount 1
    for part, most in ((p[36:42], 0.005), (p[42:48], 0.005), (p[48:60], 0.02)):
        inside = polygon_mask(part)
        assert np.abs(shade[inside] - 1).max() < most and np.abs(tint[inside]).max() < 0.5


def test_lines_only_deepen_with_age(points):
    young, _ = old_skin(points, matrix(), (SIDE, SIDE), 0.5)
    old, _ = old_skin(points, matrix(), (SIDE, SIDE), 1.0)
    creased = young < 0.97
    assert creased.sum() > 500
    assert (old[creased] <= young[creased] + 1e-3).mean() > 0.99  # the same creases, darker
    assert (1 - old[creased]).mean() > 1.5 * (1 - young[creased]).mean()
    onset, _ = old_skin(points, matrix(), (SIDE, SIDE), 0.05)
    assert 0.9 < onset.min() < 1  # a slider's first step shows faint lines, not a jump


def test_the_same_seed_draws_the_same_lines_and_another_seed_others(points):
    a = old_skin(points, matrix(), (SIDE, SIDE), 0.8, seed=3)
    b = old_skin(points, matrix(), (SIDE, SIDE), 0.8, seed=3)
    c = old_skin(points, matrix(), (SIDE, SIDE), 0.8, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.abs(a[0] - c[0]).max() > 0.05


def test_lines_scale_with_the_region(points):
    """The same face twice as large in the region (a matrix twice the scale): its creases are about twice as wide
    (their width measured as the spread of the darkening over the spread of its gradient), as deep, and the given
    iod is the one computed."""
    widths, depths = [], []
    for scale in (SCALE, 2 * SCALE):
        side, offset = int(SIDE / SCALE * scale), OFFSET / SCALE * scale
        p = region_points(points, scale, offset)
        iod = float(np.hypot(*(p[42:48].mean(0) - p[36:42].mean(0))))
        shade, _ = old_skin(points, matrix(scale, offset), (side, side), 1.0)
        given, _ = old_skin(points, matrix(scale, offset), (side, side), 1.0, iod=iod)
        assert np.abs(given - shade).max() < 1e-4
        x0, x1 = int(p[19, 0]), int(p[24, 0])
        y0, y1 = int(p[17:27, 1].min() - 0.9 * iod), int(p[17:27, 1].min() - 0.2 * iod)
        band = shade[y0:y1, x0:x1].astype(np.float64) - 1
        gy, gx = np.gradient(band)
        widths.append(np.sqrt((band ** 2).mean() / (gx ** 2 + gy ** 2).mean()))
        depths.append(band.min())
    assert 1.6 < widths[1] / widths[0] < 2.4
    assert 0.7 < depths[1] / depths[0] < 1.4


def test_a_region_that_holds_none_of_the_face_is_left_alone(points):
    shade, tint = old_skin(points, matrix(offset=-2000), (300, 200), 1.0)
    assert (shade == 1).all() and (tint == 0).all()


def test_skin_patches_cover_a_place_with_the_sources_own_texture_at_its_spread():
    """A shaved beard's skin takes the cheeks' texture: every value copied comes from inside the source (outside it the
    detail is 1000: none shows), its spread is kept under the overlapping windows, and the same call gives the same."""
    rng = np.random.default_rng(0)
    detail = np.full((200, 200, 3), 1000, np.float32)
    source, where = np.zeros((200, 200), bool), np.zeros((200, 200), bool)
    source[20:80, 20:80], where[100:190, 30:170] = True, True
    detail[source] = 5 * rng.standard_normal((source.sum(), 3))
    texture = age_texture.skin_patches(detail, source, where, 11)
    assert np.abs(texture).max() < 40  # nothing from outside the source
    assert np.allclose(texture[where].std(0), 5, rtol=0.1)
    assert np.array_equal(texture, age_texture.skin_patches(detail, source, where, 11))
    assert not age_texture.skin_patches(detail, np.zeros_like(source), where, 11).any()  # no patch fits: nothing


def test_shaved_skin_is_lit_across_the_face_as_its_cheeks_are(points):
    """A face lit from the image-right: the cheeks' light carried down to the chin and neck, darker at its left side
    (one median colour was a flat balloon of a chin); a face lit evenly stays one colour."""
    pad = age_shape.PAD
    side = consts.IMAGE_LENGTH + 2 * pad
    light = np.tile(np.linspace(60, 200, side, dtype=np.float32)[None, :, None], (side, 1, 3))
    cheeks = age_shape.cheek_mask(points, pad)
    lit = age_texture.lit_across(light, cheeks, points, pad)
    chin_row = int(points[8, 1] - 5) + pad
    left, right = (int(points[j, 0]) + pad for j in (6, 10))
    assert lit.shape == light.shape and np.isfinite(lit).all()
    assert lit[chin_row, left, 0] + 20 < lit[chin_row, right, 0]
    neck_row = int(points[8, 1] + 10) + pad
    assert lit[neck_row, int(points[8, 0]) + pad - 5, 0] < lit[neck_row, int(points[8, 0]) + pad + 5, 0]
    even = age_texture.lit_across(np.full((side, side, 3), 120, np.float32), cheeks, points, pad)
    assert np.allclose(even, 120)
