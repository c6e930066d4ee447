"""Mattes: how opaque each pixel of the foreground is, over the upright source. A matte is
pixels, not a Region, so it has this narrow type of its own; the step that cuts an image out
with it lives in transforms/. The border-colour matte here needs no model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.probe import Probe

Floats = npt.NDArray[np.float32]

SEGMENTATION = "selfie_segmentation"
BORDER_COLOUR = "border_colour"

BORDER = 0.02
"""The frame whose pixels give the background colour, as a fraction of each side."""

NEAR, FAR = 18.0, 40.0
"""RGB distances from the background colour: up to NEAR a pixel is background (alpha 0),
from FAR on foreground (alpha 1), linear between (anti-aliased edges, soft shadows)."""


@dataclass(frozen=True, eq=False)
class Matte:
    """`alpha` is (height, width) float32 in 0..1 over the probe (so over the upright source
    in normalised coordinates); `method` names how it was made."""

    alpha: Floats
    method: str


def border_matte(probe: Probe) -> Matte:
    """For product shots on a plain background: background is what is near the median colour
    of the image's border, foreground everything else."""
    pixels = probe.pixels.astype(np.float32)
    background = np.median(_frame(pixels), axis=0)
    distance = np.sqrt(((pixels - background) ** 2).sum(axis=2))
    alpha = np.clip((distance - NEAR) / (FAR - NEAR), 0.0, 1.0).astype(np.float32)
    return Matte(alpha, BORDER_COLOUR)


def _frame(pixels: Floats) -> Floats:
    height, width = pixels.shape[:2]
    dy, dx = max(1, round(height * BORDER)), max(1, round(width * BORDER))
    edges = (pixels[:dy], pixels[-dy:], pixels[:, :dx], pixels[:, -dx:])
    return np.concatenate([edge.reshape(-1, 3) for edge in edges])
