"""The loss terms the recipes build their objectives from, and the three optimizers' update that ends every step."""
import torch
import torch.nn.functional as F

import consts
from images import face_box, gaussian_blur


def bce_with_logits(logits, target_value):
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits, target_value, dtype=torch.float))


def z_discriminator_loss(d_z_prior, d_z):
    """Dz's loss: uniform prior samples are real, the encoder's z are fake."""
    return bce_with_logits(d_z_prior, 1.0) + bce_with_logits(d_z, 0.0)


def image_discriminator_loss(d_real, *d_fakes):
    """Dimg's loss: the faces are real, each kind of generated face fake (their losses averaged)."""
    return bce_with_logits(d_real, 1.0) + sum(bce_with_logits(d, 0.0) for d in d_fakes) / len(d_fakes)


def fooling_loss(*verdicts):
    """A generator's (or encoder's) loss for being judged fake: the mean over each kind of its outputs."""
    return sum(bce_with_logits(d, 1.0) for d in verdicts) / len(verdicts)


def total_variation(images):
    """Mean absolute difference between neighbouring pixels (logged as `reg`)."""
    return (F.l1_loss(images[:, :, :, :-1], images[:, :, :, 1:])
            + F.l1_loss(images[:, :, :-1, :], images[:, :, 1:, :]))


def face_colour(images):
    """The mean colour of each face's central box (consts.FACE_BOX: cheeks, nose, mouth): its skin tone, N x 3."""
    return face_box(images).float().mean((2, 3))


def other_age_groups(labels, generator=None):
    """For each label, a random age group other than its own (uniform over the nine others)."""
    groups = labels[:, :consts.NUM_AGES].argmax(1)
    shift = torch.randint(1, consts.NUM_AGES, groups.shape, device=labels.device, generator=generator)
    return (groups + shift) % consts.NUM_AGES


def with_age_groups(labels, groups):
    """The labels with their age part replaced by `groups` (gender kept)."""
    age_part = F.one_hot(groups, consts.NUM_AGES).to(labels.dtype) * 2 - 1
    return torch.cat((age_part, labels[:, consts.NUM_AGES:]), dim=1)


def blur_and_shift(images, max_shift=4):
    """What the age classifier sees of a generated face: blurred and shifted by a random whole number of pixels, so
    that thin lines and patterns tied to fixed positions cannot buy the asked age."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,)).tolist()
    return torch.roll(gaussian_blur(images), shifts=(dy, dx), dims=(2, 3))


def blur_and_noise(images, std):
    """What the identity cycles encode of a cross-age face when cycle_noise > 0: blurred, with Gaussian noise, so
    that G cannot pass the person to E in faint high-frequency patterns (CycleGAN's hidden signal)."""
    return gaussian_blur(images) + std * torch.randn_like(images)


def feature_matching(dimg, images, labels, *renders):
    """pix2pixHD's feature matching: the mean L1 between Dimg's conv features of the faces and of each render of
    them at their own labels (the reconstruction, the way back), a denser signal for G than Dimg's verdict.
    Dimg's batch norms use their running statistics here, so each face is compared on its own, not per batch."""
    dimg.eval()
    try:
        with torch.no_grad():
            targets = dimg.features(images, labels)
        losses = [F.l1_loss(feature.float(), target.float())
                  for render in renders for feature, target in zip(dimg.features(render, labels), targets)]
    finally:
        dimg.train()
    return torch.stack(losses).mean()


def step(optimizer, loss, retain_graph=False):
    """Backpropagate `loss` into this optimizer's parameters only, and step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=optimizer.param_groups[0]['params'], retain_graph=retain_graph)
    optimizer.step()


def update(optimizers, eg_loss, dz_loss, di_loss):
    """Each loss updates only its own networks (E and G, Dz, Dimg): the discriminators' gradients stop at their
    inputs, as the reference intends."""
    step(optimizers['eg'], eg_loss, retain_graph=True)
    step(optimizers['dz'], dz_loss)
    step(optimizers['di'], di_loss)
