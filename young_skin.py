"""A younger skin at a photo's own scale: an old face's lines filled and its relief smoothed away.

An old photo made younger keeps its own skin wherever the generator's younger face does not replace it: at every
younger age its skin's dark lines are filled (filled_lines, a morphological closing: the share of them its age has
beyond the younger one's, lines_gone), and towards childhood, on a turned face (whose child is not the generator's
frontal one) its relief goes too: the furrows and the ridges between them, the detail between the photo's grain and a
few face pixels (relief, its broad blur of the skin alone). A turned elder's child had kept every wrinkle.
"""
import cv2
import numpy as np

from age_texture import lined

LINE_RADIUS = 4.0  # px: filled_lines works on a canvas downscaled to this radius
RELIEF_CANVAS = 4.0  # px: a skin blur broader than this is done on a canvas downscaled to it (at 2 the furrows aliased)
SKIN_LEAST = 1e-3  # skin_blur's weight of the region's own blur: where there is no skin, that (no division by 0)


def lines_gone(position, own_position):
    """How much of a photo's own lines go at a younger position: the share its age has beyond that position's."""
    own = lined(own_position)
    return 1 - lined(position) / own if own and position < own_position else 0.0


def filled_lines(region, radius):
    """What fills the dark lines of a float RGB region up to 2 `radius` pixels wide (a morphological closing), but for
    its finest detail (finer than radius / 3: the grain stays) and what it lifts everywhere (its opening twice as
    wide: a closing lightened plain skin's grain by 1.4 of its spread): added to the skin, an old face's lines go.
    Done on a canvas downscaled to a radius of LINE_RADIUS (at full size a 2000-px photo's took 3 s)."""
    step = max(1.0, radius / LINE_RADIUS)
    small = cv2.resize(region, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA) if step > 1 else region
    radius /= step
    size = max(3, int(round(2 * radius)) | 1)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    fill = (cv2.GaussianBlur(closed, (0, 0), radius / 3) - cv2.GaussianBlur(small, (0, 0), radius / 3)).clip(0, None)
    fill -= cv2.morphologyEx(fill, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * size + 1,) * 2))
    return cv2.resize(fill, region.shape[1::-1], interpolation=cv2.INTER_LINEAR) if step > 1 else fill


def relief(region, skin, sigma, grain):
    """The detail of a float RGB region between its grain (finer than `grain` px) and `sigma` px, on its skin
    (`skin`, float 0 to 1): an old face's furrows and ridges, which a child's skin lacks. Its broad blur is of the
    skin alone (skin_blur): a brow, an eye, the hair or the background beside the skin does not bleed into it."""
    return cv2.GaussianBlur(region, (0, 0), grain) - skin_blur(region, skin, sigma)


def skin_blur(region, skin, sigma):
    """A float RGB region blurred by a Gaussian of `sigma` px over its skin (`skin`, float 0 to 1: a normalised
    convolution, each pixel the skin's weighted mean around it; where there is next to no skin, the region's own
    blur), on a canvas downscaled to RELIEF_CANVAS where it is broader (at full size a 2240-px region's took 0.25 s
    more)."""
    step, size = max(1.0, sigma / RELIEF_CANVAS), region.shape[1::-1]
    small = lambda image: cv2.resize(image, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
    region, skin = (small(image) if step > 1 else image for image in (region, np.float32(skin)))
    blur = lambda image: cv2.GaussianBlur(image, (0, 0), sigma / step)
    mean = (blur(region * skin[..., None]) + SKIN_LEAST * blur(region)) / (blur(skin) + SKIN_LEAST)[..., None]
    return cv2.resize(mean, size, interpolation=cv2.INTER_LINEAR) if step > 1 else mean
