"""The age estimators (estimators.py) and the aging metrics (metrics.py): training, saving, gradients, the maths."""
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import consts
import estimators
import evaluate
import metrics
import utils
from conftest import SAMPLE


@pytest.fixture(scope='module')
def tiny():
    """A FaceDataset of 48 bundled faces spread over the ages."""
    paths = sorted(SAMPLE.iterdir())[::4][:48]
    images = np.stack([utils.pil_to_uint8(utils.load_image(p)) for p in paths])
    ages, genders, _ = zip(*(utils.parse_utkface_name(p.name) for p in paths))
    return utils.FaceDataset(images, [utils.age_to_group(a) for a in ages], genders, [p.name for p in paths])


@pytest.mark.parametrize('kind', list(estimators.KINDS))
def test_trains_a_few_steps_and_round_trips_through_a_weights_only_file(kind, tiny, tmp_path):
    rows = torch.arange(len(tiny))
    module = estimators.fit(kind, tiny, rows, epochs=1, batch_size=16, show_progress=False, max_steps=3)
    path = estimators.save(module, kind, str(tmp_path))
    state = torch.load(path, weights_only=True)
    assert state.keys() == module.state_dict().keys()
    loaded = estimators.load(kind, str(tmp_path))
    assert not any(p.requires_grad for p in loaded.parameters())
    images = tiny.images_tensor(rows[:8])
    expected, got = estimators.predict(module, images), estimators.predict(loaded, images)
    assert got.shape == (8, consts.NUM_AGES)
    assert torch.allclose(got, expected, atol=0.05 if kind == 'estimator' else 1e-5)  # the estimator is saved in fp16
    if kind == 'estimator':
        assert torch.allclose(loaded.centre_ages, estimators.centre_ages(tiny, rows), atol=0.05)


def test_classifier_gradients_reach_the_input(tiny):
    classifier = estimators.AgeClassifier().eval().requires_grad_(False)
    faces = utils.to_model_range(tiny.images_tensor(torch.arange(4))).requires_grad_(True)
    F.cross_entropy(classifier(faces), torch.tensor([0, 3, 6, 9])).backward()
    assert faces.grad is not None and faces.grad.abs().sum() > 0


def test_augment_keeps_shape_and_range_and_changes_the_faces(tiny):
    images = tiny.images_tensor(torch.arange(16))
    augmented = estimators.augment(images, torch.Generator().manual_seed(0))
    assert augmented.shape == images.shape and augmented.min() >= -1 and augmented.max() <= 1
    assert (augmented - utils.to_model_range(images)).abs().mean() > 0.01


def test_the_estimators_never_see_the_validation_batch(tiny):
    train, held_out, validation = estimators.estimator_split(tiny, count=8, valid_size=8)
    assert torch.equal(validation, tiny.split(8, 0, seed=0)[0])
    assert len(held_out) == 8 and len(train) + len(held_out) + len(validation) == len(tiny)
    assert not set(train.tolist()) & (set(held_out.tolist()) | set(validation.tolist()))


def test_age_shares_and_expected_ages_on_hand_made_logits():
    logits = torch.full((4, consts.NUM_AGES), -20.0)
    logits[torch.arange(4), torch.tensor([2, 5, 9, 0])] = 20
    shares = metrics.age_shares(logits, torch.tensor([2, 4, 7, 0]))
    assert shares == {'exact': 0.5, 'within_one': 0.75}
    centres = torch.arange(consts.NUM_AGES, dtype=torch.float) * 10
    assert torch.allclose(metrics.expected_ages(logits, centres), torch.tensor([20., 50., 90., 0.]))
    two_way = torch.full((1, consts.NUM_AGES), -20.0)
    two_way[0, [1, 3]] = 0
    assert metrics.expected_ages(two_way, centres).item() == pytest.approx(20)
    faces_by_asked_group = torch.stack([logits, two_way.expand(4, -1)], dim=1)  # faces x asked groups x logits
    assert torch.allclose(metrics.expected_ages(faces_by_asked_group, centres),
                          torch.tensor([[20., 20.], [50., 20.], [90., 20.], [0., 20.]]))
    assert metrics.mean_per_group(torch.tensor([1., 3., 5.]), torch.tensor([0, 0, 2]), 4) == [2.0, None, 5.0, None]


def test_lab_matches_scikit_image_and_delta_e_grows_with_a_colour_shift(tiny):
    from skimage.color import rgb2lab
    faces = utils.to_model_range(tiny.images_tensor(torch.arange(4)))
    theirs = rgb2lab(((faces[0] + 1) / 2).permute(1, 2, 0).numpy())
    assert np.allclose(metrics.rgb_to_lab(faces[:1])[0].permute(1, 2, 0).numpy(), theirs, atol=0.05)
    assert metrics.delta_e(faces, faces) == 0 and metrics.delta_e_of_means(faces, faces) == 0
    redder = [(faces + torch.tensor([s, 0, -s]).view(1, 3, 1, 1)).clamp(-1, 1) for s in (0.05, 0.2)]
    assert 0 < metrics.delta_e(redder[0], faces) < metrics.delta_e(redder[1], faces)
    assert 0 < metrics.delta_e_of_means(redder[0], faces) < metrics.delta_e_of_means(redder[1], faces)


