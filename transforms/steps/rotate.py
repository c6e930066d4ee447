"""Rotate: `a_` angles in order; right angles are exact, others fill with transparency."""

from __future__ import annotations

import pyvips

from transforms.model import Angle, AngleMode

_RIGHT = {90: "d90", 180: "d180", 270: "d270"}


def rotate(image: pyvips.Image, angles: tuple[Angle, ...]) -> pyvips.Image:
    """Apply each angle clockwise in degrees (flips included); `ignore` is handled at load."""
    for angle in angles:
        image = _one(image, angle)
    return image


def _one(image: pyvips.Image, angle: Angle) -> pyvips.Image:
    if angle is AngleMode.HFLIP:
        return image.fliphor()
    if angle is AngleMode.VFLIP:
        return image.flipver()
    if isinstance(angle, AngleMode) or angle == 0:
        return image
    if angle in _RIGHT:
        return image.rot(_RIGHT[angle])
    # The corners a free rotation uncovers are transparent; a JPEG output flattens
    # them onto the background colour (white unless b_ says otherwise).
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.rotate(angle, background=[0, 0, 0, 0])
