"""Pictures: reading images, the model's tensor <-> pixel conversions, grids, strips, GIFs and the watermark."""
import glob
import os
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

import consts
from checkpoints import atomic_path, epoch_number
from utils import InputError

CELL = consts.IMAGE_LENGTH + 2  # a face and image_grid's padding
PREVIEW_BOX = (8 * CELL + 2, 4 * CELL + 2)  # top-left of a validation grid: 16 faces beside their reconstructions
IMAGE_FORMATS = ('JPEG', 'PNG', 'WEBP', 'BMP')  # the only formats read_image decodes
IMAGE_KINDS = 'a JPEG, PNG, WebP or BMP photo'
MAX_PIXELS = 40_000_000  # larger images are refused before decoding
BLUR_CANVAS = 4.0  # px: masked_blur does a blur broader than this on a canvas downscaled to it (at 2 furrows aliased)
BLUR_LEAST = 1e-3  # masked_blur's weight of the image's own blur: where the mask is empty, that (no division by 0)

def pil_to_uint8(image):
    """Any PIL image -> 128x128x3 uint8 array, resized as torchvision's Resize does (bilinear)."""
    image = image.convert('RGB')
    if image.size != (consts.IMAGE_LENGTH, consts.IMAGE_LENGTH):
        image = image.resize((consts.IMAGE_LENGTH, consts.IMAGE_LENGTH), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def to_model_range(images):
    """uint8 [0, 255] images -> float [-1, 1]; float images are taken to be in [-1, 1] already."""
    if images.dtype == torch.uint8:
        return images.float().div_(127.5).sub_(1)
    return images.float()


def face_box(images, box=consts.FACE_BOX):
    """The central face region `box` (rows top:bottom, columns left:right) of N x C x 128 x 128 faces."""
    top, bottom, left, right = box
    return images[:, :, top:bottom, left:right]


def gaussian_taps(sigma, radius):
    """The 2 * radius + 1 unnormalised taps of a Gaussian of `sigma` pixels (the one Gaussian of the project)."""
    return torch.exp(-torch.arange(-radius, radius + 1.0) ** 2 / (2 * sigma ** 2))


def gaussian_blur(images, sigma=1.0, radius=2, edges='zeros'):
    """A separable Gaussian blur (2 * radius + 1 taps) of each channel of N x C x H x W images; beyond the edges
    the image is taken as zeros, or as its edge pixels repeated (`edges='replicate'`)."""
    taps = gaussian_taps(sigma, radius)
    kernel = (taps / taps.sum()).to(images.dtype).to(images.device)
    channels, size = images.shape[1], 2 * radius + 1
    padding = (0, radius), (radius, 0)
    if edges == 'replicate':
        images, padding = F.pad(images, (radius,) * 4, mode='replicate'), (0, 0)
    blurred = F.conv2d(images, kernel.view(1, 1, 1, size).expand(channels, 1, 1, size), padding=padding[0],
                       groups=channels)
    return F.conv2d(blurred, kernel.view(1, 1, size, 1).expand(channels, 1, size, 1), padding=padding[1],
                    groups=channels)


def edge_blur(grey, where, reblur=2.0, share=0.05):
    """The Gaussian sigma (px) a photo's sharpest edges are blurred by: at the `share` of `where`'s pixels with the
    steepest gradient, blurring by `reblur` more lowers a step edge's gradient by sqrt(1 + reblur^2 / sigma^2)."""
    if where.sum() < 1 / share:
        return 0.0
    grey = grey.astype(np.float32)
    steep, reblurred = (np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
                        for g in (grey, cv2.GaussianBlur(grey, (0, 0), reblur)))
    edges = where & (steep >= np.quantile(steep[where], 1 - share))
    ratio = steep[edges] / np.maximum(reblurred[edges], 1e-6)
    return float(np.median(reblur / np.sqrt(np.maximum(ratio ** 2 - 1, 1e-3))))


def masked_blur(image, weight, sigma):
    """A float image (H x W or H x W x C) blurred by a Gaussian of `sigma` px over `weight` (H x W, 0 to 1) alone: a
    normalised convolution, each pixel the weighted mean around it, so that what lies outside the mask does not bleed
    in (where there is next to no weight, the image's own blur); on a canvas downscaled to BLUR_CANVAS where it is
    broader (at full size a 2240-px face region's skin took 0.25 s more, its hair's greying 198 ms an age, not 81)."""
    step, size = max(1.0, sigma / BLUR_CANVAS), image.shape[1::-1]
    small = lambda plane: cv2.resize(plane, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
    image, weight = (small(plane) if step > 1 else plane for plane in (image, np.float32(weight)))
    blur = lambda plane: cv2.GaussianBlur(plane, (0, 0), sigma / step)
    spread = weight[..., None] if image.ndim == 3 else weight
    mean = (blur(image * spread) + BLUR_LEAST * blur(image)) / (blur(weight) + BLUR_LEAST).reshape(spread.shape)
    return cv2.resize(mean, size, interpolation=cv2.INTER_LINEAR) if step > 1 else mean


def face_mask(softness=0.25, ellipse=consts.FACE_ELLIPSE, size=consts.IMAGE_LENGTH):
    """size x size weights: 1 inside the face ellipse of a chip, falling to 0 at its edge over the outer `softness`
    of its squared radius (no hard seam), 0 outside: hair, ears and background."""
    centre_y, centre_x, half_height, half_width = ellipse
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float), torch.arange(size, dtype=torch.float), indexing='ij')
    inside = 1 - ((y - centre_y) / half_height) ** 2 - ((x - centre_x) / half_width) ** 2
    return (inside / softness).clamp(0, 1)


