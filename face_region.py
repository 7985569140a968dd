"""The part of a photo that an age may change (its face region) and the maps between its pixels and the aligned
128-px face's, padded by age_shape.PAD (the padded face).

The face region of a close-up is millions of pixels; much of what an age changes lies in a smaller box of it (the face
mask, where the face moves, the old skin): the maps take a `box` (region_box) and fill only that part.
"""
import functools

import cv2
import numpy as np

import age_shape
import align
import consts

REGION_MARGIN = (0.5, 0.69, 0.5, 0.3)  # of the crop's side (left, top, right, bottom): all the warp and hair change


class FaceRegion:
    """A photo's face region: the face square `pad` face pixels wider (cut at the photo's edges); `roi` its pixels
    (float32), `matrix` face pixels to its pixels, `scale` photo pixels per face pixel, `empty` when nothing is left."""

    def __init__(self, photo, crop_box, pad):
        self.photo = np.array(photo.convert('RGB'))
        matrix = align.face_to_image_matrix(crop_box)
        corners = np.array([matrix @ (u, v, 1) for u in (-pad, consts.IMAGE_LENGTH + pad)
                            for v in (-pad, consts.IMAGE_LENGTH + pad)])
        x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, None)
        x1 = min(int(np.ceil(corners[:, 0].max())) + 1, self.photo.shape[1])
        y1 = min(int(np.ceil(corners[:, 1].max())) + 1, self.photo.shape[0])
        self.region, self.matrix = (x0, y0, max(x1, x0), max(y1, y0)), matrix
        self.matrix[:, 2] -= (x0, y0)
        self.scale = float(np.hypot(*self.matrix[:, 0]))  # photo pixels per face pixel
        self.empty = min(self.region[2] - x0, self.region[3] - y0) <= 0
        self.roi = self.photo[y0:self.region[3], x0:self.region[2]].astype(np.float32)
        self.to_face = cv2.invertAffineTransform(self.matrix)  # region pixels to the padded face's (padded_face)
        self.to_face[:, 2] += age_shape.PAD
        self.from_face_matrix = cv2.invertAffineTransform(self.to_face)  # the padded face's pixels to the region's

    @property
    def whole_box(self):
        """The box (x0, y0, x1, y1) of the whole face region, in its own pixels."""
        return 0, 0, self.roi.shape[1], self.roi.shape[0]

    @functools.cached_property
    def grid(self):
        """float32 h x w x 2: each region pixel's (x, y)."""
        height, width = self.roi.shape[:2]
        return np.stack(np.meshgrid(np.arange(width), np.arange(height)), -1).astype(np.float32)

    @functools.cached_property
    def face_xy(self):
        """float32 h x w x 2: where each region pixel lies in the padded face."""
        return (self.grid @ self.to_face[:, :2].T + self.to_face[:, 2]).astype(np.float32)

    def padded_face(self, roi):
        """The face region (float, the photo's pixels) cut as the 128-px face with PAD face pixels around it."""
        side = consts.IMAGE_LENGTH + 2 * age_shape.PAD
        return cv2.warpAffine(cv2.GaussianBlur(roi, (0, 0), self.scale / 2), self.to_face, (side, side),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def cheeks_colour(self, roi, points):
        """The median of each RGB channel of the face region `roi` on the cheeks (age_shape.cheek_mask) at `points`."""
        cheeks = age_shape.cheek_mask(points, age_shape.PAD)
        box = self.box_from_face(cheeks)
        on = self.from_face(cheeks, box) > 0.5
        return np.median(roi[box_slice(box)][on], 0) if on.any() else None

    def from_face(self, face, box=None, **border):
        """A float32 map of padded_face's pixels moved onto the face region's (bilinear; `border`: cv2's arguments),
        all of it or the part in `box` (region_box): float32 whatever the map's type (a float64 mask made the rest of
        an age float64, twice as slow)."""
        matrix, size = self.into(self.from_face_matrix, box)
        return cv2.warpAffine(np.float32(face), matrix, size, flags=cv2.INTER_LINEAR, **border)

    def warp(self, face, box=None):
        """A float 128 x 128 x 3 face (or change) warped onto the face region, all of it or the part in `box`."""
        matrix, size = self.into(self.matrix, box)
        return cv2.warpAffine(face, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)

    def into(self, matrix, box=None):
        """An affine matrix onto the face region's pixels shifted onto `box` (None: the whole region), and the size
        it fills."""
        x0, y0, x1, y1 = box or self.whole_box
        shifted = matrix.copy()
        shifted[:, 2] -= (x0, y0)
        return shifted, (x1 - x0, y1 - y0)

    def moved(self, flow, *images):
        """(image, cv2 interpolation) pairs of the face region's pixels moved by a displacement of the padded face
        (age_shape.displacement): only the box around where the face moves is read anew, the rest is the image's."""
        box = self.moving_box
        inside = box_slice(box)
        face_xy = self.face_xy[inside]
        face_flow = cv2.remap(flow, face_xy[..., 0], face_xy[..., 1], cv2.INTER_LINEAR)  # 0 beyond the face
        read = self.grid[inside] + face_flow @ self.matrix[:, :2].T.astype(np.float32)
        read = cv2.convertMaps(read[..., 0], read[..., 1], cv2.CV_16SC2)  # once for all images, as remap would
        moved = []
        for image, interpolation in images:
            moved.append(image.copy())
            moved[-1][inside] = cv2.remap(image, *read, interpolation, borderMode=cv2.BORDER_REPLICATE)
        return moved

    @functools.cached_property
    def moving_box(self):
        """region_box of where any displacement moves the face (inside the warp's ellipse, age_shape.spline_grid)."""
        return self.box_from_face(age_shape.spline_grid(age_shape.PAD).window[..., 0] > 0)

    def box_from_face(self, support):
        """region_box of the region pixels that a padded_face map's True pixels (and one pixel around) fall on."""
        ys, xs = np.nonzero(support)
        if not len(xs):
            return self.whole_box
        corners = np.array([(x, y, 1) for x in (xs.min() - 1, xs.max() + 2) for y in (ys.min() - 1, ys.max() + 2)])
        spans = corners @ self.from_face_matrix.T
        (x0, y0), (x1, y1) = np.floor(spans.min(0)).astype(int), np.ceil(spans.max(0)).astype(int) + 1
        return grown_box((x0, y0, x1, y1), 1, self.roi.shape)


def region_box(mask, margin=0):
    """The box (x0, y0, x1, y1) around a region map's True pixels, `margin` pixels wider within the map (the whole
    map where none is True)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return 0, 0, mask.shape[1], mask.shape[0]
    return grown_box((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), margin, mask.shape)


def grown_box(box, margin, shape):
    """A box `margin` pixels wider each side, within a map of `shape` (h, w, ...)."""
    x0, y0, x1, y1 = box
    return max(x0 - margin, 0), max(y0 - margin, 0), min(x1 + margin, shape[1]), min(y1 + margin, shape[0])


def box_slice(box, within=(0, 0)):
    """The index of a box (x0, y0, x1, y1) in a map, or in the part of it from `within` (x, y) on."""
    x0, y0, x1, y1 = box
    return np.s_[y0 - within[1]:y1 - within[1], x0 - within[0]:x1 - within[0]]


def face_region(crop_box, size, margin=REGION_MARGIN):
    """The box (left, top, right, bottom) around the crop square (its corners), `margin` (left, top, right, bottom) of
    its side wider, inside a photo of `size` (w, h): by default all that PhotoAger may change."""
    corners = np.array(crop_box)
    side = float(np.hypot(*(corners[1] - corners[0])))
    (x0, y0), (x1, y1) = corners.min(0) - np.multiply(margin[:2], side), corners.max(0) + np.multiply(margin[2:], side)
    return (max(0, int(x0)), max(0, int(y0)), min(size[0], int(np.ceil(x1))), min(size[1], int(np.ceil(y1))))
