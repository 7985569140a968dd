"""Quality numbers for a trained CAAE: reconstruction (L1, PSNR, SSIM), z's fit to its prior, the age effect."""
import numpy as np
import torch
import torch.nn.functional as F

import checkpoints
import consts
from data import label_tensor
from games import with_details
from images import face_box, model_tensor_to_uint8, to_model_range
from utils import print_timestamp


def psnr(images, references):
    """Mean PSNR in dB of [-1, 1] images, computed on the [0, 1] scale per image."""
    mse = ((images.float() - references.float()) / 2).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()


def ssim(images, references, window=11, sigma=1.5):
    """Mean SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5) of [-1, 1] images on the [0, 1] scale."""
    x, y = (images.float() + 1) / 2, (references.float() + 1) / 2
    coords = torch.arange(window, dtype=torch.float) - window // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    kernel = (g[:, None] * g[None, :] / g.sum() ** 2).expand(x.shape[1], 1, window, window).contiguous()

    def blur(t):
        return F.conv2d(t, kernel, groups=x.shape[1])
    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x ** 2, blur(y * y) - mu_y ** 2, blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean().item()


def ks_uniform(z):
    """Kolmogorov-Smirnov statistic of each column of z against U[-1, 1], averaged over the columns."""
    n = z.shape[0]
    sorted_z = z.float().sort(dim=0).values
    cdf = ((sorted_z + 1) / 2).clamp(0, 1)
    steps = torch.arange(1, n + 1, dtype=torch.float)[:, None] / n
    return torch.maximum(steps - cdf, cdf - (steps - 1 / n)).max(dim=0).values.mean().item()


def held_out_rows(dataset, model_folder, batch_size=128, seed=0):
    """(rows, description) of the faces that training held out: those named in the model's run.json, or, for an
    older run without one, the split that batch size and seed give."""
    record = checkpoints.find_run_record(model_folder)
    if record:
        return dataset.rows_of(record['validation']), f'the validation faces named in the run\'s {consts.RUN_RECORD}'
    print_timestamp(f'{model_folder}: no {consts.RUN_RECORD} beside the model, so its validation batch is found again '
                    f'from --batch-size {batch_size} and --seed {seed}')
    described = f'the validation batch the trainer held out (--batch-size {batch_size}, --seed {seed})'
    return dataset.split(batch_size, 0, seed=seed)[0], described


def evaluate_rows(net, dataset, rows):
    """evaluate() on the dataset rows `rows`."""
    return evaluate(net, dataset.images_tensor(rows), dataset.age_groups[rows], dataset.genders[rows])


def evaluate(net, images, age_groups, genders, seed=0):
    """All quality numbers of `net` on uint8 images (Nx3xHxW) with their true labels, as a dict."""
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
        'psnr_db': psnr(reconstructed, originals),
        'ssim': ssim(reconstructed, originals),
        'z_ks': ks_uniform(z),
        'z_ks_prior_sample': ks_uniform(prior),
        'age_effect_pixels': ((old - young).abs().mean() * 127.5).item(),
    }


