"""Personalising the generator to one photo before playing with it: a few Adam steps that fine-tune G's later
layers until it redraws that face at its own age (pivotal tuning, Roich et al. 2021), so that its renders at every
age keep the person. Meanwhile the frozen age classifier of the plus recipe (estimators.AgeClassifier) judges
renders of the same z at other age groups, so the label still ages the face; the encoder, the fully connected
layer and the first two transposed convolutions (where the label enters and the face's layout is drawn) stay as
they are. The shipped networks are not changed: each photo gets its own copy of G.

    python main.py --mode test --input face.jpg --age 38 --gender f --personalise
    python main.py --mode eval --input ../shared/UTKFace --estimators trained_models/age_estimators --personalise

About 5 s a face on 2 CPU cores at the default 40 steps; measured in trained_models/utkface_z50_plus/MODEL.md.
"""
import copy

import torch
import torch.nn.functional as F
from tqdm import tqdm

import consts
from data import label_tensor
from games import render_every_age
from images import to_model_range
from losses import blur_and_shift

STEPS = 40
LEARNING_RATE = 3e-4
FIRST_TUNED_LAYER = 3  # g_deconv_3 and the layers after it draw the detail of the face; those before stay
AGE_WEIGHT = 0.02  # the age classifier's cross-entropy on the other-age renders, against 1 for the L1 at the own age
OTHER_AGES_PER_STEP = 3


def tuned_parameters(generator):
    """G's parameters that personalisation changes: those of g_deconv_<FIRST_TUNED_LAYER> and later."""
    return [p for name, p in generator.deconv_layers.named_parameters()
            if int(name.split('.')[0].rsplit('_', 1)[1]) >= FIRST_TUNED_LAYER]


def personalised(net, face, age_group, gender, classifier, steps=STEPS, seed=0):
    """A copy of `net` whose G is fine-tuned to the 3x128x128 `face` ([-1, 1] or uint8) of that age group and
    gender; the same `seed` gives the same copy. E and G's untuned layers are `net`'s own (shared, not copied)."""
    tuned_ids = {id(p) for p in tuned_parameters(net.G)}
    frozen = {id(p): p for p in net.G.parameters() if id(p) not in tuned_ids}  # deepcopy keeps these as they are
    tuned = copy.copy(net)
    tuned.G = copy.deepcopy(net.G, memo=frozen)
    face = net.images_to_device(to_model_range(torch.as_tensor(face))[None])
    z = net.encode(face)
    own = label_tensor([int(age_group)], [int(gender)]).to(net.device)
    parameters = tuned_parameters(tuned.G)
    classifier = classifier.to(net.device)
    optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE)
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        for _ in range(steps):
            others = (int(age_group) + 1 + torch.randperm(consts.NUM_AGES - 1)[:OTHER_AGES_PER_STEP]) % consts.NUM_AGES
            labels = torch.cat((own, label_tensor(others, torch.full_like(others, int(gender))).to(net.device)))
            with net.autocast('personalise'):
                renders = tuned.G(torch.cat((z.expand(len(labels), -1), labels), dim=1)).float()
                age_logits = classifier(blur_and_shift(renders[1:]))
            loss = (F.l1_loss(renders[:1], face.float())
                    + AGE_WEIGHT * F.cross_entropy(age_logits.float(), others.to(net.device)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward(inputs=parameters)
            optimizer.step()
    return tuned


def personalised_renders(net, images, age_groups, genders, classifier, steps=STEPS, show_progress=True):
    """Each uint8 face drawn at every age group by its own personalised G: float [-1, 1] N x NUM_AGES x 3 x H x W
    (games.render_every_age's layout)."""
    renders = []
    for face, group, gender in tqdm(zip(images, age_groups.tolist(), genders.tolist()), total=len(images),
                                    desc='Personalising', unit='face', disable=not show_progress):
        tuned = personalised(net, face, group, gender, classifier, steps)
        renders.append(render_every_age(tuned, face[None], torch.tensor([gender]))[0])
    return torch.stack(renders)
