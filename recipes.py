"""The training recipes: each one training step, the names of the losses it returns and the dataclass of its loss
weights, in one registry (RECIPES) that train.py and main.py read. A new recipe is one `register(Recipe(...))`.

`reference` is the reference's objective exactly (the default); `plus` adds cross-age generation judged by Dimg and
by a frozen age classifier (estimators.py), and two identity cycles (see plus_step and PlusWeights).
Every step is called as step(net, optimizers, images, labels, weights, modules, classifier) and returns its
losses, detached, in the order of the recipe's `losses`. `modules` replaces E, G, Dz and Dimg in the forward pass
(DistributedDataParallel wrappers); `classifier` is the frozen age classifier of a recipe that needs one.
"""
from dataclasses import dataclass, fields
from typing import Callable

import torch
import torch.nn.functional as F

import consts
from losses import (blur_and_noise, blur_and_shift, face_colour, feature_matching, fooling_loss,
                    image_discriminator_loss, other_age_groups, total_variation, update, with_age_groups,
                    z_discriminator_loss)


@dataclass(frozen=True)
class Recipe:
    name: str
    step: Callable
    losses: tuple  # the names of the losses the step returns, in order (the loss plot's and losses.json's keys)
    weights: type  # the dataclass of its loss weights (--weight NAME=VALUE changes one)
    needs_classifier: bool = False  # the step judges faces with the frozen age classifier
    help: str = ''


RECIPES = {}


def register(recipe):
    RECIPES[recipe.name] = recipe
    return recipe


def weight_names(recipe):
    return [f.name for f in fields(recipe.weights)]


@dataclass
class ReferenceWeights:
    """The reference's loss weights (consts.py)."""
    reconstruction: float = consts.REC_LOSS_WEIGHT  # L1 between the face and its reconstruction (eg)
    total_variation: float = consts.TV_LOSS_WEIGHT  # total variation of the reconstruction (reg)
    z_prior: float = consts.ADV_LOSS_WEIGHT  # E's BCE on Dz (ez)
    adversarial: float = consts.ADV_LOSS_WEIGHT  # G's BCE on Dimg (dg)


def reference_step(net, optimizers, images, labels, weights=ReferenceWeights(), modules=None, classifier=None):
    """One CAAE training step on a batch; returns the detached losses eg, reg, dz, ez, di, dg."""
    m = modules or net.networks
    with net.autocast():
        z = m['E'](images)
        generated = m['G'](torch.cat((z, labels), dim=1))
        eg_loss = F.l1_loss(generated.float(), images.float())
        reg_loss = total_variation(generated.float())
        d_z_prior = m['Dz'](torch.rand_like(z.float()) * 2 - 1)
        d_z = m['Dz'](z.float())
        d_i_input = m['Dimg'](images, labels)
        d_i_output = m['Dimg'](generated, labels)
    dz_loss = z_discriminator_loss(d_z_prior, d_z)
    ez_loss = weights.z_prior * fooling_loss(d_z)
    di_loss = image_discriminator_loss(d_i_input, d_i_output)
    dg_loss = weights.adversarial * fooling_loss(d_i_output)
    eg_total = weights.reconstruction * eg_loss + weights.total_variation * reg_loss + ez_loss + dg_loss
    update(optimizers, eg_total, dz_loss, di_loss)
    return torch.stack([eg_loss, reg_loss, dz_loss, ez_loss, di_loss, dg_loss]).detach()


register(Recipe('reference', reference_step, ('eg', 'reg', 'dz', 'ez', 'di', 'dg'), ReferenceWeights,
                help="the reference's objective, exactly"))