def grid_pattern(images, period=16):
    """How much a fixed pattern repeating every `period` pixels stands out, per image: the mean, over the spectrum's
    multiples of size/period, of the power there over the mean power of its 24 neighbours (about 1 for photos; a
    pattern with power at many of those frequencies scores more than one with a single frequency). G builds a face
    from an 8 x 8 map by four stride-2 transposed convolutions, so its patterns repeat every 16 pixels."""
    gray = images.float().mean(1)
    size = gray.shape[-1]
    window = torch.hann_window(size, periodic=False, device=gray.device)
    power = torch.fft.fft2((gray - gray.mean((1, 2), keepdim=True)) * window[:, None] * window).abs() ** 2
    around = F.avg_pool2d(F.pad(power[:, None], (2, 2, 2, 2), mode='circular'), 5, stride=1)[:, 0] * 25 - power
    ratio = (power / (around / 24).clamp_min(1e-12))[:, ::size // period, ::size // period]
    return (ratio.flatten(1).sum(1) - ratio[:, 0, 0]) / (ratio[0].numel() - 1)


# ---------------------------------------------------------------- ages, identity, skin tone, realism (estimators.py)

def age_shares(logits, groups):
    """{'exact', 'within_one'}: shares of faces whose argmax group equals `groups` / is within one group of it."""
    distance = (logits.argmax(1).cpu() - torch.as_tensor(groups).cpu()).abs()
    return {'exact': (distance == 0).float().mean().item(), 'within_one': (distance <= 1).float().mean().item()}


def expected_ages(logits, centre_ages):
    """Age in years per face: the expectation of the group centre ages under the softmax of `logits`."""
    return logits.float().softmax(-1) @ centre_ages.float().to(logits.device)


def mean_per_group(values, groups, num_groups=consts.NUM_AGES):
    """Mean of `values` over the faces of each group: a list of `num_groups` numbers (None for an empty group)."""
    groups = torch.as_tensor(groups)
    return [values[groups == g].float().mean().item() if (groups == g).any() else None for g in range(num_groups)]


def rgb_to_lab(images):
    """[-1, 1] sRGB Nx3xHxW images -> CIE Lab (D65 white; L 0-100), as scikit-image's rgb2lab computes it."""
    rgb = ((images.float() + 1) / 2).clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = torch.tensor([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
    xyz = torch.einsum('ij,njhw->nihw', to_xyz, linear) / torch.tensor([0.95047, 1.0, 1.08883]).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack((116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])), dim=1)


def delta_e(images, references, box=consts.FACE_BOX):
    """Mean CIE76 delta E (Euclidean distance in Lab) over the pixels of `box` (rows, columns) of [-1, 1] faces."""
    lab, lab_ref = rgb_to_lab(face_box(images, box)), rgb_to_lab(face_box(references, box))
    return (lab - lab_ref).norm(dim=1).mean().item()


def delta_e_of_means(images, references, box=consts.FACE_BOX):
    """Mean CIE76 delta E between the average Lab colours of `box` of each face and its reference (skin tone)."""
    lab, lab_ref = rgb_to_lab(face_box(images, box)), rgb_to_lab(face_box(references, box))
    return (lab.mean((2, 3)) - lab_ref.mean((2, 3))).norm(dim=1).mean().item()


def kid(x, y):
    """Kernel inception distance: the unbiased MMD^2 of feature sets x (m x d), y (n x d), kernel (a.b / d + 1)^3."""
    x, y = x.double(), y.double()
    m, n, d = len(x), len(y), x.shape[1]
    kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    return ((kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1)) + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
            - 2 * kxy.mean()).item()


# dlib's face recognition (optional): the 5-point landmarks and the ResNet descriptor of the face_recognition_models
# package; the whole 128-px chip is the face rectangle (dlib's HOG detector misses many chips: see identity_model).
IDENTITY_THRESHOLD = 0.6


def identity_model():
    """(the dlib shape predictor and recognition model, None), or (None, a one-line reason they are missing)."""
    import importlib.util
    import os
    try:
        import dlib
    except ImportError:
        return None, 'missing: dlib is not installed (pip install dlib-bin face-recognition-models)'
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or spec.origin is None:
        return None, 'missing: face-recognition-models is not installed (pip install face-recognition-models)'
    folder = os.path.join(os.path.dirname(spec.origin), 'models')
    paths = [os.path.join(folder, name) for name in ('shape_predictor_5_face_landmarks.dat',
                                                     'dlib_face_recognition_resnet_model_v1.dat')]
    absent = [p for p in paths if not os.path.isfile(p)]
    if absent:
        return None, f'missing: {absent[0]} not found'
    return (dlib, dlib.shape_predictor(paths[0]), dlib.face_recognition_model_v1(paths[1])), None


def face_descriptors(model, images):
    """dlib's 128-d descriptors (N x 128) of uint8 or [-1, 1] faces, the whole chip as the face rectangle."""
    dlib, predictor, recognizer = model
    arrays = model_tensor_to_uint8(to_model_range(images))
    descriptors = []
    for array in arrays:
        array = np.ascontiguousarray(array)
        rectangle = dlib.rectangle(0, 0, array.shape[1] - 1, array.shape[0] - 1)
        descriptors.append(np.asarray(recognizer.compute_face_descriptor(array, predictor(array, rectangle))))
    return torch.from_numpy(np.stack(descriptors)).float() if descriptors else torch.empty(0, 128)


def verified_share(descriptors, references, threshold=IDENTITY_THRESHOLD):
    """Share of descriptor pairs (row i with row i) closer than `threshold`: dlib says the same person."""
    return ((descriptors - references).norm(dim=1) < threshold).float().mean().item()


def _batched(function, images, batch_size=256):
    with torch.no_grad():
        return torch.cat([function(images[s:s + batch_size]).float().cpu() for s in range(0, len(images), batch_size)])


def render_every_age(net, images, genders):
    """Each uint8 face drawn at every age group with its gender: float [-1, 1] N x NUM_AGES x 3 x H x W."""
    renders = []
    for start in range(0, len(images), 64):
        z = net.encode(images[start:start + 64])
        batch_genders = genders[start:start + 64]
        renders.append(torch.stack([net.generate(z, label_tensor(torch.full_like(batch_genders, g), batch_genders)).cpu()
                                    for g in range(consts.NUM_AGES)], dim=1))
    return torch.cat(renders)


