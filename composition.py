"""How the age change is added to a photo at its own size (photo_aging.py's docstring): the candidates measured
side by side in MODEL.md, each a Composition, and the one the command line, the page and --mode eval use."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Composition:
    """How the age change is added to the photo (photo_aging.py's docstring); METHODS names the ones measured."""
    sharpen: float = 1.0  # the warped change plus this times its detail finer than one face pixel
    chroma_sigma: float = 12.0  # face pixels: the change's colour is blurred this much (0: kept as drawn)
    chroma_gain: float = 0.7
    old_gain: float = 1.4  # the change is scaled up to this three or more groups older than the photo
    young_gain: float = 1.3  # ... and to this three or more groups younger
    fade_detail: bool = True  # the photo (but its fine detail) fades towards G's child at younger ages
    keep_eyes: bool = True  # the photo's own eyes stay where it fades, and mostly where it grows old (eye_mask)
    warp: float = 0.0  # the photo, G's renders and the change moved to the age's shape (age_shape), this much of it
    smooth_skin: bool = False  # where the photo fades, its skin's detail and beard fade too, but grain (needs warp)
    hair: bool = False  # the photo's hair greys towards old age and, where grey, darkens towards childhood (needs warp)
    old_smooth: float = 0.0  # face pixels: in older renders G's change finer than this is left out (strokes, blotches)
    grown_smooth: float = 0.0  # ... and this many times more where a child's photo fades to G's face (its mottle)
    prototype: float = 0.0  # the ratio of real faces' mean lightness at the two ages (age_shape.prototype_face) applied
    g_lightness: tuple = (1.0, 1.0)  # ... and G's change to lightness scaled by these, younger and older (colour stays)
    texture: bool = False  # old skin (age_texture: wrinkles, crepe, spots) drawn at the photo's pixels towards old age


METHODS = {
    'compose': Composition(),  # the generator's change added to the photo by band
    'warp': Composition(warp=1.0),  # and the face moved to the age's shape
    'child': Composition(warp=1.0, smooth_skin=True),  # and the skin of a child towards childhood
    'hair': Composition(warp=1.0, smooth_skin=True, hair=True),  # and hair that greys with age
    'prototype': Composition(warp=1.0, smooth_skin=True, hair=True, prototype=1.0, g_lightness=(0.5, 0.8)),  # + light
    'texture': Composition(warp=1.0, smooth_skin=True, hair=True, prototype=1.0, g_lightness=(0.5, 0.8), old_smooth=1.0,
                           grown_smooth=1.0, texture=True),  # and old skin at the photo's scale, G's strokes left out
    'change': Composition(sharpen=0, chroma_sigma=0, chroma_gain=1, old_gain=1, young_gain=1, fade_detail=False,
                          keep_eyes=False),
    'paste': None,  # the 128-px render pasted back (align.paste_back, colours matched): the page's old paste-back
}
DEFAULT_METHOD = 'texture'  # the command line's, the page's and --mode eval's: the best measured (MODEL.md)
