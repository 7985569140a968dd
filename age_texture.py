"""Old skin at a photo's own scale: wrinkles, crepe and age spots drawn from a face's 68 landmarks.

The generator draws old age at 128 px; scaled up to a photo, its wrinkles are painted strokes and blotches. Here the
folds every old face has are drawn at the photo region's own pixels, placed by dlib's 68 landmarks and sized by the
eyes' distance (IOD): forehead lines following the brows, frown lines, crow's feet, lines under the eyes, the
nasolabial and marionette folds and rings on the neck, with crepe (the fine crinkling of thin skin, band-passed noise)
and a few age spots. Each line is a groove, not a stroke: a thin Gaussian crease and beside it two broader walls, the
one facing away from the light (from above and the front) darker, the other lighter (a forehead line's lit rim is
below it, a nasolabial fold's on the cheek), its depth and course varied by smooth noise, so it breaks up and tapers.
The result multiplies the skin's lightness, masked off the eyes, brows, lips and nostrils and outside the face and
neck. A shaved beard's skin takes the light (lit_across) and texture (skin_patches) of the photo's cheeks. All that
is random comes from `seed`: a face keeps its lines at every amount, which deepens and lengthens them from each onset.
"""
from collections import namedtuple

import cv2
import numpy as np

Kind = namedtuple('Kind', 'sigma depth wiggle onset lit')
# sigma: the crease's (IODs); depth: the shade it takes at its centre at amount 1; wiggle: of its course (IODs);
# onset: the amount where it starts; lit: the side of the groove whose wall faces the light (from above and the front)
KINDS = {
    'forehead': Kind(0.007, 0.26, 0.008, 0.0, 'below'),
    'frown': Kind(0.009, 0.2, 0.006, 0.15, 'inward'),
    'crow': Kind(0.005, 0.2, 0.006, 0.0, 'below'),
    'lid': Kind(0.0045, 0.16, 0.005, 0.1, 'below'),
    'bag': Kind(0.01, 0.1, 0.008, 0.3, 'below'),
    'nasolabial': Kind(0.018, 0.2, 0.008, 0.1, 'outward'),
    'marionette': Kind(0.01, 0.16, 0.008, 0.35, 'outward'),
    'neck': Kind(0.008, 0.14, 0.01, 0.45, 'below'),
}
LEAST_SIGMA = 0.8  # region px: no crease is drawn thinner; a thinner one is drawn this wide and lighter ...
THIN_KEEPS = 0.5  # ... by (its sigma / LEAST_SIGMA) to this power (1 would keep its integral; a camera sharpens)
BROAD = (3.0, 1.2, 0.35, 0.3)  # the groove's walls beside the crease: their sigma (x the crease's) and shift (x their
# own sigma), the shadowed wall's and the lit wall's peaks (x the crease's depth): a groove, not a painted line
DEPTH_POWER = 1.5  # a line's depth grows as its strength to this power: faint at its onset, never a jump
OLD_SKIN_FROM, OLD_SKIN_AT = 4.5, 9.0  # group positions: the skin starts to line after 21-30 and is old at 71+
OLD_SKIN_GROUPS = 3  # groups older than the photo where the old skin drawn reaches its age's amount
LENGTH_FROM = 0.3  # a line is this share of its length at its onset, all of it at amount 1
END_FADE = 0.25  # the share of a line's length at each end over which it fades in
BREAK, BREAK_MOST = 0.5, 1.6  # depth along a line: 1 + BREAK x smooth noise (unit spread), at most BREAK_MOST
# (no dark dashes); a line breaks up where that is below 0
DEPTH_CYCLES = (0.8, 2.5)  # waves per IOD of the smooth noise along a line that varies its depth ...
COURSE_CYCLES = (0.6, 2.0)  # ... and that moves it sideways (a gentle meander, not a squiggle)
WAVES = 3  # sines summed in the smooth noise
STEP = 0.01  # IODs between a line's points (at least 1.5 region px)
FOREHEAD_LINES = (0.27, 0.85)  # IODs above the brows: the lowest and highest forehead line
MINOR_LINES, MINOR_DEPTH = 3, 0.5  # short, shallower forehead lines between the long ones (they branch, merge)
NECK_LINES = (0.35, 0.65)  # IODs below the chin: the highest and lowest neck line
CROW_SPREAD = (-35, 40)  # degrees from the eye's axis outwards (up negative): the crow's feet's fan
CREPE = (0.012, 0.022, 0.6)  # crepe: band-passed noise of this step (IODs), its spread in shade at amount 1, onset
CREPE_STRETCH = 1.6  # crepe's crinkles run this much longer across the face than down it
LEAST_GRID = 1.5  # region px: a finer crepe grid is drawn at this step, its depth scaled down by the ratio
SPOTS = 8  # age spots at amount 1
SPOT_RADII = (0.02, 0.05)  # IODs
SPOT_DEPTH, SPOT_TINT = 0.05, (-1.0, -4.0, -7.0)  # a spot's shade lost and RGB added at its centre at amount 1: low
SPOT_ONSET = (0.5, 0.9)  # each spot appears from an amount drawn in this range
SPOT_EDGE = 0.01  # IODs: a spot's soft edge (a blob of 3 ellipses, blurred)
FOREHEAD_TOP = 1.0  # IODs above the brows: the skin mask's top
NECK = 0.8  # IODs below the chin: the skin mask's bottom (it narrows to NECK_WIDTH of the jaw's width there)
NECK_WIDTH = 0.7  # the neck's width at NECK below the chin, a share of the jaw's (landmarks 4-12)
FEATURE_MARGINS = {'eye': 0.05, 'brow': 0.07, 'lips': 0.03, 'nostrils': 0.04}  # IODs kept clear around each
MASK_SIGMA = 0.025  # IODs: the skin mask's soft edge
COARSE_SIGMA = 2.0  # px: a blur broader than this is done on a canvas downscaled to it
SHIFT = 4  # cv2's fixed point: 4 fraction bits


