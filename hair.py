"""Hair in a photo's face: where the hair is (hair_mask) and its colour at an age (a beard's: beard.py).

It is found by colour in the padded 128-px face (age_shape.face_grid's pixels, dlib's landmarks): the hair is what
above and beside the face has the colour of the patch over the forehead, unless that patch is skin (a bald head, a
baby's; on a child's photo the patch is looked for higher, over a high forehead, and its shine is no hair:
crown_patch); on a head turned to one side the patch and the head lie behind the eyes (head_frame). It takes
neither the background's colour (its plain top corners) but where the person's map is sure, on the head above the
eyes (dark hair before a dark room), nor a black fill (black_fill), and it keeps to the person (person.py: a wall of
its colour beside the head is not). Towards old age the hair greys by the age, all of it by 71+ (greying,
hair_change), towards a white lit as the face (white_level), and keeps its strands and shading (hair_colour); a
full beard greys with it (beard.beard_greyed); towards childhood grey hair darkens wherever grey hair is found beside
the head (hair_mask's `darkening`), on photos old enough to have greyed. The eyebrows (brow_mask: what is darker
than the skin along their landmarks) grey with the hair, later, each hair towards one grey (brows_greyed); towards
childhood they stay (hair_colour took dark brown brows for grey: darkened, they were heavier, and an adult's
children read a year older).
"""
import cv2
import numpy as np

from age_shape import EYE_CENTRES, cheek_mask, eye_centres, eye_distance, face_outline

BEARD_DISTANCE = 3.0  # hair is this many of the cheeks' spreads from their colour (in Lab), fully at twice that
HEAD_RADII = (1.8, 2.0)  # eye distances: the head's ellipse around the eyes' midpoint, where hair is ...
HEAD_FADE = 0.25  # ... its edge fading out from 1 - this to 1 + this of it (big hair beyond it greyed in a rim)
HEAD_MIDDLE = 0.3  # eye distances either side of the middle: where the head's top is found (head_top)
HEAD_BEHIND = 1.2  # aligned face's eye distances: in profile the head's middle lies this far behind the eyes
EYE_DISTANCE = float(np.hypot(*np.subtract(*EYE_CENTRES)))  # face pixels: the aligned face's (50)
HAIR_SKIN_SPREAD = (20.0, 4.0, 4.0)  # Lab: hair is this far from the cheeks' colour (a bald head's shine is skin)
HAIR_SPREAD = (6.0, 3.0, 3.0)  # the least spread of the background's L, a, b
BACKGROUND_PLAIN = (12.0, 6.0, 6.0)  # a corner spread more than this in L, a or b is not a plain background
BACKGROUND_AT = 40  # face pixels beyond the 128-px face: where the background is sampled (farther: another scene)
HAIR_GREY = 20.0  # Lab chroma under which hair counts as grey, fully under half of it (128 is colourless) ...
HAIR_GREY_SKIN = 0.7  # ... or under this share of the skin's, where more (a warm-lit photo's grey: grey_chroma)
HAIR_GREY_FROM = 40.0  # ... and lightness over which (fully at twice this): black hair is not, salt and pepper is
HAIR_ABOVE_EYES = 0.3  # eye distances: hair is looked for this far above the eyes and higher (not ears, irises) ...
HAIR_OFF_FACE, HAIR_BELOW_CHIN = 0.15, 0.6  # ... and lower only this far off the face and down to this below the chin
HAIR_FADE = 0.4  # eye distances over which the mask fades out above that (long hair ends in no line)
HAIR_GAP = 0.4  # eye distances: a gap in the hair narrower than this, darker than it and not skin, is its shadow
LONG_HAIR = (0.9, 0.8, 0.2)  # eye distances: a woman's hair also hangs this far beside her jaw, this much lower ...
LONG_HAIR_GRAIN = (0.5, 1.0, 3.0)  # ... as grainy as this share of the crown's, this at least (L), over this
                                   # many face pixels and that last many eye distances wide
