"""The photo itself aged, at its own size: the photo plus the age change the generator draws, split by frequency.

The generator draws 128-px faces; pasting such a face back into a 1000-2000 px photo gives a soft patch (the
variance of the Laplacian in the face box was 0.5 of the photo's). Here the photo stays and only what the age label
changes is added to it, in the face mask (align.paste_mask), band by band, at the photo's own scale:

- coarse shape and light: G(z, target) - G(z, own age), warped onto the photo (the inverse of the alignment) and
  sharpened once there (Composition.sharpen), so a wrinkle drawn at 128 px is not a 5-px smear;
- colour: only the change's coarse colour (finer than chroma_sigma face pixels is dropped, the rest scaled by
  chroma_gain): skin tone and grey hair come through, the generator's blue eyes and colour blotches do not;
- strength: the change grows to old_gain (young_gain) three or more groups from the photo's age (plain, 71+ read 22-41);
- the photo itself towards childhood: what the photo has beyond G's drawing of it at its own age (but its detail
  finer than FINE_SIGMA face pixels: pores, lashes, grain) fades in renders younger than the photo and than 21, 1 /
  games.DETAIL_FADE_GROUPS per group: a child is G's child with the photo's grain (G's change over an adult's
  features read 29 years); a child's photo grown older fades towards G's face up to adulthood (a baby aged to 71+
  kept a baby's face). The photo's own eyes stay (age_shape.eye_mask; G's were dark holes, OLD_EYES: dark irises
  grey-blue).
- the shape of age (Composition.warp, age_shape.py): the photo's face, its coarse band and G's two renders are moved
  to the target age's landmarks (the photo's own plus the difference of UTKFace's median shapes at the two ages) by
  a thin-plate spline that fades to nothing at its ellipse's edge; a face turned to one side (age_shape.warp_share)
  takes less of it, of G's younger change, the fade and the mean faces' light (G's frontal face was a ghost on a
  profile), and every change keeps to its outline (age_shape.turned_face) and to the person (person.py), not a wall.
- a child's skin (Composition.smooth_skin): where the photo fades, its skin's detail finer than its coarse band but
  its grain (SKIN_GRAIN) fades too, and facial hair (beard.beard_mask, not on women; its edge, shaven) twice as
  fast (BEARD_FADE) by its cheeks' colour and light, shaded as a child's chin and neck, with the cheeks' texture (a
  beard hanging below the jaw, or beyond a full beard's child's jaw (beard.jaw_under), by what was around it). An
  elder made younger loses the dark lines its age has more (unlined; towards childhood also by the jaw line, on the
  neck and a high forehead, where the face mask does not reach, and on a turned face, whose child is not G's, the
  relief of its skin: young_skin.py) and its grey beard darkens with its hair.
- hair (Composition.hair, hair.py): the hair greys towards old age and its grey darkens towards childhood; a dark
  head's grey takes drawn strands where its own are too faint to grey (strands.py: dim photos' grey was marble).
- real faces' light (Composition.prototype, age_shape.prototype_face): the face is lit as UTKFace's mean face of the
  target age over the photo's (on the aged landmarks; not the skin a shaved beard left), G's change to lightness
  scaled by g_lightness: G's personalised renders keep an old person's folds and a beard at 0-5, the mean faces
  carry a child's shading or an elder's folds, no blotches.
- old skin (Composition.texture, age_texture.py): towards old age wrinkles, crepe and spots are drawn at the photo's
  own pixels on the aged landmarks (age_texture.old_skin_amount), as soft as its edges, where the colour is the
  cheeks'; G's change finer than old_smooth face pixels is left out (its 128-px strokes scaled up were painted lines),
  and where a child's photo has faded to G's face, up to 1 + grown_smooth times that (G's mottle: dark blotches).

Pixels outside the mask (with the warp, outside its ellipse) keep their exact values. composition.METHODS names
these and the candidates measured against them (MODEL.md): `python main.py --mode eval --input photos --estimators
<folder>`.
"""
import functools

