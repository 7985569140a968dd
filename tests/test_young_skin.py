"""young_skin: an old face's lines filled and, towards childhood, its relief smoothed on the skin alone."""
import cv2
import numpy as np

import images
import young_skin


def test_an_old_photo_made_younger_loses_the_lines_its_age_has_beyond_the_younger_ones():
    """lines_gone: all of an elder's lines at 21-30 and younger, part at 51-60, none older or from a young photo."""
    elder, adult = 9.0, 3.5
    assert young_skin.lines_gone(4.0, elder) == 1.0 and young_skin.lines_gone(0.0, elder) == 1.0
    assert 0.3 < young_skin.lines_gone(7.0, elder) < 0.7
    assert young_skin.lines_gone(9.0, 7.0) == 0.0 and young_skin.lines_gone(0.0, adult) == 0.0


def test_filled_lines_fill_a_thin_dark_line_and_not_a_broad_dark_patch_nor_the_grain():
    """A 2-px dark line 50 levels deep on grey skin is filled but for its finest detail (seen 1 px blurred, 34 deep
    before, at most 8 after); a 30-px dark patch is a feature, not a line (its middle gets nothing); and plain skin's
    grain is hardly lifted (a closing alone lifted it by 5.8, 1.4 of its spread)."""
    skin = np.full((80, 120, 3), 150, np.float32)
    skin[39:41, 10:50] = 100  # a wrinkle
    skin[25:55, 70:100] = 100  # a dark patch (a nostril, a shadow)
    fill = young_skin.filled_lines(skin, 3.0)
    seen = lambda image: cv2.GaussianBlur(image, (0, 0), 1.0)[39:41, 20:40].min()
    assert seen(skin) < 150 - 30 and seen(skin + fill) > 150 - 8
    assert np.abs(fill[35:45, 80:90]).max() < 1
    grain = np.random.default_rng(0).normal(150, 4, (60, 60, 3)).astype(np.float32)
    assert np.abs(young_skin.filled_lines(grain, 3.0)).mean() < 2.5


def wrinkled_skin(rng):
    """A 100 x 160 float RGB skin of grain (spread 3) under wrinkles: furrows and ridges 8 px apart, 25 levels either
    way, and at its right a dark brow (60) that is not skin; -> (skin, the skin's weight: 0 on the brow)."""
    rows = np.arange(100, dtype=np.float32)[:, None, None]
    skin = 150 + 25 * np.sin(2 * np.pi * rows / 8) + rng.normal(0, 3, (100, 160, 3))
    weight = np.ones((100, 160), np.float32)
    skin[:, 120:], weight[:, 120:] = 60, 0
    return skin.astype(np.float32), weight


def test_the_relief_takes_an_old_skins_furrows_and_ridges_and_leaves_its_grain_and_the_brow_beside_it():
    """Subtracted, relief leaves under a quarter of the wrinkles' spread from row to row (what is finer than the
    grain's 0.8 px stays: 0.18 of an 8-px wave) and the grain; the dark brow beside the skin does not bleed into it
    (the skin by it no darker than the skin far from it, where a plain blur's band darkened it by more than 10)."""
    skin, weight = wrinkled_skin(np.random.default_rng(0))
    young = skin - weight[..., None] * young_skin.relief(skin, weight, 4.0, 0.8)
    rows = young[10:90, 20:100].mean((1, 2))
    assert np.ptp(rows) < 0.25 * np.ptp(skin[10:90, 20:100].mean((1, 2)))
    assert (young[10:90, 20:100] - cv2.GaussianBlur(young, (0, 0), 0.8)[10:90, 20:100]).std() > 0.5
    assert young[:, 20:100].mean() - young[:, 110:118].mean() < 2
    plain = skin - (cv2.GaussianBlur(skin, (0, 0), 0.8) - cv2.GaussianBlur(skin, (0, 0), 4.0))
    assert plain[:, 20:100].mean() - plain[:, 112:118].mean() > 10


def test_a_broad_skin_blur_on_a_smaller_canvas_is_the_full_size_one_and_with_no_skin_the_regions_own():
    """masked_blur downscales a blur broader than BLUR_CANVAS and gives what the full-size one does within a level and
    a half; with no skin at all it is the region's own blur, not a division by zero."""
    skin, weight = wrinkled_skin(np.random.default_rng(1))
    full = cv2.GaussianBlur(skin * weight[..., None], (0, 0), 8.0) / np.maximum(cv2.GaussianBlur(weight, (0, 0), 8.0),
                                                                                 1e-6)[..., None]
    assert np.abs(images.masked_blur(skin, weight, 8.0) - full)[:, :110].max() < 1.5
    own = cv2.GaussianBlur(skin, (0, 0), 8.0)[10:-10, 10:-10]
    assert np.abs(images.masked_blur(skin, np.zeros_like(weight), 8.0)[10:-10, 10:-10] - own).max() < 1.5
