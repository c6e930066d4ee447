"""The render Context that every pipeline step reads and replaces its image in, and the
layer sources a render reads."""

from __future__ import annotations

from collections.abc import Mapping as Table
from dataclasses import dataclass, field

import pyvips

from detectors.service import RegionService, SourceRegions
from transforms.focus import Mapping
from transforms.fonts import FontBook, font_book
from transforms.model import Layer, Limits


@dataclass(frozen=True)
class LayerSources:
    """What a render's layers read: each image layer's bytes by its source (the public id
    as the URL names it, `docs/logo`, or the fetch URL), and the fonts of text layers."""

    images: Table[str, bytes] = field(default_factory=dict)
    fonts: FontBook = field(default_factory=lambda: font_book(None))


@dataclass
class Context:
    """One render in progress.

    `image` is sRGB uchar (3 bands, or 4 with alpha) after loading; `initial` is the
    original's size after EXIF rotation, what `iw`/`ih` refer to. `regions` finds
    detections of the original; `mapping` carries them into `image`'s pixels (None once
    a rotation or a canvas change has made that impossible).
    """

    image: pyvips.Image
    initial: tuple[int, int]
    source_format: str
    source_bytes: int
    limits: Limits = field(default_factory=Limits)
    regions: SourceRegions | None = None
    mapping: Mapping | None = None
    crop: dict[str, float] | None = None
    streaming: bool = False
    detection: RegionService | None = None
    layers: LayerSources = field(default_factory=LayerSources)
    animated: bool = False
    # A GIF or animated output ("gif", "webp"): every step's result (x frames) counts
    # against the animation budget (transforms.limits.check_output_pixels).
    palette: str | None = None
    frames: int = 1
    # Layer images already drawn in this render, by layer and region size (animations
    # draw each layer on every frame).
    drawn: dict[tuple[Layer, tuple[float, float] | None], pyvips.Image] = field(
        default_factory=dict
    )

    @property
    def size(self) -> tuple[int, int]:
        return (self.image.width, self.image.height)