HAIR_CROWN = (0.8, 1.3, 0.7)  # eye distances: this far above the brows (from, to) and within the last of the middle,
HAIR_HUE = (118.0, 116.0)  # Lab a, b: the hair over the forehead is not greener or bluer (hair_hued)
HAIR_LEAST = 0.4  # a head's hair shows over this share of that patch, or the head has none
HAIR_HIGHER = (0.3, 2)  # eye distances: a child's patch is looked for this much higher where it shows none, this often
CHILD_UNTIL = 3.0  # group positions: a photo under 18 years is a child's (hair_mask's `child`)
HAIR_MIXED = 60.0  # Lab L: a patch whose lightness spreads more than this is two things (a dark cap, its white band)
HAIR_PALER = (40.0, 1.0)  # a patch this much lighter (L) than the skin is hair if under this share of its chroma
HAIR_BLUR = 2.5  # face pixels: the hair mask's edge is this soft (greying does not end in a line)
HAIR_SURE = 0.9  # a person's map this sure over the eyes in the head's ellipse is the person, of any colour
BLACK_FILL = (2, 5)  # grey levels up to this over this many pixels square are a black fill, no hair (black_fill)
HAIR_EDGE = 12  # face pixels: the hair mask fades out this close to the padded face's edge (no seam where it ends)
HAIR_SMOOTH = 3.0  # photo pixels: whether hair is grey is judged on its colour coarser than this
HAIR_LIGHTEN = 0.55  # fully greyed hair is this far from its own lightness to white ...
HAIR_CONTRAST, HAIR_TOP = 3.0, 235.0  # ... its spread grown as much, at most this much and its 95% to this lightness
HAIR_WHITE = 3.5  # white is at most this many times the skin's lightness (L): a dim photo's grey hair is as dim
HAIR_DARK = (0.35, 136.0, 140.0)  # the share of its lightness and the colour (Lab) a child's formerly grey hair takes
HAIR_DARK_DETAIL = 0.6  # ... and of its strands' contrast (their shading stays, their white goes: 0.35 was flat)
HAIR_OWN_DARK = (0.1, 80.0)  # or its own dark hair's colour: at least this share of its hair, darker than this (L)
HAIR_OWN_LIGHT = 0.5  # or, on a head not grey, its own hair's colour and lightness where this share of it is not grey
BROWS = (slice(17, 22), slice(22, 27))  # the 68 landmarks along each eyebrow's upper edge ...
BROW_BAND = (0.05, 0.17)  # ... and the band (eye distances) its hair is looked for in: this far below them, this wide
BROW_DARK = (8.0, 24.0)  # Lab L below the skin around the band: none of it hair, all of it (not skin, not its rim)
BROW_GREY = (0.5, 175.0)  # at the hair's full grey the brows' hair is this far to a colourless grey as light as
# the skin, at most this Lab L (later than the hair; dark brows under grey hair looked dyed): each hair, not their
# spread (greyed_table lit their rims whiter than the skin)
GREY_HAIR = (0.6, 10.0)  # beside the head, grey hair is under this share of the skin's chroma and this much lighter
GREY_HAIR_GRAIN = 0.5  # ... and grainier than this share of the cheeks' grain (a blurred white background is not)
GREY_FROM, GREY_AT = 5.0, 9.0  # group positions: hair starts to grey after 31-40 and is grey at 71+
GREY_LEFT = 0.5  # older, hair greys over at least this much of the way (a photo of 71+ at 71+ stays itself)


def brow_mask(face, points, pad=0):
    """float32 (128 + 2 pad)^2: the eyebrows' hair of a uint8 face (face_grid's pixels, landmarks in the 128-px
    face's): in the band BROW_BAND along each brow's landmarks, what is darker than the skin around that band."""
    lightness = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    iod = eye_distance(points)
    band = np.zeros(face.shape[:2], np.uint8)
    for brow in BROWS:
        line = np.round((points[brow] + pad + (0, BROW_BAND[0] * iod)) * 16).astype(np.int32)
        cv2.polylines(band, [line], False, 1, max(1, round(BROW_BAND[1] * iod)), cv2.LINE_8, 4)
    around = cv2.dilate(band, np.ones((9, 9), np.uint8)) > band
    darker = float(np.median(lightness[around])) - lightness
    return (band * ((darker - BROW_DARK[0]) / (BROW_DARK[1] - BROW_DARK[0])).clip(0, 1)).astype(np.float32)