def lined(position):
    """How lined a face's skin is at a position on the group scale (games.group_position): 0 to 26-30, 1 at 71+."""
    return min(max((position - OLD_SKIN_FROM) / (OLD_SKIN_AT - OLD_SKIN_FROM), 0.0), 1.0)


def old_skin_amount(position, own_position):
    """How much old skin is drawn (old_skin's amount) at a position: as lined as its age, but grown to that from
    nothing at the photo's own age over OLD_SKIN_GROUPS (the photo has its own lines)."""
    return lined(position) * min(max((position - own_position) / OLD_SKIN_GROUPS, 0.0), 1.0)


def old_skin(points, matrix, size, amount, iod=None, seed=0):
    """-> (box, shade, tint): the box (x0, y0, x1, y1) of a photo region's pixels around the face it draws on, float32
    shade and float32 x 3 tint over the box (a close-up's whole region was mostly ones and zeros); None where it draws
    nothing (amount 0, the face beyond the region). The caller does: box = box * shade[..., None] + tint (RGB 0-255).
    points: the 68 dlib landmarks (float, 68 x 2) in the 128-px aligned face's pixels;
    matrix: 2 x 3 affine, face pixels -> region pixels (photo_aging.PhotoAger.matrix); size: (w, h) of the region;
    amount: 0 (no age texture) .. 1 (a face of about 80+)."""
    amount = float(np.clip(amount, 0, 1))
    if amount <= 0 or min(size) <= 0:
        return None
    region = np.asarray(points, np.float64) @ np.asarray(matrix, np.float64)[:, :2].T + np.asarray(matrix)[:, 2]
    frame = Frame(region, iod)
    rng = np.random.default_rng([seed, 0])
    lines, spots = face_lines(frame, rng), age_spots(frame, rng)
    box = padded_box(frame.to_region(outlines(frame.q)[0]), 3 * MASK_SIGMA * frame.iod, size)
    if box is None:
        return None
    mask, face = skin(frame, box)
    relief = sum(kind_relief(frame, kind, paths, amount, box) for kind, paths in lines.items())
    spot = mask * spotted(frame, spots, amount, box)
    crinkles = face * crepe(frame, box, amount, np.random.default_rng([seed, 1]))  # its own draws: any region size
    shade = mask * relief  # 1 - mask * relief - SPOT_DEPTH * spot - crinkles, in place (a close-up's box: 10 ms)
    np.subtract(1, shade, out=shade)
    shade -= SPOT_DEPTH * spot
    shade -= crinkles
    return box, shade, spot[..., None] * np.float32(SPOT_TINT)


