"""Quality numbers, pure: reconstruction (PSNR, SSIM), z's fit to its prior, fixed patterns, age shares, skin tone
(delta E), realism (KID) and identity (dlib). evaluate.py measures a model with them."""
import numpy as np
import torch
import torch.nn.functional as F

import consts
from images import face_box, gaussian_taps, model_tensor_to_uint8, to_model_range


def psnr(images, references):
    """Mean PSNR in dB of [-1, 1] images, computed on the [0, 1] scale per image."""
    mse = ((images.float() - references.float()) / 2).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()


def ssim(images, references, window=11, sigma=1.5):
    """Mean SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5) of [-1, 1] images on the [0, 1] scale."""
    x, y = (images.float() + 1) / 2, (references.float() + 1) / 2
    g = gaussian_taps(sigma, window // 2)
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


def batched(function, images, batch_size=256):
    """`function` on `images` in batches, without gradients: float, on the CPU."""
    with torch.no_grad():
        return torch.cat([function(images[s:s + batch_size]).float().cpu() for s in range(0, len(images), batch_size)])