def brows_greyed(lab, amount, where, sigma):
    """uint8 Lab brow pixels (float; `where` the brows) `amount` (0 to 1) of BROW_GREY's way to a colourless grey
    as light as the skin around them, at most BROW_GREY's: their colour and their lightness around them (a Gaussian
    of `sigma` pixels), so that the hairs keep their strands (to one light grey, dark skin's brows were pale smears)."""
    skin = float(np.median(lab[..., 0][~where])) if (~where).any() else BROW_GREY[1]
    coarse = cv2.GaussianBlur(lab[..., 0], (0, 0), sigma)
    greyed = lab + amount * BROW_GREY[0] * (np.float32([0, 128, 128]) - lab)
    greyed[..., 0] = lab[..., 0] + amount * BROW_GREY[0] * (min(skin, BROW_GREY[1]) - coarse)
    return greyed.clip(0, 255).astype(np.uint8)


def unlike_background(lab, pad, person=None, black=True):
    """bool: the Lab pixels of a padded face far in colour from each of its plain top corners (behind the head; those
    of the face padded BACKGROUND_AT face pixels, at most `pad`). A corner of many colours (BACKGROUND_PLAIN) is a
    crowd, hair or a hat: it took a moustache and grey hair for one; nor is a corner that is mostly the person
    (`person`, person.person_map of the face): hair filling it hid all the hair; nor, unless `black`, a black one
    (BLACK_FILL: FairFace's fill around a turned photo; the hair's rim keeps off black by it, a beard does not)."""
    start, corner = max(pad - BACKGROUND_AT, 0), max(4, min(pad, BACKGROUND_AT) // 2)
    top, right = slice(start, start + corner), lab.shape[1] - start
    unlike = np.ones(lab.shape[:2], bool)
    for columns in (slice(start, start + corner), slice(right - corner, right)):
        background = lab[top, columns].reshape(-1, 3)
        if np.any(robust_spread(background) > BACKGROUND_PLAIN):
            continue
        if person is not None and np.median(person[top, columns]) > 0.5:
            continue
        if not black and np.median(background[:, 0]) <= BLACK_FILL[0]:
            continue
        unlike &= colour_distance(lab, background, HAIR_SPREAD) > BEARD_DISTANCE
    return unlike


def background_free(unlike):
    """float32: unlike_background's map (of a face blurred 1 px) as soft (the masks end in no halo)."""
    return cv2.GaussianBlur(unlike.astype(np.float32), (0, 0), 1)


def hair_mask(face, points, pad=0, darkening=False, person=None, facing=1.0, child=False, long_hair=False):
    """float32 (128 + 2 pad)^2: the hair of a uint8 face (face_grid's pixels, landmarks in the 128-px face's). A head
    with hair shows it over its forehead (HAIR_CROWN): where less than HAIR_LEAST of that patch is far from the
    cheeks' and the background's colour (unlike_background) there is none (a bald head, a baby's), nor where that
    is not a hair's colour (hair_hued: a blue cap). Else the hair's colour is that patch's median, and the mask is
    what is of that colour, far from the cheeks' and the background's and joined to the patch, in the head's ellipse
    above the eyes or beside the face down to below the chin (long hair greyed only on top was a grey cap): not a
    hand, a blanket, an ear or an iris. `darkening`: instead, on a head whose patch is grey hair (grey_hair), all
    the grey hair joined to it above the eyes or beside the face down to the mouth, in that ellipse HEAD_FADE wider,
    unlike the background and grainy (GREY_HAIR_GRAIN), whatever its likeness to the patch: where grey hair darkens
    towards childhood (hair_colour darkens only what is grey; the hair's own mask left children white temples).
    Both keep to the person where `person` (person.person_map of the face) is given: a wall of the hair's colour is
    no hair, and where the map is sure of the person (HAIR_SURE) above the eyes in that ellipse, or is the person
    at all in its core (where its rim begins to fade: no background shows there, and its dark hair was holes in grey
    hair), the background's colour is (dark hair before a dark room; a neighbour's beside the face is not). On a
    face turned to one side (`facing` below 1, age_shape.warp_share) the head lies behind the eyes (head_frame),
    and where the map is sure above the eyes the hair is whole to the ellipse's edge by 1 - `facing` (its rim's
    fade is a frontal head's guess: 0107's back hair stayed dark); on a `child`'s photo the patch is looked for
    higher too (crown_patch); a woman's (`long_hair`) hangs lower (hanging_hair). Its narrow gaps of its own
    shadow are hair (shadowed)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks = cheek_mask(points, pad)
    empty = np.zeros(face.shape[:2], np.float32)
    if cheeks.sum() < 20:
        return empty
    centre, iod = head_frame(points, facing, pad, person)
    rows, columns = np.mgrid[:face.shape[0], :face.shape[1]]
    not_skin = (colour_distance(lab, lab[cheeks], HAIR_SKIN_SPREAD) > BEARD_DISTANCE) & ~black_fill(face)
    top = head_top(person, centre, iod)
    upper = HEAD_RADII[1] if top is None else max(HEAD_RADII[1], (centre[1] - top) / iod / (1 - HEAD_FADE))
    radii = np.where(rows < centre[1], upper, HEAD_RADII[1])  # up to the head's top (a child's is high)
    head = np.hypot((columns - centre[0]) / HEAD_RADII[0], (rows - centre[1]) / radii) / iod  # 1 on its edge
    eye_line = centre[1] - HAIR_ABOVE_EYES * iod
    unlike = unlike_background(lab, pad, person)  # once: the darkening mask and both soft edges use it too
    body = True if person is None else person > 0.5
    if person is not None:  # dark hair before a dark room: where the map is sure over the eyes, or in the head's core
        sure = (person > HAIR_SURE) & (rows < eye_line)
        unlike |= sure & (head < 1) | body & (head < 1 - HEAD_FADE)
    far = not_skin & unlike & body  # the background is no crown patch and no hair
    crown = crown_patch(lab, far, lab[cheeks], points[17:27, 1].min() + pad - rows, columns - centre[0], iod, child)
    if crown is None:
        return empty
    patch = lab[crown]
    like = (2 - colour_distance(lab, patch, HAIR_SPREAD) / BEARD_DISTANCE).clip(0, 1)  # 1 up to D, 0 from 2D
    hair = far & (like > 0)
    reach = max(3, int(HAIR_OFF_FACE * iod)) | 1
    beside = cv2.dilate(face_outline(points, pad), np.ones((reach, reach), np.uint8)) == 0
    bottom = points[8, 1] + pad + HAIR_BELOW_CHIN * iod
    zone = (head < 1 + HEAD_FADE) & ((rows < eye_line) | beside & (rows < bottom))
    hanging = hanging_hair(lab, points, pad, crown, rows >= eye_line) & beside if long_hair else np.zeros_like(zone)
    zone |= hanging
    hangs = cv2.GaussianBlur(hanging.astype(np.float32), (0, 0), HAIR_BLUR)  # beyond the ellipse: no line either
    lower, lowest = (((end - rows) / (HAIR_FADE * iod)).clip(0, 1) for end in (bottom, bottom + LONG_HAIR[1] * iod))
    edge = np.minimum.outer(*[np.minimum(np.arange(n), np.arange(n)[::-1]) for n in face.shape[:2]])
    ends = np.maximum(lower, hangs * lowest) * (edge / HAIR_EDGE).clip(0, 1)  # no line where it ends
    ends *= 1 if person is None else person  # no wall
    if darkening:
        if not grey_hair(np.median(patch, 0), lab[cheeks]):
            return empty
        grainy = grain(lab[..., 0])
        grey = grey_hair(lab, lab[cheeks]) & (grainy > GREY_HAIR_GRAIN * np.median(grainy[cheeks]))
        grey &= (head < 1 + 2 * HEAD_FADE) & ((rows < eye_line) | beside) & (rows < points[48:55, 1].max() + pad)
        grey &= unlike & (face_outline(points, pad) == 0)
        count, parts = cv2.connectedComponents((grey | hair & crown).astype(np.uint8))
        grey &= np.isin(parts, np.unique(parts[hair & crown]))
        return cv2.GaussianBlur(grey.astype(np.float32), (0, 0), HAIR_BLUR) * ends * background_free(unlike)
    count, parts = cv2.connectedComponents((hair & (zone | crown)).astype(np.uint8))
    hair &= zone & np.isin(parts, np.unique(parts[hair & crown]))
    shadow = shadowed(hair, not_skin & body & zone & (lab[..., 0] < np.median(patch[:, 0])), iod)
    hair |= shadow
    unlike |= shadow
    rim = ((1 + HEAD_FADE - head) / (2 * HEAD_FADE)).clip(0, 1)
    if person is not None and facing < 1:  # a turned head's ellipse is a guess
        sure = cv2.GaussianBlur(np.float32(sure), (0, 0), HAIR_BLUR)
        rim = np.maximum(rim, (1 - facing) * sure * ((1 + HEAD_FADE - head) / HEAD_FADE).clip(0, 1))
    ends *= np.maximum(rim, hangs) * background_free(unlike)
    return cv2.GaussianBlur((hair * np.where(shadow, 1, like)).astype(np.float32), (0, 0), HAIR_BLUR) * ends


def shadowed(hair, candidates, iod):
    """bool: the `candidates` in the gaps of a bool hair mask narrower than HAIR_GAP eye distances `iod` (closed):
    hair in its own shadow, darker than the crown patch and taken for the background (dark holes in grey hair)."""
    size = int(HAIR_GAP * iod) | 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return (cv2.morphologyEx(hair.astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0) & ~hair & candidates


def hanging_hair(lab, points, pad, crown, below_eyes):
    """bool: where a woman's long hair may hang beyond the head's ellipse (Lab pixels of the padded face, `crown`:
    the crown patch's hair): `below_eyes`, LONG_HAIR's eye distances either side of the jaw's widest points, not
    under the chin (her clothes), and grainy as hair (LONG_HAIR_GRAIN; a plain top, a suit were not): greyed only
    down to her chin, long hair was grey on top and its own colour below."""
    iod, columns = eye_distance(points), np.arange(lab.shape[1])
    grainy = cv2.GaussianBlur(grain(lab[..., 0]), (0, 0), LONG_HAIR_GRAIN[2])
    least = max(LONG_HAIR_GRAIN[0] * float(np.median(grainy[crown])), LONG_HAIR_GRAIN[1])
    sides = points[[1, 15], 0] + pad + np.float32([-1, 1]) * LONG_HAIR[0] * iod
    jaw = points[[4, 12], 0] + pad
    under_chin = (np.arange(lab.shape[0])[:, None] > points[8, 1] + pad) & (columns > jaw[0]) & (columns < jaw[1])
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(LONG_HAIR[2] * iod) | 1,) * 2)
    grainy = cv2.morphologyEx(np.uint8(grainy > least), cv2.MORPH_OPEN, disc) > 0  # not an edge's line of it
    return below_eyes & (columns > sides[0]) & (columns < sides[1]) & ~under_chin & grainy


def crown_patch(lab, far, cheeks, above_brows, across, iod, child=False):
    """bool, or None where the head shows no hair: the hair of the crown patch of the Lab pixels (`far`: far from the
    skin's colours `cheeks` and the background), HAIR_CROWN's eye distances above the brows (`above_brows`: each
    pixel's height over them) and either side of the head's middle (`across`: each pixel's offset from it). Where it
    is no hair (HAIR_LEAST, hair_like), on a `child`'s photo it is looked for HAIR_HIGHER higher (a child's forehead
    is high: FairFace 0425's, 0233's hair lay above it), and there colourless pixels lighter than the skin are a
    shine, not grey hair (0448's forehead was greyed white as hair)."""
    candidates = far & ~grey_hair(lab, cheeks) if child else far
    for step in range(HAIR_HIGHER[1] + 1 if child else 1):
        low, high = (np.float32(HAIR_CROWN[:2]) + step * HAIR_HIGHER[0]) * iod
        crown = (above_brows > low) & (above_brows < high) & (np.abs(across) < HAIR_CROWN[2] * iod)
        hair = candidates & crown
        if hair.sum() >= HAIR_LEAST * max(crown.sum(), 1) and hair_like(lab[hair], cheeks):
            return hair
    return None


def head_frame(points, facing=1.0, pad=0, person=None):
    """(centre, unit): where the head is and its size in face pixels, as hair_mask measures it. Facing the camera
    the eyes' midpoint (padded face) and their distance; turned to one side (`facing` 0: in profile), towards the
    middle of the person (its map `person`) across the crown patch's height, or HEAD_BEHIND of the aligned face's
    eye distance behind the eyes (away from the nose) without one, and that distance as its unit: dlib fits a
    profile's landmarks as a frontal face's squeezed onto its front (FairFace 0086's, 0122's hair stayed dark)."""
    left, right = eye_centres(points)
    iod = eye_distance(points)
    across = (right - left) / max(iod, 1e-6)
    behind = -np.sign(np.dot(points[30] - (left + right) / 2, across)) * across  # away from the nose
    turned, eyes = 1 - facing, (left + right) / 2 + pad
    unit = iod + turned * max(EYE_DISTANCE - iod, 0.0)
    middle = eyes + HEAD_BEHIND * EYE_DISTANCE * behind
    row = int(points[17:27, 1].min() + pad - np.mean(HAIR_CROWN[:2]) * unit)
    column = int(eyes[0])
    if turned and person is not None and 0 <= row < len(person) and person[row, column] > 0.5:
        sides = [person[row, column::step] > 0.5 for step in (-1, 1)]  # the person's run across that row, either way
        reach = [np.argmin(side) if not side.all() else len(side) for side in sides]
        middle = np.array([column + (reach[1] - reach[0]) / 2, eyes[1]])
    return eyes + turned * (middle - eyes), unit


def head_top(person, centre, iod):
    """The row of a person map's (person.person_map) top above the eyes' midpoint `centre` (padded face pixels): the
    head's (None: no map; 0 where the person runs off the face's top)."""
    if person is None:
        return None
    columns = slice(max(int(centre[0] - HEAD_MIDDLE * iod), 0), int(centre[0] + HEAD_MIDDLE * iod) + 1)
    on = np.flatnonzero(np.median(person[:int(centre[1]), columns], 1) > 0.5)
    return int(on[0]) if len(on) else None


def black_fill(face):
    """bool: where a uint8 RGB face is black over BLACK_FILL[1] pixels around (none lighter than BLACK_FILL[0]) and
    joined so to its edge: a fill (FairFace's black corners around a turned photo, the person to its map: over 0365's
    head it greyed to a grey glow) or a room clipped to black, no hair's strands (inside the hair, its black spots
    are hair: left out, they were dark holes in grey hair)."""
    grey = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    black = (cv2.dilate(grey, np.ones((BLACK_FILL[1],) * 2, np.uint8)) <= BLACK_FILL[0]).astype(np.uint8)
    count, parts = cv2.connectedComponents(black)
    edge = np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])
    return np.isin(parts, edge[edge > 0])


def hair_like(patch, cheeks):
    """Whether the Lab colours of a crown patch can be hair over skin of the colours `cheeks`: of a hair's hue
    (hair_hued), not one flat fill (flat), not two things (a cap and its band: HAIR_MIXED) and, much lighter than the
    skin, paler than it (HAIR_PALER: blond, grey or white hair; a straw hat, a turban, a yellow scarf were not)."""
    colour, skin = np.median(patch, 0), np.median(cheeks, 0)
    spread = robust_spread(patch[:, 0], colour[0])
    chroma = [np.hypot(c[1] - 128, c[2] - 128) for c in (colour, skin)]
    lighter = colour[0] - skin[0] > HAIR_PALER[0] and chroma[0] > HAIR_PALER[1] * chroma[1]
    return hair_hued(colour) and not flat(patch[:, 0]) and spread <= HAIR_MIXED and not lighter


def flat(lightness):
    """Whether half the pixels have one lightness: a fill, not hair's strands (FairFace's black filler around a turned
    photo, taken for the person behind whom it lies, greyed as a flat patch)."""
    return robust_spread(lightness) == 0


def grey_hair(lab, cheeks, colourless=GREY_HAIR[0]):
    """bool: whether Lab colours are grey or white hair beside skin of the Lab colours `cheeks`: colourless (under
    this share of the skin's chroma) and GREY_HAIR[1] lighter than the skin."""
    skin = np.median(cheeks, 0)
    least = min(HAIR_GREY, colourless * float(np.hypot(skin[1] - 128, skin[2] - 128)))
    return (np.hypot(lab[..., 1] - 128, lab[..., 2] - 128) < least) & (lab[..., 0] > skin[0] + GREY_HAIR[1])


def grain(lightness):
    """float32: how grainy each pixel's neighbourhood is: the spread of its lightness finer than a face pixel, over
    1.5 face pixels (over 2.5 a smooth wall beside grainy hair was grainy up to 10 pixels from it)."""
    fine = lightness - cv2.GaussianBlur(lightness, (0, 0), 1.0)
    return np.sqrt(cv2.GaussianBlur(fine ** 2, (0, 0), 1.5))


def hair_hued(colour):
    """Whether a Lab colour (OpenCV's scale: 128 is colourless) can be hair's: not greener or bluer than HAIR_HUE (a
    blue cap, a teal scarf over the forehead were greyed as hair; grey hair before a blue wall is a little blue)."""
    return bool(colour[1] >= HAIR_HUE[0] and colour[2] >= HAIR_HUE[1])


def robust_spread(sample, centre=None):
    """The spread of samples along the first axis as a standard deviation would be, robustly: 1.48 times the median
    absolute deviation from their median, `centre` where the caller has it (a few pixels of another colour do not
    widen it)."""
    return 1.48 * np.median(np.abs(sample - (np.median(sample, 0) if centre is None else centre)), 0)


def colour_distance(lab, sample, least):
    """How many of the sample's spreads (at least `least` in L, a, b) each Lab pixel is from its median colour; uint8
    pixels through a table of each channel's 256 levels (the same float32 values, five times faster)."""
    dtype = np.float32 if lab.dtype == np.uint8 else lab.dtype
    reference = np.median(sample, 0)
    spread = np.maximum(robust_spread(sample, reference), least).astype(dtype)
    if lab.dtype != np.uint8:
        return np.sqrt((((lab - reference) / spread) ** 2).sum(-1))
    squares = ((np.arange(256, dtype=dtype)[:, None] - reference) / spread) ** 2
    return np.sqrt(squares[lab[..., 0], 0] + squares[lab[..., 1], 1] + squares[lab[..., 2], 2])


def hair_colour(lab, amount, where, dark=HAIR_DARK, chroma=HAIR_GREY):
    """Lab hair (float, OpenCV's 0-255 scale) greyed by `amount` in [0, 1], or, negative, its grey (grey_share under
    `chroma`: grey_chroma) darkened to `dark` (own_dark: the share of its lightness and the colour in Lab a, b) and
    its strands' contrast down to HAIR_DARK_DETAIL (kept whole, salt and pepper stayed grey). Greyed, it loses its
    colour and its lightness (its median over the bool map `where`) moves HAIR_LIGHTEN of the way to white, its
    spread (5-95%) growing as much, at most HAIR_CONTRAST times and to HAIR_TOP: the strands and the hair's shading
    stay (a flat grey cap had neither)."""
    if amount >= 0:
        return greyed(lab, amount, lab[..., 0][where])
    coarse = cv2.GaussianBlur(lab, (0, 0), HAIR_SMOOTH)  # whether hair is grey is judged on its coarse colour
    lightness = coarse[..., 0] * dark[0] + HAIR_DARK_DETAIL * (lab[..., 0] - coarse[..., 0])
    darkened = np.dstack([lightness, np.broadcast_to(np.float32(dark[1:]), lab[..., 1:].shape)])
    return lab - amount * grey_share(coarse, chroma)[..., None] * (darkened - lab)


def grey_chroma(skin):
    """The Lab chroma under which hair is grey in a photo whose cheeks' Lab pixels are `skin` (None: unknown):
    HAIR_GREY, or HAIR_GREY_SKIN of the skin's where that is more (FairFace 0500's grey hair, of chroma 21 in a photo
    lit orange, stayed grey on his child; 0379's darkened in patches)."""
    if skin is None:
        return HAIR_GREY
    colour = np.median(skin, 0)
    return max(HAIR_GREY, HAIR_GREY_SKIN * float(np.hypot(colour[1] - 128, colour[2] - 128)))


def grey_share(coarse, chroma=HAIR_GREY):
    """How grey each coarse Lab pixel's colour is, 0 to 1: colourless (under `chroma`, fully under half of it) and
    not black (HAIR_GREY_FROM)."""
    colour = np.hypot(coarse[..., 1] - 128, coarse[..., 2] - 128)
    grey = ((chroma - colour) / (chroma / 2)).clip(0, 1)
    return grey * ((coarse[..., 0] - HAIR_GREY_FROM) / HAIR_GREY_FROM).clip(0, 1)


def own_dark(face, mask, grey_head=True, chroma=HAIR_GREY):
    """What the grey hair (grey_share under `chroma`) of a uint8 RGB `face` darkens to where `mask`, as hair_colour's
    `dark`: its own dark hair's colour (not grey, darker than HAIR_OWN_DARK's L, at least its share of the mask) at
    HAIR_DARK's share of its lightness; on a head whose hair is not grey (`grey_head` False) and mostly not
    (HAIR_OWN_LIGHT), its own colour and lightness (the white of a blonde's highlight, of a bald head's shine, was
    darkened to a brown patch: FairFace 0354, 0191); else HAIR_DARK (the one brown was red on a photo lit green:
    FairFace 0358)."""
    coarse = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    where = mask > mask.max() / 2
    coloured = where & (grey_share(coarse, chroma) < 0.5)
    dark = coloured & (coarse[..., 0] < HAIR_OWN_DARK[1])
    if where.any() and dark.sum() >= HAIR_OWN_DARK[0] * where.sum():
        return (HAIR_DARK[0], *(float(value) for value in np.median(coarse[dark][:, 1:], 0)))
    grey = where & ~coloured
    if grey_head or coloured.sum() < HAIR_OWN_LIGHT * where.sum() or not grey.any():
        return HAIR_DARK
    own = np.median(coarse[coloured], 0)
    return (min(1.0, float(own[0] / np.median(coarse[grey][:, 0]))), float(own[1]), float(own[2]))


def white_level(skin):
    """The Lab L that white has in a photo whose cheeks' Lab pixels are `skin` (None: unknown): 255, or less in a dim
    photo (HAIR_WHITE), where white hair had been the lightest thing in it (FairFace 0234's, 0001's white bonnets)."""
    return 255.0 if skin is None else float(min(255.0, HAIR_WHITE * np.median(skin[:, 0])))


def greyed(lab, amount, hair_lightness, white=255.0):
    """hair_colour's greying of Lab pixels, the hair's own pixels' lightness being `hair_lightness`, towards a white
    of lightness `white` (white_level): each pixel's new colour depends on its own L, a and b only (greyed_table)."""
    lightness = lab[..., 0]
    low, median, high = (float(v) for v in np.percentile(hair_lightness, (5, 50, 95)))
    grey = median + HAIR_LIGHTEN * max(white - median, 0.0)
    brightest = HAIR_TOP * white / 255
    gain = float(np.clip(min(grey / max(median, 1), (brightest - grey) / max(high - median, 1)), 1, HAIR_CONTRAST))
    top = grey + gain * (high - median)
    inside = lightness.clip(low, high)  # beyond the hair's spread (skin where the mask is soft) no gain
    above = np.where(lightness > high, np.float32((255 - top) / max(255 - high, 1)), np.float32(1))
    lightness = grey + gain * (inside - median) + above * (lightness - inside)
    return lab + amount * (np.dstack([lightness, np.full_like(lab[..., 1:], 128)]) - lab)


def greyed_table(amount, hair_lightness, white=255.0):
    """greyed as a cv2.LUT table of uint8 Lab (256 x 1 x 3): each level greyed once, not each pixel (a close-up's
    hair is millions of pixels), clipped and cut to uint8 as the pixels were."""
    levels = np.repeat(np.arange(256, dtype=np.float32)[:, None, None], 3, 2)
    return greyed(levels, amount, hair_lightness, white).clip(0, 255).astype(np.uint8)


def greying(position):
    """How grey hair is at a position on the group scale: none to 31-40, all at 71+ (GREY_FROM, GREY_AT)."""
    return min(max((position - GREY_FROM) / (GREY_AT - GREY_FROM), 0.0), 1.0)


def hair_change(own_position, position, fade):
    """How much greyer hair gets from the photo's age to `position`: the share of the way to grey that its age has
    left which the older age's greying takes (GREY_LEFT: all grey at 71+ from 51-60 or younger; a 55-year-old's
    blond or brown hair stayed half its colour), or, negative, how much of its grey darkens: all of it by the age
    where hair is not grey yet, and where the photo fades (`fade`); none on a photo younger than greying (light
    hair there is blond, ash or a shine, which its children had darkened)."""
    own, grey = greying(own_position), greying(position)
    if position >= own_position:
        return (grey - own) / max(1 - own, GREY_LEFT)
    return -max(fade, (own - grey) / own) if own else 0.0
