"""The shape of age (age_shape.py): the prototypes, the warp that moves landmarks, the skin masks, a child's shading."""
import cv2
import numpy as np
import pytest

import age_shape
import consts
from conftest import SHARED_UTKFACE

pytest.importorskip('dlib')


def test_the_prototypes_have_the_measured_shape_of_age():
    """Real children's lower face is about 15% shorter than adults' against the eyes' distance (shared/README)."""
    lower = [np.mean([age_shape.lower_face(p) for p in group]) for group in age_shape.prototypes()]
    assert lower[0] < 0.9 * lower[consts.ADULT_GROUP]
    assert lower[0] < lower[1] < lower[2] < lower[consts.ADULT_GROUP]


def test_the_warp_moves_landmarks_where_they_are_asked_to_go_and_nothing_outside_its_ellipse():
    """A synthetic pair: dots drawn at the source landmarks land on the target landmarks."""
    source = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    target = age_shape.aged_landmarks(source, consts.ADULT_GROUP, 0, consts.MALE)
    assert np.abs(target - source).max() > 3  # a child's shape is a visible move in a 128-px face
    dots = [6, 30, 36, 45, 48, 54]  # jaw, nose, eye corners, mouth corners
    face = np.zeros((128, 128), np.float32)
    for x, y in np.round(source[dots]).astype(int):
        face[y - 1:y + 2, x - 1:x + 2] = 1
    moved = age_shape.warp_face(face, age_shape.displacement(source, target))
    rows, columns = np.mgrid[0:128, 0:128]
    for (x, y), offset in zip(target[dots], np.round(source[dots]) - source[dots]):
        near = moved * (np.hypot(columns - x, rows - y) < 5)
        centre = np.array([(near * columns).sum(), (near * rows).sum()]) / near.sum()
        assert np.hypot(*(centre - (x, y) - offset)) < 0.5
    flow = age_shape.displacement(source, target, age_shape.PAD)
    outside = age_shape.warp_window(age_shape.face_grid(age_shape.PAD)).reshape(flow.shape[:2]) == 0
    assert outside.mean() > 0.1 and np.abs(flow[outside]).max() == 0


def test_the_farthest_move_is_the_most_any_landmark_moves_to_any_age_and_none_without_the_warp():
    source = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    moves = [np.linalg.norm(age_shape.aged_landmarks(source, consts.ADULT_GROUP, position, consts.MALE, 0.5) - source,
                            axis=1).max() for position in range(consts.NUM_AGES)]
    assert age_shape.farthest_move(source, consts.ADULT_GROUP, consts.MALE, 0.5) == pytest.approx(max(moves))
    assert max(moves) > 1 and age_shape.farthest_move(source, consts.ADULT_GROUP, consts.MALE, 0.0) == 0


def test_the_mean_faces_sit_on_their_shapes_and_move_with_the_landmarks():
    """A mean face asked for on its own group's shape is the stored face; on moved landmarks its eyes move along."""
    faces, shapes = age_shape.prototypes_file()['faces'], age_shape.prototypes()
    assert faces.shape == (consts.NUM_AGES, consts.NUM_GENDERS, 128, 128, 3) and faces.dtype == np.uint8
    child = age_shape.prototype_face(0, consts.FEMALE, shapes[0, consts.FEMALE])
    assert np.abs(child - faces[0, consts.FEMALE]).mean() < 1
    darkest_row = lambda face: int(np.argmin(face[20:60, 30:50].mean((1, 2)))) + 20  # the left eye's row
    lowered = age_shape.prototype_face(0, consts.FEMALE, shapes[0, consts.FEMALE] + (0, 4))
    assert darkest_row(lowered) - darkest_row(child) in (3, 4, 5)


def test_measuring_the_prototypes_gives_shapes_and_mean_faces_per_group_and_gender():
    shapes, outline, faces, counts = age_shape.measure(SHARED_UTKFACE, per_cell=2, per_race=2)
    assert shapes.shape == (consts.NUM_AGES, consts.NUM_GENDERS, 68, 2) and outline.shape == (17, 2)
    assert faces.shape == (consts.NUM_AGES, consts.NUM_GENDERS, 128, 128, 3)
    # every cell's mean face is made of each race's faces alike, not of UTKFace's mix (its 0-5 are 4% Black)
    assert counts == {f'{group}.{gender}.{race}': 2 for group in range(consts.NUM_AGES)
                      for gender in range(consts.NUM_GENDERS) for race in age_shape.RACES}
    assert faces.std() > 20  # faces, not a blank


def test_a_childs_lower_face_is_shaded_as_a_face_above_the_jaw_line_and_as_a_neck_below_it():
    """The skin a shaved beard leaves: lit as the cheeks down to the nostrils, a little darker at the chin, darkest
    below the jaw line, so the child has a jaw; the cheeks beside the mouth are face (they were shaded as neck)."""
    points = age_shape.prototype(0, consts.MALE)
    pad = age_shape.PAD
    shade = age_shape.shading(points, pad)
    at = lambda xy: shade[int(round(xy[1])) + pad, int(round(xy[0])) + pad]
    assert at(points[29]) == pytest.approx(1.0, abs=0.01)  # the nose, between the eyes and the nostrils
    beside_mouth = (points[48] + points[4]) / 2
    chin, below = points[8] - (0, 3), points[8] + (0, 8)
    assert at(beside_mouth) > 0.95 and age_shape.CHIN_SHADE - 0.02 < at(chin) < 1
    assert at(below) == pytest.approx(age_shape.NECK_SHADE, abs=0.01)


def test_the_displacement_evaluates_the_spline_only_where_the_warps_ellipse_reads_it():
    """The padded face holds the whole head (PAD 88), the warp only its ellipse: the spline is evaluated at the coarse
    points the ellipse's pixels are interpolated from, under half of them, and the flow is the whole spline's."""
    source = age_shape.prototype(consts.ADULT_GROUP, consts.MALE)
    target = age_shape.prototype(0, consts.MALE)
    pad, step = age_shape.PAD, age_shape.SPLINE_STEP
    side = 128 + 2 * pad
    axis = np.arange(-pad, side - pad + step, step, dtype=np.float64)
    coarse = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    still = age_shape.ellipse_points()
    read = age_shape.thin_plate(np.vstack([source, still]), np.vstack([target, still]), coarse) - coarse
    index = (np.arange(side) / step).astype(np.float32)
    whole = cv2.remap(read.reshape(len(axis), len(axis), 2).astype(np.float32), *np.meshgrid(index, index),
                      cv2.INTER_LINEAR) * age_shape.warp_window(age_shape.face_grid(pad)).reshape(side, side, 1)
    inside = age_shape.spline_grid(pad).inside
    assert inside.mean() < 0.5
    assert np.abs(age_shape.displacement(source, target, pad) - whole).max() < 1e-4
    assert np.abs(whole).max() > 2  # the face moves
