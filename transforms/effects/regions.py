"""Effects confined to regions of the image: `x_`/`y_`/`w_`/`h_` boxes now, detected faces
later (`blur_faces`, `pixelate_faces` apply the same changes to `EffectInput.regions`).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyvips

from transforms.effects.detail import blurred, pixelated
from transforms.effects.params import Int, Values
from transforms.effects.pixels import Change, on_colour
from transforms.effects.registry import Box, EffectInput, effect


def within(image: pyvips.Image, boxes: Iterable[Box], change: Change) -> pyvips.Image:
    """Apply `change` to each box (pixels of `image`) and put the result back in place."""
    for box in boxes:
        if box.empty:
            continue
        part = image.crop(box.left, box.top, box.width, box.height)
        image = image.insert(change(part), box.left, box.top)
    return image


@effect("blur_region", Int("strength", 100, low=1, high=2000), region=True)
def blur_region(source: EffectInput, values: Values) -> pyvips.Image:
    strength = values.number("strength")
    if source.regions is not None:  # detected text: blurred relative to each line's height
        return within(source.image, source.regions, lambda part: _text_blur(part, strength))
    return within(source.image, _boxes(source), lambda part: blurred(part, strength))


def _third(part: pyvips.Image) -> int:
    return max(2, int(min(part.width, part.height)) // 3)


def _text_blur(part: pyvips.Image, strength: int) -> pyvips.Image:
    # The default 100 blurs with a sigma of a quarter of the line: letters become smudges.
    sigma = max(1.0, min(part.width, part.height) * strength / 400)
    return on_colour(part, lambda c: c.gaussblur(sigma, min_ampl=0.05, precision="approximate"))


@effect("pixelate_region", Int("size", low=1, high=200), region=True)
def pixelate_region(source: EffectInput, values: Values) -> pyvips.Image:
    size = values.optional_number("size")
    if source.regions is not None:  # detected text: about three squares per line's height
        return within(
            source.image, source.regions, lambda part: pixelated(part, size or _third(part))
        )
    return within(source.image, _boxes(source), lambda part: pixelated(part, size))


def _boxes(source: EffectInput) -> tuple[Box, ...]:
    """The detected regions the step asked for (g_ocr_text), else its x/y/w/h box."""
    return (source.region(),) if source.regions is None else source.regions


FACE_EFFECTS = ("blur_faces", "pixelate_faces", "redeye", "background_removal")
"""Effects whose regions detectors find (faces, eyes), which the pipeline passes in."""


@effect("blur_faces", Int("strength", 500, low=1, high=2000))
def blur_faces(source: EffectInput, values: Values) -> pyvips.Image:
    # Relative to each face, so a large face is as unreadable as a small one: the default
    # 500 blurs with a sigma of 1/8 of the face's side.
    strength = values.number("strength")
    return within(source.image, source.regions or (), lambda part: _face_blur(part, strength))


def _face_blur(part: pyvips.Image, strength: int) -> pyvips.Image:
    sigma = max(1.0, min(part.width, part.height) * strength / 4000)
    return on_colour(part, lambda c: c.gaussblur(sigma, min_ampl=0.05, precision="approximate"))


@effect("pixelate_faces", Int("size", low=1, high=200))
def pixelate_faces(source: EffectInput, values: Values) -> pyvips.Image:
    # Without a size, about 8 squares across each face.
    size = values.optional_number("size")
    return within(
        source.image,
        source.regions or (),
        lambda part: pixelated(part, size or max(2, min(part.width, part.height) // 8)),
    )


REDNESS = 1.8
"""A pupil pixel is red when its red exceeds this many times the mean of green and blue."""

MIN_RED = 60
"""...and its red is at least this bright (dark irises stay as they are)."""


@effect("redeye")
def redeye(source: EffectInput, values: Values) -> pyvips.Image:
    # Only inside the eye boxes: lips, skin and a red shirt elsewhere keep their colour.
    return within(source.image, source.regions or (), lambda part: on_colour(part, _unred))


def _unred(colour: pyvips.Image) -> pyvips.Image:
    red, green, blue = colour[0], colour[1], colour[2]
    mean = (green + blue) / 2
    pupil = (red > MIN_RED) & (red > mean * REDNESS)
    return pupil.ifthenelse(mean, red).bandjoin([green, blue])
