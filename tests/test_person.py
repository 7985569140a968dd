"""Where the person is in a photo (person.py): MediaPipe's selfie segmentation run by OpenCV's dnn module."""
import threading

import numpy as np

import person


def test_the_person_map_covers_the_face_and_not_the_background_at_the_photos_size():
    from skimage import data
    photo = data.astronaut()  # her face at the middle, a flag and a model behind her in the top corners
    people = person.person_map(photo)
    assert people.shape == photo.shape[:2] and people.dtype == np.float32
    assert people[150:250, 180:280].mean() > 0.8
    assert people[:40, :40].max() < 0.1 and people[:40, -40:].max() < 0.1


def test_the_page_s_threads_share_one_network_and_get_the_same_maps():
    from skimage import data
    photo = data.astronaut()[::2, ::2]
    alone = person.person_map(photo)
    maps = [None] * 4

    def segment(index):
        maps[index] = person.person_map(photo)

    threads = [threading.Thread(target=segment, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(people, alone) for people in maps)


def test_wholly_is_the_person_from_sure_up_and_grows_by_as_many_pixels_as_asked():
    people = np.zeros((41, 41), np.float32)
    people[10:31, 10:31] = 1.0
    people[20, 5] = person.SURE / 2
    whole = person.wholly(people)
    assert whole[20, 20] == 1 and whole[20, 5] == 0.5 and whole[20, 8] == 0 and whole.dtype == np.float32
    grown = person.wholly(people, 2.5)  # the shape of age moves the outline: a child's cheeks widen beyond it
    assert grown[20, 7] == 1 and grown[20, 6] == 0.5 and grown[3, 20] == 0 and grown[7, 7] == 0


def test_another_persons_side_of_a_photo_is_found_by_their_face_and_one_face_alone_has_none():
    """The person map holds everyone: a neighbour's hair and top cheek to cheek with the face greyed with its hair
    (FairFace 0350, 0029, 0284). other_people marks where another face found is nearer, for its width."""
    from skimage import data
    face = data.astronaut()[::2, ::2]  # 256 px, her face 42 px wide around (111, 57)
    alone = person.other_people(face, (111, 57))
    assert alone.shape == face.shape[:2] and alone.max() == 0
    pair = np.concatenate([face, face], 1)
    others = person.other_people(pair, (111, 57))
    assert others[30:85, 90:132].max() < 0.05 and others[120:, 60:150].max() < 0.05  # her face and her side
    assert others[30:85, 256 + 90:256 + 132].min() > 0.95 and others[120:, 256 + 60:256 + 150].mean() > 0.9