def pil_to_model_tensor_transform(image):
    """PIL image -> 3x128x128 float tensor in [-1, 1] (the model's input)."""
    return to_model_range(torch.from_numpy(pil_to_uint8(image).copy()).permute(2, 0, 1)).contiguous()


def model_tensor_to_uint8(images):
    """[-1, 1] tensor(s) CxHxW or NxCxHxW -> uint8 HxWxC array(s)."""
    images = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.movedim(-3, -1).numpy()


def read_image(path, allow_16_bit=True):
    """The one reader of image files (photos, uploads, webcam frames, training data): an upright RGB PIL image.

    Only IMAGE_FORMATS are decoded, so no other Pillow plugin ever sees a file (the EPS one runs Ghostscript on
    load); size, frames and bit depth are checked from the header before anything is decoded. Anything else is
    an InputError whose message is one clause without the path (load_image adds it)."""
    path = Path(path)
    if not path.is_file():
        raise InputError('no such file')
    if path.stat().st_size == 0:
        raise InputError(f'the file is empty (0 bytes): use {IMAGE_KINDS}')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=IMAGE_FORMATS) as image:
                _check_header(image, allow_16_bit)
                image.load()
                return _to_rgb(ImageOps.exif_transpose(image))
        except InputError:
            raise
        except UnidentifiedImageError:
            raise InputError(f'this file is not an image: use {IMAGE_KINDS}') from None
        except Image.DecompressionBombError:
            raise InputError('the image declares more pixels than it can hold (a decompression bomb?): use an '
                             f'ordinary photo of at most {MAX_PIXELS // 1_000_000} megapixels') from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
            reason = ' '.join(str(e).split()) or type(e).__name__
            raise InputError(f'the image file is damaged or truncated ({reason})') from None


def _check_header(image, allow_16_bit):
    """Refuse an opened, not yet decoded image: too many pixels, none, animated, or 16 bits per channel."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InputError(f'the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); the limit '
                         f'is {MAX_PIXELS // 1_000_000} megapixels: use a smaller photo')
    if width == 0 or height == 0:
        raise InputError('the image has no pixels')
    if image.format != 'MPO' and getattr(image, 'n_frames', 1) > 1:  # MPO: a camera JPEG with extra views
        raise InputError('animated images (APNG, WebP) are not supported: use one still photo')
    rawmodes = ' '.join(str(tile.args) for tile in getattr(image, 'tile', []) or [])
    if not allow_16_bit and (image.mode in ('I', 'F') or image.mode.startswith('I;16') or ';16' in rawmodes):
        raise InputError('this is a 16-bit image: save it as an ordinary 8-bit JPEG or PNG and use that')


def load_image(path):
    """read_image, its message naming the file (the command line's and the dataset's reader)."""
    try:
        return read_image(path)
    except InputError as e:
        raise InputError(f'{path}: {e}') from None


def _to_rgb(image):
    """Convert any PIL mode to RGB: transparent images laid on white, 16-bit grayscale scaled to 8 bits."""
    if image.mode.startswith('I;16') or image.mode == 'I':
        return Image.fromarray((np.asarray(image, np.float64) / 257).clip(0, 255).astype(np.uint8)).convert('RGB')
    if image.mode in ('RGBA', 'LA', 'PA') or (image.mode == 'P' and 'transparency' in image.info):
        image = image.convert('RGBA')
        return Image.alpha_composite(Image.new('RGBA', image.size, 'white'), image).convert('RGB')
    return image.convert('RGB')


def merge_images(batch1, batch2):
    """Interleave two batches: original 0, reconstruction 0, original 1, ..."""
    return torch.stack((batch1.float(), batch2.float()), dim=1).flatten(0, 1)


def image_grid(images, nrow, padding=2, pad_value=255):
    """[-1, 1] NxCxHxW tensor -> uint8 HxWx3 grid array with `nrow` images a row."""
    tiles = model_tensor_to_uint8(images)
    n, h, w, c = tiles.shape
    rows = -(-n // nrow)
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), pad_value, np.uint8)
    for i, tile in enumerate(tiles):
        y, x = divmod(i, nrow)
        grid[padding + y * (h + padding):(y + 1) * (h + padding), padding + x * (w + padding):(x + 1) * (w + padding)] = tile
    return grid


def save_image_normalized(tensor, filename, nrow=8):
    """Save [-1, 1] images as one grid PNG, atomically."""
    save_png(Image.fromarray(image_grid(tensor, nrow)), filename)
    return filename


def save_png(image, filename):
    with atomic_path(filename) as tmp:
        image.save(tmp, format='PNG')


def save_jpeg(image, filename, quality=95):
    """Save a PIL image as a JPEG, atomically (the aged photos: a PNG of a 2000-px photo is ten times larger)."""
    with atomic_path(filename) as tmp:
        image.convert('RGB').save(tmp, format='JPEG', quality=quality)
    return filename


def label_frame(image, text):
    """Write `text` in the top-left corner of a PIL image (for GIF frames)."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((4, 4), text)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill='black')
    draw.text((4, 4), text, fill='white')
    return image


