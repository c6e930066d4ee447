"""`e_ordered_dither`: ImageMagick's 19 threshold maps, each channel to black or white.

Levels (as in ImageMagick and Cloudinary's SDKs): 0 threshold, 1 checks, 2-5 Bayer
2x2/3x3/4x4/8x8, 6-8 angled halftones 4/6/8, 9-12 orthogonal halftones 4/6/8/16,
13-18 circles 5/6/7 (black, then white). The Bayer maps are exact; the halftone and
circle maps are generated from spot functions, close to ImageMagick's tables.
"""

from __future__ import annotations

import math

import numpy as np
import pyvips

from transforms.effects.params import Int, Values
from transforms.effects.pixels import on_colour
from transforms.effects.registry import EffectInput, effect

Ranks = list[list[int]]

_BAYER3 = [[2, 6, 3], [5, 0, 8], [1, 7, 4]]


def bayer(size: int) -> Ranks:
    """The recursive Bayer matrix of a power-of-two size: ranks 0..size²-1."""
    matrix = np.zeros((1, 1), dtype=int)
    while matrix.shape[0] < size:
        matrix = np.block([[4 * matrix, 4 * matrix + 2], [4 * matrix + 3, 4 * matrix + 1]])
    return [[int(v) for v in row] for row in matrix]


def spot(size: int, centres: list[tuple[float, float]], rings: bool = False) -> Ranks:
    """Ranks that grow a dark dot around `centres` (cell units): far cells turn dark last.

    With `rings`, cells at the same distance share a rank (round, stepped circles).
    """
    distances = np.array(
        [[min(math.dist(((x + 0.5) / size, (y + 0.5) / size), c) for c in centres)
          for x in range(size)] for y in range(size)]
    )  # fmt: skip
    rounded = distances.round(6)
    if rings:
        levels = sorted(set(rounded.flatten()), reverse=True)
        return [[levels.index(v) for v in row] for row in rounded]
    order = np.argsort(-rounded.flatten(), kind="stable")
    ranks = np.empty(size * size, dtype=int)
    ranks[order] = np.arange(size * size)
    return [[int(v) for v in row] for row in ranks.reshape(size, size)]


_CENTRE = [(0.5, 0.5)]
_DIAMOND = [(0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]


def _maps() -> list[tuple[Ranks, bool]]:
    """(ranks, white dots) per level."""
    maps: list[tuple[Ranks, bool]] = [([[0]], False), ([[0, 1], [1, 0]], False)]
    maps += [(bayer(2), False), (_BAYER3, False), (bayer(4), False), (bayer(8), False)]
    maps += [(spot(n, _DIAMOND), False) for n in (4, 6, 8)]
    maps += [(spot(n, _CENTRE), False) for n in (4, 6, 8, 16)]
    for n in (5, 6, 7):
        maps += [(spot(n, _CENTRE, rings=True), False), (spot(n, _CENTRE, rings=True), True)]
    return maps


MAPS = _maps()


def thresholds(level: int) -> pyvips.Image:
    """The level's tile of thresholds, 0-255: a value above its threshold turns white."""
    ranks, white = MAPS[level]
    count = max(max(row) for row in ranks) + 1
    values = [[(rank + 0.5) / count * 255 for rank in row] for row in ranks]
    if white:
        values = [[255 - v for v in row] for row in values]
    return pyvips.Image.new_from_array(values)


@effect("ordered_dither", Int("level", 0, low=0, high=18))
def ordered_dither(source: EffectInput, values: Values) -> pyvips.Image:
    tile = thresholds(values.number("level"))
    image = source.image
    across, down = -(-image.width // tile.width), -(-image.height // tile.height)
    plane = tile.replicate(across, down).crop(0, 0, image.width, image.height)
    return on_colour(image, lambda c: c > plane)