class Frame:
    """The face's own axes in region pixels: origin at the eyes' midpoint, u towards the image-right eye, v down the
    face, both in IODs; `q` the landmarks in them."""

    def __init__(self, region_points, iod=None):
        left, right = region_points[36:42].mean(0), region_points[42:48].mean(0)
        self.origin, self.iod = (left + right) / 2, float(iod or np.hypot(*(right - left)))
        across = (right - left) / max(np.hypot(*(right - left)), 1e-9)
        self.axes = np.array([across, (-across[1], across[0])])  # rows: u and v in region pixels per IOD / IOD
        self.q = self.to_frame(region_points)

    def to_frame(self, xy):
        return (xy - self.origin) @ self.axes.T / self.iod

    def to_region(self, uv):
        return self.origin + self.iod * uv @ self.axes


def strength(amount, onset):
    """How far a feature with this onset has grown at `amount`: 0 until the onset, 1 at amount 1."""
    return float(np.clip((amount - onset) / (1 - onset), 0, 1))


def smooth_noise(rng, waves_per_iod):
    """A smooth random function of arc length (IODs), of unit spread: WAVES sines (drawn now, so the draws do not
    depend on the line's length in pixels)."""
    cycles, phases = rng.uniform(*waves_per_iod, WAVES), rng.uniform(0, 2 * np.pi, WAVES)
    return lambda arc: np.sin(2 * np.pi * arc[:, None] * cycles + phases).sum(1) * np.sqrt(2 / WAVES)


def curve(*uv, n=64):
    """n points on the quadratic (3 control points) or cubic (4) Bezier curve through the first and last of `uv`."""
    t = np.linspace(0, 1, n)[:, None]
    c = np.array(uv, np.float64)
    if len(c) == 3:
        return (1 - t) ** 2 * c[0] + 2 * t * (1 - t) * c[1] + t ** 2 * c[2]
    return (1 - t) ** 3 * c[0] + 3 * t * (1 - t) ** 2 * c[1] + 3 * t ** 2 * (1 - t) * c[2] + t ** 3 * c[3]


