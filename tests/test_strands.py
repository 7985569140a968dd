"""Grey hair's drawn strands (strands.py): which heads take them, which way they run, and a dim photo's grey hair
with them at 71+."""
import cv2
import numpy as np
import pytest
from PIL import Image

import align
import consts
import photo_aging
import strands


def coherence(lightness, where):
    """How much the detail of a lightness map runs one way, 0 to 1, on average where `where` (the structure tensor)."""
    gx, gy = cv2.Sobel(lightness, cv2.CV_32F, 1, 0), cv2.Sobel(lightness, cv2.CV_32F, 0, 1)
    xx, yy, xy = (cv2.GaussianBlur(v, (0, 0), 2.0) for v in (gx * gx, gy * gy, gx * gy))
    return float((np.sqrt((xx - yy) ** 2 + 4 * xy ** 2) / (xx + yy + 1e-6))[where].mean())


def test_dim_dark_hair_takes_strands_and_hair_with_its_own_strands_or_light_hair_does_not():
    """FairFace's dim dark heads have next to no detail finer than a pixel (their grey was marble); a portrait's dark
    curls have plenty (Obama 2009's grey kept them), and light hair's own detail greys well."""
    rng = np.random.default_rng(0)
    hair = np.zeros((64, 64), np.float32)
    hair[8:40, 8:56] = 1
    head = lambda lightness, spread: np.dstack([np.full((64, 64), lightness, np.float32) + spread * rng.normal(
        0, 1, (64, 64)).astype(np.float32)] * 3)  # grey RGB: Lab L is about the level's
    dim_dark = cv2.GaussianBlur(head(30, 3), (0, 0), 2)  # its sheen and blocks, no strands
    assert strands.drawn_share(dim_dark, hair) == 1.0
    assert strands.drawn_share(head(30, 20), hair) == 0.0  # curls of its own
    assert strands.drawn_share(cv2.GaussianBlur(head(200, 3), (0, 0), 2), hair) == 0.0  # light
    assert strands.drawn_share(dim_dark, np.zeros_like(hair)) == 0.0  # no hair


def test_the_strands_run_around_the_heads_middle_and_are_the_same_at_every_age():
    """Above the head's middle the strands run across (over the top, as combed hair lies), beside it up and down;
    drawn with the same seed, they are the same every time (a slider's move did not shimmer)."""
    shape, centre = (160, 160), (80.0, 80.0)
    drawn = strands.texture(shape, centre, 2.0, 0.6)
    assert np.array_equal(drawn, strands.texture(shape, centre, 2.0, 0.6))
    assert abs(drawn.mean()) < 1e-3 and drawn.std() == pytest.approx(1, abs=1e-3)
    along = lambda patch, dy, dx: np.corrcoef(patch[3:-3, 3:-3].ravel(), np.roll(patch, (dy, dx), (0, 1))[3:-3, 3:-3]
                                              .ravel())[0, 1]
    top, side = drawn[10:40, 65:95], drawn[65:95, 10:40]
    assert along(top, 0, 3) > along(top, 3, 0) + 0.3
    assert along(side, 3, 0) > along(side, 0, 3) + 0.3


def test_drawn_strands_replace_the_fine_marble_of_greyed_dark_hair_and_weight_0_changes_nothing():
    """Greyed hair of blotches (a dim photo's sheen and blocks magnified) keeps its shading and OWN_DETAIL of the
    blotches, and runs along its strands; with no weight it is as greyed."""
    rng = np.random.default_rng(1)
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (96, 96)).astype(np.float32), (0, 0), 2.5)
    lightness = 150 + 25 * blotches / blotches.std()
    greyed = np.dstack([lightness, np.full((96, 96, 2), 128, np.float32)]).clip(0, 255).astype(np.uint8)
    where = np.ones((96, 96), bool)
    lines = strands.texture((96, 96), (48.0, 200.0), 4.0, 0.6)  # far below: they run across
    assert np.array_equal(strands.drawn(greyed, where, lines, 1.0, 0.0, 4.0), greyed)
    drawn = strands.drawn(greyed, where, lines, 1.0, 1.0, 4.0).astype(np.float32)  # blotches finer than SHADING
    change = drawn[..., 0] - greyed[..., 0]
    assert np.corrcoef(change.ravel(), lines.ravel())[0, 1] > 0.5
    assert np.corrcoef(drawn[..., 0].ravel(), blotches.ravel())[0, 1] < 0.8  # greyed: 1
    assert coherence(drawn[..., 0], where) > coherence(greyed[..., 0].astype(np.float32), where) + 0.15
    assert abs(np.median(drawn[..., 0]) - np.median(greyed[..., 0])) < 3
    assert np.array_equal(drawn[..., 1:], greyed[..., 1:])


@pytest.mark.parametrize('name, age, share', [('fairface/fairface_0288.jpg', 45, 1.0),
                                              ('obama_2009.jpg', 48, 0.0)])
def test_a_dim_photos_dark_hair_greys_to_strands_and_a_portraits_to_its_own_curls(name, age, share):
    """FairFace 0288's black hair greyed to a marbled silver cap at 71+: its grey now runs along strands as lit as
    the greying made it; Obama 2009's grey keeps his own curls, pixel for pixel as greyed before."""
    pytest.importorskip('dlib')
    framed = align.align_face(Image.open(f'photos/{name}'))
    ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, age, gender=consts.MALE)
    assert ager.grey_strands[0] == pytest.approx(share, abs=0.05)
    drawn = ager.recoloured(ager.roi.copy(), ager.masks['hair'], 1.0)
    ager.grey_strands = (0.0, None)
    plain = ager.recoloured(ager.roi.copy(), ager.masks['hair'], 1.0)
    if not share:
        assert np.array_equal(drawn, plain)
        return
    mask = ager.from_face(ager.masks['hair'], borderValue=0)
    where = mask > 0.9 * mask.max()
    lightness = lambda roi: np.float32(cv2.cvtColor(roi.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0])
    assert coherence(lightness(drawn), where) > 0.7 > 0.6 > coherence(lightness(plain), where)
    assert abs(np.median(lightness(drawn)[where]) - np.median(lightness(plain)[where])) < 5