import cv2
import numpy as np
from PIL import Image

import age_shape
import age_texture
import align
import beard
import consts
import games
import hair
import person
import strands
import young_skin
from composition import DEFAULT_METHOD, METHODS
from face_region import FaceRegion, box_slice, grown_box, region_box
from images import edge_blur, model_tensor_to_uint8, pil_to_model_tensor_transform

FINE_SIGMA = 0.7  # face pixels: the photo's detail finer than this stays at every age
GAIN_GROUPS = 3  # the change's gain reaches its full value this many groups from the photo's age
OLD_EYES = 1.0  # in renders two groups or more older, this much of G's change to the eyes is left out
BEARDED_FROM = 3.0  # group position (18 years): a full beard greys with the hair from here (a boy's smile folds did)
BEARD_FADE = 2  # facial hair fades twice as fast as the rest of the photo (none left two groups before adulthood)
SKIN_PATCH = (5.0, 1.0, 2.5, 0.4)  # face px: shaved skin's cheek patches, their detail's scale; clip (spreads); share
SKIN_GRAIN = 0.8  # photo pixels: the skin's detail finer than this (the photo's grain) stays in a child's skin
PROTOTYPE_SMOOTH = 2.0  # face pixels: the mean faces' lightness ratio is this smooth
PROTOTYPE_RANGE = (0.6, 1.6)  # and within this
PROTOTYPE_LIGHTER = 1.15  # and lightens the skin (its median) at most this much: an elder's child was lit pale
TONE_NEAR, TONE_RANGE = 0.8, (-0.25, 0.33)  # eye distances: skin near the face lit as its cheeks, by 0.75-1.33
LINE_FILL = 2.0  # face pixels: an old face made younger loses its skin's dark lines up to twice this wide ...
RELIEF = 2.0  # ... and towards childhood a turned face's relief up to this (G's child replaces a frontal one's)
SKIN_SPREAD = (40.0, 2.0, 2.0)  # Lab: old skin is drawn where the colour is the cheeks' (lightness may vary: shade)
TEXTURE_SOFT = 0.6  # photo pixels: the old skin's lines are blurred this much (sharper than the photo, they scratched)
SHARP_EDGE = 1.0  # photo pixels: a sharp photo's edges are blurred this much; a blurrier one's lines are as blurred
PERSONALISE_STEPS = 20  # a photo keeps its own person here: G is tuned half as long as for a chip (personalise.STEPS)


def change_gain(younger_by, how):
    """How much the age change is strengthened for a render `younger_by` groups younger (negative: older)."""
    ramp = min(abs(float(younger_by)) / GAIN_GROUPS, 1.0)
    return 1 + ((how.young_gain if younger_by > 0 else how.old_gain) - 1) * ramp


def coarse_colour(change, how):
    """The change (128 x 128 x 3 float) with its colour (what differs from the channels' mean) kept only coarse."""
    if not how.chroma_sigma:
        return change
    grey = change.mean(2, keepdims=True)
    return grey + how.chroma_gain * cv2.GaussianBlur(change - grey, (0, 0), how.chroma_sigma)