def face_lines(frame, rng):
    """{kind: [line]}: each line (uv points along it in the face's frame, its own depth (0-1), where along it (0-1)
    it starts to form, its depth's and course's noise); the same draws from `rng` whatever the face."""
    q = frame.q
    lines = {kind: [] for kind in KINDS}

    def add(kind, uv, weight=1.0):
        lines[kind].append((np.asarray(uv), weight * rng.uniform(0.6, 1.0), rng.uniform(0.3, 0.7),
                            smooth_noise(rng, DEPTH_CYCLES), smooth_noise(rng, COURSE_CYCLES)))

    brows = q[17:27][np.argsort(q[17:27, 0])]
    brow_v = lambda u: np.interp(u, brows[:, 0], brows[:, 1])

    def forehead(above, centre, half, weight=1.0):
        flat = above / FOREHEAD_LINES[1]  # higher lines follow the brows' arch less
        u, tilt = np.linspace(centre - half, centre + half, 64), rng.uniform(-0.04, 0.04)
        add('forehead', np.stack([u, (1 - flat) * brow_v(u) + flat * brows[:, 1].mean() - above + tilt * u], 1),
            weight)

    count = rng.integers(3, 6)
    for above in np.linspace(*FOREHEAD_LINES, count) + rng.uniform(-0.03, 0.03, count):
        forehead(above, rng.uniform(-0.1, 0.1), rng.uniform(0.65, 0.9) * (1.05 - 0.2 * above / FOREHEAD_LINES[1]))
    for _ in range(MINOR_LINES):
        forehead(rng.uniform(*FOREHEAD_LINES), rng.uniform(-0.6, 0.6), rng.uniform(0.1, 0.3), MINOR_DEPTH)
    inner_v = (q[21, 1] + q[22, 1]) / 2
    for side in (-1, 1):
        top, length = rng.uniform(0.07, 0.11), rng.uniform(0.22, 0.32)
        add('frown', curve((side * top, inner_v - 0.08), (side * (top - 0.02), inner_v - 0.08 + length / 2),
                           (side * (top - 0.04), inner_v - 0.08 + length)))
    for side, corner in ((-1, q[36]), (1, q[45])):
        count = rng.integers(3, 6)
        angles = np.radians(np.linspace(*CROW_SPREAD, count) + rng.uniform(-6, 6, count))
        for angle in angles:
            start, length, bend = rng.uniform(0.06, 0.1), rng.uniform(0.16, 0.3), rng.uniform(0.0, 0.06)
            out = np.array([side * np.cos(angle), np.sin(angle)])
            normal = np.array([-out[1], out[0]]) * side  # bends towards the cheek
            add('crow', curve(corner + start * out, corner + (start + length / 2) * out,
                              corner + (start + length) * out + bend * normal))
    for side, lid in ((-1, q[[39, 40, 41, 36]]), (1, q[[42, 47, 46, 45]])):
        below = rng.uniform(0.07, 0.1)
        add('lid', curve(lid[0] + (side * 0.02, below * 0.6), lid[1] + (0, below), lid[2] + (0, below),
                         lid[3] + (side * 0.08, below * 0.3)))
        add('bag', curve(lid[0] + (side * 0.0, 0.1), lid[1] + (side * 0.02, 0.24),
                         lid[3] + (side * 0.0, 0.22 + rng.uniform(0, 0.05))))
    for side, wing, mouth in ((-1, q[31], q[48]), (1, q[35], q[54])):
        reach = rng.uniform(0.12, 0.22)
        add('nasolabial', curve(wing + (side * 0.08, -0.06), wing + (side * 0.24, 0.1),
                                mouth + (side * 0.19, -0.04), mouth + (side * 0.15, reach)))
        add('marionette', curve(mouth + (side * 0.05, 0.06), mouth + (side * 0.08, 0.2),
                                mouth + (side * 0.12, rng.uniform(0.38, 0.48))))
    chin = q[8]
    count = rng.integers(2, 4)
    for below in np.linspace(*NECK_LINES, count) + rng.uniform(-0.04, 0.04, count):
        half, sag = rng.uniform(0.3, 0.45), rng.uniform(0.03, 0.08)
        u = np.linspace(-half, half, 48)
        add('neck', np.stack([chin[0] + u, chin[1] + below - sag * (u / half) ** 2], 1))
    return lines


def age_spots(frame, rng):
    """SPOTS spots: (centre uv, radius, onset, blobs' offsets (3 x 2, in radii), axes (3 x 2) and angles), on the
    forehead, the temples and the cheeks; the same draws whatever the face."""
    q = frame.q
    brow = q[17:27, 1].mean()
    zones = (((-0.6, 0.6), (brow - 0.8, brow - 0.3)), ((-1.0, -0.78), (-0.6, -0.15)), ((0.78, 1.0), (-0.6, -0.15)),
             ((-0.75, -0.35), (0.35, 0.7)), ((0.35, 0.75), (0.35, 0.7)))
    spots = []
    for _ in range(SPOTS):
        (u0, u1), (v0, v1) = zones[rng.integers(len(zones))]
        centre = (rng.uniform(u0, u1), rng.uniform(v0, v1))
        spots.append((centre, rng.uniform(*SPOT_RADII), rng.uniform(*SPOT_ONSET), rng.uniform(-0.5, 0.5, (3, 2)),
                      rng.uniform(0.5, 1.0, (3, 2)), rng.uniform(0, 180, 3)))
    return spots


def outlines(q):
    """(skin, face, neck): the outline (uv, IODs) of the face and neck, that of the face alone (the jaw line and a
    forehead FOREHEAD_TOP above the brows) and the neck's, for landmarks `q` in the face's frame."""
    face = np.vstack([q[0:17], q[26:16:-1] - (0, FOREHEAD_TOP)])
    half = NECK_WIDTH * (q[12, 0] - q[4, 0]) / 2
    neck = np.vstack([q[4:13], [(q[8, 0] + half, q[8, 1] + NECK), (q[8, 0] - half, q[8, 1] + NECK)]])
    return np.vstack([face, neck]), face, neck


