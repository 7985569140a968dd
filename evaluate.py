"""Measuring a trained model on faces it never trained on (`python main.py --mode eval`): which faces, the
reconstruction numbers, and, with the age estimators (estimators.py), the aging numbers of its renders at every age
group: ages, skin tone, fixed patterns, realism (KID) and identity. The numbers themselves are in metrics.py."""
import numpy as np
import torch
import torch.nn.functional as F

import checkpoints
import consts
import estimators
import metrics
import personalise
import utils
from data import label_tensor
from games import render_every_age, with_details
from images import to_model_range


def held_out_rows(dataset, model_folder, batch_size=128, seed=0):
    """(rows, description) of the faces that training held out: those named in the model's run.json, or, for an
    older run without one, the split that batch size and seed give."""
    record = checkpoints.find_run_record(model_folder)
    if record:
        return dataset.rows_of(record['validation']), f'the validation faces named in the run\'s {consts.RUN_RECORD}'
    utils.print_timestamp(f'{model_folder}: no {consts.RUN_RECORD} beside the model, so its validation batch is found '
                          f'again from --batch-size {batch_size} and --seed {seed}')
    described = f'the validation batch the trainer held out (--batch-size {batch_size}, --seed {seed})'
    return dataset.split(batch_size, 0, seed=seed)[0], described


def evaluate_model(net, dataset, rows, estimators_folder=None, keep_details=False, personalise_steps=None):
    """Every number --mode eval reports for `net` on the dataset rows `rows`: the reconstruction's, and the aging
    numbers where `estimators_folder` holds the age estimators."""
    result = reconstruction(net, dataset.images_tensor(rows), dataset.age_groups[rows], dataset.genders[rows])
    if estimators_folder:
        result.update(aging(net, dataset, rows, estimators_folder, keep_details=keep_details,
                            personalise_steps=personalise_steps))
    return result


