"""The source's foreground matte in pixels of the current image, for `e_background_removal`:
the detectors make it over the upright original (cached by source), and this carries it
through every crop, resize and right-angle turn before the effect."""

from __future__ import annotations

import numpy as np
import pyvips

from detectors.base import DetectorUnavailable
from detectors.matte import Matte
from detectors.probe import probe_from_image
from transforms.context import Context
from transforms.errors import BadRequest
from transforms.focus import Mapping

METHOD_NOTE = "background_removal"
"""Where the render notes how the matte was made (a response header reports it)."""


def current_matte(context: Context, effect: str) -> pyvips.Image:
    """The matte as one uchar band (255 foreground) the size of the current image; notes its
    method on the context."""
    if context.detection is None:
        raise BadRequest(f"Effect {effect} needs the detectors, which are not enabled")
    regions, mapping = context.regions, context.mapping
    if regions is None or mapping is None:  # after a free rotation: matte the image as it is
        current = context.image
        regions = context.detection.for_source(None, lambda: probe_from_image(current))
        mapping = Mapping(*context.size)
    try:
        matte = regions.matte()
    except DetectorUnavailable as off:
        raise BadRequest(f"Effect {effect} cannot be used: {off.public}") from None
    context.notes[METHOD_NOTE] = matte.method
    return _mapped(matte, mapping, context.size)


def _mapped(matte: Matte, mapping: Mapping, size: tuple[int, int]) -> pyvips.Image:
    height, width = matte.alpha.shape
    alpha = pyvips.Image.new_from_array(np.ascontiguousarray(matte.alpha * 255.0))
    # Matte pixel (mx, my) is the normalised point (mx / width, my / height).
    matrix = [mapping.a / width, mapping.b / height, mapping.d / width, mapping.e / height]
    bilinear = pyvips.Interpolate.new("bilinear")
    placed = alpha.affine(matrix, oarea=[0, 0, size[0], size[1]], odx=mapping.c, ody=mapping.f,
                          interpolate=bilinear, extend="copy")  # fmt: skip
    return (placed + 0.5).cast("uchar")