def skin(frame, box):
    """(skin, face): float32 masks over `box`, 1 on the face's and neck's skin, and on the face's alone (no crepe on
    what may be a collar), 0 on the eyes, brows, lips and nostrils, soft."""
    q, iod = frame.q, frame.iod
    _, face, neck = outlines(q)

    def draw(canvas, to_canvas, scale):
        fixed = lambda uv: np.round(to_canvas(frame.to_region(uv)) * 2 ** SHIFT).astype(np.int32)
        thick = lambda margin: max(1, int(round(2 * margin * iod / scale)))
        cv2.fillPoly(canvas, [fixed(neck)], (1, 0), cv2.LINE_AA, SHIFT)
        cv2.fillPoly(canvas, [fixed(face)], (1, 1), cv2.LINE_AA, SHIFT)
        for part, margin in ((q[36:42], 'eye'), (q[42:48], 'eye'), (q[48:60], 'lips'), (q[[31, 32, 33, 34, 35, 30]],
                                                                                        'nostrils')):
            cv2.fillPoly(canvas, [fixed(part)], (0, 0), cv2.LINE_AA, SHIFT)
            cv2.polylines(canvas, [fixed(part)], True, (0, 0), thick(FEATURE_MARGINS[margin]), cv2.LINE_AA, SHIFT)
        for brow in (q[17:22], q[22:27]):
            cv2.polylines(canvas, [fixed(brow)], False, (0, 0), thick(FEATURE_MARGINS['brow']), cv2.LINE_AA, SHIFT)

    masks = soft_drawing(box, MASK_SIGMA * iod, draw, channels=2)
    return masks[..., 0], masks[..., 1]


def padded_box(xy, pad, size):
    """The box (x0, y0, x1, y1) of region pixels around points `xy`, `pad` px wider each side, inside the region;
    None where it is empty."""
    (x0, y0), (x1, y1) = np.floor(xy.min(0) - pad), np.ceil(xy.max(0) + pad) + 1
    x0, y0, x1, y1 = int(max(x0, 0)), int(max(y0, 0)), int(min(x1, size[0])), int(min(y1, size[1]))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def soft_drawing(box, sigma, draw, channels=1):
    """float32 over `box` (region px): what draw(canvas, to_canvas, scale) draws, blurred by sigma (region px); drawn
    `scale` times coarser where the blur is broad (to_canvas maps region px to the canvas's)."""
    x0, y0, x1, y1 = box
    scale = max(1, int(sigma / COARSE_SIGMA))
    shape = (-(-(y1 - y0) // scale), -(-(x1 - x0) // scale))
    canvas = np.zeros(shape if channels == 1 else shape + (channels,), np.float32)
    draw(canvas, lambda xy: (xy - (x0, y0) + 0.5) / scale - 0.5, scale)
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigma / scale)
    if scale > 1:
        canvas = cv2.resize(canvas, (canvas.shape[1] * scale, canvas.shape[0] * scale), interpolation=cv2.INTER_LINEAR)
    return canvas[:y1 - y0, :x1 - x0]


def kind_relief(frame, kind, lines, amount, box):
    """float32 over `box`: how much darker (the creases and shadowed walls) or lighter (negative: the lit walls) a
    kind's lines make the skin at `amount`."""
    sigma_iod, depth, wiggle, onset, lit = KINDS[kind]
    grown = strength(amount, onset)
    relief = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
    if grown <= 0:
        return relief
    sigma = max(sigma_iod * frame.iod, LEAST_SIGMA)
    depth *= min(1.0, sigma_iod * frame.iod / LEAST_SIGMA) ** THIN_KEEPS * grown ** DEPTH_POWER
    broad, shift, shadow, light = BROAD
    creases, walls = [], []
    for uv, own, start, depth_noise, course_noise in lines:
        xy, normal, arc = traced(frame, uv, wiggle, course_noise, lit)
        along = (depth * own * formed(arc / max(arc[-1], 1e-9), start, grown)
                 * np.clip(1 + BREAK * depth_noise(arc), 0, BREAK_MOST))
        offset = normal * shift * broad * sigma
        creases.append((xy, along))
        walls += [(xy - offset, shadow * along), (xy + offset, -light * along)]
    for paths, width in ((creases, sigma), (walls, broad * sigma)):
        part = drawn_lines(paths, width, box)
        if part is not None:
            (a, b, c, d), patch = part
            relief[b:d, a:c] += patch
    return relief


def traced(frame, uv, wiggle, course_noise, lit):
    """A line's points in region px (about STEP IODs apart), moved sideways by its course's noise; the unit normals
    towards its lit wall (region px); and the arc length (IODs) at each point."""
    arc = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(uv, axis=0).T))])
    step = max(STEP, 1.5 / frame.iod)
    arc_at = np.linspace(0, arc[-1], max(int(arc[-1] / step) + 2, 4))
    uv = np.stack([np.interp(arc_at, arc, uv[:, 0]), np.interp(arc_at, arc, uv[:, 1])], 1)
    tangent = np.gradient(uv, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) / np.maximum(np.hypot(*tangent.T), 1e-9)[:, None]
    sideways = np.sign(uv[:, 0]) * (1 if lit == 'outward' else -1)
    towards = np.array((0, 1.0)) if lit == 'below' else np.stack([sideways, np.zeros(len(uv))], 1)
    normal *= np.where((normal * towards).sum(1) < 0, -1, 1)[:, None]
    uv = uv + wiggle * course_noise(arc_at)[:, None] * normal
    return frame.to_region(uv), normal @ frame.axes, arc_at