@dataclass
class PlusWeights:
    """Loss weights of --recipe plus, each term documented in trained_models/utkface_z50_plus/MODEL.md."""
    reconstruction: float = 1.5  # L1 between the face and its reconstruction at its own label (the reference's eg)
    adversarial: float = 0.05  # G's BCE on Dimg for its reconstructions and cross-age faces (reference: 1e-4)
    age: float = 0.03  # cross-entropy of the frozen age classifier on the cross-age faces (blurred, shifted), asked group
    latent_cycle: float = 2.0  # L1 between E(cross-age face) and z: the cross-age face keeps the code of the person
    way_back: float = 3.0  # L1 between the cross-age face rendered back at the true label and the input
    colour: float = 1.0  # L1 between the mean colours of the central face (skin tone) of both renders and the input
    total_variation: float = 0.0  # total variation of both renders (the reference's reg term, weighted)
    cycle_noise: float = 0.0  # > 0: the cycles encode the cross-age face blurred, plus Gaussian noise of this std
    feature_matching: float = 0.0  # L1 between Dimg's conv features of the input and of both paired renders
    z_prior: float = consts.ADV_LOSS_WEIGHT  # E's BCE on Dz, as the reference


def plus_step(net, optimizers, images, labels, weights=PlusWeights(), modules=None, classifier=None):
    """The reference step plus cross-age generation judged by Dimg and the age classifier, and two identity cycles;
    returns the detached losses eg, reg, dz, ez, di, dg, age, latent, back, colour."""
    m = modules or net.networks
    target_groups = other_age_groups(labels)
    cross_labels = with_age_groups(labels, target_groups)
    with net.autocast():
        z = m['E'](images)
        generated = m['G'](torch.cat((z, labels), dim=1))
        cross = m['G'](torch.cat((z, cross_labels), dim=1))
        z_cross = m['E'](blur_and_noise(cross, weights.cycle_noise) if weights.cycle_noise > 0 else cross)
        back = m['G'](torch.cat((z_cross, labels), dim=1))
        age_logits = classifier(blur_and_shift(cross))
        d_z_prior = m['Dz'](torch.rand_like(z.float()) * 2 - 1)
        d_z = m['Dz'](z.float())
        d_i_input = m['Dimg'](images, labels)
        d_i_output = m['Dimg'](generated, labels)
        d_i_cross = m['Dimg'](cross, cross_labels)
    eg_loss = F.l1_loss(generated.float(), images.float())
    reg_loss = total_variation(generated.float())
    age_loss = F.cross_entropy(age_logits.float(), target_groups)
    latent_loss = F.l1_loss(z_cross.float(), z.float().detach())
    back_loss = F.l1_loss(back.float(), images.float())
    skin = face_colour(images)
    colour_loss = (F.l1_loss(face_colour(generated), skin) + F.l1_loss(face_colour(cross), skin)) / 2
    dz_loss = z_discriminator_loss(d_z_prior, d_z)
    ez_loss = weights.z_prior * fooling_loss(d_z)
    di_loss = image_discriminator_loss(d_i_input, d_i_output, d_i_cross)
    dg_loss = weights.adversarial * fooling_loss(d_i_output, d_i_cross)
    eg_total = (weights.reconstruction * eg_loss + ez_loss + dg_loss + weights.age * age_loss
                + weights.latent_cycle * latent_loss + weights.way_back * back_loss + weights.colour * colour_loss)
    if weights.total_variation:  # off by default: no extra work in the step
        eg_total = eg_total + weights.total_variation * (reg_loss + total_variation(cross.float())) / 2
    if weights.feature_matching:
        with net.autocast():
            matching = feature_matching(net.Dimg, images, labels, generated, back)
        eg_total = eg_total + weights.feature_matching * matching
    update(optimizers, eg_total, dz_loss, di_loss)
    return torch.stack([eg_loss, reg_loss, dz_loss, ez_loss, di_loss, dg_loss, age_loss, latent_loss, back_loss,
                        colour_loss]).detach()


register(Recipe('plus', plus_step, ('eg', 'reg', 'dz', 'ez', 'di', 'dg', 'age', 'latent', 'back', 'colour'),
                PlusWeights, needs_classifier=True,
                help='cross-age faces judged by Dimg and an age classifier, identity cycles'))
