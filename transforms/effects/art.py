"""`e_art:<filter>`: Cloudinary's 21 artistic filters as colour-grading approximations.

Cloudinary does not publish what each filter does; each one here is a saturation,
contrast, brightness and tint look in its spirit (warm, cold, faded, vivid...), listed as
an approximation in docs/url-api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from transforms.effects.params import Choice, Values
from transforms.effects.pixels import on_colour
from transforms.effects.registry import EffectInput, effect


@dataclass(frozen=True)
class Look:
    """Saturation and contrast gains (1 = unchanged), brightness offset (0-255 units) and a
    tint colour mixed in by `tint` (0-1)."""

    saturation: float = 1.0
    contrast: float = 1.0
    brightness: float = 0.0
    tint: tuple[int, int, int] = (128, 128, 128)
    amount: float = 0.0


LOOKS = {
    "al_dente": Look(1.1, 1.1, 5, (255, 200, 120), 0.12),
    "athena": Look(0.8, 1.05, 10, (220, 230, 255), 0.1),
    "audrey": Look(0.0, 1.2, 0),
    "aurora": Look(1.2, 1.0, 5, (120, 200, 255), 0.12),
    "daguerre": Look(0.1, 1.1, -5, (160, 130, 90), 0.25),
    "eucalyptus": Look(0.9, 1.0, 0, (120, 200, 160), 0.15),
    "fes": Look(1.2, 1.05, 0, (255, 150, 80), 0.15),
    "frost": Look(0.7, 0.95, 15, (180, 220, 255), 0.2),
    "hairspray": Look(1.1, 0.9, 20, (255, 220, 200), 0.12),
    "hokusai": Look(0.9, 1.15, -5, (60, 90, 160), 0.15),
    "incognito": Look(0.3, 1.1, -10, (90, 90, 110), 0.15),
    "linen": Look(0.7, 0.9, 20, (240, 225, 200), 0.2),
    "peacock": Look(1.3, 1.1, 0, (40, 150, 160), 0.15),
    "primavera": Look(1.2, 0.95, 15, (200, 255, 180), 0.12),
    "quartz": Look(0.6, 1.05, 10, (235, 220, 235), 0.15),
    "red_rock": Look(1.1, 1.1, -5, (200, 80, 50), 0.2),
    "refresh": Look(1.25, 1.1, 10),
    "sizzle": Look(1.4, 1.15, 0, (255, 120, 60), 0.1),
    "sonnet": Look(0.6, 0.9, 10, (230, 200, 170), 0.2),
    "ukulele": Look(1.2, 1.0, 10, (255, 230, 150), 0.15),
    "zorro": Look(0.0, 1.4, -10),
}


@effect("art", Choice("filter", required=True, options=tuple(LOOKS)))
def art(source: EffectInput, values: Values) -> pyvips.Image:
    look = LOOKS[values.word("filter") or "refresh"]
    return on_colour(source.image, lambda c: _graded(c, look))


def _graded(colour: pyvips.Image, look: Look) -> pyvips.Image:
    grey = colour.colourspace("b-w").cast("float")
    grey3 = grey.bandjoin([grey, grey])
    # Saturation: away from (or towards) the grey of each pixel.
    saturated = grey3 + (colour.cast("float") - grey3) * look.saturation
    contrasted = (saturated - 128) * look.contrast + 128 + look.brightness
    if look.amount <= 0:
        return contrasted
    return contrasted * (1 - look.amount) + [channel * look.amount for channel in look.tint]