def save_gif(frames, filename, duration_ms=500):
    """Save PIL images as an endlessly looping animated GIF, each frame shown `duration_ms`, atomically."""
    import imageio.v2 as imageio
    with atomic_path(filename) as tmp:
        imageio.mimsave(tmp, [np.asarray(f.convert('RGB')) for f in frames], format='GIF', duration=duration_ms, loop=0)
    return filename


def image_strip(images, framed=(), padding=0, frame_width=2):
    """[-1, 1] NxCxHxW -> uint8 array of the images in one row on black, each padded by `padding`
    pixels, the ones at the indices `framed` inside a white frame drawn in that padding."""
    padded = torch.nn.functional.pad(images.detach().float().cpu(), (padding,) * 4, value=-1)
    for i in framed:
        padded[i, :, :frame_width] = padded[i, :, -frame_width:] = 1
        padded[i, :, :, :frame_width] = padded[i, :, :, -frame_width:] = 1
    return image_grid(padded, nrow=len(padded), pad_value=0)


def watermark(image, text):
    """Write `text` on a [-1, 1] 3xHxW face in dark green, a colour visible on most skin tones."""
    picture = Image.fromarray(model_tensor_to_uint8(image))
    ImageDraw.Draw(picture).text((3, 25), text, fill=(0, 128, 0), font=ImageFont.load_default(size=15), anchor='ls')
    return pil_to_model_tensor_transform(picture)


def gif_beside(png_path):
    """The animated GIF that a game writes beside its PNG."""
    return os.path.splitext(png_path)[0] + '.gif'


def save_game(dest, strip, faces, captions):
    """Save a game's strip (uint8 array) as the PNG `dest`, and its [-1, 1] faces, captioned, as the GIF beside it."""
    save_png(Image.fromarray(strip), dest)
    frames = [label_frame(Image.fromarray(face), caption) for face, caption in zip(model_tensor_to_uint8(faces), captions)]
    save_gif(frames, gif_beside(dest))
    return dest


def save_validation_gif(where_to_save, filename=None, box=None, max_side=1024, max_frames=None):
    """Animate the epochs' validation.png into `filename` (default where_to_save/validation.gif), each frame
    labelled; `box` crops the grids (pixels), `max_frames` keeps that many epochs, evenly spread, first and last."""
    paths = validation_grids(where_to_save, max_frames)
    grids = (top_left(read_image(p), box) if box else read_image(p) for p in paths)
    frames = [label_frame(thumbnail(g, max_side), f'epoch {epoch_number(p)}') for g, p in zip(grids, paths)]
    if frames:
        return save_gif(frames, filename or os.path.join(where_to_save, 'validation.gif'))


def validation_grids(run_folder, max_count=None):
    """The run's epoch*/validation.png in epoch order; `max_count` keeps that many, evenly spread, first and last."""
    paths = sorted(glob.glob(os.path.join(run_folder, 'epoch*', 'validation.png')), key=epoch_number)
    if max_count and len(paths) > max_count:
        paths = [paths[round(i * (len(paths) - 1) / (max_count - 1))] for i in range(max_count)]
    return paths


def top_left(image, box):
    """The top-left (width, height) of a PIL image, or all of it where it is smaller."""
    return image.crop((0, 0, min(box[0], image.width), min(box[1], image.height)))


def thumbnail(image, max_side=1024):
    """An RGB copy no larger than max_side (previews, GIF frames of large grids)."""
    image = image.convert('RGB')
    image.thumbnail((max_side, max_side), Image.BILINEAR)
    return image