class PhotoAger(FaceRegion):
    """One photo ready to be aged: the face region's bands, masks and landmarks are computed once; each age is then a
    warp of the photo to the age's shape (age_shape), one of the 128-px change and a sum, each in the box it changes
    (0.2 s for a 1200-px face region on 2 cores). `gender` picks the shape prototypes (None: both genders' mean) and,
    not female, looks for a beard."""

    def __init__(self, photo, crop_box, photo_age, how=METHODS[DEFAULT_METHOD], gender=None):
        self.how, self.own_position, self.gender = how, games.group_position(photo_age), gender
        self.facing = 1.0  # how far the face looks at the camera (age_shape.warp_share)
        super().__init__(photo, crop_box, age_shape.PAD if how.warp else 0)
        if self.empty:
            return
        self.alpha = cv2.warpAffine(align.paste_mask(), self.matrix, self.roi.shape[1::-1], borderValue=0)[..., None]
        self.coarse = cv2.GaussianBlur(self.roi, (0, 0), self.scale * FINE_SIGMA)
        if how.warp:
            chip = np.asarray(align.cut_chip(photo, align.face_to_chip_matrix(crop_box)))
            self.points = age_shape.landmarks(chip)
            self.facing = age_shape.warp_share(self.points, chip)
            self.warp_strength = how.warp * self.facing
            face = self.padded_face(self.roi).clip(0, 255).astype(np.uint8)
            body = person.person_map(face)  # every change keeps to the person: not the wall in front of a profile
            mine = 1 - person.other_people(face, np.mean(age_shape.eye_centres(self.points), 0) + age_shape.PAD)
            self.skin_colour = self.cheek_colours(face)
            self.white, self.grey_chroma = hair.white_level(self.skin_colour), hair.grey_chroma(self.skin_colour)
            self.masks = self.hair_masks(face, body)
            moves = age_shape.farthest_move(self.points, self.own_position, gender, self.warp_strength)
            reach = age_shape.turned_face(self.points, self.facing, age_shape.PAD) * person.wholly(body, moves) * mine
            self.reach = self.from_face(reach, borderValue=0)  # region pixels: where the changes may go
            self.alpha *= self.reach[..., None]
            for name in self.masks:  # the face's own where the changes may go, the hair on the person's side
                self.masks[name] *= reach if name in {'beard', 'shaven', 'brows', 'hanging'} else mine
        margin = int(np.ceil(4 * max(self.scale, SKIN_GRAIN))) + 2  # the composition's blurs reach this far
        self.face_box = region_box(self.alpha[..., 0] > 0, margin)  # where G's change is added

    def cheek_colours(self, face):
        """The Lab colours of the photo's cheeks (age_shape.cheek_mask) in its uint8 padded face (None: too few)."""
        cheeks = age_shape.cheek_mask(self.points, age_shape.PAD)
        return cv2.cvtColor(face, cv2.COLOR_RGB2LAB)[cheeks].astype(np.float32) if cheeks.sum() >= 20 else None

    def hair_masks(self, face, body):
        """The facial hair (not looked for on women), where a child's skin replaces it (shaven), the hair, where grey
        hair darkens towards childhood (grey_hair) and the brows of the photo's uint8 padded face (`body`: its person
        map), as the composition asks: padded_face's pixels; and whether it is a full beard (it greys)."""
        masks, self.bearded, self.dark_hair = {}, False, hair.HAIR_DARK
        if self.how.smooth_skin:
            male = self.gender != consts.FEMALE
            masks['hanging'] = beard.hanging_beard(face, self.points, age_shape.PAD, body) * male
            masks['beard'] = np.maximum(beard.beard_mask(face, self.points, age_shape.PAD) * male, masks['hanging'])
            lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
            away = hair.background_free(hair.unlike_background(lab, age_shape.PAD))  # not grown onto a background
            masks['shaven'] = beard.shaven(masks['beard'], self.points, self.facing * away)
            self.bearded = (self.own_position >= BEARDED_FROM
                            and beard.full_beard(face, self.points, masks['beard'], age_shape.PAD))
        if self.how.hair:
            found = functools.partial(hair.hair_mask, face, self.points, age_shape.PAD, person=body, facing=self.facing,
                                      child=self.own_position < hair.CHILD_UNTIL)
            masks['hair'] = found(long_hair=self.gender == consts.FEMALE)  # a woman's hair may hang long
            if hair.greying(self.own_position) > 0:  # where grey hair darkens towards childhood (younger: none)
                darkening = found(darkening=True)
                masks['grey_hair'] = np.maximum(masks['hair'], darkening)
                self.dark_hair = hair.own_dark(face, masks['grey_hair'], darkening.any(), self.grey_chroma)
            masks['brows'] = hair.brow_mask(face, self.points, age_shape.PAD)
        return masks

    def aged(self, render, own_render, years):
        """The photo with the change from `own_render` (the photo's age) to `render` (`years` old; uint8 128x128x3
        faces) added: a PIL image at the photo's size."""
        if self.empty:
            return Image.fromarray(self.photo)
        how, position = self.how, games.group_position(years)
        roi, coarse, render, own_render = self.roi, self.coarse, np.float32(render), np.float32(own_render)
        eyes_at, target = age_shape.EYE_CENTRES, self.points if how.warp else None
        masks = self.masks if how.warp else {}
        younger = min(self.own_position - position, consts.ADULT_GROUP - position)
        grown = min(position - self.own_position, consts.ADULT_GROUP - self.own_position)
        childhood, grown_up = (min(max(groups / games.DETAIL_FADE_GROUPS, 0.0), 1.0) if how.fade_detail else 0.0
                               for groups in (younger, grown))
        fade = max(childhood, grown_up) * self.facing
        if how.warp and position != self.own_position:
            target = age_shape.aged_landmarks(self.points, self.own_position, position, self.gender, self.warp_strength)
            flow = age_shape.displacement(self.points, target, age_shape.PAD)
            # by Lanczos' kernel (a cubic one lost up to 0.15 of the sharpness); the coarse band only where it fades
            bands = (self.roi, cv2.INTER_LANCZOS4), (self.coarse, cv2.INTER_LINEAR)
            roi, coarse = self.moved(flow, *bands) if fade or childhood else (*self.moved(flow, bands[0]), None)
            masks = {name: age_shape.warp_face(mask, flow, age_shape.PAD) for name, mask in masks.items()}
            render, own_render = (age_shape.warp_face(face, age_shape.displacement(age_shape.moved_from(face, target),
                                                                                     target))
                                  for face in (render, own_render))
            eyes_at = age_shape.eye_centres(target)
        box, inside = self.face_box, box_slice(self.face_box)
        change = coarse_colour(render - own_render, how)
        change += (how.g_lightness[position > self.own_position] - 1) * change.mean(2, keepdims=True)
        change *= change_gain(self.own_position - position, how)
        if position < self.own_position:
            change *= self.facing  # a younger face is G's frontal face: a ghost on a turned one (older: skin, colour)
        if how.old_smooth and position > self.own_position:
            smooth = cv2.GaussianBlur(change, (0, 0), how.old_smooth * (1 + how.grown_smooth * grown_up))
            change += min(position - self.own_position, 1.0) * (smooth - change)
        older = min(max((position - self.own_position) / 2, 0.0), 1.0)
        eyes = max(fade, OLD_EYES * older) if how.keep_eyes else 0.0  # G's grown-up eyes were blue
        keep = 1 - eyes * age_shape.eye_mask(eyes_at)  # the photo's own eyes, where it fades or grows old
        keep = keep if target is None else keep * (1 - fade * age_shape.teeth_mask(target))  # and teeth, younger
        warped = self.warp(change * keep[..., None], box)
        if how.hair and position > self.own_position:  # the hair greys as recoloured greys it: G's was a grey cap
            warped *= 1 - self.from_face(masks['hair'], box, borderValue=0)[..., None]
        if how.sharpen:
            warped += how.sharpen * (warped - cv2.GaussianBlur(warped, (0, 0), self.scale))
        if fade:
            warped -= fade * self.warp(keep, box)[..., None] * (coarse[inside] - self.warp(own_render, box))
        if childhood and how.smooth_skin:
            skin = self.warp(age_shape.skin_mask(target), box)[..., None]
            warped -= childhood * skin * (cv2.GaussianBlur(roi[inside], (0, 0), SKIN_GRAIN) - coarse[inside])
        roi = roi.copy() if roi is self.roi else roi  # the age's own: the steps below change it in place
        roi[inside] += self.alpha[inside] * warped
        if how.smooth_skin:
            roi = self.unlined(roi, target, young_skin.lines_gone(position, self.own_position), masks, childhood)
        roi, shaved = (self.shaved(roi, min(1.0, BEARD_FADE * childhood), masks, target, position)
                       if childhood and how.smooth_skin else (roi, None))
        if how.hair:
            greyer = hair.hair_change(self.own_position, position, childhood)
            roi = self.recoloured(roi, masks['hair' if greyer >= 0 else 'grey_hair'], greyer)
            if greyer > 0:  # brows only grey: darkened, a young adult's dark brows were heavier on the child
                brows = functools.partial(hair.brows_greyed, sigma=self.scale)  # strands a face pixel fine
                roi = self.recoloured(roi, masks['brows'], greyer, brows)
            if self.bearded:  # a black beard under grey hair looked dyed, a white one on a young face old
                beard_grey = functools.partial(beard.beard_greyed, skin=float(np.median(self.skin_colour[:, 0])),
                                               white=self.white, sigma=self.scale) if greyer > 0 else None
                roi = self.recoloured(roi, masks['beard'] * (1 if shaved is None else 1 - shaved), greyer, beard_grey)
        if how.prototype and position != self.own_position:
            roi = self.relit(roi, target, position, keep, shaved)
        if how.texture and position > self.own_position:
            roi = self.wrinkled(roi, target, age_texture.old_skin_amount(position, self.own_position))
        if how.prototype and position < self.own_position:  # a child's face 1.1-1.2 times lighter (older: MODEL.md)
            roi = self.toned_near(roi, target)
        photo = self.photo.copy()
        np.copyto(photo[box_slice(self.region)], np.rint(np.clip(roi, 0, 255, out=roi), out=roi), casting='unsafe')
        return Image.fromarray(photo)

    def shaved(self, roi, amount, masks, points, position):
        """(the face region, where it was replaced): where `amount` of the shaven mask (`masks`, padded_face's pixels)
        is, its cheeks' colour lit across the face (lit_across; `points`), shaded as a child's chin and neck, with their
        texture, and where the beard lay beyond the jaw and the neck what is around it (beard.beyond_jaw: on a full
        beard all of it may, its jaw line the age's, beard.jaw_under; else a hanging beard)."""
        shaved, cheeks = amount * masks['shaven'], age_shape.cheek_mask(points, age_shape.PAD)
        if not shaved.any() or not cheeks.any():
            return roi, shaved
        face, pad = self.padded_face(roi), age_shape.PAD
        fitted = self.bearded and beard.faces_camera(self.points)
        points = beard.jaw_under(points, position, self.gender) if fitted else points
        skin = age_texture.lit_across(face, cheeks, points, pad) * age_shape.shading(points, pad)[..., None]
        skin, beyond = beard.beyond_jaw(face, skin, masks['shaven' if fitted else 'hanging'], points, pad)
        shaved = np.maximum(shaved, amount * beyond)
        box = self.box_from_face(shaved > 0)  # beyond it the photo's
        skin, weight, beyond = (self.from_face(face, box, borderMode=cv2.BORDER_REPLICATE)
                                for face in (skin, shaved, beyond))
        inside = box_slice(box)
        texture = (1 - beyond)[..., None] * self.cheeks_texture[inside]
        roi[inside] += weight[..., None] * (skin + texture - roi[inside])
        return roi, shaved

    @functools.cached_property
    def soft(self):
        """How much the old skin is blurred: TEXTURE_SOFT, and as much more as the photo's edges (images.edge_blur, in
        the face mask) are blurrier than SHARP_EDGE; measured once, for the first older age."""
        blur = edge_blur(cv2.cvtColor(self.roi.astype(np.uint8), cv2.COLOR_RGB2GRAY), self.alpha[..., 0] > 0.5)
        return float(np.hypot(TEXTURE_SOFT, np.sqrt(max(blur ** 2 - SHARP_EDGE ** 2, 0))))

    @functools.cached_property
    def grey_strands(self):
        """How much of the hair's detail is drawn strands as it greys (strands.drawn_share) and the strands over the
        face region (strands.texture; None where none are drawn): made when the hair first greys."""
        share = strands.drawn_share(self.roi, self.from_face(self.masks['hair'], borderValue=0))
        middle, unit = hair.head_frame(self.points, self.facing, age_shape.PAD)
        centre = self.from_face_matrix @ np.array([middle[0], middle[1] + strands.BELOW_MIDDLE * unit, 1.0])
        return share, strands.texture(self.roi.shape[:2], centre, self.scale, self.soft) if share else None

    @functools.cached_property
    def cheeks_texture(self):
        """The photo's own cheeks' texture (all their grain, as in all of a child's skin, and SKIN_PATCH's share of
        the rest) in patches wherever any age's shaved skin may lie, once: the same at every age, or it flickered."""
        fine, coarse = (cv2.GaussianBlur(self.roi, (0, 0), sigma) for sigma in (SKIN_GRAIN, SKIN_PATCH[1] * self.scale))
        detail = self.roi - fine + SKIN_PATCH[3] * (fine - coarse)
        own = self.from_face(age_shape.cheek_mask(self.points, age_shape.PAD).astype(np.float32)) > 0.5
        most = SKIN_PATCH[2] * 1.48 * np.median(np.abs(detail[own]), 0) if own.any() else 0.0
        near = self.from_face(cv2.dilate(self.masks['shaven'], np.ones((41, 41), np.uint8))) > 0.01  # the warp's reach
        return age_texture.skin_patches(detail.clip(-most, most), own, near, SKIN_PATCH[0] * self.scale)

    def relit(self, roi, points, position, keep, shaved=None):
        """The face region lit as real faces' mean changes in lightness from the photo's age to `position`, both means
        on the landmarks `points` (age_shape.prototype_face), in the face mask, but for the eyes (`keep`, 128-px) and
        the skin a beard left (`shaved`, padded_face's: shaded as a child's already). Women's means, for everyone:
        men's carry the average beard's shadow (a shaven man's child's pale muzzle). Within each race UTKFace's elders
        are darker than its children (age_shape.RACES): lit at most as a 31-40's child, 15% (PROTOTYPE_LIGHTER)."""
        pad = age_shape.PAD
        means = [age_shape.prototype_face(p, consts.FEMALE, points, pad).mean(2) for p in (position, self.own_position)]
        ratio = cv2.GaussianBlur((means[0] + 1) / (means[1] + 1), (0, 0), PROTOTYPE_SMOOTH)
        skin = np.median(ratio[age_shape.skin_mask(points, pad) > 0.5])
        ratio = (ratio / max(skin / PROTOTYPE_LIGHTER, 1.0)).clip(*PROTOTYPE_RANGE)
        if position > self.own_position:  # lips no lighter than the skin: a young woman's mean lips, a baby's were red
            ratio -= age_shape.lips_mask(points, pad) * (ratio - max(min(skin, PROTOTYPE_LIGHTER), 1)).clip(0)
        box, inside = self.face_box, box_slice(self.face_box)  # where is 0 beyond it
        ratio = self.from_face(ratio, box, borderValue=1)
        where = self.alpha[inside][..., 0] * self.warp(keep, box) * self.facing  # the means face the camera
        if shaved is not None:
            where *= 1 - self.from_face(shaved, box, borderValue=0)
        roi[inside] *= (1 + self.how.prototype * where * (ratio - 1))[..., None]
        return roi

    @functools.cached_property
    def own_cheeks(self):
        """The photo's cheeks' RGB median (FaceRegion.cheeks_colour; None: too few), once: toned_near's reference."""
        return self.cheeks_colour(self.roi, self.points)

    @functools.cached_property
    def skin_near(self):
        """(box, float32 weights in it): the skin (skin_like) on the person (reach) beyond the face mask below the
        brows, fading out TONE_NEAR eye distances from the face's outline: its ears and neck, not its hair (blond)."""
        iod, outline = age_shape.eye_distance(self.points), age_shape.face_outline(self.points, age_shape.PAD)
        near = cv2.dilate(outline, np.ones((int(TONE_NEAR * iod) | 1,) * 2, np.uint8)) * (1 - self.masks.get('hair', 0))
        near[:int(self.points[17:27, 1].max()) + age_shape.PAD] = 0  # the forehead: G's fringe there, a band between
        near = cv2.GaussianBlur(near.astype(np.float32), (0, 0), TONE_NEAR * iod / 3)
        box = self.box_from_face(near > 0.01)
        inside = box_slice(box)
        return box, (self.from_face(near, box, borderValue=0) * self.skin_like(self.roi, box=box)
                     * self.reach[inside] * (1 - self.alpha[inside][..., 0]))

    def toned_near(self, roi, points):
        """The face region with skin_near lit as the cheeks changed (each channel's median on the landmarks `points`
        over the photo's, within TONE_RANGE): a child's lighter face on an adult's darker ears and neck was a mask."""
        new, own = self.cheeks_colour(roi, points), self.own_cheeks
        if new is None or own is None or self.skin_colour is None:
            return roi
        box, near = self.skin_near
        roi[box_slice(box)] *= 1 + near[..., None] * (new / np.maximum(own, 1) - 1).clip(*TONE_RANGE)
        return roi

    def wrinkled(self, roi, points, amount):
        """The face region with old skin (age_texture.old_skin, `amount`) drawn on the landmarks `points`, only where
        the colour is the cheeks' (not a collar, hair, a cap, glasses) on the person (reach), as soft as the photo."""
        if self.skin_colour is None:
            return roi
        drawn = age_texture.old_skin(points, self.matrix, roi.shape[1::-1], amount)
        if drawn is None:
            return roi
        drawn_box, shade, tint = drawn
        box = grown_box(drawn_box, int(np.ceil(4 * self.soft)) + 1, roi.shape)  # as far as its blur reaches
        drawn_part = box_slice(drawn_box, box[:2])
        skin = self.skin_like(roi, box=box) * self.reach[box_slice(box)]
        relief = np.zeros(skin.shape, np.float32)
        relief[drawn_part] = skin[drawn_part] * (shade - 1)
        roi[box_slice(box)] *= 1 + cv2.GaussianBlur(relief, (0, 0), self.soft)[..., None]
        roi[box_slice(drawn_box)] += skin[drawn_part][..., None] * tint
        return roi

    def unlined(self, roi, points, amount, masks=None, child=0.0):
        """The face region with `amount` of its skin's dark lines (young_skin.filled_lines, LINE_FILL) filled, in the
        skin (landmarks `points`) where the face mask is and the colour is the cheeks', LINE_FILL from what is not (a
        glasses' rim); towards childhood (`child`, 0 to 1) also where the face mask fades out by the jaw, on the neck
        and a high forehead, not in the hair (`masks`, padded_face's), on a turned face within its reach, and as much of
        a turned face's relief as G's child does not replace (young_skin.relief, RELIEF; not the hair's nor a beard's:
        a profile's child kept every wrinkle). Adults keep the face mask's limit: their skin's detail is the photo's."""
        if self.skin_colour is None or not amount:
            return roi
        radius, masks = LINE_FILL * self.scale, masks or {}
        face = self.warp(age_shape.skin_mask(points))
        skin = face * self.alpha[..., 0]
        if child:
            beyond = age_shape.skin_beyond(points, age_shape.PAD) * (1 - masks.get('hair', 0))
            beyond = self.from_face(beyond, borderValue=0) * self.facing
            skin += child * (np.maximum(face, beyond) * self.reach - skin)
        skin *= self.skin_like(roi, int(radius) | 1)
        roi += (amount * skin)[..., None] * young_skin.filled_lines(roi, radius)
        turned = amount * child * (1 - self.facing)  # a frontal face's child is G's (the fade): its relief too
        if turned:
            box = region_box(skin > 0, int(np.ceil(4 * RELIEF * self.scale)))
            hairy = [masks[name] for name in ('hair', 'beard') if name in masks]
            not_hair = 1 - self.from_face(np.maximum.reduce(hairy), box, borderValue=0) if hairy else 1
            inside = box_slice(box)
            where = turned * skin[inside] * not_hair
            roi[inside] -= where[..., None] * young_skin.relief(roi[inside], where, RELIEF * self.scale, SKIN_GRAIN)
        return roi

    def skin_like(self, roi, clear=1, box=None):
        """float32: where the colour is the cheeks' (not a collar, hair, a cap, glasses), soft, `clear` px clear; in
        all the region or the part in `box` (region_box; its colours read as far as the blur reaches)."""
        x0, y0, x1, y1 = box or self.whole_box
        u0, v0, u1, v1 = grown_box((x0, y0, x1, y1), int(np.ceil(4 * self.scale)) + clear, roi.shape)
        lab = cv2.cvtColor(roi[v0:v1, u0:u1].clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
        distance = hair.colour_distance(lab, self.skin_colour, SKIN_SPREAD) / hair.BEARD_DISTANCE
        like = cv2.erode((2 - distance).clip(0, 1), np.ones((clear, clear), np.uint8))
        return cv2.GaussianBlur(like, (0, 0), self.scale)[y0 - v0:y1 - v0, x0 - u0:x1 - u0]

    def recoloured(self, roi, mask, amount, greyed=None):
        """The face region with its hair (`mask`, padded_face's pixels) greyed by `amount` (hair.greyed_table, or
        `greyed`, a function of float Lab pixels, the amount and where the hair is, giving uint8 ones), or, negative,
        its grey hair darkened (hair.hair_colour); worked in the box around the hair, as wide as its blur reaches."""
        if amount == 0 or not mask.any():
            return roi
        box = grown_box(self.box_from_face(mask > 0), int(np.ceil(4 * hair.HAIR_SMOOTH)) + 1, roi.shape)
        inside = box_slice(box)
        mask = self.from_face(mask, box, borderValue=0)[..., None]
        lab = cv2.cvtColor(roi[inside].clip(0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB)
        where = mask[..., 0] > mask.max() / 2
        if amount > 0 and greyed:
            coloured = greyed(lab.astype(np.float32), amount, where)
        elif amount > 0:  # the hair, a dark head's detail drawn as strands
            coloured = cv2.LUT(lab, hair.greyed_table(amount, lab[..., 0][where].astype(np.float32), self.white))
            share, drawn = self.grey_strands
            coloured = strands.drawn(coloured, where, drawn[inside], amount, share, self.scale) if share else coloured
        else:
            coloured = hair.hair_colour(np.float32(lab), amount, None, self.dark_hair, self.grey_chroma).clip(0, 255)
        roi[inside] += mask * (cv2.cvtColor(np.uint8(coloured), cv2.COLOR_LAB2RGB).astype(np.float32) - roi[inside])
        return roi


def renders_at(net, z, ages, photo_age, gender):
    """uint8 renders of z at each age in years and at the photo's own age: (N x 128 x 128 x 3, 128 x 128 x 3)."""
    faces = model_tensor_to_uint8(games.render_ages(net, z, list(ages) + [photo_age], gender))
    return faces[:-1], faces[-1]


def aged_photos(net, framed, z, photo_age, gender, ages=consts.AGE_GROUP_CENTRES, method=DEFAULT_METHOD):
    """The whole photo at each age in years (default: every group's centre) by `method` (METHODS): PIL images."""
    renders, own = renders_at(net, z, ages, photo_age, gender)
    if METHODS[method] is None:
        return [align.paste_back(framed.photo, render, framed.crop_box, reference=framed.crop) for render in renders]
    ager = PhotoAger(framed.photo, framed.crop_box, photo_age, METHODS[method], gender)
    return [ager.aged(render, own, years) for render, years in zip(renders, ages)]


def z_of(net, framed):
    """z of a framed photo's face."""
    return games.encode_face(net, pil_to_model_tensor_transform(framed.crop))

