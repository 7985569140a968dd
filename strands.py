"""Grey hair's strands, drawn where a dark head of hair greys (its own fine structure, magnified, was marble).

Greyed level by level (hair.greyed), dark hair keeps its own detail magnified up to HAIR_CONTRAST times: in a dim
photo that detail is noise, sheen and JPEG blocks, and the grey hair was a marbled silver cap (FairFace 0207, 0288,
0358, 0026 at 71+). Here, as much as the hair was dark and bare of strands of its own (drawn_share), the greyed
hair keeps only its shading (coarser than SHADING face pixels, within the hair) and OWN_DETAIL of its finer detail,
and takes strands instead: white noise smeared along the hair's course (a line integral convolution), around the
head as combed hair lies (from the crown over the top, down beside the face), turning slowly, a little softer than
the photo's edges.
"""
import cv2
import numpy as np

from images import masked_blur

DARK_HAIR = (40.0, 80.0)  # Lab L: hair whose median is under this greys to strands, over this with its own detail
OWN_STRANDS = (2.0, 3.5)  # Lab L: ... and whose detail finer than a photo pixel spreads under this, over this
SHADING = 1.5  # face pixels: greyed dark hair keeps its lightness coarser than this ...
OWN_DETAIL = 0.3  # ... and this share of its finer detail
STRAND_LENGTH = 4.0  # face pixels: a strand runs this far either way from each pixel
STRAND_CONTRAST = 12.0  # Lab L: the strands' spread in hair greyed all the way
STRAND_WAVE = (0.15, 6.0)  # radians, face pixels: the strands' course turns by about this over this distance
STRAND_SOFT = 0.8  # the strands are blurred by this share of the photo's softness (drawn a pixel fine, 0.5 was crisp)
BELOW_MIDDLE = 1.2  # head units: the strands run around a point this far below the head's middle (hair.head_frame)
STRAND_CANVAS = 4.0  # canvas pixels a face pixel at most: a close-up's strands are drawn smaller and enlarged


def drawn_share(roi, hair):
    """How much of a head of hair's detail is drawn strands when it greys: as much as it is dark (its median Lab L:
    DARK_HAIR) and bare of strands of its own (the spread of its lightness finer than a photo pixel: OWN_STRANDS; a
    studio portrait's dark hair has its curls, FairFace's dim heads next to none). `roi`: the float RGB region, `hair`
    its hair mask."""
    where = hair > hair.max() / 2 if hair.any() else hair > 0
    if where.sum() < 2:
        return 0.0
    lightness = cv2.cvtColor(roi.clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    own = float((lightness - cv2.GaussianBlur(lightness, (0, 0), 1.0))[where].std())
    dark = (DARK_HAIR[1] - np.median(lightness[where])) / (DARK_HAIR[1] - DARK_HAIR[0])
    bare = (OWN_STRANDS[1] - own) / (OWN_STRANDS[1] - OWN_STRANDS[0])
    return float(np.clip(dark, 0, 1) * np.clip(bare, 0, 1))


def course(shape, centre, unit, rng):
    """Unit vectors (x, y; float32 arrays of `shape`) of the strands' course: around `centre`, turning by about
    STRAND_WAVE over its distance in `unit` pixels a face pixel."""
    rows, columns = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    wave = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), STRAND_WAVE[1] * unit)
    wave *= STRAND_WAVE[0] / max(float(wave.std()), 1e-6)
    angle = np.arctan2(rows - centre[1], columns - centre[0]) + np.pi / 2 + wave
    return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def texture(shape, centre, scale, soft, seed=0):
    """float32 strands over a region of `shape` (mean 0, spread 1) running around `centre` (region pixels), `scale`
    region pixels a face pixel, blurred by STRAND_SOFT of `soft` (the photo's softness, region pixels); drawn on a
    canvas of at most STRAND_CANVAS pixels a face pixel and enlarged. The same seed, the same strands at every age."""
    shrink = min(1.0, STRAND_CANVAS / scale)
    size = (max(int(shape[1] * shrink), 1), max(int(shape[0] * shrink), 1))
    unit, rng = scale * shrink, np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.standard_normal(size[::-1]).astype(np.float32), (0, 0), 0.5)
    along = course(size[::-1], np.float32(centre) * shrink, unit, rng)
    rows, columns = np.mgrid[:size[1], :size[0]].astype(np.float32)
    total, steps = noise.copy(), max(2, int(round(STRAND_LENGTH * unit)))
    for sign in (1, -1):  # each way along the course, a pixel a step
        x, y, step = columns.copy(), rows.copy(), [sign * along[0], sign * along[1]]
        for _ in range(steps):
            ahead = [cv2.remap(a, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT) for a in along]
            step = [a * np.sign(ahead[0] * step[0] + ahead[1] * step[1] + 1e-6) for a in ahead]  # no turning back
            x, y = x + step[0], y + step[1]
            total += cv2.remap(noise, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    total = cv2.resize(total, shape[1::-1], interpolation=cv2.INTER_LINEAR) if shrink < 1 else total
    total = cv2.GaussianBlur(total, (0, 0), soft * STRAND_SOFT) if soft * STRAND_SOFT > 0.3 else total
    return (total - total.mean()) / max(float(total.std()), 1e-6)


def drawn(greyed, where, strands, amount, weight, scale):
    """Greyed Lab hair (uint8) with, as much as `weight` (drawn_share), its detail finer than SHADING face pixels (in
    the bool map `where`) down to OWN_DETAIL and `strands` (texture, the same box) drawn at STRAND_CONTRAST times
    `amount`: uint8."""
    lightness = greyed[..., 0].astype(np.float32)
    detail = np.where(where, lightness - masked_blur(lightness, where, SHADING * scale), 0)  # within the hair
    lightness += weight * ((OWN_DETAIL - 1) * detail + STRAND_CONTRAST * amount * strands)
    return np.dstack([lightness.clip(0, 255).astype(np.uint8), greyed[..., 1:]])