def formed(t, start, grown):
    """0-1 along a line (t: 0-1 along it) at strength `grown`: it forms around `start` and grows both ways to its
    whole length at strength 1, its ends fading over END_FADE."""
    reach = (LENGTH_FROM + (1 - LENGTH_FROM) * grown) * max(start, 1 - start)
    grow = np.clip((reach - np.abs(t - start)) / (END_FADE * reach + 1e-9), 0, 1)
    ends = np.clip(np.minimum(t, 1 - t) / END_FADE, 0, 1)
    return smoothstep(grow) * smoothstep(ends)


def smoothstep(t):
    return t * t * (3 - 2 * t)


def drawn_lines(paths, sigma, box):
    """(box, float32 patch): lines (region px, each point's peak) drawn as Gaussian cross-profiles of `sigma` px,
    over their own box inside `box` (that box's pixels); None where none shows."""
    xy = np.vstack([p for p, _ in paths])
    own = padded_box(xy - box[:2], 4 * sigma, (box[2] - box[0], box[3] - box[1]))
    if own is None:
        return None

    def draw(canvas, to_canvas, scale):
        sigma_canvas = sigma / scale
        for points, peaks in paths:
            fixed = np.round(to_canvas(points - box[:2]) * 2 ** SHIFT).astype(np.int32)
            delta = np.diff(points, axis=0)
            staircase = np.abs(delta).max(1) / np.maximum(np.hypot(*delta.T), 1e-9)  # LINE_8's pixels per length
            colours = (peaks[1:] + peaks[:-1]) / 2 * np.sqrt(2 * np.pi) * sigma_canvas / staircase
            for a, b, colour in zip(fixed[:-1].tolist(), fixed[1:].tolist(), colours.tolist()):
                if colour:
                    cv2.line(canvas, a, b, colour, 1, cv2.LINE_8, SHIFT)

    return own, soft_drawing(own, sigma, draw)


def crepe(frame, box, amount, rng):
    """float32 over `box`: crepe, the fine crinkling of thin old skin: noise of CREPE's step, stretched across the face,
    less its coarse part (no blotches)."""
    step, depth, onset = CREPE
    relief = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
    grown = strength(amount, onset)
    if grown <= 0:
        return relief
    grid = max(step * frame.iod, LEAST_GRID)
    depth *= min(1.0, step * frame.iod / LEAST_GRID) * grown ** DEPTH_POWER
    h, w = relief.shape
    noise = rng.standard_normal((int(h / grid) + 4, int(w / grid / CREPE_STRETCH) + 4)).astype(np.float32)
    fine = cv2.resize(noise, None, fx=grid * CREPE_STRETCH, fy=grid, interpolation=cv2.INTER_CUBIC)[:h, :w]
    fine -= cv2.GaussianBlur(fine, (0, 0), 2 * grid)
    return depth / max(float(fine.std()), 1e-6) * fine