def evaluate_aging(net, images, age_groups, genders, estimator=None, reference=None, identity=True, classifier=None,
                   keep_details=False, renders=None):
    """Aging numbers of `net` on uint8 faces with their true labels, as a dict: skin tone (delta E at the own age),
    the renders' grid_pattern beside the photos', and, given the evaluation `estimator` (estimators.AgeEstimator),
    the renders' age shares, mean estimated ages per asked group, the estimator's ceiling on the real faces and
    KID (renders vs these real faces, per group) with its real-vs-real floor from `reference` (uint8 real faces
    unseen by the estimator, their groups);
    `identity`: dlib verification of the adults' renders (a 'missing: ...' line when dlib is absent); the loss
    `classifier`'s shares too where given (a gap to the estimator's shows the generator fooling the classifier).
    `keep_details`: judge the games' keep-details renders (games.with_details) instead of the plain ones.
    `renders`: the faces at every age group drawn another way (N x NUM_AGES x 3 x H x W, e.g. personalised), instead
    of `net`'s."""
    n, groups = len(images), torch.arange(consts.NUM_AGES)
    renders = render_every_age(net, images, genders) if renders is None else renders
    originals, own = to_model_range(images), renders[torch.arange(n), age_groups]
    if keep_details:
        renders = with_details(originals[:, None], renders, own[:, None], age_groups[:, None] - groups)
        own = renders[torch.arange(n), age_groups]
    result = {'l1_own_age': F.l1_loss(own, originals).item(),
              'delta_e_own_age': delta_e(own, originals), 'delta_e_mean_colour_own_age': delta_e_of_means(own, originals),
              'grid_pattern_renders': grid_pattern(renders.flatten(0, 1)).mean().item(),
              'grid_pattern_real': grid_pattern(originals).mean().item()}
    if estimator is not None:
        estimator.eval()
        logits = _batched(estimator, renders.flatten(0, 1)).view(n, consts.NUM_AGES, -1)
        real_logits = _batched(estimator, images)
        shares, ceiling = age_shares(logits.flatten(0, 1), groups.repeat(n)), age_shares(real_logits, age_groups)
        result.update({
            'renders_age_exact': shares['exact'], 'renders_age_within_one': shares['within_one'],
            'renders_mean_age_per_asked_group': expected_ages(logits, estimator.centre_ages).mean(0).tolist(),
            'real_age_exact': ceiling['exact'], 'real_age_within_one': ceiling['within_one'],
            'real_mean_age_per_group': mean_per_group(expected_ages(real_logits, estimator.centre_ages), age_groups)})
        features = _batched(estimator.features, renders.flatten(0, 1)).view(n, consts.NUM_AGES, -1)
        real_features = _batched(estimator.features, images)
        reference_features = _batched(estimator.features, reference[0]) if reference is not None else None
        kids, floors = [], []
        for g in range(consts.NUM_AGES):
            real_g = real_features[age_groups == g]
            if len(real_g) < 2:
                continue
            kids.append(kid(features[:, g], real_g))
            if reference_features is not None and (reference[1] == g).sum() >= 2:
                floors.append(kid(reference_features[reference[1] == g][:n], real_g))
        result.update({'kid_renders_vs_real': float(np.mean(kids)) if kids else None, 'kid_groups': len(kids),
                       'kid_real_vs_real': float(np.mean(floors)) if floors else None})
    if classifier is not None:
        classifier.eval()
        shares = age_shares(_batched(classifier, renders.flatten(0, 1)), groups.repeat(n))
        result.update({'classifier_renders_age_within_one': shares['within_one'],
                       'classifier_real_age_within_one': age_shares(_batched(classifier, images), age_groups)['within_one']})
    if identity:
        model, reason = identity_model()
        adults = (age_groups >= 4).nonzero().flatten()  # group 4 and above: 21 years and over
        if model is None:
            result['identity'] = reason
        elif len(adults):
            inputs = face_descriptors(model, images[adults])
            adult_renders = face_descriptors(model, renders[adults, 4:].flatten(0, 1))
            adult_renders = adult_renders.view(len(adults), consts.NUM_AGES - 4, inputs.shape[1])
            result.update({'identity_adults': len(adults),
                           'identity_adult_renders_verified': verified_share(
                               adult_renders.flatten(0, 1), inputs.repeat_interleave(consts.NUM_AGES - 4, 0)),
                           'identity_verified_per_adult_group': [verified_share(adult_renders[:, g], inputs)
                                                                 for g in range(adult_renders.shape[1])],
                           'identity_reconstruction_verified': verified_share(face_descriptors(model, own[adults]), inputs)})
    return result
