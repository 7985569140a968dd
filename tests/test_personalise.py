"""Personalising G to one photo (personalise.py): closer to the photo, still aging, the shipped networks untouched."""
import json
import os
import sys

import pytest
import torch
import torch.nn.functional as F

import consts
import data
import estimators
import images
import main
import personalise
from conftest import REPO, SAMPLE

PLUS = os.path.join(REPO, 'trained_models', 'utkface_z50_plus')
AGE_ESTIMATORS = os.path.join(REPO, 'trained_models', 'age_estimators')
FACE = os.path.join(SAMPLE, '38_1_0_20170105001437325.jpg.chip.jpg')  # a 38-year-old woman: group 5 (31-40)
AGE_GROUP, GENDER = 5, consts.FEMALE
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(PLUS, 'G' + consts.TRAINED_MODEL_EXT)),
                                reason='the plus model is not shipped')


@pytest.fixture(scope='module')
def net():
    from model import Net
    net = Net.from_checkpoint(PLUS)
    net.eval()
    return net


@pytest.fixture(scope='module')
def classifier():
    return estimators.load('classifier', AGE_ESTIMATORS)


@pytest.fixture(scope='module')
def face():
    return images.pil_to_model_tensor_transform(images.load_image(FACE))


def own_age_l1(net, face):
    z = net.encode(face[None])
    return F.l1_loss(net.generate(z, data.label_tensor([AGE_GROUP], [GENDER])).cpu(), face[None]).item()


def test_personalising_brings_its_render_closer_to_the_photo_and_tunes_only_the_later_layers(net, classifier, face):
    before = {k: v.clone() for k, v in net.G.state_dict().items()}
    tuned = personalise.personalised(net, face, AGE_GROUP, GENDER, classifier, steps=5)
    assert own_age_l1(tuned, face) < own_age_l1(net, face) - 0.005
    assert all(torch.equal(v, before[k]) for k, v in net.G.state_dict().items())  # the shipped G is untouched
    assert tuned.E is net.E and tuned.G is not net.G
    changed = {k for k, v in tuned.G.state_dict().items() if not torch.equal(v, before[k])}
    tuned_keys = {f'deconv_layers.g_deconv_{i}.0.{p}' for i in range(personalise.FIRST_TUNED_LAYER, 8)
                  for p in ('weight', 'bias')}
    assert changed == tuned_keys


def test_personalising_is_repeatable_and_leaves_the_global_random_state_alone(net, classifier, face):
    state = torch.get_rng_state()
    first, second = (personalise.personalised(net, face, AGE_GROUP, GENDER, classifier, steps=2) for _ in range(2))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a, b) for a, b in zip(first.G.state_dict().values(), second.G.state_dict().values()))


@pytest.mark.slow
def test_a_personalised_face_still_ages_to_the_estimator_no_loss_saw(net, classifier, face):
    """The default 40 steps on a real face: much closer to the photo at its own age, a child at 0-5 and an old
    person at 71+ to the evaluation estimator."""
    tuned = personalise.personalised(net, face, AGE_GROUP, GENDER, classifier)
    assert own_age_l1(tuned, face) < 0.7 * own_age_l1(net, face)
    estimator = estimators.load('estimator', AGE_ESTIMATORS)
    z = tuned.encode(face[None]).expand(2, -1)
    renders = tuned.generate(z, data.label_tensor([0, consts.NUM_AGES - 1], [GENDER, GENDER])).cpu()
    young, old = estimator.ages(estimators.predict(estimator, renders)).tolist()
    assert young < 15 and old > 55


def test_personalised_renders_draw_each_face_with_its_own_personalised_g(net, classifier, face):
    pixels = torch.from_numpy(images.pil_to_uint8(images.load_image(FACE)).copy()).permute(2, 0, 1)
    faces = torch.stack((pixels, pixels.flip(2)))  # uint8, as the eval reads them
    groups, genders = torch.tensor([AGE_GROUP, 1]), torch.tensor([GENDER, consts.MALE])
    renders = personalise.personalised_renders(net, faces, groups, genders, classifier, steps=2, show_progress=False)
    assert renders.shape == (2, consts.NUM_AGES, 3, 128, 128)
    tuned = personalise.personalised(net, faces[1], 1, consts.MALE, classifier, steps=2)
    all_groups = torch.arange(consts.NUM_AGES)
    expected = tuned.generate(tuned.encode(faces[1:]).expand(consts.NUM_AGES, -1),
                              data.label_tensor(all_groups, torch.full_like(all_groups, consts.MALE))).cpu()
    assert torch.allclose(renders[1], expected, atol=1e-5)  # one face vs ten in a batch: sums reordered (4e-7 seen)
    assert not torch.allclose(renders[0], renders[1])


@pytest.mark.slow
def test_cli_aging_game_personalises_by_default_and_explains_a_missing_classifier(tmp_path, capsys):
    argv = ['--mode', 'test', '--input', FACE, '--output', str(tmp_path)]
    main.main(argv)
    printed = capsys.readouterr()
    png = tmp_path / 'out_female_38.png'
    assert printed.out.split() == [str(png), str(tmp_path / 'out_female_38.gif')]  # only the paths
    assert f'Personalising G to the face ({personalise.STEPS} steps' in printed.err
    personalised = png.read_bytes()
    main.main(argv + ['--personalise', '0'])
    assert 'Personalising' not in capsys.readouterr().err and png.read_bytes() != personalised
    with pytest.raises(SystemExit) as error:
        main.main(argv + ['--personalise', '2', '--age-classifier', str(tmp_path / 'nowhere')])
    assert 'classifier.pt: no such file' in str(error.value) and '\n' not in str(error.value)
    with pytest.raises(SystemExit):
        main.main(argv + ['--personalise', 'many'])
    assert "invalid value 'many'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main.main(['--mode', 'kids', '--input', FACE, FACE, '--personalise'])
    assert '--personalise is for --mode test' in capsys.readouterr().err


@pytest.mark.slow
def test_eval_judges_personalised_renders(raw_faces, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, 'dlib', None)
    argv = ['--mode', 'eval', '--load', PLUS, '--input', str(raw_faces), '--bs', '4', '-o', 'ev',
            '--estimators', AGE_ESTIMATORS, '--eval-all']
    main.main(argv)
    plain = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    main.main(argv + ['--personalise', '1'])
    personalised = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    assert personalised['real_age_within_one'] == plain['real_age_within_one']  # the same faces
    assert personalised['delta_e_own_age'] != plain['delta_e_own_age']  # other renders
    assert len(personalised['renders_mean_age_per_asked_group']) == consts.NUM_AGES