def spotted(frame, spots, amount, box):
    """float32 over `box`: 0-1 where age spots are, each grown by `amount` from its own onset."""
    grown = [strength(amount, onset) ** DEPTH_POWER for _, _, onset, *_ in spots]
    if max(grown) <= 0:
        return np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)

    def draw(canvas, to_canvas, scale):
        for (centre, radius, onset, offsets, axes, angles), level in zip(spots, grown):
            for offset, ax, angle in zip(offsets, axes, angles):
                xy = to_canvas(frame.to_region(np.array(centre) + offset * radius))
                size = np.maximum(ax * radius * frame.iod / scale, 0.5)
                cv2.ellipse(canvas, (xy * 2 ** SHIFT).round().astype(int).tolist(),
                            (size * 2 ** SHIFT).round().astype(int).tolist(), float(angle), 0, 360, level, -1,
                            cv2.LINE_AA, SHIFT)

    return soft_drawing(box, max(SPOT_EDGE * frame.iod, LEAST_SIGMA), draw)


def skin_patches(detail, source, where, side, seed=0):
    """float32 like `detail` (h x w x c): `where` (bool h x w) covered with square patches of `detail`, `side` px wide,
    each from a random place inside `source` (bool), half overlapping under a Hann window and summed so that their
    spread stays the source's: a child's skin, where a beard was, takes the texture of the photo's own cheeks (noise
    drawn for it was a flat patch). Zero where no patch fits inside `source`; the same for every call (`seed`)."""
    side = max(int(side) | 1, 3)
    out, weights = np.zeros_like(detail), np.zeros(detail.shape[:2], np.float32)
    inside = cv2.erode(source.astype(np.uint8), np.ones((side, side), np.uint8), borderValue=0)
    ys, xs = np.nonzero(inside)
    if len(ys) == 0 or not where.any():
        return out
    rng, half, window = np.random.default_rng(seed), side // 2, np.hanning(side + 2)[1:-1].astype(np.float32)
    window = np.outer(window, window)
    found = np.argwhere(where)
    (top, left), (bottom, right), (h, w) = found.min(0) - half, found.max(0), where.shape
    for y in range(max(top, -half), bottom + 1, max(half, 1)):
        for x in range(max(left, -half), right + 1, max(half, 1)):
            k = rng.integers(len(ys))
            y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + side, h), min(x + side, w)
            sy, sx = ys[k] - half - y, xs[k] - half - x  # the source patch's offset from this one
            part = window[y0 - y:y1 - y, x0 - x:x1 - x]
            out[y0:y1, x0:x1] += part[..., None] * detail[y0 + sy:y1 + sy, x0 + sx:x1 + sx]
            weights[y0:y1, x0:x1] += part ** 2
    return out / np.sqrt(np.maximum(weights, 1e-6))[..., None]


def lit_across(face, cheeks, points, pad, bins=24):
    """float32 like `face` (h x w x 3; landmarks `points` + `pad`): each pixel the median colour of the `cheeks` (bool)
    at its share of the width between the jaw line's sides in its row (below the chin the neck's, NECK_WIDTH of the
    jaw's), smoothed: a shaved beard's skin lit across as the face is (one colour for all was a balloon of a chin)."""
    pixels, (left, right) = np.arange(len(face), dtype=np.float32) - pad, (points[:9], points[16:7:-1])
    left, right = (np.interp(pixels, np.maximum.accumulate(side[:, 1]), side[:, 0]) for side in (left, right))
    middle = np.where(pixels > points[8, 1], points[8, 0], (left + right) / 2)
    half = np.maximum((right - left) / 2, NECK_WIDTH * (points[12, 0] - points[4, 0]) / 2)
    across = (pixels[None, :] - middle[:, None]) / half[:, None]  # rows: y, columns: x
    edges, colours = np.linspace(-1.2, 1.2, bins + 1), face[cheeks]
    centres, which = (edges[1:] + edges[:-1]) / 2, (np.digitize(across[cheeks], edges) - 1).clip(0, bins - 1)
    found = [b for b in range(bins) if (which == b).sum() >= 5] or [np.bincount(which).argmax()]
    profile = np.array([np.median(colours[which == b], 0) for b in found], np.float32)
    profile = cv2.GaussianBlur(np.stack([np.interp(centres, centres[found], c) for c in profile.T], 1)[None], (0, 0), 1)
    return np.stack([np.interp(across, centres, c) for c in profile[0].T], -1).astype(np.float32)