def test_kid_is_near_zero_for_one_distribution_and_larger_for_another():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 32, generator=generator), torch.randn(200, 32, generator=generator)
    shifted = torch.randn(200, 32, generator=generator) + 0.5
    different = metrics.kid(a, shifted)
    assert different > 0.5
    assert abs(metrics.kid(a, a)) < 0.1 * different and abs(metrics.kid(a, b)) < 0.05 * different


def test_identity_is_reported_missing_without_dlib(monkeypatch):
    monkeypatch.setitem(sys.modules, 'dlib', None)  # `import dlib` raises ImportError
    model, reason = metrics.identity_model()
    assert model is None and reason.startswith('missing: dlib')


def test_identity_verifies_the_same_face_and_rejects_most_others(tiny):
    pytest.importorskip('dlib')
    model, reason = metrics.identity_model()
    assert model is not None, reason
    images = tiny.images_tensor(torch.arange(0, 48, 4))
    descriptors = metrics.face_descriptors(model, images)
    assert descriptors.shape == (12, 128)
    assert metrics.verified_share(metrics.face_descriptors(model, images.flip(-1)), descriptors) == 1
    assert metrics.verified_share(descriptors.roll(1, 0), descriptors) < 0.3


def test_evaluate_aging_reports_every_number(tiny, monkeypatch):
    from model import Net
    monkeypatch.setitem(sys.modules, 'dlib', None)
    torch.manual_seed(0)
    rows = torch.arange(6)
    estimator = estimators.AgeEstimator().eval()
    reference = (tiny.images_tensor(torch.arange(6, 48)), tiny.age_groups[6:])
    groups = torch.tensor([0, 0, 4, 4, 9, 9])
    result = evaluate.aging_numbers(Net(), tiny.images_tensor(rows), groups, tiny.genders[rows], estimator,
                                    reference, classifier=estimators.AgeClassifier().eval())
    assert len(result['renders_mean_age_per_asked_group']) == consts.NUM_AGES
    assert 0 <= result['renders_age_exact'] <= result['renders_age_within_one'] <= 1
    assert result['kid_groups'] == 3 and result['kid_renders_vs_real'] is not None
    assert result['delta_e_own_age'] > 0 and result['identity'].startswith('missing')
    assert 0 <= result['classifier_renders_age_within_one'] <= 1
    without = evaluate.aging_numbers(Net(), tiny.images_tensor(rows[:2]), groups[:2], tiny.genders[:2], identity=False)
    assert set(without) == {'l1_own_age', 'delta_e_own_age', 'delta_e_mean_colour_own_age', 'grid_pattern_renders',
                            'grid_pattern_real'}


def test_keep_details_renders_give_the_input_back_at_its_own_age(tiny):
    from model import Net
    rows, groups = torch.arange(3), torch.tensor([0, 4, 9])
    detailed = evaluate.aging_numbers(Net(), tiny.images_tensor(rows), groups, tiny.genders[rows], identity=False,
                                      keep_details=True)
    assert detailed['delta_e_own_age'] == pytest.approx(0, abs=1e-4)


def test_identity_per_adult_group_averages_to_the_adult_share(tiny):
    """With keep-details the render at the input's own age is the input itself: dlib verifies every one of them."""
    pytest.importorskip('dlib')
    from model import Net
    rows, groups = torch.arange(4), torch.tensor([4, 5, 7, 9])
    result = evaluate.aging_numbers(Net(), tiny.images_tensor(rows), groups, tiny.genders[rows], keep_details=True)
    per_group = result['identity_verified_per_adult_group']
    assert result['identity_adults'] == 4 and len(per_group) == consts.NUM_AGES - 4
    assert sum(per_group) / len(per_group) == pytest.approx(result['identity_adult_renders_verified'])
    assert result['identity_reconstruction_verified'] == 1


def test_eval_mode_adds_the_aging_numbers_with_estimators(games_checkpoint, raw_faces, tmp_path, monkeypatch):
    import json
    import main
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, 'dlib', None)
    for kind, module in estimators.KINDS.items():
        estimators.save(module(), kind, str(tmp_path / 'est'))
    argv = ['--mode', 'eval', '--load', games_checkpoint, '--input', str(raw_faces), '--bs', '4', '-o', 'ev']
    main.main(argv)
    plain = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    main.main(argv + ['--estimators', str(tmp_path / 'est')])
    extended = json.loads((tmp_path / 'ev' / 'eval.json').read_text())
    assert {k: extended[k] for k in plain} == plain
    assert len(extended['renders_mean_age_per_asked_group']) == consts.NUM_AGES
    assert extended['identity'].startswith('missing') and 'delta_e_own_age' in extended


def test_the_shipped_estimators_load_and_judge_real_faces(tiny):
    import os
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), estimators.DEFAULT_FOLDER)
    if not os.path.isfile(estimators.path_of('estimator', folder)):
        pytest.skip('the age estimators are not shipped')
    classifier, estimator = estimators.load_if_present(folder)
    for module in (classifier, estimator):
        assert metrics.age_shares(estimators.predict(module, tiny.images_tensor()), tiny.age_groups)['within_one'] > 0.6
    assert estimator.centre_ages[0] < 5 and estimator.centre_ages[-1] > 71
