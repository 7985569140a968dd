"""The shipped UTKFace models (both recipes): fp16 weights in the reference's format, and faces that really age."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

import consts
import data
import estimators
import images
import evaluate
from conftest import AGING_TILE, REPO, SAMPLE, run_notebook, strip_size

SHIPPED = os.path.join(REPO, consts.SHIPPED_MODEL)
REFERENCE, PLUS = (os.path.join(REPO, 'trained_models', name) for name in ('utkface_z50', 'utkface_z50_plus'))
pytestmark = pytest.mark.skipif(not os.path.isfile(os.path.join(SHIPPED, 'G' + consts.TRAINED_MODEL_EXT)),
                                reason='the UTKFace model is not shipped yet (it is still training)')


def load_shipped(folder):
    """A shipped model as the games load it: its z length read from the checkpoint, E and G only, eval mode."""
    from model import Net
    net = Net.from_checkpoint(folder)
    net.eval()
    net.folder = folder
    return net


@pytest.fixture(scope='module', params=[REFERENCE, PLUS], ids=os.path.basename)
def net(request):
    """Each shipped model (the reference recipe's and the plus recipe's)."""
    return load_shipped(request.param)


@pytest.fixture(scope='module')
def sample():
    """The 200 bundled faces (uint8), their age groups and genders."""
    paths = sorted(SAMPLE.iterdir())
    arrays = [images.pil_to_uint8(images.load_image(p)) for p in paths]
    faces = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    ages, genders, _ = zip(*(data.parse_utkface_name(p.name) for p in paths))
    return faces, torch.tensor([data.age_to_group(a) for a in ages]), torch.tensor(genders)


def test_shipped_weights_are_fp16_state_dicts_with_the_reference_keys(net):
    for name in ('E', 'G'):
        state = torch.load(os.path.join(net.folder, name + consts.TRAINED_MODEL_EXT), weights_only=True)
        assert state.keys() == getattr(net, name).state_dict().keys()
        assert all(value.dtype == torch.float16 for value in state.values())
    assert all(p.dtype == torch.float32 for p in net.G.parameters())  # loading converts to fp32


@pytest.mark.slow
def test_shipped_model_reconstructs_better_than_the_average_face(net, sample):
    pixels, age_groups, genders = sample
    result = evaluate.reconstruction(net, pixels, age_groups, genders)
    faces = images.to_model_range(pixels)
    average_face_l1 = (faces - faces.mean(0)).abs().mean().item()
    assert result['l1'] < 0.8 * average_face_l1
    assert result['age_effect_pixels'] > 5


@pytest.mark.slow
def test_the_age_label_carries_the_age_of_the_face(net, sample):
    """Nearly every face comes back closer to itself when drawn at its own age group than at the farthest one
    (0-5 for the adults, 71+ for the children): the generator renders age from the label."""
    pixels, age_groups, genders = sample
    faces = images.to_model_range(pixels)
    farthest = torch.where(age_groups < consts.NUM_AGES // 2, consts.NUM_AGES - 1, 0)
    z = net.encode(pixels)
    distance = {}
    for name, groups in (('own', age_groups), ('farthest', farthest)):
        drawn = net.generate(z, data.label_tensor(groups, genders)).cpu()
        distance[name] = (drawn - faces).abs().mean((1, 2, 3))
    assert (distance['own'] < distance['farthest']).float().mean() > 0.9


@pytest.mark.slow
def test_aging_notebook_plays_with_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.delenv('CAAE_MODEL', raising=False)
    monkeypatch.setenv('CAAE_RESULTS', str(tmp_path))
    run_notebook('aging_game')
    pngs = [p for p in os.listdir(tmp_path) if p.endswith('.png')]
    assert len(pngs) == 1 and Image.open(tmp_path / pngs[0]).size == strip_size(11, AGING_TILE)


def estimated_ages_of_renders(estimator, folder, pixels, genders, groups):
    """The evaluation estimator's mean age (years) of a shipped model's renders of `pixels` at each age group."""
    net = load_shipped(folder)
    z = net.encode(pixels)
    renders = (net.generate(z, data.label_tensor(torch.full_like(genders, g), genders)).cpu() for g in groups)
    return [estimator.ages(estimators.predict(estimator, faces)).mean().item() for faces in renders]


@pytest.mark.slow
def test_plus_model_renders_children_and_old_people_to_an_estimator_no_loss_saw(sample):
    """The plus model's 0-5 renders of the bundled faces read as small children and its 71+ renders as old people
    to the evaluation estimator (never a training loss); the reference model's 71+ renders stay middle-aged."""
    pixels, _, genders = sample
    pixels, genders = pixels[::4], genders[::4]
    estimator = estimators.load('estimator', os.path.join(REPO, 'trained_models', 'age_estimators'))
    young, old = estimated_ages_of_renders(estimator, PLUS, pixels, genders, (0, consts.NUM_AGES - 1))
    assert young < 12 and old > 55
    assert estimated_ages_of_renders(estimator, REFERENCE, pixels, genders, (consts.NUM_AGES - 1,))[0] < 50
