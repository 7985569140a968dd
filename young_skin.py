"""A younger skin at a photo's own scale: an old face's lines filled and its relief smoothed away.

An old photo made younger keeps its own skin wherever the generator's younger face does not replace it: at every
younger age its skin's dark lines are filled (filled_lines, a morphological closing: the share of them its age has
beyond the younger one's, lines_gone), and towards childhood, on a turned face (whose child is not the generator's
frontal one) its relief goes too: the furrows and the ridges between them, the detail between the photo's grain and a
few face pixels (relief, its broad blur of the skin alone). A turned elder's child had kept every wrinkle.
"""
import cv2

from age_texture import lined
from images import masked_blur

LINE_RADIUS = 4.0  # px: filled_lines works on a canvas downscaled to this radius


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
    skin alone (images.masked_blur): a brow, an eye, the hair or the background beside the skin does not bleed in."""
    return cv2.GaussianBlur(region, (0, 0), grain) - masked_blur(region, skin, sigma)