def reconstruction(net, images, age_groups, genders, seed=0):
    """Reconstruction numbers of `net` on uint8 images (Nx3xHxW) with their true labels, z's fit to its uniform
    prior (beside a sample of the prior itself) and the age effect (mean change from 0-5 to 71+), as a dict."""
    z, reconstructed, young, old = [], [], [], []
    for start in range(0, len(images), 64):
        batch = slice(start, start + 64)
        z_batch = net.encode(images[batch])
        z.append(z_batch.cpu())
        reconstructed.append(net.generate(z_batch, label_tensor(age_groups[batch], genders[batch])).cpu())
        young.append(net.generate(z_batch, label_tensor(torch.zeros_like(genders[batch]), genders[batch])).cpu())
        old.append(net.generate(z_batch, label_tensor(torch.full_like(genders[batch], consts.NUM_AGES - 1),
                                                      genders[batch])).cpu())
    z, reconstructed, young, old = map(torch.cat, (z, reconstructed, young, old))
    originals = to_model_range(images)
    prior = torch.rand(z.shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return {
        'images': len(images),
        'l1': (reconstructed - originals).abs().mean().item(),
        'psnr_db': metrics.psnr(reconstructed, originals),
        'ssim': metrics.ssim(reconstructed, originals),
        'z_ks': metrics.ks_uniform(z),
        'z_ks_prior_sample': metrics.ks_uniform(prior),
        'age_effect_pixels': ((old - young).abs().mean() * 127.5).item(),
    }


def aging(net, dataset, rows, folder=estimators.DEFAULT_FOLDER, identity=True, keep_details=False,
          personalise_steps=None):
    """aging_numbers of `net` on the dataset rows `rows` with the estimator and classifier of `folder`; the KID
    floor's real reference is the faces estimators.estimator_split held out from the estimators' training.
    `personalise_steps`: judge the renders of a G personalised to each face (personalise.py) for that many steps."""
    classifier, estimator = estimators.load_if_present(folder)
    if estimator is None:
        raise utils.InputError(f'{estimators.path_of("estimator", folder)}: no such file (train it: python '
                               'estimators.py)')
    reference = None
    if len(dataset) > 2 * 128:  # estimator_split holds out the 128-face validation batch first
        _, held_out, _ = estimators.estimator_split(dataset)
        held_out = held_out[~torch.isin(held_out, torch.as_tensor(rows))]
        reference = (dataset.images_tensor(held_out), dataset.age_groups[held_out])
    images, groups, genders = dataset.images_tensor(rows), dataset.age_groups[rows], dataset.genders[rows]
    renders = None
    if personalise_steps:
        if classifier is None:
            raise utils.InputError(f'{estimators.path_of("classifier", folder)}: no such file: personalising needs '
                                   'the classifier')
        renders = personalise.personalised_renders(net, images, groups, genders, classifier, personalise_steps)
    return aging_numbers(net, images, groups, genders, estimator, reference, identity, classifier, keep_details,
                         renders)


def aging_numbers(net, images, age_groups, genders, estimator=None, reference=None, identity=True, classifier=None,
                  keep_details=False, renders=None):
    """Aging numbers of `net` on uint8 faces with their true labels, as a dict: own_age_numbers; given the
    evaluation `estimator` (estimators.AgeEstimator), estimated_age_numbers and realism_numbers (with the
    real-vs-real floor from `reference`: uint8 real faces unseen by the estimator, their groups); the loss
    `classifier`'s shares where given (a gap to the estimator's shows the generator fooling the classifier);
    `identity`: identity_numbers (a 'missing: ...' line when dlib is absent).
    `keep_details`: judge the games' keep-details renders (games.with_details) instead of the plain ones.
    `renders`: the faces at every age group drawn another way (N x NUM_AGES x 3 x H x W, e.g. personalised), instead
    of `net`'s."""
    n, groups = len(images), torch.arange(consts.NUM_AGES)
    renders = render_every_age(net, images, genders) if renders is None else renders
    originals, own = to_model_range(images), renders[torch.arange(n), age_groups]
    if keep_details:
        renders = with_details(originals[:, None], renders, own[:, None], age_groups[:, None] - groups)
        own = renders[torch.arange(n), age_groups]
    result = own_age_numbers(renders, own, originals)
    if estimator is not None:
        result.update(estimated_age_numbers(estimator, renders, images, age_groups))
        result.update(realism_numbers(estimator, renders, images, age_groups, reference))
    if classifier is not None:
        classifier.eval()
        shares = metrics.age_shares(metrics.batched(classifier, renders.flatten(0, 1)), groups.repeat(n))
        real = metrics.age_shares(metrics.batched(classifier, images), age_groups)
        result.update({'classifier_renders_age_within_one': shares['within_one'],
                       'classifier_real_age_within_one': real['within_one']})
    if identity:
        result.update(identity_numbers(images, renders, own, age_groups))
    return result


def own_age_numbers(renders, own, originals):
    """The renders at each face's own age against the face (L1, skin tone), and the fixed-pattern score of all the
    renders beside the photos'."""
    return {'l1_own_age': F.l1_loss(own, originals).item(),
            'delta_e_own_age': metrics.delta_e(own, originals),
            'delta_e_mean_colour_own_age': metrics.delta_e_of_means(own, originals),
            'grid_pattern_renders': metrics.grid_pattern(renders.flatten(0, 1)).mean().item(),
            'grid_pattern_real': metrics.grid_pattern(originals).mean().item()}


def estimated_age_numbers(estimator, renders, images, age_groups):
    """The estimator's verdict on the renders (shares in the asked group, mean years per asked group) beside its
    ceiling on the real faces."""
    estimator.eval()
    n = len(images)
    logits = metrics.batched(estimator, renders.flatten(0, 1)).view(n, consts.NUM_AGES, -1)
    real_logits = metrics.batched(estimator, images)
    shares = metrics.age_shares(logits.flatten(0, 1), torch.arange(consts.NUM_AGES).repeat(n))
    ceiling = metrics.age_shares(real_logits, age_groups)
    return {'renders_age_exact': shares['exact'], 'renders_age_within_one': shares['within_one'],
            'renders_mean_age_per_asked_group': metrics.expected_ages(logits, estimator.centre_ages).mean(0).tolist(),
            'real_age_exact': ceiling['exact'], 'real_age_within_one': ceiling['within_one'],
            'real_mean_age_per_group': metrics.mean_per_group(metrics.expected_ages(real_logits, estimator.centre_ages),
                                                              age_groups)}


def realism_numbers(estimator, renders, images, age_groups, reference=None):
    """KID between the renders at each group and the real faces of that group (in the estimator's features), and
    its real-vs-real floor from `reference` (images, groups)."""
    n = len(images)
    features = metrics.batched(estimator.features, renders.flatten(0, 1)).view(n, consts.NUM_AGES, -1)
    real_features = metrics.batched(estimator.features, images)
    reference_features = metrics.batched(estimator.features, reference[0]) if reference is not None else None
    kids, floors = [], []
    for g in range(consts.NUM_AGES):
        real_g = real_features[age_groups == g]
        if len(real_g) < 2:
            continue
        kids.append(metrics.kid(features[:, g], real_g))
        if reference_features is not None and (reference[1] == g).sum() >= 2:
            floors.append(metrics.kid(reference_features[reference[1] == g][:n], real_g))
    return {'kid_renders_vs_real': float(np.mean(kids)) if kids else None, 'kid_groups': len(kids),
            'kid_real_vs_real': float(np.mean(floors)) if floors else None}


def identity_numbers(images, renders, own, age_groups):
    """dlib's verification of the adults' renders at the adult groups (and of their own-age renders) as the
    person in the photo."""
    model, reason = metrics.identity_model()
    adults = (age_groups >= consts.ADULT_GROUP).nonzero().flatten()
    if model is None:
        return {'identity': reason}
    if not len(adults):
        return {}
    older = consts.NUM_AGES - consts.ADULT_GROUP
    inputs = metrics.face_descriptors(model, images[adults])
    adult_renders = metrics.face_descriptors(model, renders[adults, consts.ADULT_GROUP:].flatten(0, 1))
    adult_renders = adult_renders.view(len(adults), older, inputs.shape[1])
    return {'identity_adults': len(adults),
            'identity_adult_renders_verified': metrics.verified_share(adult_renders.flatten(0, 1),
                                                                      inputs.repeat_interleave(older, 0)),
            'identity_verified_per_adult_group': [metrics.verified_share(adult_renders[:, g], inputs)
                                                  for g in range(older)],
            'identity_reconstruction_verified': metrics.verified_share(metrics.face_descriptors(model, own[adults]),
                                                                       inputs)}
